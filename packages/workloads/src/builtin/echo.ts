import { RandomSource } from '../random.js'
import { calibrationCount, mergeItems, splitItems } from '../workload.js'
import { bytesCodec, equalBytes } from './bytes-codec.js'
import type { CalibrationOptions, Workload } from '../workload.js'

/** Bytes of one echo calibration item. */
const CALIBRATION_ITEM_BYTES = 32

/** Largest echo item. */
export const ECHO_MAX_ITEM_BYTES = 1024 * 1024

/**
 * `echo@1.0.0`: returns each item unchanged. No computation at all, so it measures the
 * mesh's own per-shard cost (framing, streams, scheduling, receipts).
 */
export function echo (): Workload<Uint8Array, Uint8Array> {
  const codec = bytesCodec(ECHO_MAX_ITEM_BYTES)
  return {
    id: 'echo',
    version: '1.0.0',
    description: 'returns each item unchanged (measures mesh overhead)',
    executor: 'inline',
    kernel: { module: new URL('./echo-kernel.js', import.meta.url).href },
    params: {},
    input: codec,
    output: codec,
    tolerance: 'exact',
    split: splitItems,
    merge: mergeItems,
    compare: equalBytes,
    // fixed: one item of 32 zero bytes; random: items of 32 random bytes
    calibration: async (options: CalibrationOptions = {}) => {
      const count = calibrationCount(1, options)
      const random = options.random == null ? undefined : new RandomSource(options.random)
      return Array.from({ length: count }, () => random?.bytes(CALIBRATION_ITEM_BYTES) ?? new Uint8Array(CALIBRATION_ITEM_BYTES))
    }
  }
}
