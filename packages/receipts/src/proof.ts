import { MAX_SIGNED_RECEIPT_BYTES, MessageTooLargeError } from '@shardmesh/protocol'
import { base58btc } from 'multiformats/bases/base58'
import {
  ANCHOR_MEMO_PREFIX, MAX_MERKLE_PATH_LENGTH, MAX_RECEIPT_PROOF_BYTES, MERKLE_HASH_BYTES, RECEIPT_PROOF_FORMAT
} from './constants.js'
import { fromBase64, hashFromHex, isTxSignature, isU64, toHex, u64FromDecimal } from './encoding.js'
import { InvalidReceiptProofError } from './errors.js'
import { leafHash, verifyInclusion } from './merkle.js'
import { verifyReceipt } from './receipt.js'
import type { VerifiedReceipt } from './receipt.js'
import type { AbortOptions, PeerId } from '@libp2p/interface'

/**
 * Who put a batch root on chain: the receipt's `requester` (the rule: it anchors what it
 * countersigned), or its `worker`, when the requester delivered no anchor in time and the
 * worker anchored the countersigned receipts it holds itself.
 */
export type AnchorParty = 'requester' | 'worker'

/** Where a batch root was anchored: the Solana transaction that carries its memo. */
export interface ReceiptAnchor {
  /** base58 transaction signature */
  signature: string
  slot: bigint
  /** whose key signed it (the proof file omits `requester`) @default 'requester' */
  by?: AnchorParty
}

/** The address whose signature an anchor must carry: the requester's unless the proof says the worker anchored it. */
export function anchorParty (anchor: ReceiptAnchor): AnchorParty {
  return anchor.by ?? 'requester'
}

/**
 * Everything needed to show that one receipt belongs to an anchored batch: the receipt, the
 * batch root and the receipt's audit path to it, and the transaction that put the root on chain.
 */
export interface ReceiptProof {
  /** the encoded SignedReceipt, countersigned */
  receipt: Uint8Array
  /** the batch root, 32 bytes */
  root: Uint8Array
  /** leaves in the batch */
  count: number
  /** this receipt's leaf index */
  index: number
  /** audit path from `MerkleTree.proof(index)`, leaf level first */
  path: Uint8Array[]
  anchor?: ReceiptAnchor
  /**
   * The cluster the anchor is on: the base58 genesis hash its RPC's `getGenesisHash` returns.
   * Optional (older proofs have none); `verifyReceiptProof` checks it when present.
   */
  cluster?: string
}

/** The JSON of a proof file. */
interface ReceiptProofJson {
  format: string
  receipt: string
  batch: { root: string, count: number, index: number, path: string[] }
  anchor?: { signature: string, slot: string, by?: 'worker' }
  cluster?: string
}

/** The proof as a JSON file (pretty-printed, one field a line). */
export function encodeReceiptProof (proof: ReceiptProof): string {
  const json: ReceiptProofJson = {
    format: RECEIPT_PROOF_FORMAT,
    receipt: Buffer.from(proof.receipt).toString('base64'),
    batch: { root: toHex(proof.root), count: proof.count, index: proof.index, path: proof.path.map(toHex) }
  }
  if (proof.anchor != null) {
    json.anchor = { signature: proof.anchor.signature, slot: proof.anchor.slot.toString() }
    if (proof.anchor.by === 'worker') {
      json.anchor.by = 'worker'
    }
  }
  if (proof.cluster != null) {
    json.cluster = proof.cluster
  }
  return JSON.stringify(json, null, 2) + '\n'
}

/** Base58 of 32 bytes is 32 to 44 characters (fewer only with leading zero bytes). */
const HASH_BASE58 = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/

/** True when `text` is the base58 of 32 bytes, as Solana writes a genesis hash. */
export function isGenesisHash (text: unknown): text is string {
  if (typeof text !== 'string' || !HASH_BASE58.test(text)) {
    return false
  }
  try {
    return base58btc.baseDecode(text).byteLength === MERKLE_HASH_BYTES
  } catch {
    return false
  }
}

function malformed (field: string, what: string): InvalidReceiptProofError {
  return new InvalidReceiptProofError('undecodable', `${field} ${what}`, field)
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value != null && !Array.isArray(value)
}

function hashField (value: unknown, field: string): Uint8Array {
  const hash = hashFromHex(value)
  if (hash == null) {
    throw malformed(field, `is not ${MERKLE_HASH_BYTES} bytes of hex`)
  }
  return hash
}

/**
 * Read a proof file. Throws `MessageTooLargeError` over MAX_RECEIPT_PROOF_BYTES and
 * `InvalidReceiptProofError` naming the field for anything malformed. Checks the form only:
 * `checkReceiptProof` checks the signatures and the path.
 */
