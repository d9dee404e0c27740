/**
 * @packageDocumentation
 *
 * The compute service of shardmesh, a libp2p service with two halves:
 *
 * - **worker**: serves `/shardmesh/shard/1.0.0`, admits shards (free slots, a bounded queue,
 *   allow/deny lists of requesters), runs them in the workloads pool, streams progress and
 *   results back and signs a receipt per shard with the node key;
 * - **requester**: `run(job)` splits a job into shards, places them on the peers that offer
 *   the workload (pull-based: each peer's free window pulls the next shard), retries provider
 *   errors on other peers, hedges stragglers, verifies results by policy, and returns the
 *   outputs in order with a report per shard and per peer.
 *
 * @example
 *
 * ```TypeScript
 * import { compute } from '@shardmesh/compute'
 * import { WorkloadRegistry, echo } from '@shardmesh/workloads'
 *
 * const node = await createLibp2p({
 *   services: { ...meshServices(), compute: compute({ workloads: [echo()] }) }
 * })
 * const result = await node.services.compute.run(
 *   { workload: 'echo', items: [new Uint8Array([1, 2, 3])], shardSize: 8 },
 *   { verification: 'spot-check:0.1' }
 * )
 * ```
 */

import { Compute as ComputeClass } from './compute.js'
import type { LivenessChange } from './requester/liveness.js'
import type { ExclusionReason, PlacementPolicy } from './requester/placement.js'
import type { AttestationRefusal } from './trust/attestation-gossip.js'
import type { ChallengeOutcome } from './trust/challenger.js'
import type { CalibrationSchedule } from './trust/calibrate.js'
import type { JobResult, JobSnapshot, ReceiptSink, RunJobOptions } from './requester/types.js'
import type { WorkerFaults } from './worker/executor.js'
import type { AbortOptions, ComponentLogger, Metrics, PeerId, PrivateKey, TypedEventTarget } from '@libp2p/interface'
import type { Capabilities } from '@shardmesh/capabilities'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { InboundBudget } from '@shardmesh/protocol'
import type { GpuClaim, PeerScore, ThroughputClaim } from '@shardmesh/trust'
import type { Workload, WorkloadRegistry } from '@shardmesh/workloads'

