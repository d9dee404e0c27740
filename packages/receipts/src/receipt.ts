import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import {
  COUNTERSIGN_SIGNATURE_DOMAIN,
  RECEIPT_SIGNATURE_DOMAIN,
  decodeReceipt,
  decodeSignedReceipt,
  encodeReceipt,
  encodeSignedReceipt,
  encodeVerification
} from '@shardmesh/protocol'
import { sha256 } from '@shardmesh/protocol'
import * as Digest from 'multiformats/hashes/digest'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { signEd25519, verifyEd25519 } from './ed25519.js'
import { InvalidReceiptError } from './errors.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import type { Verification } from '@shardmesh/protocol'

export const RECEIPT_VERSION = 1

/** What a worker states about one shard it ran. */
export interface ReceiptFields {
  jobId: Uint8Array
  shardIndex: number
  workload: string
  workloadVersion: string
  /** sha256 of the shard's encoded input ItemList */
  inputDigest: Uint8Array
  /** sha256 of the shard's encoded output ItemList */
  outputDigest: Uint8Array
  worker: PeerId
  requester: PeerId
  startedAt: number
  finishedAt: number
  items: number
  cpuMicros: number
  /**
   * The price the requester asked in the shard request, in lamports per item: signed here, so
   * both parties sign it. 0 or absent: unpaid (the receipt's bytes are those of an unpaid
   * receipt before prices existed).
   */
  lamportsPerItem?: bigint
}

export interface VerificationFields {
  policy: string
  outcome: 'accepted' | 'checked' | 'disputed'
}

/** A receipt whose signatures were checked. */
export interface VerifiedReceipt extends ReceiptFields {
  version: number
  /** lamports per item, as signed (0n: unpaid) */
  lamportsPerItem: bigint
  verification?: VerificationFields
  countersigned: boolean
  /** the encoded SignedReceipt, verifiable on its own */
  bytes: Uint8Array
  /** sha256 of the encoded Receipt: the receipt's id */
  id: Uint8Array
}

const RECEIPT_DOMAIN = new TextEncoder().encode(RECEIPT_SIGNATURE_DOMAIN)
const COUNTERSIGN_DOMAIN = new TextEncoder().encode(COUNTERSIGN_SIGNATURE_DOMAIN)

function countersignedBytes (receipt: Uint8Array, verification: Uint8Array): Uint8Array {
  // the receipt's length first, so no (receipt, verification) split is ambiguous
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, receipt.byteLength)
  return uint8ArrayConcat([COUNTERSIGN_DOMAIN, length, receipt, verification])
}

/** The largest u64: a price must fit the receipt's field. */
const MAX_U64 = (1n << 64n) - 1n

function checkPrice (lamportsPerItem: bigint): bigint {
  if (typeof lamportsPerItem !== 'bigint' || lamportsPerItem < 0n || lamportsPerItem > MAX_U64) {
    throw new RangeError(`lamportsPerItem is a u64 bigint, not ${String(lamportsPerItem)}`)
  }
  return lamportsPerItem
}

/**
 * What a receipt's worker is owed, in lamports: `items × lamportsPerItem` when the requester
 * accepted or checked the work (its countersigned verdict), 0 when it disputed it, did not
 * countersign it, the receipt is unpaid, or the worker is the requester itself (nobody pays
 * itself). See docs/PROTOCOL.md, "Settlement".
 */
export function owedLamports (receipt: Pick<VerifiedReceipt, 'items' | 'lamportsPerItem' | 'verification' | 'worker' | 'requester'>): bigint {
  const outcome = receipt.verification?.outcome
  if (receipt.lamportsPerItem <= 0n || (outcome !== 'accepted' && outcome !== 'checked') || receipt.worker.equals(receipt.requester)) {
    return 0n
  }
  return BigInt(receipt.items) * receipt.lamportsPerItem
}

/**
 * `owedLamports` of a stored receipt's bytes, without building its peer ids and keys: for
 * receipts this process verified before (a store's), read in bulk (sealing by payees). The
 * same rule: the countersigned verdict (an unknown outcome reads as accepted, as `verifyReceipt`
 * reads it), the price, and worker and requester compared by their multihash bytes.
 */
