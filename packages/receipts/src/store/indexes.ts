import { peerIdFromMultihash } from '@libp2p/peer-id'
import { decodeReceipt, decodeSignedReceipt, sha256Hex } from '@shardmesh/protocol'
import * as Digest from 'multiformats/hashes/digest'
import { toHex } from '../encoding.js'
import type { AnchorRecord, AttemptRecord, BatchRecord, ProofRecord, SignedRecord } from './records.js'
import type { VerifiedReceipt } from '../receipt.js'
import type { IdKind, PrefixMatch, ReceiptBatch, ReceiptQuery, ReceiptRole, ReceiptSummary, StoredReceipt } from './types.js'

/**
 * The in-memory indexes of the receipt store, rebuilt from the log at open: receipts by id, in
 * storage order, by job, by peer and by role; the unbatched ones of each role in order (only
 * `requester` ones are sealed into batches); batches by root; counts per role.
 */

export interface ReceiptEntry {
  id: string
  bytes: Uint8Array
  jobId: string
  shardIndex: number
  workload: string
  worker: string
  requester: string
  storedAt: number
  role: ReceiptRole
  batch?: BatchEntry
  leafIndex?: number
  /** a `worker` receipt's proof, as its requester sent it */
  proof?: ProofRecord
}

export interface BatchEntry {
  root: string
  receiptIds: string[]
  sealedAt: number
  attempt?: { signature: string, wire: string, lastValidBlockHeight: bigint }
  anchor?: { signature: string, slot: bigint, fee?: bigint, anchoredAt: number, cluster?: string }
}

const peerCache = new Map<string, string>()

function peerText (multihash: Uint8Array): string {
  const key = toHex(multihash)
  let text = peerCache.get(key)
  if (text == null) {
    text = peerIdFromMultihash(Digest.decode(multihash)).toString()
    if (peerCache.size >= 4096) {
      peerCache.clear()
    }
    peerCache.set(key, text)
  }
  return text
}

/** The entry of a receipt read back from the log: it was verified before it was written. */
export function entryFromLog (bytes: Uint8Array, storedAt: number, role: ReceiptRole = 'requester'): ReceiptEntry {
  const signed = decodeSignedReceipt(bytes)
  const receipt = decodeReceipt(signed.receipt)
  return {
    id: sha256Hex(signed.receipt),
    bytes,
    jobId: toHex(receipt.jobId),
    shardIndex: receipt.shardIndex,
    workload: receipt.workload,
    worker: peerText(receipt.worker),
    requester: peerText(receipt.requester),
    storedAt,
    role
  }
}

export function entryFromVerified (receipt: VerifiedReceipt, storedAt: number, role: ReceiptRole = 'requester'): ReceiptEntry {
  return {
    id: toHex(receipt.id),
    // a copy: the caller may reuse its buffer
    bytes: new Uint8Array(receipt.bytes),
    jobId: toHex(receipt.jobId),
    shardIndex: receipt.shardIndex,
    workload: receipt.workload,
    worker: receipt.worker.toString(),
    requester: receipt.requester.toString(),
    storedAt,
    role
  }
}

/** The public form of a receipt entry: a fresh object (its bytes are the stored ones, not to be changed). */
export function toStored (entry: ReceiptEntry): StoredReceipt {
  const stored: StoredReceipt = {
    id: entry.id,
    bytes: entry.bytes,
    jobId: entry.jobId,
    shardIndex: entry.shardIndex,
    workload: entry.workload,
    worker: entry.worker,
    requester: entry.requester,
    storedAt: entry.storedAt,
    role: entry.role
  }
  if (entry.batch != null) {
    stored.batch = entry.batch.root
    stored.leafIndex = entry.leafIndex
    if (entry.batch.anchor != null) {
      // a batch of this node's `worker` receipts is one it anchored itself, as their worker
      stored.anchor = entry.role === 'worker'
        ? { signature: entry.batch.anchor.signature, slot: entry.batch.anchor.slot, by: 'worker' }
        : { signature: entry.batch.anchor.signature, slot: entry.batch.anchor.slot }
    }
  } else if (entry.proof != null) {
    stored.batch = entry.proof.root
    stored.leafIndex = entry.proof.index
    stored.anchor = { signature: entry.proof.signature, slot: entry.proof.slot }
  }
  return stored
}

