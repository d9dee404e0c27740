/**
 * @packageDocumentation
 *
 * Workloads of shardmesh: the `Workload` contract, the registry of installed workloads, the
 * worker_threads pool that runs CPU-bound kernels, and the built-in workloads.
 */

export * from './workload.js'
export * from './errors.js'
export * from './guard.js'
export * from './registry.js'
export * from './runner.js'
export { RandomSource } from './random.js'
export { WorkerPool } from './pool/pool.js'
export type { WorkerPoolInit, PoolTask, PoolRunOptions, PoolResult } from './pool/pool.js'
export * from './builtin/index.js'
export * from './onnx/index.js'
export * from './ocr-rec/index.js'
export * from './embed/index.js'
export * from './builtin/all.js'
