import { AbortError } from '../errors.js'
import type { Kernel, KernelFactory } from '../workload.js'

export const createKernel: KernelFactory = async (): Promise<Kernel> => ({
  async run (items, context) {
    if (context.signal?.aborted === true) {
      throw new AbortError('shard cancelled')
    }
    context.onProgress?.(items.length)
    return items
  }
})
