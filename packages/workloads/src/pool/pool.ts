import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { AbortError, deserializeError, PoolBusyError, PoolClosedError, WorkloadFailedError } from '../errors.js'
import { disableOnnxRuntimeTelemetry } from '../onnxruntime-env.js'
import type { FromThread, ToThread } from './messages.js'
import type { KernelOptions, KernelRef, ModelFile } from '../workload.js'

export interface WorkerPoolInit {
  /**
   * Threads in the pool: one per core, as onnxruntime's `session.run()` blocks its thread.
   *
   * @default os.availableParallelism()
   */
  size?: number
  /**
   * Tasks that may wait for a thread; more are refused with `PoolBusyError`.
   *
   * @default 1024
   */
  maxQueue?: number
}

export interface PoolTask {
  kernel: KernelRef
  options: KernelOptions
}

export interface PoolRunOptions {
  signal?: AbortSignal
  onProgress?(done: number): void
  model?: ModelFile
}

export interface PoolResult {
  outputs: Uint8Array[]
  /** CPU (or busy) time the thread spent on the task, µs */
  cpuMicros: number
}

interface Job {
  id: number
  message: ToThread & { type: 'run' | 'warm' }
  options: PoolRunOptions
  resolve(result: PoolResult): void
  reject(err: Error): void
  onAbort?(): void
}

interface Slot {
  /** the pool thread (a `worker_threads` Worker; not a shardmesh worker peer) */
  worker: Worker
  job?: Job
}

/** How long `close()` lets a running kernel reach an item boundary before terminating it (ms). */
const CLOSE_GRACE = 3_000

const THREAD_URL = new URL('./thread.js', import.meta.url)

/**
 * A fixed set of worker threads that run kernels one task at a time per thread. Each thread
 * keeps its kernels (and their inference sessions) warm between tasks. A thread that dies
 * fails only its own task and is replaced.
 */
export class WorkerPool {
  public readonly size: number
  private readonly maxQueue: number
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false
  /** the `mainThreadFirst` modules of the kernels run so far, imported on this thread */
  private readonly loadedFirst = new Map<string, Promise<unknown>>()

  constructor (init: WorkerPoolInit = {}) {
    this.size = Math.max(1, init.size ?? availableParallelism())
    this.maxQueue = init.maxQueue ?? 1024
  }

  /** Threads start with the first task, so a node that never runs a pool workload has none. */
  private ensureThreads (): void {
    // the threads' kernels load onnxruntime, which reads this from the process environment
    disableOnnxRuntimeTelemetry()
    while (this.slots.length < this.size) {
      this.slots.push(this.spawn())
    }
  }

  /** Tasks running now. */
  get busy (): number {
    return this.slots.filter(s => s.job != null).length
  }

  /** Tasks waiting for a thread. */
  get queued (): number {
    return this.queue.length
  }

  /** Run a kernel on `items` in a free thread (or once one is free). */
  async run (task: PoolTask, items: Uint8Array[], options: PoolRunOptions = {}): Promise<PoolResult> {
    const id = this.nextId++
    return this.submit({ type: 'run', id, kernel: task.kernel, options: task.options, items, model: options.model }, options)
  }

  /** Load a kernel in every thread now, so the first shards do not pay for model loading. */
  async warm (task: PoolTask): Promise<void> {
    if (this.closed) {
      throw new PoolClosedError()
    }
    this.ensureThreads()
    await Promise.all(this.slots.map(async () => {
      const id = this.nextId++
      await this.submit({ type: 'warm', id, kernel: task.kernel, options: task.options }, {})
    }))
  }

