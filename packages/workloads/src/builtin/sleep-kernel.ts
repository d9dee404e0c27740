import { setTimeout as delay } from 'node:timers/promises'
import { AbortError } from '../errors.js'
import type { Kernel, KernelFactory, KernelOptions } from '../workload.js'

export const createKernel: KernelFactory = async (options: KernelOptions): Promise<Kernel> => {
  const msPerItem = Number(options.params.msPerItem ?? 10)
  return {
    async run (items, context) {
      try {
        await delay(msPerItem * items.length, undefined, { signal: context.signal })
      } catch (err: any) {
        if (context.signal?.aborted === true) {
          throw new AbortError('shard cancelled')
        }
        throw err
      }
      context.onProgress?.(items.length)
      return items
    }
  }
}
