import { InvalidInputError } from '../errors.js'
import type { ItemCodec } from '../workload.js'

/** Items that are opaque bytes, at most `maxBytes` each. */
export function bytesCodec (maxBytes: number): ItemCodec<Uint8Array> {
  return {
    encode (value: Uint8Array): Uint8Array {
      if (value.byteLength > maxBytes) {
        throw new InvalidInputError(`item of ${value.byteLength} bytes is over the ${maxBytes} byte limit`)
      }
      return value
    },
    decode (bytes: Uint8Array): Uint8Array {
      if (bytes.byteLength > maxBytes) {
        throw new InvalidInputError(`item of ${bytes.byteLength} bytes is over the ${maxBytes} byte limit`)
      }
      return bytes
    }
  }
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}