export function storedOwedLamports (bytes: Uint8Array): bigint {
  const signed = decodeSignedReceipt(bytes)
  const receipt = decodeReceipt(signed.receipt)
  const price = receipt.lamportsPerItem ?? 0n
  if (price <= 0n || signed.requesterSignature.byteLength === 0 || signed.verification == null || signed.verification.outcome === 'disputed' ||
      uint8ArrayEquals(receipt.worker, receipt.requester)) {
    return 0n
  }
  return BigInt(receipt.items) * price
}

/** The worker encodes its receipt and signs it with the node key. */
export async function signReceipt (key: PrivateKey, fields: ReceiptFields): Promise<Uint8Array> {
  if (!fields.worker.equals(peerIdFromPublicKey(key.publicKey))) {
    throw new RangeError('a receipt must be signed by its worker')
  }
  const price = checkPrice(fields.lamportsPerItem ?? 0n)
  const receipt = encodeReceipt({
    version: RECEIPT_VERSION,
    jobId: fields.jobId,
    shardIndex: fields.shardIndex,
    workload: fields.workload,
    workloadVersion: fields.workloadVersion,
    inputDigest: fields.inputDigest,
    outputDigest: fields.outputDigest,
    worker: fields.worker.toMultihash().bytes,
    requester: fields.requester.toMultihash().bytes,
    startedAt: BigInt(Math.floor(fields.startedAt)),
    finishedAt: BigInt(Math.floor(fields.finishedAt)),
    items: fields.items,
    cpuMicros: BigInt(Math.max(0, Math.floor(fields.cpuMicros))),
    // absent when unpaid: an unpaid receipt has the bytes it had before prices existed
    lamportsPerItem: price > 0n ? price : undefined
  })
  const signature = signEd25519(key, uint8ArrayConcat([RECEIPT_DOMAIN, receipt]))
  return encodeSignedReceipt({ receipt, workerKey: publicKeyToProtobuf(key.publicKey), workerSignature: signature, requesterKey: new Uint8Array(0), requesterSignature: new Uint8Array(0) })
}

export interface CountersignOptions {
  /**
   * The caller has just verified this receipt (worker signature, that it names us as the
   * requester): skip checking it again. @default false
   */
  verified?: boolean
}

/** The requester adds its verdict and countersigns a receipt it verified. */
export async function countersignReceipt (key: PrivateKey, signedReceipt: Uint8Array, verification: VerificationFields, options: CountersignOptions = {}): Promise<Uint8Array> {
  if (options.verified !== true) {
    await verifyReceipt(signedReceipt, { requireCountersignature: false, requester: peerIdFromPublicKey(key.publicKey) })
  }
  const signed = decodeSignedReceipt(signedReceipt)
  const v: Verification = { policy: verification.policy, outcome: verification.outcome }
  const signature = signEd25519(key, countersignedBytes(signed.receipt, encodeVerification(v)))
  return encodeSignedReceipt({ ...signed, verification: v, requesterKey: publicKeyToProtobuf(key.publicKey), requesterSignature: signature })
}

export interface VerifyReceiptOptions {
  /** demand the requester's countersignature @default true */
  requireCountersignature?: boolean
  /** the worker it must name */
  worker?: PeerId
  /** the requester it must name */
  requester?: PeerId
}

function keyOf (bytes: Uint8Array, reason: 'bad-worker-key' | 'bad-requester-key'): PublicKey {
  try {
    const key = publicKeyFromProtobuf(bytes)
    if (key.type !== 'Ed25519') {
      throw new Error(`${key.type} keys are not accepted`)
    }
    return key
  } catch (err: any) {
    throw new InvalidReceiptError(reason, `unusable public key (${err.message})`)
  }
}

function peerOf (bytes: Uint8Array, field: string): PeerId {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch {
    throw new InvalidReceiptError('undecodable', `${field} is not a peer id`)
  }
}

/**
 * Check a receipt: the worker's signature by the key of the worker it names, and (unless
 * told otherwise) the requester's countersignature by the key of the requester it names.
 * Throws `InvalidReceiptError` naming the failed check.
 */
