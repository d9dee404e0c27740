/** Item codecs of the `embed` workload: UTF-8 text in, 384 little-endian float32 out. */

import { InvalidInputError } from '../errors.js'
import { HIDDEN_SIZE, MAX_INPUT_BYTES, OUTPUT_BYTES, TOLERANCE } from './constants.js'
import type { ItemCodec } from '../workload.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** UTF-8 text of at most 16 KiB. */
export const embedTextCodec: ItemCodec<string> = {
  encode (value: string): Uint8Array {
    if (typeof value !== 'string') {
      throw new InvalidInputError(`embed input must be a string, got ${typeof value}`)
    }
    const bytes = encoder.encode(value)
    if (bytes.byteLength > MAX_INPUT_BYTES) {
      throw new InvalidInputError(`embed input is ${bytes.byteLength} bytes of UTF-8, the limit is ${MAX_INPUT_BYTES}`)
    }
    return bytes
  },
  decode (bytes: Uint8Array): string {
    if (bytes.byteLength > MAX_INPUT_BYTES) {
      throw new InvalidInputError(`embed input is ${bytes.byteLength} bytes, the limit is ${MAX_INPUT_BYTES}`)
    }
    try {
      return decoder.decode(bytes)
    } catch (err) {
      throw new InvalidInputError('embed input is not valid UTF-8', { cause: err })
    }
  }
}

/** A vector of 384 float32, little-endian: exactly 1536 bytes. */
export const embedVectorCodec: ItemCodec<Float32Array> = {
  encode (value: Float32Array): Uint8Array {
    if (!(value instanceof Float32Array) || value.length !== HIDDEN_SIZE) {
      throw new InvalidInputError(`an embedding is a Float32Array of ${HIDDEN_SIZE} values`)
    }
    const bytes = new Uint8Array(OUTPUT_BYTES)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < HIDDEN_SIZE; i++) {
      view.setFloat32(i * 4, value[i], true)
    }
    return bytes
  },
  decode (bytes: Uint8Array): Float32Array {
    if (bytes.byteLength !== OUTPUT_BYTES) {
      throw new InvalidInputError(`an embedding is ${OUTPUT_BYTES} bytes, got ${bytes.byteLength}`)
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const value = new Float32Array(HIDDEN_SIZE)
    for (let i = 0; i < HIDDEN_SIZE; i++) {
      value[i] = view.getFloat32(i * 4, true)
    }
    return value
  }
}

/** True when two embeddings have the same length and differ by at most 1e-5 everywhere. */
export function compareEmbeddings (a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    // written so that NaN compares false
    if (!(Math.abs(a[i] - b[i]) <= TOLERANCE)) return false
  }
  return true
}
