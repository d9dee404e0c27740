import { UnsupportedKeyError } from './errors.js'
import type { PeerId, PublicKey } from '@libp2p/interface'

/**
 * Addresses without a Solana client. A node's libp2p Ed25519 key is also its Solana account:
 * the raw libp2p private key is seed ‖ public key, the layout Solana keypairs use, so its
 * address is the base58 of the PeerId's public key. Every node names its own account at start
 * and peers' accounts when it checks proofs, with or without a ledger; this module encodes
 * base58 itself so that doing so does not load `@solana/kit` (about 150 modules).
 */

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Base58 (the Bitcoin alphabet, as Solana addresses use it) of `bytes`. */
export function base58 (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) {
    zeros++
  }
  // base-58 digits, least significant first
  const digits: number[] = []
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] * 256
      digits[j] = carry % 58
      carry = Math.floor(carry / 58)
    }
    while (carry > 0) {
      digits.push(carry % 58)
      carry = Math.floor(carry / 58)
    }
  }
  let text = '1'.repeat(zeros)
  for (let i = digits.length - 1; i >= 0; i--) {
    text += ALPHABET[digits[i]]
  }
  return text
}

/** The Solana address (base58) of an Ed25519 public key. */
export function addressOfPublicKey (key: PublicKey): string {
  if (key.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`a Solana account needs an Ed25519 key, not ${key.type}`)
  }
  return base58(key.raw)
}

/** The Solana address of a peer: the base58 of its Ed25519 public key. */
export function addressOfPeerId (peerId: PeerId): string {
  if (peerId.type !== 'Ed25519' || peerId.publicKey == null) {
    throw new UnsupportedKeyError(`peer ${peerId.toString()} has a ${peerId.type} key; only Ed25519 peers have a Solana address`)
  }
  return addressOfPublicKey(peerId.publicKey)
}

/**
 * The 64 bytes (secret key, then public key) of a Solana CLI keypair, from its JSON text or
 * the parsed array, or what is wrong with it. The halves are not checked against each other.
 */
export function parseSolanaKeypair (keypair: string | unknown[]): { ok: true, bytes: Uint8Array } | { ok: false, problem: string } {
  let values: unknown = keypair
  if (typeof keypair === 'string') {
    try {
      values = JSON.parse(keypair)
    } catch {
      return { ok: false, problem: 'not JSON' }
    }
  }
  if (!Array.isArray(values) || values.length !== 64) {
    return { ok: false, problem: `expected a JSON array of 64 numbers, found ${Array.isArray(values) ? `an array of ${values.length}` : typeof values}` }
  }
  if (!values.every(v => Number.isInteger(v) && v >= 0 && v <= 255)) {
    return { ok: false, problem: 'every value must be an integer from 0 to 255' }
  }
  return { ok: true, bytes: Uint8Array.from(values as number[]) }
}
