import { bytesCodec, equalBytes, mergeItems, splitItems } from '@shardmesh/workloads'
import type { Workload } from '@shardmesh/workloads'

export interface TestWorkloadParams {
  /** how this node's kernel behaves: see test/fixtures/test-kernel.ts */
  mode?: 'ok' | 'fail' | 'fail-first' | 'hang' | 'short' | 'gated'
  /** ms of waiting per item */
  msPerItem?: number
}

/** `test@1.0.0`, a test-only inline workload; each node builds it with its own behaviour. */
export function testWorkload (params: TestWorkloadParams = {}): Workload<Uint8Array, Uint8Array> {
  const codec = bytesCodec(1024)
  return {
    id: 'test',
    version: '1.0.0',
    description: 'test kernel (steered by params and items)',
    executor: 'inline',
    kernel: { module: new URL('../fixtures/test-kernel.js', import.meta.url).href },
    params: { ...params },
    input: codec,
    output: codec,
    tolerance: 'exact',
    split: splitItems,
    merge: mergeItems,
    compare: equalBytes,
    calibration: async () => []
  }
}
