import { hash } from 'node:crypto'

/**
 * sha256 of some bytes. One-shot `crypto.hash`: for the small inputs of the hot path (shard
 * inputs and outputs, receipts, tree nodes) it costs less than half of a `createHash` object.
 */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer')
}

/** sha256 of some bytes, as lower-case hex (how models and payloads are named). */
export function sha256Hex (bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex')
}
