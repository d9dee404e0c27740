import { charAccuracy } from '@shardmesh/workloads'
import { age, table } from '../format.js'
import type { JobResultJson } from '@shardmesh/control'
import type { OcrLine, Workload } from '@shardmesh/workloads'

/** Accuracy of OCR outputs against the ground truth. */
export interface OcrAccuracy {
  /** 1 - edit distance / truth characters, spaces ignored */
  charAccuracyNoSpaces: number
  charAccuracy: number
  /** lines read exactly (spaces ignored) */
  exactLines: number
  lines: number
}

export function decodeOutputs (workload: Workload<any, any>, result: JobResultJson): unknown[] {
  return result.outputs.map(o => workload.output.decode(Buffer.from(o, 'base64')))
}

export function ocrAccuracy (truth: string[], outputs: OcrLine[]): OcrAccuracy {
  const texts = outputs.map(o => o.text)
  const strip = (s: string): string => s.replace(/\s+/g, '')
  return {
    charAccuracyNoSpaces: charAccuracy(truth, texts, { ignoreSpaces: true }),
    charAccuracy: charAccuracy(truth, texts.map(t => t.trim())),
    exactLines: truth.filter((t, i) => strip(t) === strip(texts[i] ?? '')).length,
    lines: truth.length
  }
}

/** What the columns of the per-peer table count, printed under it. */
export const PEER_SUMMARY_LEGEND = [
  'shards      shards this peer completed with an accepted result (agreeing replicas included)',
  'attempts    shards sent to it: replicas, retries, hedges and cancelled ones included',
  'mean run    time a result ran on the worker (from its receipt)',
  'mean queue  the rest of the round trip: queued at the worker, and transfer'
].join('\n')

/** Per-peer table: who did what, and a legend of its columns. */
export function renderPeerSummary (result: JobResultJson, names: (peerId: string) => string = id => id): string {
  return table(
    ['peer', 'shards', 'items', 'attempts', 'failures', 'mean run', 'mean queue', 'note'],
    result.peers.map(p => [
      names(p.peerId),
      String(p.shards),
      String(p.items),
      String(p.attempts),
      String(p.failures),
      p.results > 0 ? age(p.meanRunMs) : '-',
      p.results > 0 ? age(p.meanQueueMs) : '-',
      [p.local ? 'this node' : '', p.banned ? 'dropped' : ''].filter(s => s !== '').join(', ')
    ])
  ) + '\n\n' + PEER_SUMMARY_LEGEND
}

/** Peers that completed at least one shard with an accepted result. */
export function peersThatWorked (result: JobResultJson): number {
  return result.peers.filter(p => p.shards > 0).length
}
