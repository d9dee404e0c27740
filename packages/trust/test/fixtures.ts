import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ATTESTATION_SIGNATURE_DOMAIN, Attestation, SignedAttestation } from '@shardmesh/protocol'
import { signAttestation } from '../src/attestation.js'
import type { AttestationContent, VerifiedAttestation } from '../src/types.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A fixed clock reading for tests (ms). */
export const T0 = 1_700_000_000_000

export interface Node {
  key: PrivateKey
  id: PeerId
}

export async function newNode (): Promise<Node> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key) }
}

export type Content = Omit<AttestationContent, 'challenger' | 'at' | 'nonce'>

export function content (subject: PeerId, over: Partial<Content> = {}): Content {
  return { subject, workload: 'sha256-batch', version: '1.0.0', items: 64, itemsPerSec: 48, ok: true, beyondCpu: false, ...over }
}

let nonceCounter = 0

/** A fresh distinct nonce (deterministic). */
export function nonce (): Uint8Array {
  const n = new Uint8Array(16)
  new DataView(n.buffer).setUint32(12, ++nonceCounter)
  return n
}

/** Sign an attestation by `by` about `subject` at `at`. */
export async function attest (by: Node, subject: PeerId, at: number, over: Partial<Content> = {}): Promise<VerifiedAttestation> {
  return signAttestation(by.key, content(subject, over), { at, nonce: nonce() })
}

export interface HandFields {
  challenger: PeerId
  subject: PeerId
  workload?: string
  version?: string
  items?: number
  itemsPerSec?: number
  ok?: boolean
  beyondCpu?: boolean
  at: number
  nonce?: Uint8Array
}

/**
 * Encode and sign an attestation by hand, checking nothing (signAttestation refuses what a
 * hostile peer could still send): `signer` signs, `publicKey` is the key put in the envelope.
 */
export async function handSigned (signer: PrivateKey, fields: HandFields, publicKey = signer.publicKey): Promise<Uint8Array> {
  const payload = Attestation.encode({
    challenger: fields.challenger.toMultihash().bytes,
    subject: fields.subject.toMultihash().bytes,
    workload: fields.workload ?? 'sha256-batch',
    version: fields.version ?? '1.0.0',
    items: fields.items ?? 64,
    itemsPerSec: fields.itemsPerSec ?? 48,
    ok: fields.ok ?? true,
    beyondCpu: fields.beyondCpu ?? false,
    at: BigInt(fields.at),
    nonce: new Uint8Array(fields.nonce ?? nonce())
  })
  const domain = new TextEncoder().encode(ATTESTATION_SIGNATURE_DOMAIN)
  const data = new Uint8Array(domain.byteLength + payload.byteLength)
  data.set(domain, 0)
  data.set(payload, domain.byteLength)
  const signature = await signer.sign(data)
  return SignedAttestation.encode({ payload, publicKey: new Uint8Array(publicKeyToProtobuf(publicKey)), signature: new Uint8Array(signature) })
}
