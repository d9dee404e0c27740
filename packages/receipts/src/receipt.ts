import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import {
  COUNTERSIGN_GROUP_SIGNATURE_DOMAIN,
  COUNTERSIGN_SIGNATURE_DOMAIN,
  MAX_RECEIPT_GROUP,
  RECEIPT_GROUP_SIGNATURE_DOMAIN,
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
import { MerkleTree, leafHash, rootFromPath } from './merkle.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import type { Loose, GroupPath, Verification } from '@shardmesh/protocol'

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
const RECEIPT_GROUP_DOMAIN = new TextEncoder().encode(RECEIPT_GROUP_SIGNATURE_DOMAIN)
const COUNTERSIGN_GROUP_DOMAIN = new TextEncoder().encode(COUNTERSIGN_GROUP_SIGNATURE_DOMAIN)
const EMPTY = new Uint8Array(0)

function u32be (value: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** What the requester countersigns of one receipt, without the domain: u32be(len(receipt)) ‖ receipt ‖ verification. */
function countersignedBody (receipt: Uint8Array, verification: Uint8Array): Uint8Array {
  // the receipt's length first, so no (receipt, verification) split is ambiguous
  return uint8ArrayConcat([u32be(receipt.byteLength), receipt, verification])
}

/** What one signature over a group covers: domain ‖ u32be(count) ‖ the root of the group's Merkle tree. */
function groupMessage (domain: Uint8Array, count: number, root: Uint8Array): Uint8Array {
  return uint8ArrayConcat([domain, u32be(count), root])
}

/**
 * One signature over `leaves` (each a leaf's bytes), and each leaf's place in their tree. A lone
 * leaf has no group: it is signed alone, as before groups existed.
 */
function signGroup (key: PrivateKey, groupDomain: Uint8Array, leaves: Uint8Array[], singleMessage: (leaf: Uint8Array) => Uint8Array): Array<{ signature: Uint8Array, group?: Loose<GroupPath> }> {
  if (leaves.length === 1) {
    return [{ signature: signEd25519(key, singleMessage(leaves[0])) }]
  }
  const tree = MerkleTree.fromLeaves(leaves)
  const signature = signEd25519(key, groupMessage(groupDomain, leaves.length, tree.root))
  return leaves.map((_, index) => ({ signature, group: { index, count: leaves.length, path: tree.proof(index) } }))
}

function checkGroupSize (count: number): void {
  if (count < 1 || count > MAX_RECEIPT_GROUP) {
    throw new RangeError(`a group signature covers 1 to ${MAX_RECEIPT_GROUP} receipts, not ${count}`)
  }
}

/**
 * Group signatures that verified, so the other receipts of a group cost their path's hashes and
 * not another Ed25519 verification. Keyed by the exact key, message and signature: a hit can
 * only be bytes that verified before. Bounded; the oldest entries go first.
 */
const verifiedGroups = new Map<string, true>()
const MAX_VERIFIED_GROUPS = 4096

function verifyGroupSignature (key: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  const id = `${Buffer.from(key.raw).toString('base64')}:${Buffer.from(message).toString('base64')}:${Buffer.from(signature).toString('base64')}`
  if (verifiedGroups.has(id)) {
    return true
  }
  if (!verifyEd25519(key, message, signature)) {
    return false
  }
  if (verifiedGroups.size >= MAX_VERIFIED_GROUPS) {
    verifiedGroups.delete(verifiedGroups.keys().next().value as string)
  }
  verifiedGroups.set(id, true)
  return true
}

/**
 * The message a signature over `leaf` must verify against: alone (`single`), or through the
 * group whose path it carries. Undefined when the path cannot be one of a group (a size out of
 * range, an index past it, a path of the wrong length or shape).
 */
function signedMessage (leaf: Uint8Array, group: GroupPath | undefined, groupDomain: Uint8Array, single: () => Uint8Array): Uint8Array | undefined {
  if (group == null) {
    return single()
  }
  if (group.count < 2 || group.count > MAX_RECEIPT_GROUP) {
    return undefined
  }
  const root = rootFromPath(leafHash(leaf), group.index, group.count, group.path)
  return root == null ? undefined : groupMessage(groupDomain, group.count, root)
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
  return signReceipts(key, [fields])[0]
}

/**
 * The worker encodes several receipts and signs them with one signature: the root of the
 * Merkle tree over the encoded receipts (RFC 9162), each receipt carrying its audit path, so each
 * stays provable on its own (docs/PROTOCOL.md §6). One receipt is signed alone. At most
 * `MAX_RECEIPT_GROUP`.
 */
export function signReceipts (key: PrivateKey, fields: ReceiptFields[]): Uint8Array[] {
  checkGroupSize(fields.length)
  const self = peerIdFromPublicKey(key.publicKey)
  const receipts = fields.map(f => {
    if (!f.worker.equals(self)) {
      throw new RangeError('a receipt must be signed by its worker')
    }
    return encodeOne(f)
  })
  const workerKey = publicKeyToProtobuf(key.publicKey)
  return signGroup(key, RECEIPT_GROUP_DOMAIN, receipts, r => uint8ArrayConcat([RECEIPT_DOMAIN, r])).map(({ signature, group }, i) =>
    encodeSignedReceipt({ receipt: receipts[i], workerKey, workerSignature: signature, requesterKey: EMPTY, requesterSignature: EMPTY, workerGroup: group })
  )
}

function encodeOne (fields: ReceiptFields): Uint8Array {
  const price = checkPrice(fields.lamportsPerItem ?? 0n)
  return encodeReceipt({
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
  return (await countersignReceipts(key, [{ receipt: signedReceipt, verification }], options))[0]
}

/** One receipt to countersign, and the requester's verdict on it. */
export interface ToCountersign {
  /** the encoded SignedReceipt, as its worker signed it */
  receipt: Uint8Array
  verification: VerificationFields
}

/**
 * The requester adds its verdict to several receipts and countersigns them with one signature
 * over the root of their Merkle tree, each receipt carrying its audit path (docs/PROTOCOL.md §6).
 * One receipt is countersigned alone. At most `MAX_RECEIPT_GROUP`.
 */
export async function countersignReceipts (key: PrivateKey, items: ToCountersign[], options: CountersignOptions = {}): Promise<Uint8Array[]> {
  checkGroupSize(items.length)
  if (options.verified !== true) {
    const self = peerIdFromPublicKey(key.publicKey)
    for (const item of items) {
      await verifyReceipt(item.receipt, { requireCountersignature: false, requester: self })
    }
  }
  const signed = items.map(item => decodeSignedReceipt(item.receipt))
  const verifications: Verification[] = items.map(({ verification }) => ({ policy: verification.policy, outcome: verification.outcome }))
  const bodies = signed.map((s, i) => countersignedBody(s.receipt, encodeVerification(verifications[i])))
  const requesterKey = publicKeyToProtobuf(key.publicKey)
  return signGroup(key, COUNTERSIGN_GROUP_DOMAIN, bodies, body => uint8ArrayConcat([COUNTERSIGN_DOMAIN, body])).map(({ signature, group }, i) =>
    encodeSignedReceipt({ ...signed[i], verification: verifications[i], requesterKey, requesterSignature: signature, requesterGroup: group })
  )
}

export interface VerifyReceiptOptions {
  /** demand the requester's countersignature @default true */
  requireCountersignature?: boolean
  /** the worker it must name */
  worker?: PeerId
  /** the requester it must name */
  requester?: PeerId
}

/**
 * Keys and peer ids decoded lately, by their bytes: a requester reads the same worker's key and
 * ids in every receipt, and building them (a multihash, an identity digest, a key object) cost
 * more than the rest of a grouped receipt's check. Bounded; the oldest go first.
 */
const MAX_DECODED = 1024
const decodedKeys = new Map<string, { key: PublicKey, peerId: PeerId }>()
const decodedPeers = new Map<string, PeerId>()

function remember <T> (cache: Map<string, T>, id: string, value: T): T {
  if (cache.size >= MAX_DECODED) {
    cache.delete(cache.keys().next().value as string)
  }
  cache.set(id, value)
  return value
}

/** A receipt's Ed25519 public key (protobuf form), with the peer id it makes. */
function keyOf (bytes: Uint8Array, reason: 'bad-worker-key' | 'bad-requester-key'): { key: PublicKey, peerId: PeerId } {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  const known = decodedKeys.get(id)
  if (known != null) {
    return known
  }
  try {
    const key = publicKeyFromProtobuf(bytes)
    if (key.type !== 'Ed25519') {
      throw new Error(`${key.type} keys are not accepted`)
    }
    return remember(decodedKeys, id, { key, peerId: peerIdFromPublicKey(key) })
  } catch (err: any) {
    throw new InvalidReceiptError(reason, `unusable public key (${err.message})`)
  }
}

function peerOf (bytes: Uint8Array, field: string): PeerId {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  const known = decodedPeers.get(id)
  if (known != null) {
    return known
  }
  try {
    return remember(decodedPeers, id, peerIdFromMultihash(Digest.decode(bytes)))
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
  const { key: workerKey, peerId: workerKeyPeer } = keyOf(signed.workerKey, 'bad-worker-key')
  if (!workerKeyPeer.equals(worker)) {
    throw new InvalidReceiptError('worker-mismatch', 'signed by a key that is not the worker it names')
  }
  if (checkSignatures) {
    const message = signedMessage(signed.receipt, signed.workerGroup, RECEIPT_GROUP_DOMAIN, () => uint8ArrayConcat([RECEIPT_DOMAIN, signed.receipt]))
    if (message == null) {
      throw new InvalidReceiptError('bad-worker-signature', 'the worker signature names a group this receipt is not in (a malformed group path)')
    }
    if (!(signed.workerGroup == null ? verifyEd25519(workerKey, message, signed.workerSignature) : verifyGroupSignature(workerKey, message, signed.workerSignature))) {
      throw new InvalidReceiptError('bad-worker-signature', 'the worker signature does not verify')
    }
  }
  if (options.worker != null && !options.worker.equals(worker)) {
    throw new InvalidReceiptError('unexpected-worker', `names worker ${worker.toString()}, expected ${options.worker.toString()}`)
  }
  if (options.requester != null && !options.requester.equals(requester)) {
    throw new InvalidReceiptError('unexpected-requester', `names requester ${requester.toString()}, expected ${options.requester.toString()}`)
  }
  const countersigned = signed.requesterSignature.byteLength > 0
  if (countersigned) {
    const { key: requesterKey, peerId: requesterKeyPeer } = keyOf(signed.requesterKey, 'bad-requester-key')
    if (!requesterKeyPeer.equals(requester)) {
      throw new InvalidReceiptError('requester-mismatch', 'countersigned by a key that is not the requester it names')
    }
    const verification = signed.verification ?? { policy: '', outcome: '' }
    if (checkSignatures) {
      const body = countersignedBody(signed.receipt, encodeVerification(verification))
      const message = signedMessage(body, signed.requesterGroup, COUNTERSIGN_GROUP_DOMAIN, () => uint8ArrayConcat([COUNTERSIGN_DOMAIN, body]))
      if (message == null) {
        throw new InvalidReceiptError('bad-countersignature', 'the requester countersignature names a group this receipt is not in (a malformed group path)')
      }
      if (!(signed.requesterGroup == null ? verifyEd25519(requesterKey, message, signed.requesterSignature) : verifyGroupSignature(requesterKey, message, signed.requesterSignature))) {
        throw new InvalidReceiptError('bad-countersignature', 'the requester countersignature does not verify')
      }
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
