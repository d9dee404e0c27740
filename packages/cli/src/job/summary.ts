import { charAccuracy } from '@shardmesh/workloads'
import { age, table } from '../format.js'
import type { JobResultJson } from '../control/types.js'
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

/** Per-peer table: who did what. */
export function renderPeerSummary (result: JobResultJson, names: (peerId: string) => string = id => id): string {
  return table(
    ['peer', 'shards', 'items', 'attempts', 'failures', 'mean shard', 'note'],
    result.peers.map(p => [
      names(p.peerId),
      String(p.shards),
      String(p.items),
      String(p.attempts),
      String(p.failures),
      age(p.meanShardMs),
      [p.local ? 'this node' : '', p.banned ? 'dropped' : ''].filter(s => s !== '').join(', ')
    ])
  )
}
