import { BlockhashExpiredError } from './errors.js'
import type { AnchorMeta, AnchorResult, Ledger, LedgerCallOptions } from './ledger.js'
import type { Logger } from '@libp2p/interface'

/**
 * Abort plumbing shared by the ledgers: `linkSignals` (one signal that follows several: the
 * caller's, the ledger's shutdown, a deadline; from @shardmesh/protocol) and an abortable sleep.
 */

export { linkSignals } from '@shardmesh/protocol'
export type { LinkedSignal } from '@shardmesh/protocol'

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
