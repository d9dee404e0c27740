/**
 * Entry point of a pool thread: runs one shard at a time with cached kernels and reports
 * progress, results and errors to the main thread.
 */
import { parentPort } from 'node:worker_threads'
import { AbortError, serializeError } from '../errors.js'
import { KernelCache } from './kernel-cache.js'
import type { FromThread, ToThread } from './messages.js'

const port = parentPort
if (port == null) {
  throw new Error('pool thread started outside a worker thread')
}

/**
 * CPU time of this thread in µs where Node can tell (`process.threadCpuUsage`, Node >= 23.9);
 * before that, the thread's busy wall time, which is close for kernels that compute
 * synchronously and the only thread-local measure Node 20 has.
 */
function threadCpuMicros (): number {
  const usage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.()
  return usage != null ? usage.user + usage.system : performance.now() * 1000
}

const kernels = new KernelCache()
const running = new Map<number, AbortController>()

function post (message: FromThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer)
}

port.on('message', (message: ToThread) => {
  if (message.type === 'cancel') {
    running.get(message.id)?.abort(new AbortError('shard cancelled'))
    return
  }
  const controller = new AbortController()
  running.set(message.id, controller)
  void (async () => {
    try {
      const kernel = await kernels.get(message.kernel, message.options)
      if (message.type === 'warm') {
        post({ type: 'result', id: message.id, outputs: [], cpuMicros: 0 })
        return
      }
      if (controller.signal.aborted) {
        throw new AbortError('shard cancelled')
      }
      const started = threadCpuMicros()
      const outputs = await kernel.run(message.items, {
        signal: controller.signal,
        onProgress: (done) => { post({ type: 'progress', id: message.id, done }) },
        model: message.model
      })
      post({ type: 'result', id: message.id, outputs, cpuMicros: Math.round(threadCpuMicros() - started) })
    } catch (err) {
      post({ type: 'error', id: message.id, error: serializeError(err) })
    } finally {
      running.delete(message.id)
    }
  })()
})
