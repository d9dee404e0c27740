import { MAX_SIGNED_RECEIPT_BYTES, MessageTooLargeError, ShardmeshError } from '@shardmesh/protocol'
import { MERKLE_HASH_BYTES } from './constants.js'
import { fromBase64, hashFromHex, toHex } from './encoding.js'
import { MerkleTree } from './merkle.js'
import { readAnchorFields } from './proof.js'
import { verifyReceipt } from './receipt.js'
import type { ReceiptAnchor, ReceiptProof } from './proof.js'
import type { VerifiedReceipt } from './receipt.js'
import type { ReceiptBatch } from './store/types.js'
import type { AbortOptions } from '@libp2p/interface'

/** The `format` of a batch bundle file. */
export const RECEIPT_BUNDLE_FORMAT = 'shardmesh-receipt-bundle/1'

/** The most receipts a bundle holds. */
export const MAX_BUNDLE_RECEIPTS = 10_000

/** The largest bundle file: every receipt at its limit in base64, and room for the rest. */
export const MAX_RECEIPT_BUNDLE_BYTES = MAX_BUNDLE_RECEIPTS * (Math.ceil(MAX_SIGNED_RECEIPT_BYTES / 3) * 4 + 8) + 4096

/** Why a bundle was rejected. */
export type ReceiptBundleRejection =
  | 'undecodable'
  | 'unsupported-format'
  | 'count-mismatch'
  | 'root-mismatch'
  | 'duplicate-receipt'
  | 'bad-receipt'
  /** the receipts do not all name the party that anchors the batch (one requester, or with `anchor.by: 'worker'` one worker) */
  | 'mixed-party'

/** A batch bundle failed a check; `reason` names which, `index` the receipt when one is at fault. */
export class InvalidReceiptBundleError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_RECEIPT_BUNDLE'
  readonly reason: ReceiptBundleRejection
  readonly field?: string
  readonly index?: number

  constructor (reason: ReceiptBundleRejection, message: string, where: { field?: string, index?: number } = {}, options?: ErrorOptions) {
    super(`${reason}: ${message}`, InvalidReceiptBundleError.code, options)
    this.name = 'InvalidReceiptBundleError'
    this.reason = reason
    this.field = where.field
    this.index = where.index
  }
}

/**
 * Every receipt of one sealed batch, in leaf order: whoever holds it recomputes the batch root
 * and checks each receipt, then compares the root and count with the memo on chain.
 */
export interface ReceiptBundle {
  /** the batch root, 32 bytes */
  root: Uint8Array
  /** leaves in the batch: `receipts.length` */
  count: number
  /** the encoded SignedReceipts, countersigned, in leaf order */
  receipts: Uint8Array[]
  anchor?: ReceiptAnchor
  /** the base58 genesis hash of the cluster the anchor is on */
  cluster?: string
}

/** A bundle whose root and every receipt were checked (`checkBundle`). */
export interface CheckedBundle {
  bundle: ReceiptBundle
  /** root hex */
  root: string
  /** the receipts, verified, in leaf order */
  receipts: VerifiedReceipt[]
}

interface ReceiptBundleJson {
  format: string
  root: string
  count: number
  cluster?: string
  anchor?: { signature: string, slot: string, by?: 'worker' }
  receipts: string[]
}

/** The bundle as a JSON file: one receipt (base64) a line. */
export function encodeBundle (bundle: ReceiptBundle): string {
  if (bundle.receipts.length === 0 || bundle.receipts.length > MAX_BUNDLE_RECEIPTS) {
    throw new RangeError(`a bundle holds 1 to ${MAX_BUNDLE_RECEIPTS} receipts, not ${bundle.receipts.length}`)
  }
  if (bundle.count !== bundle.receipts.length) {
    throw new RangeError(`a bundle's count (${bundle.count}) is its number of receipts (${bundle.receipts.length})`)
  }
  const json: ReceiptBundleJson = { format: RECEIPT_BUNDLE_FORMAT, root: toHex(bundle.root), count: bundle.count, receipts: [] }
  if (bundle.cluster != null) {
    json.cluster = bundle.cluster
  }
  if (bundle.anchor != null) {
    json.anchor = { signature: bundle.anchor.signature, slot: bundle.anchor.slot.toString() }
    if (bundle.anchor.by === 'worker') {
      json.anchor.by = 'worker'
    }
  }
  json.receipts = bundle.receipts.map(r => Buffer.from(r).toString('base64'))
  return JSON.stringify(json, null, 2) + '\n'
}

