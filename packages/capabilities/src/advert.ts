import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ADVERT_SIGNATURE_DOMAIN,
  MAX_TEXT_FIELD_LENGTH,
  decodeCapabilityAdvert,
  decodeSignedAdvert,
  encodeCapabilityAdvert,
  encodeSignedAdvert
} from '@shardmesh/protocol'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { MAX_ADVERT_TTL, MAX_CLOCK_SKEW } from './constants.js'
import { AdvertRejectedError } from './errors.js'
import { capabilityKey, parseCapabilityKey } from './keys.js'
import type { HardwareInfo } from './probe.js'
import type { CapabilityAdvert } from '@shardmesh/protocol'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface WorkloadOfferInfo {
  id: string
  version: string
  /** Measured items per second on this node; 0 when not measured yet. */
  throughput: number
}

/** The content of an advert, as a node describes itself. */
export interface AdvertContent {
  hardware: HardwareInfo
  workloads: WorkloadOfferInfo[]
  models: CID[]
  loadPermille: number
  freeSlots: number
  totalSlots: number
  priceHint: string
  addrs: Multiaddr[]
}

/** A verified advert: its content, who signed it, and the exact signed bytes (to relay). */
export interface VerifiedAdvert extends AdvertContent {
  peerId: PeerId
  seq: number
  issuedAt: number
  expiresAt: number
  /** The encoded `SignedAdvert`, verifiable by anyone on its own. */
  bytes: Uint8Array
}

export interface SignAdvertOptions {
  seq: number
  issuedAt: number
  ttl: number
}

const DOMAIN = new TextEncoder().encode(ADVERT_SIGNATURE_DOMAIN)

function signedPayload (payload: Uint8Array): Uint8Array {
  const data = new Uint8Array(DOMAIN.byteLength + payload.byteLength)
  data.set(DOMAIN, 0)
  data.set(payload, DOMAIN.byteLength)
  return data
}

/** Encode and sign an advert with the node key. */
export async function signAdvert (privateKey: PrivateKey, content: AdvertContent, options: SignAdvertOptions): Promise<VerifiedAdvert> {
  const peerId = peerIdFromPublicKey(privateKey.publicKey)
  const issuedAt = Math.floor(options.issuedAt)
  const expiresAt = issuedAt + Math.floor(options.ttl)
  const advert: CapabilityAdvert = {
    peerId: peerId.toMultihash().bytes,
    seq: BigInt(options.seq),
    issuedAt: BigInt(issuedAt),
    expiresAt: BigInt(expiresAt),
    hardware: {
      cpuModel: content.hardware.cpuModel,
      cpuCores: content.hardware.cpuCores,
      memoryBytes: BigInt(content.hardware.memoryBytes),
      gpus: content.hardware.gpus.map(g => ({ ...g, memoryBytes: BigInt(g.memoryBytes) })),
      platform: content.hardware.platform,
      arch: content.hardware.arch
    },
    workloads: content.workloads.map(w => ({ ...w })),
    models: content.models.map(cid => cid.bytes),
    loadPermille: content.loadPermille,
    freeSlots: content.freeSlots,
    totalSlots: content.totalSlots,
    priceHint: content.priceHint,
    addrs: content.addrs.map(a => a.bytes)
  }
  const payload = encodeCapabilityAdvert(advert)
  const signature = await privateKey.sign(signedPayload(payload))
  const bytes = encodeSignedAdvert({ payload, publicKey: publicKeyToProtobuf(privateKey.publicKey), signature })
  return { ...content, peerId, seq: options.seq, issuedAt, expiresAt, bytes }
}

export interface VerifyAdvertOptions {
  /** The current time in ms. @default Date.now() */
  now?: number
  /** When set, the advert must be signed by this peer (the gossip publisher, the peer we asked). */
  expectedSigner?: PeerId
}

/**
 * Decode and check a `SignedAdvert` from an untrusted source. Throws `AdvertRejectedError`
 * with the failing check as `reason`; nothing else can come out.
 */