  /** Fail queued tasks, stop every thread. Running tasks fail with `PoolClosedError`. */
  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    for (const job of this.queue.splice(0)) {
      this.finish(job)
      job.reject(new PoolClosedError())
    }
    await Promise.all(this.slots.map(async slot => {
      const job = slot.job
      slot.job = undefined
      if (job != null) {
        this.finish(job)
        job.reject(new PoolClosedError())
        // a native addon (sharp, onnxruntime) killed mid-call can abort the whole process:
        // ask the kernel to stop at its next item and give it a moment before terminating
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, CLOSE_GRACE)
          slot.worker.once('message', () => { clearTimeout(timer); resolve() })
          slot.worker.once('exit', () => { clearTimeout(timer); resolve() })
          slot.worker.postMessage({ type: 'cancel', id: job.id } satisfies ToThread)
        })
      }
      await slot.worker.terminate()
    }))
  }

  private async submit (message: Job['message'], options: PoolRunOptions): Promise<PoolResult> {
    const first = message.kernel.mainThreadFirst
    if (first != null && first.length > 0) {
      await this.loadFirst(first)
    }
    if (this.closed) {
      throw new PoolClosedError()
    }
    if (options.signal?.aborted === true) {
      throw new AbortError('shard cancelled')
    }
    this.ensureThreads()
    if (this.queue.length >= this.maxQueue && this.slots.every(s => s.job != null)) {
      throw new PoolBusyError(`worker pool queue is full (${this.maxQueue} waiting)`)
    }
    return new Promise<PoolResult>((resolve, reject) => {
      const job: Job = { id: message.id, message, options, resolve, reject }
      if (options.signal != null) {
        job.onAbort = () => { this.cancel(job) }
        options.signal.addEventListener('abort', job.onAbort, { once: true })
      }
      this.queue.push(job)
      this.dispatch()
    })
  }

  /**
   * Import a kernel's `mainThreadFirst` modules here, on the main thread, before a thread can
   * run the kernel (once per module; a module that fails to load is tried again next time).
   */
  private async loadFirst (specifiers: string[]): Promise<void> {
    await Promise.all(specifiers.map(async specifier => {
      let loaded = this.loadedFirst.get(specifier)
      if (loaded == null) {
        loaded = import(specifier)
        this.loadedFirst.set(specifier, loaded)
        loaded.catch(() => { this.loadedFirst.delete(specifier) })
      }
      try {
        await loaded
      } catch (err: any) {
        throw new WorkloadFailedError(`cannot load ${specifier} on the main thread before the kernel: ${err?.message ?? err}`, { cause: err })
      }
    }))
  }

  private cancel (job: Job): void {
    const queued = this.queue.indexOf(job)
    if (queued !== -1) {
      this.queue.splice(queued, 1)
      this.finish(job)
      job.reject(new AbortError('shard cancelled'))
      return
    }
    const slot = this.slots.find(s => s.job === job)
    if (slot != null) {
      // the kernel stops at its next item boundary and answers with an AbortError
      slot.worker.postMessage({ type: 'cancel', id: job.id } satisfies ToThread)
    }
  }

  private dispatch (): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) {
        return
      }
      if (slot.job == null) {
        const job = this.queue.shift() as Job
        slot.job = job
        slot.worker.postMessage(job.message)
      }
    }
  }

  private finish (job: Job): void {
    if (job.onAbort != null) {
      job.options.signal?.removeEventListener('abort', job.onAbort)
    }
  }

  private spawn (): Slot {
    const thread = new Worker(THREAD_URL)
    const slot: Slot = { worker: thread }
    thread.on('message', (message: FromThread) => {
      const job = slot.job
      if (job == null || job.id !== message.id) {
        return
      }
      if (message.type === 'progress') {
        job.options.onProgress?.(message.done)
        return
      }
      slot.job = undefined
      this.finish(job)
      if (message.type === 'result') {
        job.resolve({ outputs: message.outputs, cpuMicros: message.cpuMicros })
      } else {
        job.reject(deserializeError(message.error))
      }
      this.dispatch()
    })
    const onDeath = (err?: Error): void => {
      const index = this.slots.indexOf(slot)
      if (index === -1) {
        return
      }
      const job = slot.job
      slot.job = undefined
      if (job != null) {
        this.finish(job)
        job.reject(new WorkloadFailedError(`pool thread died: ${err?.message ?? 'exited'}`))
      }
      if (!this.closed) {
        this.slots[index] = this.spawn()
        this.dispatch()
      }
    }
    thread.on('error', onDeath)
    thread.on('exit', (code) => { onDeath(new Error(`exit code ${code}`)) })
    return slot
  }
}
