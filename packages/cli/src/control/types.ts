/** JSON shapes of the local control API (loopback HTTP, bearer token). */

import type { PeerReport } from '@shardmesh/compute'
import type { JoinResult, MeshServices } from '@shardmesh/node'
import type { ReceiptSummary } from '@shardmesh/receipts'

type ReceiptsStats = ReturnType<MeshServices['receipts']['stats']>
type AnchorerStats = NonNullable<ReceiptsStats['anchor']>

export interface PeerRow {
  peerId: string
  seq: number
  issuedAt: number
  expiresAt: number
  ageMs: number
  receivedAt: number
  firstSeenAt: number
  source: string
  hardware: {
    cpuModel: string
    cpuCores: number
    memoryBytes: number
    gpus: Array<{ vendor: string, model: string, memoryBytes: number, uuid: string, driver: string }>
    platform: string
    arch: string
  }
  workloads: Array<{ id: string, version: string, throughput: number }>
  models: string[]
  loadPermille: number
  freeSlots: number
  totalSlots: number
  priceHint: string
  addrs: string[]
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
  providerRecords: Array<{ key: string, cid: string, providedAt?: number, error?: string }>
  join: JoinStatus
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

export interface ComputeResponse {
  slots: number
  active: number
  queued: number
  poolThreads: number
  shardsServed: number
  shardsFailed: number
  openStreams: number
  /** workloads served to others, `id@version` */
  offered: string[]
  /** workloads known (can be requested), `id@version` */
  installed: string[]
}

/** Body of POST /v1/jobs. Items and model travel base64-encoded. */
export interface JobRequest {
  workload: string
  version?: string
  items: string[]
  shardSize?: number
  verification?: string
  maxRetries?: number
  idleTimeout?: number
  hedge?: boolean
  /** run only on these peers (peer id strings; this node's own id means locally too) */
  peers?: string[]
  includeSelf?: boolean
  model?: string
}

/** One NDJSON line of the POST /v1/jobs response. */
export type JobEvent =
  | { event: 'started', jobItems: number, peers: number }
  | { event: 'progress', shardsDone: number, shardsTotal: number, itemsDone: number, itemsTotal: number, peersInUse: number, elapsedMs: number, itemsPerSec: number }
  | { event: 'result', result: JobResultJson }
  | { event: 'error', code: string, message: string }

export interface JobResultJson {
  jobId: string
  workload: string
  version: string
  verification: string
  /** base64 of each encoded output item, in input order */
  outputs: string[]
  shards: Array<{ index: number, items: number, peer: string, attempts: number, replicas: string[], hedged: boolean, outcome: string, durationMs: number, errors: string[] }>
  /** what each peer did: see `PeerReport` for what each field counts */
  peers: PeerReport[]
  disputes: Array<{ shard: number, winners: string[], losers: string[] }>
  /** base64 of each countersigned receipt */
  receipts: string[]
  items: number
  elapsedMs: number
  itemsPerSec: number
}

/** One stored receipt, as the control API lists it. */
export interface ReceiptRow {
  /** hex sha256 of the encoded receipt */
  id: string
  jobId: string
  shardIndex: number
  workload: string
  worker: string
  requester: string
  storedAt: number
  /** root (hex) of the batch it was sealed in */
  batch: string | null
  anchor: { signature: string, slot: string } | null
}

/** The node's `ReceiptsStats`, with the fee total (a bigint) as a decimal string. */
export type ReceiptsStatsJson = Omit<ReceiptsStats, 'anchor'> & {
  anchor?: Omit<AnchorerStats, 'feesLamports'> & { feesLamports: string }
}

export interface ReceiptsResponse {
  /** the whole store's */
  stats: ReceiptsStatsJson
  /** totals over the receipts the filters (job, peer, anchored) match: the whole store without filters */
  matched: ReceiptSummary
  /** receipts matched (`matched.receipts`); `receipts` is one page of them */
  total: number
  receipts: ReceiptRow[]
}

export interface ReceiptBatchRow {
  root: string
  count: number
  sealedAt: number
  anchor: { signature: string, slot: string, fee: string | null, anchoredAt: number } | null
}

export interface ReceiptResponse {
  receipt: ReceiptRow & {
    workloadVersion: string
    items: number
    cpuMicros: number
    startedAt: number
    finishedAt: number
    inputDigest: string
    outputDigest: string
    verification: { policy: string, outcome: string } | null
  }
  /** the portable proof file (`shardmesh receipts show --out`), once batched */
  proof: unknown
}
