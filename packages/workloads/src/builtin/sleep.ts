import { RandomSource } from '../random.js'
import { calibrationCount, mergeItems, splitItems } from '../workload.js'
import { bytesCodec, equalBytes } from './bytes-codec.js'
import type { CalibrationOptions, Workload } from '../workload.js'

export interface SleepInit {
  /**
   * How long this node takes per item, in ms: a stand-in for a remote accelerator of a
   * given speed, for scheduling tests and benchmarks.
   *
   * @default 10
   */
  msPerItem?: number
}

/**
 * `sleep@1.0.0`: waits `msPerItem` per item (without using the CPU), then returns each item
 * unchanged. Nodes with different `msPerItem` behave like peers of different speeds.
 */
export function sleep (init: SleepInit = {}): Workload<Uint8Array, Uint8Array> {
  const msPerItem = init.msPerItem ?? 10
  if (!Number.isFinite(msPerItem) || msPerItem < 0) {
    throw new RangeError(`sleep: msPerItem must be a non-negative number, got ${msPerItem}`)
  }
  const codec = bytesCodec(64 * 1024)
  return {
    id: 'sleep',
    version: '1.0.0',
    description: `waits ${msPerItem} ms per item, then returns it (a remote accelerator of that speed)`,
    executor: 'inline',
    kernel: { module: new URL('./sleep-kernel.js', import.meta.url).href },
    params: { msPerItem },
    input: codec,
    output: codec,
    tolerance: 'exact',
    split: splitItems,
    merge: mergeItems,
    compare: equalBytes,
    // fixed: one item of 8 zero bytes; random: items of 8 random bytes (the cost is per item)
    calibration: async (options: CalibrationOptions = {}) => {
      const count = calibrationCount(1, options)
      const random = options.random == null ? undefined : new RandomSource(options.random)
      return Array.from({ length: count }, () => random?.bytes(8) ?? new Uint8Array(8))
    }
  }
}