export interface ComputeInit {
  /** Workloads this node runs for others (and can request). @default [] */
  workloads?: Array<Workload<any, any>>
  /** Use this registry instead of building one from `workloads`. */
  registry?: WorkloadRegistry
  /**
   * The workloads this node serves to others (`id` or `id@version`); the rest of the registry
   * is only used to request jobs. @default every workload in the registry
   */
  offer?: string[]
  /** Threads of the worker pool. @default os.availableParallelism() */
  poolSize?: number
  /** Shards that run at once. @default poolSize */
  slots?: number
  /** Shards that may wait for a slot; more are refused with ERR_BUSY. @default slots * 4 */
  maxQueue?: number
  /**
   * The node-wide inbound budget (`@shardmesh/protocol`'s `InboundBudget`, made by
   * `createMeshNode` from its `limits`): every inbound shard stream takes the bytes it buffers
   * from it, waits (paused) when they do not fit, and is refused with `ERR_BUSY` when the wait
   * times out. @default none (each stream is bounded by its own read buffer only)
   */
  inboundBudget?: InboundBudget
  /** Only these requesters (peer id strings) are served; empty = everyone. @default [] */
  allow?: string[]
  /** These requesters are never served. @default [] */
  deny?: string[]
  /** Where models are cached (generated, or received by hash). @default `<tmpdir>/shardmesh-cache` */
  cacheDir?: string
  /** Largest model accepted from a requester (bytes). @default 512 MiB */
  maxModelBytes?: number
  /**
   * Most bytes of models kept in `<cacheDir>/models`: the least recently used models that no
   * shard holds are deleted to make room; a model that cannot fit is refused with
   * ERR_MODEL_QUOTA (or ERR_MODEL_TOO_LARGE when it never could). @default 4 GiB
   */
  modelCacheBytes?: number
  /**
   * The largest fraction of `modelCacheBytes` that the models one requester sent may take; its
   * own least recently used models make room first. @default 0.5
   */
  modelCacheShare?: number
  /** Most often a progress frame is sent per shard (ms). @default 100 */
  progressInterval?: number
  /** How long a worker waits for a model it asked for (ms). @default 120000 */
  modelTimeout?: number
  /**
   * Publish workloads, slots, load and models through the capabilities service, which the node
   * must then have (libp2p refuses to build it otherwise). Without it, a node finds peers
   * through the capabilities service if it has one, and otherwise runs jobs on the peers they
   * name. @default true
   */
  advertise?: boolean
  /** Load the served pool workloads (their models) into every thread at start. @default false */
  warm?: boolean
  /**
   * Where the receipts this node countersigns as a requester are stored; a shard counts as
   * done only after `store` resolves. @default none (receipts are only returned in the result)
   */
  receiptSink?: ReceiptSink
  /**
   * Where this node, as a worker, keeps the countersigned receipts of its own work that its
   * requesters send back (durable: `store` resolves once they are on disk). Each is checked
   * first: a receipt this node signed lately for the requester that sends it, both signatures
   * valid. @default none (what requesters send back is ignored)
   */
  workerReceiptSink?: ReceiptSink
  /**
   * As a requester, send each worker its own countersigned receipts of every shard accepted,
   * once they are stored. @default true
   */
  returnReceipts?: boolean
  /**
   * Which of the peers offering a workload a job uses, and how many shards each may hold in
   * flight; `RunJobOptions.placement` overrides it for one job. @default defaultPlacement()
   * (every peer found; a window of the slots it advertised plus one, one less after each busy answer)
   */
  placement?: PlacementPolicy
  /** Test-only misbehaviour (e.g. wrong answers), to prove verification catches it. */
  faults?: WorkerFaults
  /**
   * The JSON file in which this node keeps what it learned of its peers (evidence, scores,
   * measured speeds, attestations), so that a restart forgets no liar. @default in memory only
   */
  trustFile?: string
  /**
   * Challenges: a peer is challenged (fresh random input, a deadline, the answer recomputed
   * here and timed) before it first gets work of a workload, and at random times while it is in
   * use; each result is a signed attestation, gossiped. `false` turns them off (a node that then
   * places work on unmeasured peers with the smallest window). @default {}
   */
  challenges?: false | ChallengeOptions
  /**
   * Measure this node's own items/s per offered workload after start and advertise it; an
   * object says when (`CalibrationSchedule`: after a promise, a random delay, pauses).
   * @default true (at once, then within `CALIBRATION_JITTER`)
   */
  calibrate?: boolean | CalibrationSchedule
  /** Peers whose score is below this get no work, unless a job sets its own `minScore`. @default 0.25 */
  minScore?: number
}

export interface ChallengeOptions {
  /** Mean time between random challenges of one peer in use (ms); 0 turns them off. @default 60000 */
  meanInterval?: number
  /** Deadline of one challenge (ms). @default 30000 */
  deadline?: number
  /** Challenge a peer before it first gets work of a workload. @default true */
  beforeFirstWork?: boolean
}

export interface ComputeComponents {
  peerId: PeerId
  privateKey: PrivateKey
  logger: ComponentLogger
  registrar: Registrar
  connectionManager: ConnectionManager
  metrics?: Metrics
  /**
   * The capabilities service, under the key `capabilities`: where this node advertises what it
   * serves and finds the peers a job runs on.
   */
  capabilities?: Capabilities
  /**
   * Where the refusals of this node's inbound work are counted (a mesh node's `inbound`
   * service): a requester refused by the allow/deny lists counts as `denied` or `not-allowed`
   * on the shard protocol.
   */
  inbound?: InboundRefusals
}

/** Where a node counts the inbound work it refused (`shardmesh_inbound_refused_total{protocol,reason}`). */
export interface InboundRefusals {
  refused(protocol: string, reason: string): void
}

/** A job: a workload and its encoded input items. */
export interface JobSpec {
  /** a workload id (looked up in the registry) or the workload itself */
  workload: string | Workload<any, any>
  version?: string
  /** input items, each encoded with the workload's input codec */
  items: Uint8Array[]
  /** items per shard @default 8 */
  shardSize?: number
  /** model bytes, for workloads that need one (`onnx`): shipped to workers that lack it */
  model?: Uint8Array
}

export interface WorkerStats {
  slots: number
  active: number
  queued: number
  poolThreads: number
  shardsServed: number
  shardsFailed: number
  openStreams: number
}

