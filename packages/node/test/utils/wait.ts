export interface WaitForOptions {
  /** @default 10000 */
  timeout?: number
  /** @default 25 */
  interval?: number
}

/**
 * Poll `check` until it returns a value other than `undefined`/`false`, and return that value.
 * Fails with `message` (and the last error `check` threw, if any) after `timeout` ms.
 */
export async function waitFor <T> (check: () => T | undefined | false | Promise<T | undefined | false>, message: string, options: WaitForOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeout ?? 10_000)
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
      throw new Error(`timed out: ${message}`, { cause: lastError })
    }
    await new Promise(resolve => setTimeout(resolve, options.interval ?? 25))
  }
}
