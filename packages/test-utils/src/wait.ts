import { WaitTimeoutError } from './errors.js'

export interface WaitForOptions {
  /**
   * Give up after this many ms. The ceiling only stops a test that would wait for ever: it is
   * not a bound on how fast things happen.
   *
   * @default 10000
   */
  timeout?: number
  /**
   * Pause between two checks (ms).
   *
   * @default 10
   */
  interval?: number
}

/** What a check returns: `undefined` or `false` mean "not yet", anything else is the result. */
export type Check<T> = () => T | undefined | false | Promise<T | undefined | false>

/**
 * Poll `check` until it returns a value other than `undefined`/`false`, and resolve with that
 * value (`true` for a boolean condition). A check that throws counts as "not yet"; after
 * `timeout` ms this rejects with a `WaitTimeoutError` naming `what`, with the last error the
 * check threw as its cause.
 */
export async function waitFor <T> (check: Check<T>, what: string, options: WaitForOptions = {}): Promise<T> {
  const timeout = options.timeout ?? 10_000
  const deadline = Date.now() + timeout
  let lastError: unknown
  while (true) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) {
        return value
      }
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const last = lastError == null ? '' : `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`
      throw new WaitTimeoutError(`timed out after ${timeout} ms waiting for ${what}${last}`, { cause: lastError })
    }
    await new Promise(resolve => setTimeout(resolve, options.interval ?? 10))
  }
}
