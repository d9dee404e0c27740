import { getBase58Decoder, getBase58Encoder } from '@solana/kit'

/**
 * Base58 (Bitcoin alphabet) for keys, signatures and blockhashes: @solana/kit's codec, named
 * by direction (kit calls bytes -> text "decode") and typed as the plain `Uint8Array` the
 * runtime and `node:crypto` take.
 */

const text = getBase58Decoder()
const bytes = getBase58Encoder()

/** The base58 text of `data`. */
export function encodeBase58 (data: Uint8Array): string {
  return text.decode(data)
}

/** The bytes of base58 `value`; throws on a character outside the alphabet. */
export function decodeBase58 (value: string): Uint8Array {
  return bytes.encode(value) as Uint8Array
}