export async function verifyReceipt (bytes: Uint8Array, options: VerifyReceiptOptions = {}): Promise<VerifiedReceipt> {
  return readReceipt(bytes, options, true)
}

/**
 * Decode a receipt and check its structure (peer ids, keys, that the keys are the peers it
 * names) but not its signatures: only for bytes this process has just signed or verified
 * itself, such as the receipts its compute service countersigned. Anything from elsewhere
 * goes through `verifyReceipt`.
 */
export function decodeTrustedReceipt (bytes: Uint8Array, options: VerifyReceiptOptions = {}): VerifiedReceipt {
  return readReceipt(bytes, options, false)
}

function readReceipt (bytes: Uint8Array, options: VerifyReceiptOptions, checkSignatures: boolean): VerifiedReceipt {
  let signed, receipt
  try {
    signed = decodeSignedReceipt(bytes)
    receipt = decodeReceipt(signed.receipt)
  } catch (err: any) {
    throw new InvalidReceiptError('undecodable', err.message)
  }
  const worker = peerOf(receipt.worker, 'worker')
  const requester = peerOf(receipt.requester, 'requester')
  const workerKey = keyOf(signed.workerKey, 'bad-worker-key')
  if (!peerIdFromPublicKey(workerKey).equals(worker)) {
    throw new InvalidReceiptError('worker-mismatch', 'signed by a key that is not the worker it names')
  }
  if (checkSignatures && !verifyEd25519(workerKey, uint8ArrayConcat([RECEIPT_DOMAIN, signed.receipt]), signed.workerSignature)) {
    throw new InvalidReceiptError('bad-worker-signature', 'the worker signature does not verify')
  }
  if (options.worker != null && !options.worker.equals(worker)) {
    throw new InvalidReceiptError('unexpected-worker', `names worker ${worker.toString()}, expected ${options.worker.toString()}`)
  }
  if (options.requester != null && !options.requester.equals(requester)) {
    throw new InvalidReceiptError('unexpected-requester', `names requester ${requester.toString()}, expected ${options.requester.toString()}`)
  }
  const countersigned = signed.requesterSignature.byteLength > 0
  if (countersigned) {
    const requesterKey = keyOf(signed.requesterKey, 'bad-requester-key')
    if (!peerIdFromPublicKey(requesterKey).equals(requester)) {
      throw new InvalidReceiptError('requester-mismatch', 'countersigned by a key that is not the requester it names')
    }
    const verification = signed.verification ?? { policy: '', outcome: '' }
    if (checkSignatures && !verifyEd25519(requesterKey, countersignedBytes(signed.receipt, encodeVerification(verification)), signed.requesterSignature)) {
      throw new InvalidReceiptError('bad-countersignature', 'the requester countersignature does not verify')
    }
  } else if (options.requireCountersignature ?? true) {
    throw new InvalidReceiptError('missing-countersignature', 'the requester has not countersigned this receipt')
  }
  const outcome = signed.verification?.outcome
  return {
    version: receipt.version,
    jobId: receipt.jobId,
    shardIndex: receipt.shardIndex,
    workload: receipt.workload,
    workloadVersion: receipt.workloadVersion,
    inputDigest: receipt.inputDigest,
    outputDigest: receipt.outputDigest,
    worker,
    requester,
    startedAt: Number(receipt.startedAt),
    finishedAt: Number(receipt.finishedAt),
    items: receipt.items,
    cpuMicros: Number(receipt.cpuMicros),
    lamportsPerItem: receipt.lamportsPerItem ?? 0n,
    verification: countersigned && signed.verification != null
      ? { policy: signed.verification.policy, outcome: (outcome === 'checked' || outcome === 'disputed') ? outcome : 'accepted' }
      : undefined,
    countersigned,
    bytes,
    id: sha256(signed.receipt)
  }
}

/** True when two digests are the same bytes. */
export function sameDigest (a: Uint8Array, b: Uint8Array): boolean {
  return uint8ArrayEquals(a, b)
}
