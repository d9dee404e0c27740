import type { AbortOptions } from '@libp2p/interface'

/** The public shapes of the receipt store (see `ReceiptStore`). */

/**
 * Why a node holds a receipt: `requester`, it countersigned it (its own job's work, which it
 * batches and anchors); `worker`, it did the work and the requester sent the countersigned
 * receipt back (kept as the worker's proof; not batched or anchored by this node).
 */
export type ReceiptRole = 'requester' | 'worker'

/** A receipt as the store holds it. Ids and roots are lower-case hex. */
export interface StoredReceipt {
  /** hex of the receipt's id (`VerifiedReceipt.id`) */
  id: string
  /** the encoded SignedReceipt, countersigned */
  bytes: Uint8Array
  /** hex */
  jobId: string
  shardIndex: number
  workload: string
  /** peer id of the worker */
  worker: string
  /** peer id of the requester */
  requester: string
  /** ms since the epoch when it was stored */
  storedAt: number
  /** why this node holds it (a store written before roles existed holds `requester` receipts only) */
  role: ReceiptRole
  /** root of its batch, once sealed */
  batch?: string
  leafIndex?: number
  /** `by: 'worker'`: this node anchored it itself as its worker (its requester delivered no proof in time) */
  anchor?: { signature: string, slot: bigint, by?: 'worker' }
}

/** A sealed batch: the Merkle tree over its receipts, in leaf order. */
export interface ReceiptBatch {
  root: string
  count: number
  receiptIds: string[]
  sealedAt: number
  /** the last anchor transaction prepared for it (persisted before it is sent) */
  attempt?: { signature: string, wire: string, lastValidBlockHeight: bigint }
  /** `cluster`: the base58 genesis hash of the chain it landed on, when the anchorer knew it */
  anchor?: { signature: string, slot: bigint, fee?: bigint, anchoredAt: number, cluster?: string }
}

/** Every given field must match. */
export interface ReceiptQuery {
  /** hex job id */
  jobId?: string
  /** a peer id: matches the worker or the requester */
  peer?: string
  /** held in this role */
  role?: ReceiptRole
  /** in a batch whose root is anchored */
  anchored?: boolean
  /** in a sealed batch */
  batched?: boolean
  /** at most this many */
  limit?: number
  /** skip this many matches first */
  offset?: number
}

/** What an id prefix may name: a receipt, a job, or a peer (worker or requester). */
export type IdKind = 'receipt' | 'job' | 'peer'

/** The stored ids that start with a prefix. */
export interface PrefixMatch {
  /** how many distinct ids match */
  count: number
  /** the first of them (at most the `max` asked for), in storage order */
  matches: string[]
}

/** Totals over the receipts a query matches (its offset and limit do not apply). */
export interface ReceiptSummary {
  receipts: number
  batched: number
  anchored: number
  /** distinct batches holding them */
  batches: number
  /** distinct anchored batches (anchor transactions) holding them */
  anchoredBatches: number
}

export interface ReceiptStoreOptions extends AbortOptions {
  /** read what is there: take no lock, write nothing, ignore (not truncate) a torn tail @default false */
  readOnly?: boolean
}

export interface AddReceiptOptions extends AbortOptions {
  /**
   * Why this node holds the receipts. A receipt whose id is stored already keeps the role it
   * was first stored with. @default 'requester'
   */
  role?: ReceiptRole
  /**
   * The caller checked both signatures itself (it just countersigned the receipts): decode and
   * check structure only. Receipts from anywhere else must be verified. @default false
   */
  trusted?: boolean
}

export interface SealBatchOptions extends AbortOptions {
  /** most receipts in the batch @default MAX_BATCH_RECEIPTS */
  maxCount?: number
  /**
   * Whose receipts to seal: `requester` ones (this node countersigned them), or `worker` ones
   * held without a proof, which a worker seals to anchor them itself when its requester did
   * not deliver an anchor in time. A batch holds receipts of one role. @default 'requester'
   */
  role?: ReceiptRole
  /** only receipts stored before this time (ms since the epoch) @default every unbatched one */
  storedBefore?: number
  /**
   * Most distinct workers owed a payment (`owedLamports` > 0) in the batch: sealing stops before
   * the receipt that would add one more, so that the batch's anchor transaction, which pays each
   * of them, fits one transaction. At least 1. @default unlimited
   */
  maxPayees?: number
}

export interface ReceiptStoreStats {
  /** every receipt stored, in both roles */
  receipts: number
  /** of them, those held as the worker (`role: 'worker'`) */
  workerReceipts: number
  batched: number
  anchored: number
  batches: number
  anchoredBatches: number
  /** receipts signed here as the worker whose countersigned form is not stored (`pendingSigned`) */
  signedPending: number
  /** fdatasync calls for appends since open: one per group commit */
  fsyncs: number
  /** bytes of the log */
  logBytes: number
}