/** One shard this node ran for a requester (or refused, or failed). */
export interface ShardServedEvent {
  requester: PeerId
  /** the job id, hex */
  jobId: string
  shardIndex: number
  /** `id@version` */
  workload: string
  outcome: 'ok' | 'error'
  /** the coded error sent back, when it failed */
  code?: string
  message?: string
  /** from the request to the answer, queueing included (ms) */
  elapsedMs: number
}

export interface JobFinishedEvent {
  /** the job id, hex */
  jobId: string
  /** `id@version` */
  workload: string
  verification: string
  items: number
  outcome: 'ok' | 'error'
  /** shards and the distinct peers that completed them, when it succeeded */
  shards?: number
  peers?: number
  /** the peers that refused this node (their allow/deny lists; ERR_NOT_ALLOWED), each with its words, when it succeeded without them */
  refusedBy?: Array<{ peerId: string, message: string }>
  /** the error's code (or name) and message, when it failed */
  code?: string
  message?: string
  elapsedMs: number
}

export interface ComputeEvents {
  /** The worker answered a shard: its result, or a coded error. */
  'shard:served': CustomEvent<ShardServedEvent>
  /** A job this node requested ended: its result, or the error it failed with. */
  'job:finished': CustomEvent<JobFinishedEvent>
  /** A peer this node gives work to changed liveness (alive, suspect, dead), from its heartbeat. */
  'peer:liveness': CustomEvent<LivenessChange>
  /** A challenge this node ran ended: passed, wrong answer, bad receipt, timeout, unreachable. */
  'trust:challenge': CustomEvent<ChallengeOutcome>
  /** A gossiped attestation was refused (forged, replayed, self-made...): who sent it and why. */
  'trust:attestation-rejected': CustomEvent<AttestationRefusal>
}

export interface Compute extends TypedEventTarget<ComputeEvents> {
  /** The workloads installed on this node. */
  readonly registry: WorkloadRegistry
  /** Run a job across the mesh (and this node, if it offers the workload). */
  run(job: JobSpec, options?: RunJobOptions): Promise<JobResult>
  /**
   * The jobs this node requested, for a live view: those not ended yet, oldest first (`placing`
   * while their peers are found and challenged, then `running`), then the last
   * `FINISHED_JOBS_KEPT` (20) that ended, newest first, each with its final state (`ok` or
   * `error`). Each snapshot is computed when asked, from the job's live state.
   */
  jobs(): JobSnapshot[]
  /** What the worker half is doing now. */
  stats(): WorkerStats
  /** The workloads this node serves to others. */
  offered(): Array<Workload<any, any>>
  /** This node's own items/s per slot per offered workload (`id@version`), once measured at start. */
  ownSpeeds(): Map<string, number>
  /** What this node knows of a peer: liveness and its evidence, score and why, each claim's status. */
  peerTrust(peer: PeerId | string): PeerTrust
  /** Which peers a job would use now, and why each other peer would not be used (sends nothing). */
  plan(request: PlanRequest, options?: AbortOptions): Promise<PlacementReport>
  /**
   * Shut the worker half down gracefully: take no new shards (ERR_BUSY, an advert offering
   * nothing), let those in flight finish and wait for their countersigned receipts, within
   * `timeout`. Call `stop()` (of the node) afterwards.
   */
  drain(options?: DrainOptions): Promise<DrainResult>
}

export interface DrainOptions {
  /** Give up waiting after this long (ms) @default 30000 */
  timeout?: number
  /** Give up waiting when this aborts (e.g. a second SIGTERM) */
  signal?: AbortSignal
  /**
   * Once no shard is in flight, wait at most this long for countersigned receipts still to
   * come (ms): some never come (a challenge's) @default 3000
   */
  receiptGrace?: number
}

/** What a graceful drain of the worker half did. */
export interface DrainResult {
  /** shards in flight when the drain began */
  inFlight: number
  /** shards still in flight when it ended: cut at stop, their requesters retry them elsewhere */
  handedBack: number
  /** countersigned receipts waited for (the most at once) */
  receiptsAwaited: number
  /** receipts signed during the drain whose countersigned copy never came (noted as signed: the worker may pull them after a restart) */
  receiptsMissing: number
  /** whether the timeout (or the signal) ended it */
  timedOut: boolean
  elapsedMs: number
}

