import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { FileLock, syncDirectory } from '@shardmesh/protocol'
import * as Digest from 'multiformats/hashes/digest'
import {
  MAX_ANCHOR_WIRE_LENGTH, MAX_BATCH_RECEIPTS, MAX_MERKLE_PATH_LENGTH, MAX_PENDING_SIGNED, MERKLE_HASH_BYTES, MERKLE_TREE_CACHE_SIZE, RECEIPT_LOCK_FILE,
  RECEIPT_LOG_FILE
} from './constants.js'
import { fromBase64, hashFromHex, isTxSignature, isU64, toHex } from './encoding.js'
import {
  AnchorConflictError, BatchNotFoundError, InvalidAnchorError, ReceiptLogCorruptError, ReceiptStoreClosedError, ReceiptStoreLockedError,
  ReceiptStoreReadOnlyError
} from './errors.js'
import { MerkleTree, leafHash, verifyInclusion } from './merkle.js'
import { isGenesisHash } from './proof.js'
import { decodeTrustedReceipt, storedOwedLamports, verifyReceipt } from './receipt.js'
import { ReceiptIndex, entryFromLog, entryFromVerified, toBatch, toStored } from './store/indexes.js'
import { ReceiptLog } from './store/log.js'
import { decodeRecord, encodeRecord } from './store/records.js'
import type { ReceiptProof } from './proof.js'
import type { BatchEntry, ReceiptEntry } from './store/indexes.js'
import type { AddReceiptOptions, IdKind, PrefixMatch, ReceiptBatch, ReceiptQuery, ReceiptRole, ReceiptStoreOptions, ReceiptStoreStats, ReceiptSummary, SealBatchOptions, StoredReceipt } from './store/types.js'
import type { LogRecovery, LogStop } from './store/log.js'
import type { AnchorRecord, AttemptRecord, BatchRecord, ProofRecord, SignedRecord } from './store/records.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'

export type { LogRecovery, LogStop }
export type { AddReceiptOptions, IdKind, PrefixMatch, ReceiptBatch, ReceiptQuery, ReceiptRole, ReceiptStoreOptions, ReceiptStoreStats, ReceiptSummary, SealBatchOptions, StoredReceipt } from './store/types.js'

/** The longest prefix of `entries` whose receipts owe payments to at most `maxPayees` distinct workers. */
function limitPayees (entries: ReceiptEntry[], maxPayees: number | undefined): ReceiptEntry[] {
  if (maxPayees == null) {
    return entries
  }
  const payees = new Set<string>()
  for (let i = 0; i < entries.length; i++) {
    // stored receipts were verified before they were written
    if (storedOwedLamports(entries[i].bytes) > 0n && !payees.has(entries[i].worker)) {
      if (payees.size === maxPayees) {
        return entries.slice(0, i)
      }
      payees.add(entries[i].worker)
    }
  }
  return entries
}

/** The writer's lock (one writer per directory), or `ReceiptStoreLockedError` naming the live holder. */
async function lockStore (path: string): Promise<FileLock> {
  try {
    return await FileLock.acquire(path)
  } catch (err: any) {
    if (err?.name !== 'FileLockedError') {
      throw err
    }
    throw err.pid != null
      ? new ReceiptStoreLockedError(`the receipt store is locked by process ${err.pid} (${path})`, err.pid, { cause: err })
      : new ReceiptStoreLockedError(err.message, undefined, { cause: err })
  }
}

/**
 * The durable receipt store of a node: an append-only, checksummed log in `dir`, replayed into
 * memory at open. `add` resolves only once the receipt is on disk (concurrent adds share one
 * fdatasync), so a receipt acknowledged after `add` survives a crash at any moment; a torn last
 * record (never acknowledged) is dropped at open. One writer per directory (a pid lock file);
 * any number of read-only opens, each a snapshot of the log as it was then.
 *
 * Each receipt is held in a role (`requester`: this node countersigned it; `worker`: this node
 * did the work and keeps the requester's countersigned receipt as its proof). Only `requester`
 * receipts are sealed into batches. A log written before roles existed reads as `requester`.
 *
 * Memory: every receipt's bytes (about 1 KiB) are held, for `get`, `list` and `proof`.
 */
