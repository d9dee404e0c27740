import { WorkloadFailedError } from '../errors.js'
import type { Kernel, KernelFactory, KernelOptions, KernelRef } from '../workload.js'

/**
 * Kernels by (module, export, options): created once, then reused so sessions stay warm.
 * Used inside each pool thread and, for inline workloads, on the main thread.
 */
export class KernelCache {
  private readonly kernels = new Map<string, Promise<Kernel>>()

  async get (ref: KernelRef, options: KernelOptions): Promise<Kernel> {
    const key = JSON.stringify([ref.module, ref.exportName ?? 'createKernel', options])
    let kernel = this.kernels.get(key)
    if (kernel == null) {
      kernel = load(ref, options)
      this.kernels.set(key, kernel)
      // a failed load must not be cached forever
      kernel.catch(() => this.kernels.delete(key))
    }
    return kernel
  }

  async close (): Promise<void> {
    const kernels = [...this.kernels.values()]
    this.kernels.clear()
    await Promise.allSettled(kernels.map(async k => (await k).close?.()))
  }
}

async function load (ref: KernelRef, options: KernelOptions): Promise<Kernel> {
  const mod = await import(ref.module)
  const factory: KernelFactory | undefined = mod[ref.exportName ?? 'createKernel']
  if (typeof factory !== 'function') {
    throw new WorkloadFailedError(`kernel module ${ref.module} has no export ${ref.exportName ?? 'createKernel'}`)
  }
  return factory(options)
}
