import type { SerializedError } from '../errors.js'
import type { KernelOptions, KernelRef, ModelFile } from '../workload.js'

/** Main thread → pool thread. */
export type ToThread =
  | { type: 'run', id: number, kernel: KernelRef, options: KernelOptions, items: Uint8Array[], model?: ModelFile }
  | { type: 'cancel', id: number }
  | { type: 'warm', id: number, kernel: KernelRef, options: KernelOptions }

/** Pool thread → main thread. */
export type FromThread =
  | { type: 'progress', id: number, done: number }
  | { type: 'result', id: number, outputs: Uint8Array[], cpuMicros: number }
  | { type: 'error', id: number, error: SerializedError }
