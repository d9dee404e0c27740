import type { Exclusion, PlacementPolicy } from './placement.js'
import type { VerificationPolicy } from './verification.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { EvidenceKind, Measurement } from '@shardmesh/trust'

/** Progress of a job, reported after every shard accepted. */
export interface JobProgress {
  shardsDone: number
  shardsTotal: number
  itemsDone: number
  itemsTotal: number
  /** peers with a shard in flight now */
  peersInUse: number
  elapsedMs: number
  itemsPerSec: number
}

/**
 * Where a requester puts the receipts it countersigned. `store` must make them durable
 * (on disk, fsynced) before it resolves: a shard counts as done only after that.
 */
export interface ReceiptSink {
  store(receipts: Uint8Array[], options?: AbortOptions): Promise<void>
  /**
   * As a worker's sink: note receipts this node just signed (hex ids) for their requester, so
   * that their countersigned form can be asked for later even if it never arrives on the shard
   * stream (a crash of either side). The shard's result is sent once it resolved (it should
   * resolve only once they are on disk); a failure is logged, and the result sent all the same.
   */
  signed?(receipts: Array<{ id: string, requester: PeerId }>): Promise<void>
}

export interface RunJobOptions extends AbortOptions {
  /**
   * `none`, `spot-check:<p>` or `replicate:<k>`. A spot check (p > 0) needs 2 distinct peers
   * offering the workload and `replicate:<k>` needs k (this node counts when it runs shards of
   * the job): with fewer the job fails with `NotEnoughPeersError` before any shard is sent.
   * @default 'none'
   */
  verification?: VerificationPolicy | string
  /** retries of one shard on other peers after provider errors @default 3 */
  maxRetries?: number
  /** run only on these peers (this node's own id means: run locally too) @default every peer offering the workload */
  peers?: PeerId[]
  /** let this node run shards of its own job when it offers the workload @default true */
  includeSelf?: boolean
  /** abandon an attempt after this long without progress or result (ms) @default 30000 */
  idleTimeout?: number
  /** fail as "all busy" after waiting this long with no peer accepting work (ms) @default 60000 */
  queueTimeout?: number
  /** hedge stragglers on an idle peer @default true */
  hedge?: boolean
  onProgress?(progress: JobProgress): void
  /** overrides the service's `receiptSink` for this job */
  receiptSink?: ReceiptSink
  /** overrides the service's `placement` for this job: which peers it uses and their windows */
  placement?: PlacementPolicy
  /** peers whose score is below this get no work in this job @default the service's `minScore` (0.25) */
  minScore?: number
  /**
   * Pay the workers (settlement): every shard request asks this price, each worker signs it in
   * its receipt (a receipt at another price is a bad result), and the requester's anchor of the
   * receipts pays each worker `items × lamportsPerItem` of its accepted or checked receipts.
   * 1 to 2^53-1 lamports. @default unpaid
   */
  pay?: JobPayment
}

/** A job's price (lamports only; SPL token amounts are not supported). */
export interface JobPayment {
  lamportsPerItem: bigint
}

/**
 * Where a job puts what it learned of its peers (the trust book): every accepted result, failure
 * and dispute, the speed of every accepted result, and the window each peer earned. Never told
 * anything about this node itself.
 */
export interface JobEvidenceSink {
  /** one piece of evidence about a peer */
  record(peerId: string, kind: EvidenceKind): void
  /** the speed of an accepted result, as this node timed it (round trip included) */
  measure(peerId: string, measurement: Omit<Measurement, 'by' | 'source'>): void
  /** the in-flight window a peer ended the job with, for the workload's id */
  setEarnedWindow(peerId: string, workload: string, window: number): void
  /** the peer is on probation: none of its results may be accepted unless another peer agrees */
  mustVerify?(peerId: string): boolean
}

/** What happened to one shard. */
export interface ShardReport {
  index: number
  items: number
  /** the peer whose result was used */
  peer: string
  /** attempts started (retries, hedges and replicas included) */
  attempts: number
  /** peers that returned a result */
  replicas: string[]
  hedged: boolean
  outcome: 'accepted' | 'checked' | 'disputed'
  /** ms from the first attempt to acceptance */
  durationMs: number
  /** errors of failed attempts, `peer: code message` */
  errors: string[]
}