function malformed (field: string, what: string): InvalidReceiptBundleError {
  return new InvalidReceiptBundleError('undecodable', `${field} ${what}`, { field })
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value != null && !Array.isArray(value)
}

/**
 * Read a bundle file. Throws `MessageTooLargeError` over MAX_RECEIPT_BUNDLE_BYTES and
 * `InvalidReceiptBundleError` naming the field for anything malformed. Checks the form only:
 * `checkBundle` recomputes the root and checks the signatures.
 */
export function decodeBundle (text: string | Uint8Array): ReceiptBundle {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength
  if (size > MAX_RECEIPT_BUNDLE_BYTES) {
    throw new MessageTooLargeError(`a receipt bundle is ${size} bytes, over the ${MAX_RECEIPT_BUNDLE_BYTES} byte limit`)
  }
  let json: unknown
  try {
    json = JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text))
  } catch (err: any) {
    throw new InvalidReceiptBundleError('undecodable', `not JSON (${err.message})`, {}, { cause: err })
  }
  if (!isObject(json)) {
    throw malformed('bundle', 'is not a JSON object')
  }
  if (json.format !== RECEIPT_BUNDLE_FORMAT) {
    // not JSON.stringify(json.format): a deeply nested value overflows the stack there
    throw new InvalidReceiptBundleError('unsupported-format', `format ${typeof json.format === 'string' ? JSON.stringify(json.format.slice(0, 80)) : `of type ${typeof json.format}`} is not ${RECEIPT_BUNDLE_FORMAT}`, { field: 'format' })
  }
  const root = hashFromHex(json.root)
  if (root == null) {
    throw malformed('root', `is not ${MERKLE_HASH_BYTES} bytes of hex`)
  }
  const count = json.count
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_BUNDLE_RECEIPTS) {
    throw malformed('count', `is not a whole number from 1 to ${MAX_BUNDLE_RECEIPTS}`)
  }
  if (!Array.isArray(json.receipts) || json.receipts.length > MAX_BUNDLE_RECEIPTS) {
    throw malformed('receipts', `is not a list of at most ${MAX_BUNDLE_RECEIPTS} receipts`)
  }
  if (json.receipts.length !== count) {
    throw new InvalidReceiptBundleError('count-mismatch', `count is ${count} but the bundle holds ${json.receipts.length} receipts`, { field: 'count' })
  }
  const maxBase64 = Math.ceil(MAX_SIGNED_RECEIPT_BYTES / 3) * 4
  const receipts = json.receipts.map((text: unknown, i) => {
    const bytes = typeof text === 'string' && text.length <= maxBase64 ? fromBase64(text) : undefined
    if (bytes == null || bytes.byteLength === 0 || bytes.byteLength > MAX_SIGNED_RECEIPT_BYTES) {
      throw new InvalidReceiptBundleError('undecodable', `receipts[${i}] is not base64 of 1 to ${MAX_SIGNED_RECEIPT_BYTES} bytes`, { field: `receipts[${i}]`, index: i })
    }
    return bytes
  })
  return { root, count, receipts, ...readAnchorFields(json, malformed) }
}

/**
 * The offline check of a bundle: the Merkle root over its receipts (leaf order, as the store
 * builds it and proofs use it) is its `root`, no receipt appears twice, and every receipt carries
 * a valid worker signature and requester countersignature. Whether the root is on chain is the
 * caller's part (`bundleProof` gives a proof to check the anchor with). Throws
 * `InvalidReceiptBundleError` naming the failed check (and the receipt, by leaf index).
 */
