import { setMaxListeners } from 'node:events'
import { BlockhashExpiredError } from './errors.js'
import type { AnchorMeta, AnchorResult, Ledger, LedgerCallOptions } from './ledger.js'
import type { Logger } from '@libp2p/interface'

/**
 * Abort plumbing shared by the ledgers: one signal that follows several (the caller's, the
 * ledger's shutdown, a deadline) and detaches from them afterwards, and an abortable sleep.
 * Hand-rolled rather than `AbortSignal.any` so that a long-lived shutdown signal does not
 * collect a listener per call.
 */

export interface LinkedSignal {
  signal: AbortSignal
  /** abort the linked signal itself (e.g. the call finished: stop its helpers) */
  abort(reason?: unknown): void
  /** detach from the parent signals and clear the deadline; call once the call is over */
  clear(): void
}

/** A signal aborted when any parent aborts, or after `timeout` ms with `onTimeout()` as its reason. */
export function linkSignals (parents: Array<AbortSignal | undefined>, timeout?: number, onTimeout?: () => unknown): LinkedSignal {
  const controller = new AbortController()
  // the RPC client adds a listener per request made under this signal
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
    timer = setTimeout(() => { controller.abort(onTimeout?.()) }, timeout)
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

/** Wait `ms`, or reject with the signal's reason as soon as it aborts. */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason ?? 'aborted')))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** A logger that drops everything, for ledgers built without a `logger`. */
export function silentLogger (): Logger {
  const log = Object.assign((_formatter: any, ..._args: any[]): void => {}, {
    error: (_formatter: any, ..._args: any[]): void => {},
    trace: (_formatter: any, ..._args: any[]): void => {},
    enabled: false,
    newScope: (): Logger => log
  })
  return log
}

/**
 * `Ledger.anchor()` for both ledgers: prepare and submit, preparing again (a fresh blockhash)
 * when the transaction expired unlanded, up to `maxAttempts` transactions.
 */
export async function anchorWithRetries (ledger: Pick<Ledger, 'prepareAnchor' | 'submit'>, root: Uint8Array, meta: AnchorMeta, options: LedgerCallOptions, maxAttempts: number, log: Logger): Promise<AnchorResult> {
  for (let attempt = 1; ; attempt++) {
    const prepared = await ledger.prepareAnchor(root, meta, options)
    try {
      return await ledger.submit(prepared, options)
    } catch (err) {
      if (!(err instanceof BlockhashExpiredError) || attempt >= maxAttempts) {
        throw err
      }
      log('anchor %s expired (attempt %d of %d), preparing again', prepared.signature, attempt, maxAttempts)
    }
  }
}