/** What one peer did for the job. */
export interface PeerReport {
  peerId: string
  /** this node itself (it ran shards of its own job) */
  local: boolean
  /**
   * shards this peer completed with an accepted result: the result used, or a replica that
   * agreed with it (under `replicate:k` every agreeing peer counts for the shard)
   */
  shards: number
  /** items of those shards */
  items: number
  /** shards sent to this peer: replicas, retries and hedges included, cancelled ones too */
  attempts: number
  /** attempts that failed (errors, timeouts, bad results) */
  failures: number
  /** results this peer returned, accepted or not (a result that lost a dispute counts here) */
  results: number
  /** mean time from sending a shard to its result, at the requester (ms): queue + run + transfer */
  meanShardMs: number
  /** mean time a result ran on the worker, from admission to the end of the run, as its receipt says (ms) */
  meanRunMs: number
  /** mean of the rest of the round trip (ms): time queued at the worker, and transfer */
  meanQueueMs: number
  /** dropped from the job after repeated failures or a refusal */
  banned: boolean
  /**
   * Set when this peer refused to serve this node (ERR_NOT_ALLOWED: its deny list names this
   * node, or its allow list does not): the peer's words. The job went on without it.
   */
  refused?: string
  /** its in-flight window at the end of the job (what it earned) */
  window: number
  /** items of its accepted results per second of their summed round trips (0 with none): its speed per slot, as measured here */
  itemsPerSec: number
}

/** A shard on which peers disagreed, and who lost. */
export interface Dispute {
  shard: number
  winners: string[]
  losers: string[]
}

export interface JobResult {
  /** hex */
  jobId: string
  workload: string
  version: string
  verification: string
  /** one encoded output per input item, in input order */
  outputs: Uint8Array[]
  shards: ShardReport[]
  peers: PeerReport[]
  disputes: Dispute[]
  /** countersigned receipts of every accepted result */
  receipts: Uint8Array[]
  items: number
  elapsedMs: number
  itemsPerSec: number
  /** the peers the job considered, those it used (in pull order) and why each other was not used */
  placement: JobPlacement
}

/** Which peers a job considered, used and excluded, and why. */
export interface JobPlacement {
  /** candidates considered: those used and those excluded */
  considered: number
  /** the peers the job used, in pull order */
  used: string[]
  excluded: Exclusion[]
}

/**
 * Shard counts of a job, as `Compute.jobs()` reports them while it runs and once it ended.
 * Computed from the job's live state only when asked.
 */
export interface JobShardCounts {
  /** shards of the job (0 while it is still being placed) */
  total: number
  /** shards decided: a result accepted (its receipts may still be being stored: `progress` counts those stored) */
  done: number
  /** attempts in flight now (replicas and hedges each count) */
  inFlight: number
  /** attempts started: first tries, replicas, retries and hedges, cancelled ones too */
  attempts: number
  /**
   * failed attempts (errors, timeouts, bad results; a busy answer is not one): each sent its
   * shard back to the queue for another try, unless it was one too many and failed the job
   */
  retries: number
  /** shards that got a second attempt because the first was a straggler */
  hedged: number
  /** shards a spot check ran on a second peer */
  checked: number
  /** shards on which peers disagreed */
  disputed: number
}

/** What one peer is doing for a job: its report so far, and the attempts it holds now. */
export type JobPeerSnapshot = PeerReport & {
  /** attempts of this job in flight on the peer now */
  inFlight: number
}

/**
 * A job this node requested, as it stands now (see `Compute.jobs()`): `placing` while its
 * peers are found and challenged, `running` once shards go out, then `ok` or `error` (the
 * last state it had is kept).
 */
export interface JobSnapshot {
  /** hex */
  jobId: string
  /** `id@version` */
  workload: string
  verification: string
  state: 'placing' | 'running' | 'ok' | 'error'
  /** when `run()` was called (ms since the epoch) */
  startedAt: number
  /** when it ended (ms since the epoch), null while it runs */
  finishedAt: number | null
  /** input items */
  items: number
  /** why it failed: the error's code (or name) and message */
  error?: { code: string, message: string }
  /**
   * as `onProgress` reports it (shards whose receipts are stored); `elapsedMs` counts from
   * when the first shards went out (from `startedAt` while placing)
   */
  progress: JobProgress
  shards: JobShardCounts
  /** the peers the job uses, in pull order (none while placing) */
  peers: JobPeerSnapshot[]
  disputes: Dispute[]
  /** the candidates considered, those used and why each other was not used (empty while placing) */
  placement: JobPlacement
}