export class ReceiptStore {
  /** what open found at the end of the log */
  public readonly recovery: LogRecovery
  private readonly trees = new Map<string, MerkleTree>()
  private readonly pending = new Map<string, Promise<StoredReceipt>>()
  private tail: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor (
    public readonly dir: string,
    public readonly readOnly: boolean,
    private readonly log: ReceiptLog,
    private readonly index: ReceiptIndex,
    private readonly lock?: FileLock
  ) {
    this.recovery = log.recovery
  }

  /**
   * Open (a writer: create, lock and repair) the store in `dir`. Throws
   * `ReceiptStoreLockedError` if a live process holds it, `ReceiptLogCorruptError` if a record
   * with a valid checksum makes no sense.
   */
  static async open (dir: string, options: ReceiptStoreOptions = {}): Promise<ReceiptStore> {
    options.signal?.throwIfAborted()
    const readOnly = options.readOnly === true
    dir = resolve(dir)
    if (!readOnly) {
      const created = await mkdir(dir, { recursive: true })
      if (created != null) {
        await syncDirectory(dirname(created))
      }
    }
    const lock = readOnly ? undefined : await lockStore(join(dir, RECEIPT_LOCK_FILE))
    try {
      const index = new ReceiptIndex()
      const log = await ReceiptLog.open(join(dir, RECEIPT_LOG_FILE), {
        readOnly,
        onRecord: (payload, offset) => {
          try {
            const record = decodeRecord(payload)
            switch (record.kind) {
              case 'receipt': index.addReceipt(entryFromLog(record.bytes, record.storedAt, record.role)); break
              case 'batch': index.addBatch(record); break
              case 'attempt': index.setAttempt(record); break
              case 'anchor': index.setAnchor(record); break
              case 'proof': index.setProof(record); break
              case 'signed': index.addSigned(record, MAX_PENDING_SIGNED); break
            }
          } catch (err: any) {
            throw new ReceiptLogCorruptError(err.message, offset, { cause: err })
          }
        }
      })
      return new ReceiptStore(dir, readOnly, log, index, lock)
    } catch (err) {
      await lock?.release()
      throw err
    }
  }

  private checkWritable (): void {
    if (this.readOnly) {
      throw new ReceiptStoreReadOnlyError()
    }
    if (this.closed) {
      throw new ReceiptStoreClosedError()
    }
  }