/** The public form of a batch entry. */
export function toBatch (batch: BatchEntry): ReceiptBatch {
  return {
    root: batch.root,
    count: batch.receiptIds.length,
    receiptIds: [...batch.receiptIds],
    sealedAt: batch.sealedAt,
    attempt: batch.attempt == null ? undefined : { ...batch.attempt },
    anchor: batch.anchor == null ? undefined : { ...batch.anchor }
  }
}

function push<K, V> (map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list == null) {
    map.set(key, [value])
  } else {
    list.push(value)
  }
}

/** Receipts of one role: how many, how many batched and anchored. */
interface RoleCounts { receipts: number, batched: number, anchored: number }

export class ReceiptIndex {
  private readonly receipts = new Map<string, ReceiptEntry>()
  private readonly order: ReceiptEntry[] = []
  private readonly byJob = new Map<string, ReceiptEntry[]>()
  private readonly byPeer = new Map<string, ReceiptEntry[]>()
  private readonly byRole: Record<ReceiptRole, ReceiptEntry[]> = { requester: [], worker: [] }
  /** the unbatched receipts of each role, in storage order (a Map keeps insertion order) */
  private readonly unbatchedByRole: Record<ReceiptRole, Map<string, ReceiptEntry>> = { requester: new Map(), worker: new Map() }
  private readonly counts: Record<ReceiptRole, RoleCounts> = { requester: { receipts: 0, batched: 0, anchored: 0 }, worker: { receipts: 0, batched: 0, anchored: 0 } }
  private readonly batchesByRoot = new Map<string, BatchEntry>()
  private readonly batchOrder: BatchEntry[] = []
  /** receipts signed here as the worker and not held countersigned, by id, oldest first */
  private readonly signed = new Map<string, SignedEntry>()
  private anchoredReceipts = 0
  private anchoredBatches = 0

  get (id: string): ReceiptEntry | undefined {
    return this.receipts.get(id)
  }

  batch (root: string): BatchEntry | undefined {
    return this.batchesByRoot.get(root)
  }

  /** Add a receipt; false if one with its id is there already. */
  addReceipt (entry: ReceiptEntry): boolean {
    if (this.receipts.has(entry.id)) {
      return false
    }
    this.receipts.set(entry.id, entry)
    this.signed.delete(entry.id)
    this.order.push(entry)
    this.byRole[entry.role].push(entry)
    this.unbatchedByRole[entry.role].set(entry.id, entry)
    this.counts[entry.role].receipts++
    push(this.byJob, entry.jobId, entry)
    push(this.byPeer, entry.worker, entry)
    if (entry.requester !== entry.worker) {
      push(this.byPeer, entry.requester, entry)
    }
    return true
  }

  /**
   * The first `max` unbatched receipts of a role stored before `storedBefore` (ms), in storage
   * order: what a batch seals (`requester` ones, or a worker's own that wait too long for a proof).
   */
  unbatched (max: number, role: ReceiptRole = 'requester', storedBefore = Infinity): ReceiptEntry[] {
    const entries: ReceiptEntry[] = []
    for (const entry of this.unbatchedByRole[role].values()) {
      // storage order is time order: the first one too young ends the run
      if (entries.length >= max || entry.storedAt >= storedBefore) {
        break
      }
      entries.push(entry)
    }
    return entries
  }

