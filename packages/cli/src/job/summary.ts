import { plural } from '@shardmesh/protocol'
import { charAccuracy } from '@shardmesh/workloads'
import { age, table } from '../format.js'
import { rate } from '../trust.js'
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
  'window      shards it may hold in flight, as it ended the job: earned from completions, cut on slowness',
  'items/s     items of its accepted results per second of their round trips: its speed a slot, as timed here',
  'mean run    time a result ran on the worker (from its receipt)',
  'mean queue  the rest of the round trip: queued at the worker, and transfer'
].join('\n')

/** What a caller knows of a peer besides the job's report (the demo: measured speed and liveness). */
export interface PeerExtra {
  /** e.g. `95/s` (measured), `-` */
  measured: string
  /** e.g. `alive 0.4s (result)` */
  liveness: string
}

/**
 * Per-peer table: who did what, and a legend of its columns; with `extra`, two more columns
 * (`measured`, `liveness`) from what the requester knows of each peer.
 */
export function renderPeerSummary (result: JobResultJson, names: (peerId: string) => string = id => id, extra?: (peerId: string) => PeerExtra | undefined): string {
  const headers = ['peer', 'shards', 'items', 'attempts', 'failures', 'window', 'items/s', 'mean run', 'mean queue']
  if (extra != null) {
    headers.push('measured', 'liveness')
  }
  headers.push('note')
  return table(
    headers,
    result.peers.map(p => {
      const row = [
        names(p.peerId),
        String(p.shards),
        String(p.items),
        String(p.attempts),
        String(p.failures),
        String(p.window),
        p.results > 0 ? rate(p.itemsPerSec) : '-',
        p.results > 0 ? age(p.meanRunMs) : '-',
        p.results > 0 ? age(p.meanQueueMs) : '-'
      ]
      if (extra != null) {
        const e = extra(p.peerId)
        row.push(e?.measured ?? '-', e?.liveness ?? '-')
      }
      row.push([p.local ? 'this node' : '', p.refused != null ? `refused us: ${p.refused}` : p.banned ? 'dropped' : ''].filter(s => s !== '').join(', '))
      return row
    })
  ) + '\n\n' + PEER_SUMMARY_LEGEND
}

/**
 * Which peers the job considered and why each unused one was not used: `placement: 5 peers
 * considered, 3 used, 2 excluded`, then one line per excluded peer with its reason and detail.
 */
export function renderPlacement (placement: JobResultJson['placement'], names: (peerId: string) => string = id => id): string {
  const { considered, used, excluded } = placement
  const head = `placement: ${plural(considered, 'peer')} considered, ${used.length} used, ${excluded.length} excluded`
  if (excluded.length === 0) {
    return head
  }
  return [head + ':', table(['excluded', 'reason', 'detail'], excluded.map(e => [names(e.peerId), e.reason, e.detail])).split('\n').map(l => `  ${l}`).join('\n')].join('\n')
}

/** Peers that completed at least one shard with an accepted result. */
export function peersThatWorked (result: JobResultJson): number {
  return result.peers.filter(p => p.shards > 0).length
}
