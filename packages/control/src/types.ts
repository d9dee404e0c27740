/**
 * JSON shapes of the local control API (loopback HTTP, bearer token). Each shape that carries a
 * library value is that value's type through `Json<T>`, so the two cannot drift apart.
 */

import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { AdvertSource, PeerCapabilities, ProviderRecordStatus } from '@shardmesh/capabilities'
import type { JobProgress, JobResult, JobSnapshot, PeerTrust, PlacementReport, PlanRequest, RunJobOptions, WorkerStats, JobSpec } from '@shardmesh/compute'
import type { JoinResult, MeshServices } from '@shardmesh/node'
import type { ReceiptBatch, ReceiptSummary, StoredReceipt, VerificationFields, VerifiedReceipt } from '@shardmesh/receipts'
import type { CID } from 'multiformats/cid'

/**
 * A library value as it reads in JSON: a bigint as a decimal string, bytes as a string (base64 or
 * hex: each field says which), a peer id, CID or multiaddr as its string form, a Date as ms since
 * the epoch; objects and arrays field by field.
 */
export type Json<T> =
  T extends bigint ? string
    : T extends Uint8Array ? string
      : T extends PeerId | CID | Multiaddr ? string
        : T extends Date ? number
          : T extends (...args: any[]) => any ? never
            : T extends ReadonlyArray<infer U> ? Array<Json<U>>
              : T extends object ? { [K in keyof T]: Json<T[K]> }
                : T

/** The receipts service of a node (see `meshServices()`), whose stats the API reports. */
type ReceiptsService = MeshServices['receipts']

/**
 * What this node knows of a peer beyond its advert: liveness with the age of its evidence,
 * score and its reasons, and the status of each claim (`claimed`, `measured`, `contradicted`,
 * `implausible`). See `Compute.peerTrust()`.
 */
export type PeerTrustJson = Json<PeerTrust>

/**
 * A peer's verified advert as the API lists it (without the signed bytes); `source` is `self`
 * for this node's own. `trust` is what this node knows of the peer (null for this node's own
 * row, and when the compute service cannot say).
 */
export type PeerRow = Json<Omit<PeerCapabilities, 'bytes' | 'source'>> & {
  source: AdvertSource | 'self'
  trust: PeerTrustJson | null
  /**
   * This node has an open connection to the peer now (true for this node's own row): evidence
   * beside liveness (a killed peer's connection closes; a frozen one's stays open).
   */
  connected: boolean
}

/** The Solana cluster receipts are anchored on, and which explorer shows it. */
export interface SolanaStatus {
  /** the origin of the RPC URL the node anchors through (scheme, host and port: no path, query or credentials, where API keys go) */
  rpc: string
  /** the cluster's name on the public explorer; null for a cluster it cannot show (a local chain) */
  explorerCluster: 'devnet' | 'testnet' | 'mainnet-beta' | null
}

export interface StatusResponse {
  peerId: string
  solanaAddress: string
  addrs: string[]
  pid: number
  startedAt: number
  uptimeMs: number
  rssBytes: number
  connectedPeers: number
  advert: PeerRow | null
  capabilityKeys: string[]
  providerRecords: Array<Json<ProviderRecordStatus>>
  join: JoinStatus
  /** where receipts are anchored (`ControlServerOptions.solanaRpc`); null: not anchored */
  solana: SolanaStatus | null
}

/**
 * How the node's join of the mesh stands. `joining` until the bootstrap dials and the DHT
 * self-lookup end; then `joined` (a bootstrap peer answered), `unreachable` (none answered
 * before the join deadline: the node redials them while it has no connection) or `standalone`
 * (no --bootstrap: others join through this node).
 */
export type JoinStatus = { state: 'joining' } | ({ state: 'joined' | 'unreachable' | 'standalone' } & JoinResult)

export interface PeersResponse {
  now: number
  peers: PeerRow[]
}

export interface FindResponse {
  elapsedMs: number
  peers: PeerRow[]
  /**
   * Peers that matched a `gpu` lookup but were left out because their GPU claim is not
   * `measured` (ask with `claimed=true` to list them, each with its status); 0 otherwise.
   */
  omittedClaims: number
}

export interface PublishResponse {
  seq: number
  issuedAt: number
}

/** Written to `<dataDir>/control.json` while the daemon runs. */
export interface ControlInfo {
  url: string
  pid: number
  peerId: string
}

export type ComputeResponse = Json<WorkerStats> & {
  /** workloads served to others, `id@version` */
  offered: string[]
  /** workloads known (can be requested), `id@version` */
  installed: string[]
}

