import { setMaxListeners } from 'node:events'

/**
 * Deadlines and linked abort signals that hold on Node 20.
 *
 * `AbortSignal.any([AbortSignal.timeout(ms)])` is not safe there: the combined signal keeps
 * only a weak reference to its sources, so after a garbage collection the timeout signal (and
 * its timer) can be gone and the combined signal never aborts. A join or a request guarded that
 * way hangs for ever. Here the deadline is a plain `setTimeout` that aborts a controller we hold,
 * and the links to the parent signals are ordinary listeners, removed by `clear()`, so a
 * long-lived parent (a service's shutdown signal) does not collect one listener per call.
 */

export interface LinkedSignal {
  signal: AbortSignal
  /** abort the linked signal itself (e.g. the call finished: stop its helpers) */
  abort(reason?: unknown): void
  /** detach from the parent signals and clear the deadline; call once the call is over */
  clear(): void
}

/**
 * A signal aborted when any parent aborts, or after `timeout` ms, with `onTimeout()` as its
 * reason (default: a `TimeoutError` DOMException, as `AbortSignal.timeout` gives).
 * The deadline timer does not keep the process alive.
 */
export function linkSignals (parents: Array<AbortSignal | undefined>, timeout?: number, onTimeout?: () => unknown): LinkedSignal {
  const controller = new AbortController()
  // clients add a listener per request made under this signal
  setMaxListeners(Infinity, controller.signal)
  const detach: Array<() => void> = []
  for (const parent of parents) {
    if (parent == null) {
      continue
    }
    if (parent.aborted) {
      controller.abort(parent.reason)
      break
    }
    const listener = (): void => { controller.abort(parent.reason) }
    parent.addEventListener('abort', listener, { once: true })
    detach.push(() => { parent.removeEventListener('abort', listener) })
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  if (timeout != null && Number.isFinite(timeout) && !controller.signal.aborted) {
    timer = setTimeout(() => {
      controller.abort(onTimeout != null ? onTimeout() : new DOMException(`The operation timed out after ${timeout} ms`, 'TimeoutError'))
    }, timeout)
    timer.unref?.()
  }
  return {
    signal: controller.signal,
    abort: (reason?: unknown) => { controller.abort(reason) },
    clear: () => {
      clearTimeout(timer)
      detach.forEach(fn => { fn() })
      detach.length = 0
    }
  }
}
