/** A `waitFor` whose condition did not hold before its timeout; `cause` is the last error the check threw. */
export class WaitTimeoutError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'WaitTimeoutError'
  }
}
