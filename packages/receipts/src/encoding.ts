import { base58btc } from 'multiformats/bases/base58'
import { MERKLE_HASH_BYTES, TX_SIGNATURE_BYTES } from './constants.js'

/** Text forms shared by the proof file and the store: hex hashes, base64 bytes, base58 signatures. */

/** Lower-case hex. */
export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

const HASH_HEX = /^[0-9a-fA-F]{64}$/

/** The 32 bytes of a hex hash, or undefined if `text` is not 64 hex digits. */
export function hashFromHex (text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || !HASH_HEX.test(text)) {
    return undefined
  }
  const bytes = new Uint8Array(MERKLE_HASH_BYTES)
  bytes.set(Buffer.from(text, 'hex'))
  return bytes
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** The bytes of canonical, padded base64, or undefined (Buffer's own decoder accepts anything). */
export function fromBase64 (text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) {
    return undefined
  }
  const bytes = Buffer.from(text, 'base64')
  // non-zero padding bits: another spelling of the same bytes
  if (bytes.toString('base64') !== text) {
    return undefined
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Base58 of 64 bytes is at most 88 characters (86 only with a leading zero byte). */
const TX_SIGNATURE_TEXT = /^[1-9A-HJ-NP-Za-km-z]{64,88}$/

/** True when `text` is the base58 of a 64-byte Solana transaction signature. */
export function isTxSignature (text: unknown): text is string {
  if (typeof text !== 'string' || !TX_SIGNATURE_TEXT.test(text)) {
    return false
  }
  try {
    return base58btc.baseDecode(text).byteLength === TX_SIGNATURE_BYTES
  } catch {
    return false
  }
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/
const U64_MAX = (1n << 64n) - 1n

/** A u64 written as a decimal string, or undefined. */
export function u64FromDecimal (text: unknown): bigint | undefined {
  if (typeof text !== 'string' || !DECIMAL.test(text)) {
    return undefined
  }
  const value = BigInt(text)
  return value <= U64_MAX ? value : undefined
}

/** True for a bigint in the u64 range. */
export function isU64 (value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value <= U64_MAX
}