/**
 * Body of POST /v1/jobs: a `JobSpec` named by workload id, with the `RunJobOptions` that travel.
 * Items and model travel base64-encoded; `peers` are peer id strings (this node's own id means
 * locally too).
 */
export type JobRequest = Json<Pick<JobSpec, 'version' | 'items' | 'shardSize' | 'model'> & Pick<RunJobOptions, 'maxRetries' | 'idleTimeout' | 'hedge' | 'peers' | 'includeSelf' | 'minScore'>> & {
  workload: string
  /** `none`, `spot-check:<p>` or `replicate:<k>` */
  verification?: string
  /** pay the workers (`RunJobOptions.pay`): lamports per item, a decimal string (or a safe integer), 1 to 2^53-1 */
  pay?: { lamportsPerItem: string }
}

/**
 * Body of POST /v1/jobs/plan: the job `plan()` places, as for POST /v1/jobs without items
 * (`peers` are peer id strings this node knows; `minScore` 0..1).
 */
export type PlanRequestJson = Json<PlanRequest>

/** Answer of POST /v1/jobs/plan: every peer considered, used with its window or excluded with a reason. */
export type PlanResponse = Json<PlacementReport>

/**
 * One NDJSON line of the POST /v1/jobs response. `started.peers` is how many peers the request
 * named (`peers`), 0 when it named none and placement may use any peer offering the workload:
 * the peers a job used are in its result's `placement` and `peers`, once they are known.
 */
export type JobEvent =
  | { event: 'started', jobItems: number, peers: number }
  | ({ event: 'progress' } & Json<JobProgress>)
  | { event: 'result', result: JobResultJson }
  | { event: 'error', code: string, message: string }

/** A job this node requested, as `GET /v1/jobs` lists it (see `Compute.jobs()`). */
export type JobSnapshotJson = Json<JobSnapshot>

/**
 * Answer of `GET /v1/jobs`: the jobs this node requested that run now (oldest first), then the
 * last ones that ended (newest first); `now` is the node's clock, to age `startedAt`.
 */
export interface JobsResponse {
  now: number
  jobs: JobSnapshotJson[]
}

/**
 * A `JobResult`: `outputs` holds the base64 of each encoded output item, in input order,
 * `receipts` the base64 of each countersigned receipt.
 */
export type JobResultJson = Json<JobResult>

/** A stored receipt; `role` says why this node holds it (`requester`: it countersigned it; `worker`: it did the work). */
export type ReceiptRow = Json<Pick<StoredReceipt, 'id' | 'jobId' | 'shardIndex' | 'workload' | 'worker' | 'requester' | 'storedAt' | 'role'>> & {
  batch: string | null
  /** `by`: whose key anchored it: the requester's, or this node's as the worker (it anchored its own receipts) */
  anchor: { signature: string, slot: string, by: 'requester' | 'worker' } | null
}

/** The node's receipts stats, with the fee total (a bigint) as a decimal string. */
export type ReceiptsStatsJson = Json<ReturnType<ReceiptsService['stats']>>

export interface ReceiptsResponse {
  /** the whole store's */
  stats: ReceiptsStatsJson
  /** totals over the receipts the filters (job, peer, role, anchored) match: the whole store without filters */
  matched: ReceiptSummary
  /** receipts matched (`matched.receipts`); `receipts` is one page of them */
  total: number
  receipts: ReceiptRow[]
}

/** A sealed batch without its receipt ids; the anchor's fee is `null` when the ledger did not report it. */
export type ReceiptBatchRow = Json<Pick<ReceiptBatch, 'root' | 'count' | 'sealedAt'>> & {
  anchor: (Json<Omit<NonNullable<ReceiptBatch['anchor']>, 'fee'>> & { fee: string | null }) | null
}

/** `POST /v1/receipts/pull`: what one round of the receipt-proof pull asked, stored and refused, and the stats after it. */
export interface ReceiptPullResponse {
  pulled: Awaited<ReturnType<ReceiptsService['pullProofs']>>
  stats: ReceiptsStatsJson
}

export interface ReceiptResponse {
  /** the row, with the fields of the verified receipt (its digests in hex) */
  receipt: ReceiptRow & Json<Pick<VerifiedReceipt, 'workloadVersion' | 'items' | 'cpuMicros' | 'startedAt' | 'finishedAt' | 'inputDigest' | 'outputDigest'>> & {
    verification: VerificationFields | null
  }
  /** the portable proof file (`shardmesh receipts show --out`), once batched */
  proof: unknown
}
