import { createHash } from 'node:crypto'

/** sha256 of some bytes. */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

/** sha256 of some bytes, as lower-case hex (how models and payloads are named). */
export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