export async function checkBundle (bundle: ReceiptBundle, options: AbortOptions = {}): Promise<CheckedBundle> {
  options.signal?.throwIfAborted()
  if (bundle.receipts.length === 0 || bundle.receipts.length > MAX_BUNDLE_RECEIPTS || bundle.count !== bundle.receipts.length) {
    throw new InvalidReceiptBundleError('count-mismatch', `count is ${bundle.count} but the bundle holds ${bundle.receipts.length} receipts`, { field: 'count' })
  }
  const root = MerkleTree.fromLeaves(bundle.receipts).root
  if (!Buffer.from(root).equals(bundle.root)) {
    throw new InvalidReceiptBundleError('root-mismatch', `the receipts hash to root ${toHex(root)}, not ${toHex(bundle.root)}`, { field: 'root' })
  }
  const receipts: VerifiedReceipt[] = []
  const seen = new Set<string>()
  for (let i = 0; i < bundle.receipts.length; i++) {
    options.signal?.throwIfAborted()
    let receipt: VerifiedReceipt
    try {
      receipt = await verifyReceipt(bundle.receipts[i], { requireCountersignature: true })
    } catch (err: any) {
      throw new InvalidReceiptBundleError('bad-receipt', `receipts[${i}]: ${err.message}`, { field: `receipts[${i}]`, index: i }, { cause: err })
    }
    const id = toHex(receipt.id)
    if (seen.has(id)) {
      throw new InvalidReceiptBundleError('duplicate-receipt', `receipts[${i}] is receipt ${id} again`, { field: `receipts[${i}]`, index: i })
    }
    seen.add(id)
    // one key anchors a batch: every receipt names it (as its requester, or as its worker when the worker anchored)
    const party = bundle.anchor?.by === 'worker' ? 'worker' : 'requester'
    if (receipts.length > 0 && !receipt[party].equals(receipts[0][party])) {
      throw new InvalidReceiptBundleError('mixed-party', `receipts[${i}] names ${party} ${receipt[party].toString()}, receipts[0] names ${receipts[0][party].toString()}`, { field: `receipts[${i}]`, index: i })
    }
    receipts.push(receipt)
  }
  return { bundle, root: toHex(root), receipts }
}

/**
 * The proof of the bundle's first receipt: what the anchor check (`verifyReceiptProof`) takes,
 * since every leaf of a batch has the same root, count, anchor and cluster.
 */
export function bundleProof (bundle: ReceiptBundle): ReceiptProof {
  const tree = MerkleTree.fromLeaves(bundle.receipts)
  const proof: ReceiptProof = { receipt: bundle.receipts[0], root: bundle.root, count: bundle.count, index: 0, path: tree.proof(0) }
  if (bundle.anchor != null) {
    proof.anchor = bundle.anchor
  }
  if (bundle.cluster != null) {
    proof.cluster = bundle.cluster
  }
  return proof
}

/** What `batchBundle` reads of a store: `ReceiptStore` has both. */
export interface BundleSource {
  /** `role` `worker`: the batch is of receipts this node holds as their worker, so it anchored them as the worker */
  get(id: string): { bytes: Uint8Array, role?: 'requester' | 'worker' } | undefined
}

/**
 * The bundle of a sealed batch (`store.getBatch(root)`), its receipts read from the store
 * (`store.get(id)`) in leaf order. Throws a RangeError when the batch is over
 * MAX_BUNDLE_RECEIPTS or a receipt is missing.
 */
export function batchBundle (batch: ReceiptBatch, store: BundleSource): ReceiptBundle {
  if (batch.receiptIds.length > MAX_BUNDLE_RECEIPTS) {
    throw new RangeError(`batch ${batch.root} holds ${batch.receiptIds.length} receipts, over the ${MAX_BUNDLE_RECEIPTS} a bundle holds`)
  }
  const root = hashFromHex(batch.root)
  if (root == null) {
    throw new RangeError(`batch root ${batch.root} is not ${MERKLE_HASH_BYTES} bytes of hex`)
  }
  let role: 'requester' | 'worker' | undefined
  const receipts = batch.receiptIds.map(id => {
    const stored = store.get(id)
    if (stored == null) {
      throw new RangeError(`receipt ${id} of batch ${batch.root} is not in the store`)
    }
    role ??= stored.role
    return stored.bytes
  })
  const bundle: ReceiptBundle = { root, count: receipts.length, receipts }
  if (batch.anchor != null) {
    bundle.anchor = role === 'worker'
      ? { signature: batch.anchor.signature, slot: batch.anchor.slot, by: 'worker' }
      : { signature: batch.anchor.signature, slot: batch.anchor.slot }
    if (batch.anchor.cluster != null) {
      bundle.cluster = batch.anchor.cluster
    }
  }
  return bundle
}