  /** Add a sealed batch; throws if it names a receipt that is missing or batched already. */
  addBatch (record: BatchRecord): BatchEntry {
    if (this.batchesByRoot.has(record.root)) {
      throw new Error(`batch ${record.root} sealed twice`)
    }
    const entries = record.receiptIds.map(id => {
      const entry = this.receipts.get(id)
      if (entry == null || entry.batch != null) {
        throw new Error(`batch ${record.root} names receipt ${id}, which is ${entry == null ? 'not stored' : 'in another batch'}`)
      }
      return entry
    })
    const batch: BatchEntry = { root: record.root, receiptIds: record.receiptIds, sealedAt: record.sealedAt }
    entries.forEach((entry, leafIndex) => {
      entry.batch = batch
      entry.leafIndex = leafIndex
      this.unbatchedByRole[entry.role].delete(entry.id)
      this.counts[entry.role].batched++
    })
    this.batchesByRoot.set(batch.root, batch)
    this.batchOrder.push(batch)
    return batch
  }

  setAttempt (record: AttemptRecord): void {
    const batch = this.batchesByRoot.get(record.root)
    if (batch == null) {
      throw new Error(`anchor attempt for unknown batch ${record.root}`)
    }
    batch.attempt = { signature: record.signature, wire: record.wire, lastValidBlockHeight: record.lastValidBlockHeight }
  }

  /** Record an anchor; the first signature for a batch stays (a later record may update its slot). */
  setAnchor (record: AnchorRecord): void {
    const batch = this.batchesByRoot.get(record.root)
    if (batch == null) {
      throw new Error(`anchor for unknown batch ${record.root}`)
    }
    if (batch.anchor != null && batch.anchor.signature !== record.signature) {
      return
    }
    if (batch.anchor == null) {
      this.anchoredBatches++
      this.anchoredReceipts += batch.receiptIds.length
      for (const id of batch.receiptIds) {
        const entry = this.receipts.get(id)
        if (entry != null) {
          this.counts[entry.role].anchored++
        }
      }
    }
    batch.anchor = { signature: record.signature, slot: record.slot, fee: record.fee, anchoredAt: record.anchoredAt, ...(record.cluster != null ? { cluster: record.cluster } : {}) }
  }

  /**
   * Record the proof of a `worker` receipt (its requester's batch and anchor); false if it has
   * one already (the first stays). Throws if the receipt is not stored as a worker receipt.
   */
  setProof (record: ProofRecord): boolean {
    const entry = this.receipts.get(record.id)
    if (entry == null || entry.role !== 'worker') {
      throw new Error(`proof for receipt ${record.id}, which is ${entry == null ? 'not stored' : 'not a worker receipt'}`)
    }
    if (entry.proof != null) {
      return false
    }
    entry.proof = record
    this.unbatchedByRole.worker.delete(entry.id)
    this.counts.worker.batched++
    this.counts.worker.anchored++
    this.anchoredReceipts++
    return true
  }

  private matches (entry: ReceiptEntry, query: ReceiptQuery): boolean {
    return (query.jobId == null || entry.jobId === query.jobId) &&
      (query.peer == null || entry.worker === query.peer || entry.requester === query.peer) &&
      (query.role == null || entry.role === query.role) &&
      (query.batched == null || (entry.batch != null || entry.proof != null) === query.batched) &&
      (query.anchored == null || (entry.batch?.anchor != null || entry.proof != null) === query.anchored)
  }

  /** Receipts matching every field of `query`, in storage order, paged by offset and limit. */
  list (query: ReceiptQuery): ReceiptEntry[] {
    // the narrowest source: a job's, a peer's, a role's unbatched ones (in storage order: a Map
    // keeps insertion order), a role's, or all; an anchoring loop asks for the oldest unbatched
    // requester receipt often
    const source = query.jobId != null
      ? this.byJob.get(query.jobId) ?? []
      : query.peer != null
        ? this.byPeer.get(query.peer) ?? []
        : query.role != null
          ? query.batched === false ? this.unbatchedByRole[query.role].values() : this.byRole[query.role]
          : this.order
    const limit = query.limit ?? Infinity
    let skip = query.offset ?? 0
    const found: ReceiptEntry[] = []
    for (const entry of source) {
      if (found.length >= limit) {
        break
      }
      if (this.matches(entry, query)) {
        if (skip > 0) {
          skip--
        } else {
          found.push(entry)
        }
      }
    }
    return found
  }