  /** Mutations other than adds run one at a time (a batch must not take a receipt twice). */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn)
    this.tail = run.catch(() => {})
    return run
  }

  /**
   * Verify a countersigned receipt and store it; resolves once it is on disk. Throws
   * `InvalidReceiptError` (nothing written) if it does not verify. Adding a receipt whose id is
   * stored already returns the stored one (in the role it was first stored with). The signal is
   * checked before anything is written.
   */
  async add (signedReceipt: Uint8Array, options: AddReceiptOptions = {}): Promise<StoredReceipt> {
    const [stored] = await this.addMany([signedReceipt], options)
    return stored
  }

  /** Add several receipts with one write and one sync; all are verified before any is written. */
  async addMany (receipts: Uint8Array[], options: AddReceiptOptions = {}): Promise<StoredReceipt[]> {
    this.checkWritable()
    options.signal?.throwIfAborted()
    const verified = options.trusted === true
      ? receipts.map(bytes => decodeTrustedReceipt(bytes, { requireCountersignature: true }))
      : await Promise.all(receipts.map(async bytes => verifyReceipt(bytes, { requireCountersignature: true })))
    options.signal?.throwIfAborted()
    this.checkWritable()
    const now = Date.now()
    const role: ReceiptRole = options.role ?? 'requester'
    if (role !== 'requester' && role !== 'worker') {
      throw new RangeError(`role is requester or worker, not ${String(role)}`)
    }
    const ids = verified.map(receipt => toHex(receipt.id))
    const fresh = new Map<string, ReceiptEntry>()
    verified.forEach((receipt, i) => {
      if (this.index.get(ids[i]) == null && !this.pending.has(ids[i]) && !fresh.has(ids[i])) {
        fresh.set(ids[i], entryFromVerified(receipt, now, role))
      }
    })
    if (fresh.size > 0) {
      const entries = [...fresh.values()]
      // the log calls back after the sync, in log order: storage order is log order
      const written = this.log.append(entries.map(entry => encodeRecord({ kind: 'receipt', storedAt: entry.storedAt, bytes: entry.bytes, role: entry.role })), () => {
        for (const entry of entries) {
          this.index.addReceipt(entry)
        }
      })
      for (const entry of entries) {
        this.pending.set(entry.id, written.then(() => toStored(entry)))
      }
      const settled = (): void => { for (const entry of entries) this.pending.delete(entry.id) }
      void written.then(settled, settled)
    }
    return Promise.all(ids.map(async id => {
      const entry = this.index.get(id)
      return entry != null ? toStored(entry) : this.pending.get(id)!
    }))
  }

  get (id: string): StoredReceipt | undefined {
    const entry = this.index.get(id.toLowerCase())
    return entry == null ? undefined : toStored(entry)
  }

  /** Receipts matching the query, in storage order. */
  list (query: ReceiptQuery = {}): StoredReceipt[] {
    return this.index.list(normalize(query)).map(toStored)
  }

  /** How many receipts match the query's filters (its offset and limit do not apply). */
  count (query: ReceiptQuery = {}): number {
    const q = normalize({ ...query, offset: undefined, limit: undefined })
    if (q.jobId == null && q.peer == null) {
      // counted without a scan: every anchored receipt is batched
      const s = q.role == null ? this.index.stats() : this.index.roleCounts(q.role)
      if (q.anchored == null && q.batched == null) {
        return s.receipts
      }
      if (q.anchored == null) {
        return q.batched === true ? s.batched : s.receipts - s.batched
      }
      if (q.batched == null) {
        return q.anchored ? s.anchored : s.receipts - s.anchored
      }
    }
    return this.index.list(q).length
  }

  /**
   * The receipt ids, job ids or peer ids (worker or requester) of stored receipts that start
   * with `prefix`, as a person abbreviates them: how many, and the first `max`. Hex ids match
   * in any case; peer ids (base58) exactly.
   */
  matchPrefix (kind: IdKind, prefix: string, max = 8): PrefixMatch {
    return this.index.matchPrefix(kind, kind === 'peer' ? prefix : prefix.toLowerCase(), max)
  }

  /** How many receipts match the query's filters, how many of them are batched and anchored, in how many batches. */
  summarize (query: ReceiptQuery = {}): ReceiptSummary {
    const q = normalize({ ...query, offset: undefined, limit: undefined })
    if (q.jobId == null && q.peer == null && q.role == null && q.anchored == null && q.batched == null) {
      const { receipts, batched, anchored, batches, anchoredBatches } = this.index.stats()
      return { receipts, batched, anchored, batches, anchoredBatches }
    }
    return this.index.summarize(q)
  }

  /**
   * Seal unbatched receipts of one role (oldest first, up to `maxCount`, `requester` ones unless
   * asked) into a batch: its Merkle tree's root is persisted with the receipt ids in leaf order.
   * A `worker` receipt is its requester's to anchor; a worker seals its own only when the
   * requester delivered no proof in time (it then holds no proof, and will not accept one: see
   * `recordProof`). Undefined when there is nothing to seal.
   */
  async sealBatch (options: SealBatchOptions = {}): Promise<ReceiptBatch | undefined> {
    this.checkWritable()
    const maxCount = options.maxCount ?? MAX_BATCH_RECEIPTS
    if (!Number.isSafeInteger(maxCount) || maxCount < 1 || maxCount > MAX_BATCH_RECEIPTS) {
      throw new RangeError(`maxCount is 1 to ${MAX_BATCH_RECEIPTS}, not ${maxCount}`)
    }
    const role = options.role ?? 'requester'
    if (role !== 'requester' && role !== 'worker') {
      throw new RangeError(`role is requester or worker, not ${String(role)}`)
    }
    if (options.maxPayees != null && (!Number.isSafeInteger(options.maxPayees) || options.maxPayees < 1)) {
      throw new RangeError(`maxPayees is a positive integer, not ${options.maxPayees}`)
    }
    return this.exclusive(async () => {
      options.signal?.throwIfAborted()
      this.checkWritable()
      const entries = limitPayees(this.index.unbatched(maxCount, role, options.storedBefore), options.maxPayees)
      if (entries.length === 0) {
        return undefined
      }
      const tree = MerkleTree.fromLeaves(entries.map(entry => entry.bytes))
      const record: BatchRecord = { kind: 'batch', sealedAt: Date.now(), root: toHex(tree.root), receiptIds: entries.map(entry => entry.id) }
      let batch: BatchEntry | undefined
      await this.log.append([encodeRecord(record)], () => { batch = this.index.addBatch(record) })
      this.cacheTree(record.root, tree)
      return toBatch(batch!)
    })
  }

  batches (query: { anchored?: boolean } = {}): ReceiptBatch[] {
    return this.index.batches(query.anchored).map(toBatch)
  }

  getBatch (root: string): ReceiptBatch | undefined {
    const batch = this.index.batch(root.toLowerCase())
    return batch == null ? undefined : toBatch(batch)
  }

  private batchToAnchor (root: string): BatchEntry {
    const batch = hashFromHex(root) == null ? undefined : this.index.batch(root.toLowerCase())
    if (batch == null) {
      throw new BatchNotFoundError(root)
    }
    return batch
  }

  /**
   * Persist the anchor transaction prepared for a batch, before it is sent: after a crash its
   * signature says whether it landed. Replaces an earlier attempt. A batch that is anchored
   * already gets no new attempt (`AnchorConflictError`): that would pay to anchor it twice.
   */
  async recordAttempt (root: string, attempt: { signature: string, wire: string, lastValidBlockHeight: bigint }, options: AbortOptions = {}): Promise<void> {
    this.checkWritable()
    if (!isTxSignature(attempt.signature)) {
      throw new InvalidAnchorError('the attempt\'s signature is not a base58 transaction signature')
    }
    if (attempt.wire.length > MAX_ANCHOR_WIRE_LENGTH || fromBase64(attempt.wire) == null || attempt.wire.length === 0) {
      throw new InvalidAnchorError(`the attempt's wire transaction is not base64 of at most ${MAX_ANCHOR_WIRE_LENGTH} characters`)
    }
    if (!isU64(attempt.lastValidBlockHeight)) {
      throw new InvalidAnchorError('the attempt\'s lastValidBlockHeight is not a u64')
    }
    await this.exclusive(async () => {
      options.signal?.throwIfAborted()
      this.checkWritable()
      const batch = this.batchToAnchor(root)
      if (batch.anchor != null) {
        throw new AnchorConflictError(`batch ${batch.root} is anchored already (${batch.anchor.signature})`)
      }
      const record: AttemptRecord = { kind: 'attempt', root: batch.root, ...attempt }
      await this.log.append([encodeRecord(record)], () => { this.index.setAttempt(record) })
    })
  }

  /**
   * Persist that a batch's root is on chain. Recording the same transaction again updates its
   * slot and fee; another transaction for an anchored batch is an `AnchorConflictError`.
   */
  async recordAnchor (root: string, anchor: { signature: string, slot: bigint, fee?: bigint, cluster?: string }, options: AbortOptions = {}): Promise<void> {
    this.checkWritable()
    if (!isTxSignature(anchor.signature)) {
      throw new InvalidAnchorError('the anchor\'s signature is not a base58 transaction signature')
    }
    if (!isU64(anchor.slot) || (anchor.fee != null && !isU64(anchor.fee))) {
      throw new InvalidAnchorError('the anchor\'s slot or fee is not a u64')
    }
    if (anchor.cluster != null && !isGenesisHash(anchor.cluster)) {
      throw new InvalidAnchorError('the anchor\'s cluster is not a base58 genesis hash')
    }
    await this.exclusive(async () => {
      options.signal?.throwIfAborted()
      this.checkWritable()
      const batch = this.batchToAnchor(root)
      if (batch.anchor != null) {
        if (batch.anchor.signature !== anchor.signature) {
          throw new AnchorConflictError(`batch ${batch.root} is anchored by ${batch.anchor.signature} already, not ${anchor.signature}`)
        }
        if (batch.anchor.slot === anchor.slot && batch.anchor.fee === anchor.fee && batch.anchor.cluster === anchor.cluster) {
          return
        }
      }
      const record: AnchorRecord = { kind: 'anchor', root: batch.root, signature: anchor.signature, slot: anchor.slot, fee: anchor.fee, anchoredAt: Date.now(), ...(anchor.cluster != null ? { cluster: anchor.cluster } : {}) }
      await this.log.append([encodeRecord(record)], () => { this.index.setAnchor(record) })
    })
  }

  /**
   * Persist the proof of a `worker` receipt as its requester sent it: the batch root, leaf count,
   * leaf index, audit path, anchor and cluster. The proof must be of the stored receipt (same
   * bytes), its path must lead to its root, and it must name an anchor; otherwise
   * `InvalidAnchorError` and nothing is written. The receipt's signatures are not checked again
   * (the store checked them when it was added); whether the anchor is on chain is the caller's
   * check. Resolves `true` once it is on disk, `false` if the receipt holds a proof already (the
   * first stays) or if this worker sealed it into a batch of its own to anchor it itself (that
   * batch's anchor stays its proof: one party never anchors a receipt twice, and a receipt holds
   * one proof). Afterwards `proof(id)` returns it and `list()` shows the receipt anchored.
   */
  async recordProof (id: string, proof: ReceiptProof, options: AbortOptions = {}): Promise<boolean> {
    this.checkWritable()
    id = id.toLowerCase()
    const entry = this.index.get(id)
    if (entry == null || entry.role !== 'worker') {
      throw new InvalidAnchorError(`receipt ${id} is ${entry == null ? 'not stored' : 'not held as the worker'}`)
    }
    if (proof.anchor == null || !isTxSignature(proof.anchor.signature) || !isU64(proof.anchor.slot)) {
      throw new InvalidAnchorError('the proof names no anchor transaction and slot')
    }
    if (proof.cluster != null && !isGenesisHash(proof.cluster)) {
      throw new InvalidAnchorError('the proof\'s cluster is not a base58 genesis hash')
    }
    if (!equalBytes(proof.receipt, entry.bytes)) {
      throw new InvalidAnchorError(`the proof is not of the stored receipt ${id}`)
    }
    if (!Number.isSafeInteger(proof.count) || proof.count < 1 || proof.count > Number.MAX_SAFE_INTEGER ||
      proof.path.length > MAX_MERKLE_PATH_LENGTH ||
      !verifyInclusion(leafHash(entry.bytes), proof.index, proof.count, proof.path, proof.root)) {
      throw new InvalidAnchorError(`the proof's path does not lead receipt ${id} to its root`)
    }
    return this.exclusive(async () => {
      options.signal?.throwIfAborted()
      this.checkWritable()
      if (entry.proof != null || entry.batch != null) {
        return false
      }
      const record: ProofRecord = {
        kind: 'proof',
        id,
        root: toHex(proof.root),
        count: proof.count,
        index: proof.index,
        path: proof.path.map(toHex),
        signature: proof.anchor!.signature,
        slot: proof.anchor!.slot,
        storedAt: Date.now(),
        ...(proof.cluster != null ? { cluster: proof.cluster } : {})
      }
      await this.log.append([encodeRecord(record)], () => { this.index.setProof(record) })
      return true
    })
  }

  /**
   * Note receipts this node just signed as the worker (`id`: hex of the receipt id), each for
   * its requester: until the countersigned receipt is stored (`add` in role `worker`), it is
   * one `pendingSigned` returns, so a worker that crashed, or whose requester crashed before it
   * sent the countersigned receipt back, still knows what to ask that requester for. Resolves
   * once on disk; ids held already are skipped. At most MAX_PENDING_SIGNED are remembered.
   */
  async recordSigned (signed: Array<{ id: string, requester: PeerId }>, options: AbortOptions = {}): Promise<void> {
    this.checkWritable()
    options.signal?.throwIfAborted()
    const now = Date.now()
    const records: SignedRecord[] = []
    for (const { id, requester } of signed) {
      const hex = id.toLowerCase()
      if (hashFromHex(hex) == null) {
        throw new RangeError(`a receipt id is ${MERKLE_HASH_BYTES} bytes of hex, not ${JSON.stringify(id)}`)
      }
      if (this.index.get(hex) == null && !this.pending.has(hex)) {
        records.push({ kind: 'signed', signedAt: now, id: hex, requester: requester.toMultihash().bytes })
      }
    }
    if (records.length === 0) {
      return
    }
    await this.log.append(records.map(encodeRecord), () => {
      for (const record of records) {
        this.index.addSigned(record, MAX_PENDING_SIGNED)
      }
    })
  }

  /**
   * The receipts this node signed as the worker and does not hold countersigned, signed at or
   * after `since` (ms since the epoch; default all), oldest first, with their requester.
   */
  pendingSigned (since = 0): Array<{ id: string, requester: PeerId, signedAt: number }> {
    return this.index.pendingSigned(since).map(entry => ({
      id: entry.id,
      requester: peerIdFromMultihash(Digest.decode(entry.requester)),
      signedAt: entry.signedAt
    }))
  }

  private cacheTree (root: string, tree: MerkleTree): void {
    this.trees.delete(root)
    this.trees.set(root, tree)
    while (this.trees.size > MERKLE_TREE_CACHE_SIZE) {
      this.trees.delete(this.trees.keys().next().value as string)
    }
  }

  /**
   * The portable proof of a receipt (anchor included once anchored); undefined until it is
   * batched. A `worker` receipt's proof is the one its requester sent (`recordProof`).
   */
  proof (id: string): ReceiptProof | undefined {
    const entry = this.index.get(id.toLowerCase())
    if (entry?.proof != null) {
      const held = entry.proof
      const proof: ReceiptProof = {
        receipt: entry.bytes,
        root: hashFromHex(held.root)!,
        count: held.count,
        index: held.index,
        path: held.path.map(hash => hashFromHex(hash)!),
        anchor: { signature: held.signature, slot: held.slot }
      }
      if (held.cluster != null) {
        proof.cluster = held.cluster
      }
      return proof
    }
    const batch = entry?.batch
    if (entry == null || batch == null || entry.leafIndex == null) {
      return undefined
    }
    let tree = this.trees.get(batch.root)
    if (tree == null) {
      tree = MerkleTree.fromLeaves(batch.receiptIds.map(id => this.index.get(id)!.bytes))
    }
    this.cacheTree(batch.root, tree)
    const proof: ReceiptProof = { receipt: entry.bytes, root: tree.root, count: tree.size, index: entry.leafIndex, path: tree.proof(entry.leafIndex) }
    if (batch.anchor != null) {
      // a batch of this store's `worker` receipts was anchored by this node as their worker
      proof.anchor = entry.role === 'worker'
        ? { signature: batch.anchor.signature, slot: batch.anchor.slot, by: 'worker' }
        : { signature: batch.anchor.signature, slot: batch.anchor.slot }
      if (batch.anchor.cluster != null) {
        proof.cluster = batch.anchor.cluster
      }
    }
    return proof
  }

  stats (): ReceiptStoreStats {
    const log = this.log.stats()
    return { ...this.index.stats(), signedPending: this.index.signedCount, fsyncs: log.fsyncs, logBytes: log.bytes }
  }

  /** Wait for the writes under way, close the log and release the lock. */
  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    await this.tail
    await this.log.close()
    await this.lock?.release()
  }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}

function normalize (query: ReceiptQuery): ReceiptQuery {
  for (const name of ['limit', 'offset'] as const) {
    const value = query[name]
    if (value != null && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`${name} is a whole number >= 0, not ${value}`)
    }
  }
  if (query.role != null && query.role !== 'requester' && query.role !== 'worker') {
    throw new RangeError(`role is requester or worker, not ${String(query.role)}`)
  }
  return { ...query, jobId: query.jobId?.toLowerCase() }
}