export async function verifyAdvert (bytes: Uint8Array, options: VerifyAdvertOptions = {}): Promise<VerifiedAdvert> {
  const now = options.now ?? Date.now()
  let signed
  try {
    signed = decodeSignedAdvert(bytes)
  } catch (err: any) {
    throw asRejection(err)
  }

  let publicKey
  try {
    publicKey = publicKeyFromProtobuf(signed.publicKey)
  } catch (err: any) {
    throw new AdvertRejectedError('invalid', 'the public key does not decode', { cause: err })
  }
  if (publicKey.type !== 'Ed25519') {
    throw new AdvertRejectedError('invalid', `key type ${publicKey.type} is not Ed25519`)
  }
  let valid: boolean
  try {
    valid = await publicKey.verify(signedPayload(signed.payload), signed.signature)
  } catch {
    valid = false
  }
  if (!valid) {
    throw new AdvertRejectedError('bad-signature', 'signature does not verify')
  }

  let advert: CapabilityAdvert
  try {
    advert = decodeCapabilityAdvert(signed.payload)
  } catch (err: any) {
    throw asRejection(err)
  }

  const signer = peerIdFromPublicKey(publicKey)
  if (!uint8ArrayEquals(advert.peerId, signer.toMultihash().bytes)) {
    throw new AdvertRejectedError('signer-mismatch', `advert names another peer than its signer ${signer.toString()}`)
  }
  if (options.expectedSigner != null && !options.expectedSigner.equals(signer)) {
    throw new AdvertRejectedError('sender-mismatch', `advert signed by ${signer.toString()} came from ${options.expectedSigner.toString()}`)
  }

  const issuedAt = toSafeNumber(advert.issuedAt, 'issuedAt')
  const expiresAt = toSafeNumber(advert.expiresAt, 'expiresAt')
  if (expiresAt <= issuedAt || expiresAt - issuedAt > MAX_ADVERT_TTL) {
    throw new AdvertRejectedError('invalid', `TTL of ${expiresAt - issuedAt} ms is outside (0, ${MAX_ADVERT_TTL}]`)
  }
  // the issuer's clock may lag or lead ours by up to MAX_CLOCK_SKEW (the peer table then holds
  // the advert for its TTL on our clock)
  if (expiresAt + MAX_CLOCK_SKEW <= now) {
    throw new AdvertRejectedError('expired', `expired ${now - expiresAt} ms ago, beyond the ${MAX_CLOCK_SKEW} ms of clock skew tolerated`)
  }
  if (issuedAt > now + MAX_CLOCK_SKEW) {
    throw new AdvertRejectedError('clock-skew', `issued ${issuedAt - now} ms in the future, beyond the ${MAX_CLOCK_SKEW} ms of clock skew tolerated: the issuer's clock runs ahead`)
  }

  return {
    peerId: signer,
    seq: toSafeNumber(advert.seq, 'seq'),
    issuedAt,
    expiresAt,
    hardware: {
      cpuModel: text(advert.hardware?.cpuModel),
      cpuCores: advert.hardware?.cpuCores ?? 0,
      memoryBytes: toSafeNumber(advert.hardware?.memoryBytes ?? 0n, 'memoryBytes'),
      gpus: (advert.hardware?.gpus ?? []).map(g => ({
        vendor: text(g.vendor),
        model: text(g.model),
        memoryBytes: toSafeNumber(g.memoryBytes, 'gpu.memoryBytes'),
        uuid: text(g.uuid),
        driver: text(g.driver)
      })),
      platform: text(advert.hardware?.platform),
      arch: text(advert.hardware?.arch)
    },
    workloads: advert.workloads.map(w => ({
      id: workloadId(w.id),
      version: text(w.version),
      throughput: Number.isFinite(w.throughput) && w.throughput > 0 ? w.throughput : 0
    })),
    models: advert.models.map(m => decodeOr(() => CID.decode(m), 'model CID')),
    loadPermille: Math.min(advert.loadPermille, 1000),
    freeSlots: advert.freeSlots,
    totalSlots: advert.totalSlots,
    priceHint: text(advert.priceHint),
    addrs: advert.addrs.map(a => decodeOr(() => multiaddr(a), 'multiaddr')),
    bytes
  }
}

/**
 * Read which peer an advert claims to come from and its seq, checking nothing. Only for
 * skipping the signature check of an advert we would drop anyway (its seq is not above one we
 * hold): a forgery that claims an old seq is dropped as 'not-newer' without costing a
 * verification. Undefined if the bytes do not decode.
 */
export function peekAdvert (bytes: Uint8Array): { peerId: string, seq: number } | undefined {
  try {
    const advert = decodeCapabilityAdvert(decodeSignedAdvert(bytes).payload)
    return { peerId: peerIdFromMultihash(Digest.decode(advert.peerId)).toString(), seq: Number(advert.seq) }
  } catch {
    return undefined
  }
}

/** The capability keys an advert makes its signer a provider of. */
export function advertCapabilityKeys (advert: Pick<AdvertContent, 'workloads' | 'models' | 'hardware'>): string[] {
  const keys = new Set<string>()
  for (const w of advert.workloads) {
    keys.add(capabilityKey('workload', w.id))
  }
  for (const m of advert.models) {
    keys.add(capabilityKey('model', m.toString()))
  }
  for (const g of advert.hardware.gpus) {
    keys.add(capabilityKey('gpu', g.vendor))
  }
  return [...keys]
}

function asRejection (err: any): AdvertRejectedError {
  if (err?.name === 'MessageTooLargeError') {
    return new AdvertRejectedError('oversized', err.message, { cause: err })
  }
  return new AdvertRejectedError('undecodable', String(err?.message ?? err), { cause: err })
}

function toSafeNumber (value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AdvertRejectedError('invalid', `${field} is out of range`)
  }
  return Number(value)
}

function text (value: string | undefined): string {
  if (value == null) {
    return ''
  }
  if (value.length > MAX_TEXT_FIELD_LENGTH) {
    throw new AdvertRejectedError('invalid', `a text field is over ${MAX_TEXT_FIELD_LENGTH} characters`)
  }
  return value
}

function workloadId (id: string): string {
  try {
    parseCapabilityKey(`workload:${id}`)
  } catch (err: any) {
    throw new AdvertRejectedError('invalid', 'invalid workload id', { cause: err })
  }
  return id
}

function decodeOr <T> (fn: () => T, what: string): T {
  try {
    return fn()
  } catch (err: any) {
    throw new AdvertRejectedError('invalid', `invalid ${what}`, { cause: err })
  }
}