/** A peer's liveness: a state and the evidence behind it, with its age. Never a bare "online". */
export interface PeerLiveness {
  /**
   * `alive`: direct evidence (a heartbeat, a result, a challenge) within the last seconds;
   * `suspect` / `dead`: a heartbeat with work in flight went silent (0.7 s / 1.6 s);
   * `advert`: only its signed advert vouches for it; `unknown`: nothing at all
   */
  state: 'alive' | 'suspect' | 'dead' | 'advert' | 'unknown'
  /** the newest evidence behind the state */
  evidence: 'heartbeat' | 'result' | 'challenge' | 'advert' | 'none'
  /** age of that evidence (ms), null when there is none */
  ageMs: number | null
  /** when the state began (ms since the epoch), null when unknown */
  since: number | null
  /** the last heartbeat's round trip (ms) */
  rttMs?: number
}

/** What this node knows of one peer, every figure with its status. */
export interface PeerTrust {
  peerId: string
  liveness: PeerLiveness
  score: PeerScore
  /** each advertised workload: the throughput claimed, and what was measured */
  workloads: ThroughputClaim[]
  gpus: GpuClaim
  /** the slots it advertised, and the in-flight window it earned per workload in this node's jobs */
  slots: { claimed: number, earned: Array<{ workload: string, window: number }> }
}

/** The job `plan()` places: as for `run()`, without items. */
export interface PlanRequest {
  /** a workload id (looked up in the registry) or `id@version` */
  workload: string
  version?: string
  verification?: string
  peers?: PeerId[]
  includeSelf?: boolean
  minScore?: number
  /** run the challenges a real job would run first (peers not yet measured) @default false */
  challenge?: boolean
}

/** One peer a plan considered: used with a window, or excluded with a reason. */
export interface PlannedPeer {
  peerId: string
  /** this node itself */
  local: boolean
  used: boolean
  /** its first in-flight window, when used */
  window?: number
  /** why not used */
  reason?: ExclusionReason
  detail?: string
  trust?: PeerTrust
}

export interface PlacementReport {
  /** `id@version` */
  workload: string
  verification: string
  minScore: number
  peers: PlannedPeer[]
}

export function compute (init: ComputeInit = {}): (components: ComputeComponents) => Compute {
  return (components) => new ComputeClass(components, init)
}

export * from './errors.js'
export * from './requester/types.js'
export { parseVerification, formatVerification, isSpotChecked, majority, peersNeeded, MAX_REPLICAS } from './requester/verification.js'
export type { VerificationPolicy } from './requester/verification.js'
export { defaultPlacement, earnedPlacement, planOf, windowCap, MIN_SCORE, HOARD_FACTOR } from './requester/placement.js'
export type { PlacementPolicy, PlacementCandidate, PeerPlacement, WindowObservation, CandidateEvidence, Exclusion, ExclusionReason, PlacementPlan, PlacementJob, EarnedPlacementOptions } from './requester/placement.js'
export { LivenessBook } from './requester/liveness.js'
export { HEARTBEAT_INTERVAL, SUSPECT_AFTER, DEAD_AFTER } from './constants.js'
export { CHALLENGE_ITEMS, CHALLENGE_INTERVAL, CHALLENGE_DEADLINE } from './trust/constants.js'
export type { LivenessView, LivenessState, LivenessEvidence, LivenessInit, LivenessChange, LivenessEvents } from './requester/liveness.js'
export { Challenger } from './trust/challenger.js'
export type { ChallengerInit, ChallengeOutcome, ChallengeVerdict, ChallengeRunOptions, ActiveChallengeTarget } from './trust/challenger.js'
export { AttestationGossip, validateAttestationMessage } from './trust/attestation-gossip.js'
export type { AttestationGossipInit, AttestationPubSub, AttestationValidation, AttestationRefusal } from './trust/attestation-gossip.js'
export { calibrate } from './trust/calibrate.js'
export type { SelfCalibration, SelfCalibrations, CalibrateOptions, CalibrationSchedule } from './trust/calibrate.js'
export type { PeerChannel, ShardAttempt, AttemptHandle, CountersignedDelivery } from './requester/channel.js'
export type { WorkerFaults, ShardWork, ShardOutput } from './worker/executor.js'
export { Admission } from './worker/admission.js'
export { WorkerReceipts } from './worker/receipts.js'
export type { WorkerReceiptsInit, CountersignedOutcome, CountersignedRefusal } from './worker/receipts.js'
export { MAX_SIGNED_REMEMBERED, FINISHED_JOBS_KEPT } from './constants.js'
export { ModelStore } from './worker/model-store.js'
export type { ModelStoreInit, ModelLease, ModelStoreUsage } from './worker/model-store.js'
