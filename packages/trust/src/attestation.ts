import { randomBytes } from 'node:crypto'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import {
  ATTESTATION_SIGNATURE_DOMAIN,
  Attestation,
  MAX_ATTESTATION_BYTES,
  MAX_SIGNED_ATTESTATION_BYTES,
  MAX_TEXT_FIELD_LENGTH,
  SignedAttestation,
  decodeLimited,
  sha256Hex
} from '@shardmesh/protocol'
import * as Digest from 'multiformats/hashes/digest'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { ATTESTATION_NONCE_BYTES, MAX_ATTESTATION_AGE, MAX_ATTESTATION_SKEW } from './constants.js'
import { AttestationRejectedError } from './errors.js'
import type { AttestationContent, AttestationRejectReason, VerifiedAttestation } from './types.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

export interface SignAttestationOptions {
  /** @default Date.now() */
  at?: number
  /** @default 16 random bytes */
  nonce?: Uint8Array
}

const DOMAIN = new TextEncoder().encode(ATTESTATION_SIGNATURE_DOMAIN)

/** What is signed: the domain, then the encoded `Attestation`. */
function signedBytes (payload: Uint8Array): Uint8Array {
  return uint8ArrayConcat([DOMAIN, payload])
}

/** C0 and C1 control characters: text from a peer is shown to people, never as terminal escapes. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

/** Why the fields of an attestation are out of range, or undefined when they are not. */
function fieldProblem (fields: Pick<AttestationContent, 'workload' | 'version' | 'items' | 'itemsPerSec' | 'at' | 'nonce'>): string | undefined {
  for (const [name, value] of [['workload', fields.workload], ['version', fields.version]] as const) {
    if (typeof value !== 'string' || value.length === 0) {
      return `${name} is empty`
    }
    if (value.length > MAX_TEXT_FIELD_LENGTH) {
      return `${name} is over ${MAX_TEXT_FIELD_LENGTH} characters`
    }
    if (CONTROL.test(value)) {
      return `${name} holds control characters`
    }
  }
  if (!Number.isInteger(fields.items) || fields.items < 1 || fields.items > 0xffffffff) {
    return `items ${fields.items} is not a count of at least 1`
  }
  if (typeof fields.itemsPerSec !== 'number' || !Number.isFinite(fields.itemsPerSec) || fields.itemsPerSec < 0) {
    return `itemsPerSec ${fields.itemsPerSec} is not a finite speed`
  }
  if (!Number.isSafeInteger(fields.at) || fields.at < 0) {
    return `at ${fields.at} is not a time`
  }
  if (!(fields.nonce instanceof Uint8Array) || fields.nonce.byteLength !== ATTESTATION_NONCE_BYTES) {
    return `the nonce is not ${ATTESTATION_NONCE_BYTES} bytes`
  }
  return undefined
}

/**
 * Sign an attestation with the challenger's node key. Throws `RangeError` when the subject is
 * the challenger itself (nobody attests itself) or a field is out of range.
 */
export async function signAttestation (privateKey: PrivateKey, content: Omit<AttestationContent, 'challenger' | 'at' | 'nonce'>, options: SignAttestationOptions = {}): Promise<VerifiedAttestation> {
  if (privateKey.type !== 'Ed25519') {
    throw new RangeError(`attestations are signed with Ed25519 keys, not ${privateKey.type}`)
  }
  const challenger = peerIdFromPublicKey(privateKey.publicKey)
  if (challenger.equals(content.subject)) {
    throw new RangeError('nobody attests itself: the subject is the challenger')
  }
  const at = Math.floor(options.at ?? Date.now())
  const nonce = new Uint8Array(options.nonce ?? randomBytes(ATTESTATION_NONCE_BYTES))
  const fields = { ...content, at, nonce }
  const problem = fieldProblem(fields)
  if (problem != null) {
    throw new RangeError(`attestation: ${problem}`)
  }
  const payload = Attestation.encode({
    challenger: challenger.toMultihash().bytes,
    subject: content.subject.toMultihash().bytes,
    workload: content.workload,
    version: content.version,
    items: content.items,
    itemsPerSec: content.itemsPerSec,
    ok: content.ok,
    beyondCpu: content.beyondCpu,
    at: BigInt(at),
    nonce
  })
  if (payload.byteLength > MAX_ATTESTATION_BYTES) {
    throw new RangeError(`attestation: ${payload.byteLength} bytes is over the ${MAX_ATTESTATION_BYTES} byte limit`)
  }
  const signature = await privateKey.sign(signedBytes(payload))
  const bytes = SignedAttestation.encode({
    payload,
    publicKey: publicKeyToProtobuf(privateKey.publicKey) as Uint8Array<ArrayBuffer>,
    signature: signature as Uint8Array<ArrayBuffer>
  })
  return {
    challenger,
    subject: content.subject,
    workload: content.workload,
    version: content.version,
    items: content.items,
    itemsPerSec: content.itemsPerSec,
    ok: content.ok,
    beyondCpu: content.beyondCpu,
    at,
    nonce,
    bytes,
    id: sha256Hex(bytes)
  }
}