  /**
   * Receipt ids, job ids or peer ids starting with `prefix`: a scan of the keys of one index
   * (asked once per command a person types, not per receipt stored).
   */
  matchPrefix (kind: IdKind, prefix: string, max: number): PrefixMatch {
    const keys = kind === 'receipt' ? this.receipts.keys() : kind === 'job' ? this.byJob.keys() : this.byPeer.keys()
    const matches: string[] = []
    let count = 0
    for (const key of keys) {
      if (key.startsWith(prefix)) {
        if (count < max) {
          matches.push(key)
        }
        count++
      }
    }
    return { count, matches }
  }

  /** Totals over every receipt matching `query` (offset and limit ignored). */
  summarize (query: ReceiptQuery): ReceiptSummary {
    const entries = this.list({ ...query, offset: undefined, limit: undefined })
    // by root: a worker receipt's batch is its requester's (known by its proof), not one of ours
    const batches = new Set<string>()
    const anchoredBatches = new Set<string>()
    let batched = 0
    let anchored = 0
    for (const entry of entries) {
      const root = entry.batch?.root ?? entry.proof?.root
      if (root != null) {
        batched++
        batches.add(root)
        if (entry.batch?.anchor != null || entry.proof != null) {
          anchored++
          anchoredBatches.add(root)
        }
      }
    }
    return { receipts: entries.length, batched, anchored, batches: batches.size, anchoredBatches: anchoredBatches.size }
  }

  batches (anchored?: boolean): BatchEntry[] {
    return anchored == null ? [...this.batchOrder] : this.batchOrder.filter(b => (b.anchor != null) === anchored)
  }

  stats (): { receipts: number, workerReceipts: number, batched: number, anchored: number, batches: number, anchoredBatches: number } {
    return {
      receipts: this.order.length,
      workerReceipts: this.counts.worker.receipts,
      batched: this.order.length - this.unbatchedByRole.requester.size - this.unbatchedByRole.worker.size,
      anchored: this.anchoredReceipts,
      batches: this.batchOrder.length,
      anchoredBatches: this.anchoredBatches
    }
  }

  /** How many receipts of a role are stored, batched and anchored. */
  roleCounts (role: ReceiptRole): RoleCounts {
    return { ...this.counts[role] }
  }

  /**
   * Note a receipt signed here as the worker, awaiting its countersigned form (none if it is
   * held already). At most `max` are kept, the oldest forgotten first.
   */
  addSigned (record: SignedRecord, max: number): void {
    if (this.receipts.has(record.id)) {
      return
    }
    this.signed.delete(record.id)
    this.signed.set(record.id, { id: record.id, requester: record.requester, signedAt: record.signedAt })
    while (this.signed.size > max) {
      this.signed.delete(this.signed.keys().next().value as string)
    }
  }

  /** The receipts signed here and not held countersigned, signed at or after `since` (ms), oldest first. */
  pendingSigned (since: number): SignedEntry[] {
    const entries: SignedEntry[] = []
    for (const entry of this.signed.values()) {
      if (entry.signedAt >= since) {
        entries.push(entry)
      }
    }
    return entries
  }

  /** How many receipts signed here await their countersigned form. */
  get signedCount (): number {
    return this.signed.size
  }
}

/** A receipt signed here as the worker whose countersigned form is not held (yet). */
export interface SignedEntry {
  id: string
  /** the requester's peer id, multihash bytes */
  requester: Uint8Array
  signedAt: number
}
