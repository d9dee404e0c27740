import { KernelCache } from './pool/kernel-cache.js'
import { WorkerPool } from './pool/pool.js'
import { AbortError } from './errors.js'
import type { WorkerPoolInit, PoolResult } from './pool/pool.js'
import type { ModelFile, Workload } from './workload.js'

export interface WorkloadRunnerInit extends WorkerPoolInit {
  /** directory kernels may cache files in (generated or fetched models) */
  cacheDir: string
  /** an existing pool to use instead of creating one */
  pool?: WorkerPool
}

export interface RunShardOptions {
  signal?: AbortSignal
  onProgress?(done: number): void
  model?: ModelFile
}

/**
 * Runs shards of any workload where they belong: CPU-bound kernels in the worker_threads
 * pool, waiting kernels (echo, sleep) on the event loop. Kernels are created once and reused.
 */
export class WorkloadRunner {
  public readonly pool: WorkerPool
  public readonly cacheDir: string
  private readonly ownsPool: boolean
  private readonly inline = new KernelCache()
  private inlineRunning = 0

  constructor (init: WorkloadRunnerInit) {
    this.cacheDir = init.cacheDir
    this.ownsPool = init.pool == null
    this.pool = init.pool ?? new WorkerPool(init)
  }

  /** Shards running now (pool and inline). */
  get running (): number {
    return this.pool.busy + this.inlineRunning
  }

  async run (workload: Workload, items: Uint8Array[], options: RunShardOptions = {}): Promise<PoolResult> {
    const kernelOptions = { workload: workload.id, version: workload.version, params: workload.params, cacheDir: this.cacheDir }
    if (workload.executor === 'pool') {
      return this.pool.run({ kernel: workload.kernel, options: kernelOptions }, items, options)
    }
    if (options.signal?.aborted === true) {
      throw new AbortError('shard cancelled')
    }
    this.inlineRunning++
    try {
      const kernel = await this.inline.get(workload.kernel, kernelOptions)
      const started = performance.now()
      const outputs = await kernel.run(items, options)
      return { outputs, cpuMicros: Math.round((performance.now() - started) * 1000) }
    } finally {
      this.inlineRunning--
    }
  }

  /** Load a workload's kernel everywhere it will run, ahead of the first shard. */
  async warm (workload: Workload): Promise<void> {
    const options = { workload: workload.id, version: workload.version, params: workload.params, cacheDir: this.cacheDir }
    if (workload.executor === 'pool') {
      await this.pool.warm({ kernel: workload.kernel, options })
    } else {
      await this.inline.get(workload.kernel, options)
    }
  }

  async close (): Promise<void> {
    await this.inline.close()
    if (this.ownsPool) {
      await this.pool.close()
    }
  }
}