export interface VerifyAttestationOptions {
  /** @default Date.now() */
  now?: number
  /** the peer that relayed or published it, when the transport names one: must be the challenger */
  from?: PeerId
  /** refuse attestations older than this (ms) @default MAX_ATTESTATION_AGE */
  maxAgeMs?: number
}

function reject (reason: AttestationRejectReason, message: string): AttestationRejectedError {
  return new AttestationRejectedError(reason, message)
}

function peerOf (bytes: Uint8Array, field: string): PeerId {
  try {
    return peerIdFromMultihash(Digest.decode(bytes))
  } catch {
    throw reject('malformed', `${field} is not a peer id`)
  }
}

function keyOf (bytes: Uint8Array): PublicKey {
  let key: PublicKey
  try {
    key = publicKeyFromProtobuf(bytes)
  } catch (err: any) {
    throw reject('malformed', `unusable public key (${String(err?.message ?? err)})`)
  }
  if (key.type !== 'Ed25519') {
    throw reject('malformed', `${key.type} keys are not accepted`)
  }
  return key
}

/**
 * Decode and check one encoded `SignedAttestation`: size limit first, then the protobuf, the
 * signature over ATTESTATION_SIGNATURE_DOMAIN || payload, that the key is the challenger's,
 * that challenger and subject differ, and that `at` is neither in the future (beyond the clock
 * skew) nor older than `maxAgeMs`. Throws `AttestationRejectedError` naming the reason.
 *
 * The envelope must be encoded canonically (as protons encodes it), so that one signed
 * attestation has one `id`. Whatever the input, nothing but `AttestationRejectedError` comes
 * out: anything unexpected is `malformed`.
 */
export async function verifyAttestation (bytes: Uint8Array, options: VerifyAttestationOptions = {}): Promise<VerifiedAttestation> {
  try {
    return await verify(bytes, options)
  } catch (err: any) {
    if (err instanceof AttestationRejectedError) {
      throw err
    }
    throw reject('malformed', String(err?.message ?? err))
  }
}

async function verify (bytes: Uint8Array, options: VerifyAttestationOptions): Promise<VerifiedAttestation> {
  const now = options.now ?? Date.now()
  const maxAgeMs = options.maxAgeMs ?? MAX_ATTESTATION_AGE
  if (!(bytes instanceof Uint8Array)) {
    throw reject('malformed', 'expected bytes')
  }
  if (bytes.byteLength > MAX_SIGNED_ATTESTATION_BYTES) {
    throw reject('oversized', `${bytes.byteLength} bytes is over the ${MAX_SIGNED_ATTESTATION_BYTES} byte limit`)
  }
  // a copy: the caller's buffer may be reused, and these bytes are kept and relayed
  bytes = bytes.slice()
  let signed: SignedAttestation
  let payload: Attestation
  try {
    signed = decodeLimited('SignedAttestation', SignedAttestation.codec(), bytes, MAX_SIGNED_ATTESTATION_BYTES)
    payload = decodeLimited('Attestation', Attestation.codec(), signed.payload, MAX_ATTESTATION_BYTES)
  } catch (err: any) {
    throw reject(err?.name === 'MessageTooLargeError' ? 'oversized' : 'malformed', String(err?.message ?? err))
  }
  if (!uint8ArrayEquals(SignedAttestation.encode(signed), bytes)) {
    throw reject('malformed', 'the envelope is not canonically encoded')
  }
  if (payload.at > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw reject('malformed', 'at is out of range')
  }
  const challenger = peerOf(payload.challenger, 'challenger')
  const subject = peerOf(payload.subject, 'subject')
  const content: AttestationContent = {
    challenger,
    subject,
    workload: payload.workload,
    version: payload.version,
    items: payload.items,
    itemsPerSec: payload.itemsPerSec,
    ok: payload.ok,
    beyondCpu: payload.beyondCpu,
    at: Number(payload.at),
    nonce: payload.nonce
  }
  const problem = fieldProblem(content)
  if (problem != null) {
    throw reject('malformed', problem)
  }
  const key = keyOf(signed.publicKey)
  let valid: boolean
  try {
    valid = signed.signature.byteLength === 64 && await key.verify(signedBytes(signed.payload), signed.signature)
  } catch {
    valid = false
  }
  if (!valid) {
    throw reject('bad-signature', 'the signature does not verify')
  }
  const signer = peerIdFromPublicKey(key)
  if (!signer.equals(challenger)) {
    throw reject('signer-mismatch', `signed by ${signer.toString()}, not by the challenger it names (${challenger.toString()})`)
  }
  if (challenger.equals(subject)) {
    throw reject('self-attestation', `${challenger.toString()} attests itself`)
  }
  if (options.from != null && !options.from.equals(challenger)) {
    throw reject('not-sender', `challenger ${challenger.toString()} did not send it (${options.from.toString()} did)`)
  }
  if (content.at > now + MAX_ATTESTATION_SKEW) {
    throw reject('future', `made ${content.at - now} ms in the future`)
  }
  if (now - content.at > maxAgeMs) {
    throw reject('expired', `made ${now - content.at} ms ago, over the ${maxAgeMs} ms limit`)
  }
  return { ...content, bytes, id: sha256Hex(bytes) }
}
