/**
 * @packageDocumentation
 *
 * Workloads of shardmesh: the `Workload` contract, the registry of installed workloads, the
 * worker_threads pool that runs CPU-bound kernels, and the built-in workloads.
 */

export * from './workload.js'
export * from './errors.js'
