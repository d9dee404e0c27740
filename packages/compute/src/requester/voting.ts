import { callWorkload } from '@shardmesh/workloads'
import { DisputeUnresolvedError } from '../errors.js'
import { MAX_REPLICAS, formatVerification, isSpotChecked, majority } from './verification.js'
import type { ShardResult, ShardState } from './state.js'
import type { Dispute, ShardReport } from './types.js'
import type { VerificationPolicy } from './verification.js'
import type { ToCountersign } from '@shardmesh/receipts'
import type { Workload } from '@shardmesh/workloads'

/** What a shard's results decide. */
export type Decision =
  /** fewer results than the shard needs: wait for those in flight */
  | { kind: 'wait' }
  /** the shard now needs one more result (`shard.needed` was raised): queue it again */
  | { kind: 'more', reason: 'spot-check' | 'dispute' | 'probation' }
  /** the shard is decided: use the first agreeing result */
  | { kind: 'accept', agreeing: ShardResult[], outcome: ShardReport['outcome'] }
  /** the peers disagree and the shard may not grow further: the job fails */
  | { kind: 'fail', error: Error }

/** Compare two results item by item with the workload's `compare` (which may throw a WorkloadCodeError). */
export function sameOutputs (workload: Workload<any, any>): (a: ShardResult, b: ShardResult) => boolean {
  return (a, b) => a.outputs.every((x, i) => callWorkload(workload, 'compare', () => workload.compare(x, b.outputs[i])))
}

/**
 * Once a shard has the results it needs: accept a lone result, ask a second peer when the
 * spot check picks this shard, accept the majority of several (a minority makes it disputed),
 * or, with no majority, ask one more peer up to `MAX_REPLICAS` and fail after that.
 *
 * A result whose peer must be verified (`ShardResult.mustVerify`: on probation, or it lost a
 * dispute) never decides a shard by itself, as if a spot check always fired: a lone one asks a
 * second peer, and a majority made only of such results asks one more (up to `MAX_REPLICAS`),
 * so that at least one peer in good standing agrees with what is accepted. Peers that disagree
 * go through the dispute rule as usual. Updates the shard's `needed`, `checked`, `disputed`
 * and `probation`.
 */
export function decide (shard: ShardState, policy: VerificationPolicy, jobId: Uint8Array, same: (a: ShardResult, b: ShardResult) => boolean): Decision {
  const n = shard.results.length
  if (n < shard.needed) {
    return { kind: 'wait' }
  }
  if (n === 1 && shard.results[0].mustVerify === true) {
    shard.probation = true
    shard.needed = Math.max(shard.needed, 2)
    return { kind: 'more', reason: 'probation' }
  }
  if (policy.kind === 'spot-check' && n === 1 && !shard.checked && isSpotChecked(jobId, shard.index, policy.p)) {
    shard.checked = true
    shard.needed = 2
    return { kind: 'more', reason: 'spot-check' }
  }
  if (n === 1) {
    return { kind: 'accept', agreeing: [shard.results[0]], outcome: 'accepted' }
  }
  const winners = majority(n, (i, j) => same(shard.results[i], shard.results[j]))
  if (winners != null) {
    if (winners.length < n) {
      shard.disputed = true
    }
    if (winners.every(i => shard.results[i].mustVerify === true)) {
      // only peers that must be verified agree: one in good standing has to confirm it
      shard.probation = true
      if (shard.needed >= MAX_REPLICAS) {
        return { kind: 'fail', error: new DisputeUnresolvedError(`shard ${shard.index}: ${n} peers returned results and only peers that must be verified agree`) }
      }
      shard.needed++
      return { kind: 'more', reason: 'probation' }
    }
    return { kind: 'accept', agreeing: winners.map(i => shard.results[i]), outcome: shard.disputed ? 'disputed' : 'checked' }
  }
  shard.disputed = true
  if (shard.needed >= MAX_REPLICAS) {
    return { kind: 'fail', error: new DisputeUnresolvedError(`shard ${shard.index}: ${n} peers returned results and no majority agrees`) }
  }
  shard.needed++
  return { kind: 'more', reason: 'dispute' }
}

/** The dispute a decided shard records: the peers whose results agree, and those whose did not. */
export function disputeOf (shard: ShardState, agreeing: ShardResult[]): Dispute | undefined {
  if (!shard.disputed) {
    return undefined
  }
  const won = new Set(agreeing.map(r => r.peer.id))
  return {
    shard: shard.index,
    winners: [...won],
    losers: shard.results.filter(r => !won.has(r.peer.id)).map(r => r.peer.id)
  }
}

/**
 * The agreeing results' receipts, countersigned by the requester with the policy and the shard's
 * outcome, through `sign` (which may countersign them in a group with other shards' receipts).
 */
export async function countersign (sign: (item: ToCountersign) => Promise<Uint8Array>, agreeing: ShardResult[], policy: VerificationPolicy, outcome: ShardReport['outcome']): Promise<Uint8Array[]> {
  const text = formatVerification(policy)
  return Promise.all(agreeing.map(async r => sign({ receipt: r.receipt, verification: { policy: text, outcome } })))
}
