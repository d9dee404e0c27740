import { createHash } from 'node:crypto'

/** How a job checks the work it gets back. */
export type VerificationPolicy =
  | { kind: 'none' }
  /** re-run a fraction `p` of shards on another peer and compare */
  | { kind: 'spot-check', p: number }
  /** run every shard on `k` peers; the majority by `compare` wins */
  | { kind: 'replicate', k: number }

/** Replicas a disputed shard may grow to before the job gives up on it. */
export const MAX_REPLICAS = 7

/** Parse `none`, `spot-check:0.1` or `replicate:3`; throws `RangeError` on anything else. */
export function parseVerification (text: string): VerificationPolicy {
  if (text === 'none') {
    return { kind: 'none' }
  }
  const [kind, arg] = text.split(':')
  const n = Number(arg)
  if (kind === 'spot-check' && arg != null && Number.isFinite(n) && n >= 0 && n <= 1) {
    return { kind: 'spot-check', p: n }
  }
  if (kind === 'replicate' && arg != null && Number.isInteger(n) && n >= 1 && n <= MAX_REPLICAS) {
    return { kind: 'replicate', k: n }
  }
  throw new RangeError(`bad verification "${text}": expected none, spot-check:<p in 0..1> or replicate:<k in 1..${MAX_REPLICAS}>`)
}

export function formatVerification (policy: VerificationPolicy): string {
  switch (policy.kind) {
    case 'none': return 'none'
    case 'spot-check': return `spot-check:${policy.p}`
    case 'replicate': return `replicate:${policy.k}`
  }
}

/**
 * Whether a spot-check policy checks this shard. Derived from the job id, so the choice is
 * fixed for the job (and reproducible) but not predictable by a worker before it answers.
 */
export function isSpotChecked (jobId: Uint8Array, shardIndex: number, p: number): boolean {
  if (p <= 0) {
    return false
  }
  if (p >= 1) {
    return true
  }
  const h = createHash('sha256').update(jobId).update(String(shardIndex)).digest()
  return h.readUInt32BE(0) / 0x1_0000_0000 < p
}

/** Results needed for a shard before deciding, at the start. */
export function initialReplicas (policy: VerificationPolicy): number {
  return policy.kind === 'replicate' ? policy.k : 1
}

/**
 * Distinct peers a job needs before it starts: a spot check compares a shard's result with a
 * second peer's, and `replicate:k` runs every shard on k peers. (A disputed shard may ask more
 * peers later, up to `MAX_REPLICAS`; that is not known in advance.)
 */
export function peersNeeded (policy: VerificationPolicy): number {
  switch (policy.kind) {
    case 'none': return 1
    case 'spot-check': return policy.p > 0 ? 2 : 1
    case 'replicate': return policy.k
  }
}

/**
 * Group equal outputs and find a strict majority. `equal(i, j)` compares results i and j.
 * Returns the indexes of the winning group, or undefined if no group has a majority.
 */
export function majority (count: number, equal: (i: number, j: number) => boolean): number[] | undefined {
  const groups: number[][] = []
  for (let i = 0; i < count; i++) {
    const group = groups.find(g => equal(g[0], i))
    if (group != null) {
      group.push(i)
    } else {
      groups.push([i])
    }
  }
  groups.sort((a, b) => b.length - a.length)
  const best = groups[0]
  return best != null && best.length * 2 > count ? best : undefined
}