export function decodeReceiptProof (text: string | Uint8Array): ReceiptProof {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength
  if (size > MAX_RECEIPT_PROOF_BYTES) {
    throw new MessageTooLargeError(`a receipt proof is ${size} bytes, over the ${MAX_RECEIPT_PROOF_BYTES} byte limit`)
  }
  let json: unknown
  try {
    json = JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text))
  } catch (err: any) {
    throw new InvalidReceiptProofError('undecodable', `not JSON (${err.message})`, undefined, { cause: err })
  }
  if (!isObject(json)) {
    throw malformed('proof', 'is not a JSON object')
  }
  if (json.format !== RECEIPT_PROOF_FORMAT) {
    // not JSON.stringify(json.format): a deeply nested value overflows the stack there
    throw new InvalidReceiptProofError('unsupported-format', `format ${typeof json.format === 'string' ? JSON.stringify(json.format.slice(0, 80)) : `of type ${typeof json.format}`} is not ${RECEIPT_PROOF_FORMAT}`, 'format')
  }
  if (typeof json.receipt !== 'string' || json.receipt.length > Math.ceil(MAX_SIGNED_RECEIPT_BYTES / 3) * 4) {
    throw malformed('receipt', `is not base64 of at most ${MAX_SIGNED_RECEIPT_BYTES} bytes`)
  }
  const receipt = fromBase64(json.receipt)
  if (receipt == null || receipt.byteLength === 0 || receipt.byteLength > MAX_SIGNED_RECEIPT_BYTES) {
    throw malformed('receipt', `is not base64 of 1 to ${MAX_SIGNED_RECEIPT_BYTES} bytes`)
  }
  const batch = json.batch
  if (!isObject(batch)) {
    throw malformed('batch', 'is not an object')
  }
  const root = hashField(batch.root, 'batch.root')
  const count = batch.count
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    throw malformed('batch.count', 'is not a whole number >= 1')
  }
  const index = batch.index
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw malformed('batch.index', `is not a whole number below batch.count (${count})`)
  }
  if (!Array.isArray(batch.path) || batch.path.length > MAX_MERKLE_PATH_LENGTH) {
    throw malformed('batch.path', `is not a list of at most ${MAX_MERKLE_PATH_LENGTH} hashes`)
  }
  const path = batch.path.map((hash, i) => hashField(hash, `batch.path[${i}]`))
  const proof: ReceiptProof = { receipt, root, count, index, path }
  Object.assign(proof, readAnchorFields(json, malformed))
  return proof
}

/**
 * The optional `anchor` (`{ signature, slot, by? }`) and `cluster` fields a proof file and a bundle
 * file share, checked; `malformed(field, what)` makes the error the caller throws.
 */
export function readAnchorFields (json: Record<string, unknown>, malformed: (field: string, what: string) => Error): { anchor?: ReceiptAnchor, cluster?: string } {
  const fields: { anchor?: ReceiptAnchor, cluster?: string } = {}
  if (json.anchor !== undefined) {
    const anchor = json.anchor
    if (!isObject(anchor)) {
      throw malformed('anchor', 'is not an object')
    }
    if (!isTxSignature(anchor.signature)) {
      throw malformed('anchor.signature', 'is not a base58 transaction signature (64 bytes)')
    }
    const slot = u64FromDecimal(anchor.slot)
    if (slot == null) {
      throw malformed('anchor.slot', 'is not a decimal string of a u64')
    }
    fields.anchor = { signature: anchor.signature, slot }
    if (anchor.by !== undefined) {
      if (anchor.by !== 'worker' && anchor.by !== 'requester') {
        throw malformed('anchor.by', 'is neither "worker" nor "requester"')
      }
      if (anchor.by === 'worker') {
        fields.anchor.by = 'worker'
      }
    }
  }
  if (json.cluster !== undefined) {
    if (!isGenesisHash(json.cluster)) {
      throw malformed('cluster', 'is not a base58 genesis hash (32 bytes)')
    }
    fields.cluster = json.cluster
  }
  return fields
}

/** The memo that anchors a batch: `shardmesh:v1:<root hex>:<count>`. */
export function anchorMemo (root: Uint8Array, count: number): string {
  if (root.byteLength !== MERKLE_HASH_BYTES) {
    throw new RangeError(`a batch root is ${MERKLE_HASH_BYTES} bytes, not ${root.byteLength}`)
  }
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`a batch holds at least one receipt, not ${count}`)
  }
  return `${ANCHOR_MEMO_PREFIX}:${toHex(root)}:${count}`
}

const MEMO = /^shardmesh:v1:([0-9a-f]{64}):([1-9][0-9]{0,15})$/

/** The root and count an anchor memo states, or undefined if it is not one (exactly). */
export function parseAnchorMemo (memo: string): { root: Uint8Array, count: number } | undefined {
  const match = typeof memo === 'string' ? MEMO.exec(memo) : null
  if (match == null) {
    return undefined
  }
  const count = Number(match[2])
  const root = hashFromHex(match[1])
  if (!Number.isSafeInteger(count) || root == null) {
    return undefined
  }
  return { root, count }
}

export interface CheckReceiptProofOptions extends AbortOptions {
  /** the worker the receipt must name */
  worker?: PeerId
  /** the requester the receipt must name */
  requester?: PeerId
}

/**
 * The offline part of checking a proof: the receipt's signatures (worker's and requester's)
 * and its audit path to the batch root. Whether that root is on chain is the caller's part
 * (`anchorMemo(proof.root, proof.count)` in the transaction `proof.anchor.signature`): the memo
 * binds the count to the root, which the audit path alone does not for every leaf index.
 * Throws `InvalidReceiptError` naming the failed signature check, or `InvalidReceiptProofError`
 * with reason 'merkle-path'.
 */
export async function checkReceiptProof (proof: ReceiptProof, options: CheckReceiptProofOptions = {}): Promise<VerifiedReceipt> {
  options.signal?.throwIfAborted()
  const receipt = await verifyReceipt(proof.receipt, { requireCountersignature: true, worker: options.worker, requester: options.requester })
  if (!verifyInclusion(leafHash(proof.receipt), proof.index, proof.count, proof.path, proof.root)) {
    throw new InvalidReceiptProofError('merkle-path', `the receipt is not leaf ${proof.index} of the batch of ${proof.count} with root ${toHex(proof.root)}`)
  }
  if (proof.anchor != null && (!isTxSignature(proof.anchor.signature) || !isU64(proof.anchor.slot))) {
    throw new InvalidReceiptProofError('undecodable', 'the anchor is not a transaction signature and a slot', 'anchor')
  }
  return receipt
}
