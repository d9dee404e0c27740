import type { AttestationContent, VerifiedAttestation } from './types.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

export interface SignAttestationOptions {
  /** @default Date.now() */
  at?: number
  /** @default 16 random bytes */
  nonce?: Uint8Array
}

/**
 * Sign an attestation with the challenger's node key. Throws `RangeError` when the subject is
 * the challenger itself (nobody attests itself) or a field is out of range.
 */
export async function signAttestation (privateKey: PrivateKey, content: Omit<AttestationContent, 'challenger' | 'at' | 'nonce'>, options: SignAttestationOptions = {}): Promise<VerifiedAttestation> {
  throw new Error('not implemented')
}

export interface VerifyAttestationOptions {
  /** @default Date.now() */
  now?: number
  /** the peer that relayed or published it, when the transport names one: must be the challenger */
  from?: PeerId
  /** refuse attestations older than this (ms) @default MAX_ATTESTATION_AGE */
  maxAgeMs?: number
}

/**
 * Decode and check one encoded `SignedAttestation`: size limit first, then the protobuf, the
 * signature over ATTESTATION_SIGNATURE_DOMAIN || payload, that the key is the challenger's,
 * that challenger and subject differ, and that `at` is neither in the future (beyond the clock
 * skew) nor older than `maxAgeMs`. Throws `AttestationRejectedError` naming the reason.
 */
export async function verifyAttestation (bytes: Uint8Array, options: VerifyAttestationOptions = {}): Promise<VerifiedAttestation> {
  throw new Error('not implemented')
}
