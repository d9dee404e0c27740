import { decodeItemList } from '@shardmesh/protocol'
import { callWorkload } from '@shardmesh/workloads'
import { NotAllowedError } from '../errors.js'
import { formatVerification } from './verification.js'
import type { PeerState, ShardState } from './state.js'
import type { Dispute, JobPlacement, JobProgress, JobResult, PeerReport, ShardReport } from './types.js'
import type { VerificationPolicy } from './verification.js'
import type { Workload } from '@shardmesh/workloads'

/** What one peer did for the job, from its state at the end. */
export function peerReport (p: PeerState): PeerReport {
  return {
    peerId: p.id,
    local: p.channel.local,
    shards: p.accepted,
    items: p.items,
    attempts: p.attempts,
    failures: p.failures,
    results: p.results,
    meanShardMs: p.results > 0 ? Math.round(p.roundTripMs / p.results) : 0,
    meanRunMs: p.results > 0 ? Math.round(p.runMs / p.results) : 0,
    meanQueueMs: p.results > 0 ? Math.round((p.roundTripMs - p.runMs) / p.results) : 0,
    banned: p.banned,
    // a worker that refused this requester (its allow/deny lists) says so in its own words
    ...(p.lastError?.code === NotAllowedError.code ? { refused: p.lastError.message } : {}),
    window: p.window,
    itemsPerSec: p.acceptedRoundTripMs > 0 ? p.items / p.acceptedRoundTripMs * 1000 : 0
  }
}

/** What happened to one shard, from its state at the end. */
export function shardReport (s: ShardState): ShardReport {
  return {
    index: s.index,
    items: s.items,
    peer: s.done?.winner.peer.id ?? '',
    attempts: s.attempts,
    replicas: s.results.map(r => r.peer.id),
    hedged: s.hedged,
    outcome: s.done?.outcome ?? 'accepted',
    durationMs: (s.done?.at ?? 0) - s.firstStartedAt,
    errors: s.errors
  }
}

/** Everything a finished job reports. */
export interface ReportInput {
  jobId: Uint8Array
  workload: Workload<any, any>
  policy: VerificationPolicy
  shards: readonly ShardState[]
  peers: readonly PeerState[]
  disputes: Dispute[]
  /** countersigned receipts, by shard */
  receipts: Uint8Array[][]
  /** input items of the job */
  items: number
  elapsedMs: number
  /** the candidates the job considered and those it excluded; the peers used are `peers` */
  placement?: Omit<JobPlacement, 'used'>
}

/** The result of a finished job: its outputs merged by the workload in shard order, and the reports. */
export function jobResult (input: ReportInput): JobResult {
  const { workload, elapsedMs } = input
  const outputs = callWorkload(workload, 'merge', () => workload.merge(input.shards.map(s => decodeItemList(s.done?.winner.output ?? new Uint8Array(0)).items)))
  return {
    jobId: Buffer.from(input.jobId).toString('hex'),
    workload: workload.id,
    version: workload.version,
    verification: formatVerification(input.policy),
    outputs,
    shards: input.shards.map(shardReport),
    peers: input.peers.map(peerReport),
    disputes: input.disputes,
    receipts: input.receipts.flat(),
    items: input.items,
    elapsedMs,
    itemsPerSec: input.items / Math.max(elapsedMs, 1) * 1000,
    placement: {
      considered: input.placement?.considered ?? input.peers.length + (input.placement?.excluded.length ?? 0),
      used: input.peers.map(p => p.id),
      excluded: input.placement?.excluded ?? []
    }
  }
}

/** Progress after a shard was acknowledged. */
export function jobProgress (done: { shards: number, items: number }, total: { shards: number, items: number }, peers: readonly PeerState[], elapsedMs: number): JobProgress {
  return {
    shardsDone: done.shards,
    shardsTotal: total.shards,
    itemsDone: done.items,
    itemsTotal: total.items,
    peersInUse: peers.filter(p => p.inflight > 0).length,
    elapsedMs,
    itemsPerSec: done.items / Math.max(elapsedMs, 1) * 1000
  }
}
