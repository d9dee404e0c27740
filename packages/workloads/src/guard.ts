/**
 * The boundary between a node and a workload's own code. A workload is installed code the
 * node calls on its main thread (codecs, `compare`, `split`, `merge`, `checkInput`), so a bug
 * in it must fail the job it serves, never the node: every such call goes through `callWorkload`
 * (or `callWorkloadAsync`), which turns whatever it throws into a named error.
 */
import { InvalidInputError, WorkloadCodeError } from './errors.js'
import { workloadKey } from './workload.js'
import type { Workload } from './workload.js'

/** The parts of a workload a node calls on its own thread. */
export type WorkloadPart = 'input.encode' | 'input.decode' | 'output.encode' | 'output.decode' | 'compare' | 'split' | 'merge' | 'checkInput'

function describe (err: unknown): string {
  if (err instanceof Error) {
    return `${err.name}: ${err.message}`
  }
  try {
    return `a non-error value ${String(err).slice(0, 200)}`
  } catch {
    return 'a value that cannot be printed'
  }
}

/**
 * The named error for what a workload's `part` threw: an `InvalidInputError` stays what it is
 * (the contract's way to say the input is bad), anything else becomes a `WorkloadCodeError`
 * that names the workload and the part, with the original as its `cause`.
 */
export function workloadError (workload: Pick<Workload, 'id' | 'version'>, part: WorkloadPart, err: unknown): InvalidInputError | WorkloadCodeError {
  if (err instanceof InvalidInputError) {
    return err
  }
  // a copy of this package loaded twice still names its errors the same way
  if ((err as { name?: unknown })?.name === 'InvalidInputError' && (err as { code?: unknown }).code === InvalidInputError.code) {
    return new InvalidInputError((err as Error).message, { cause: err })
  }
  return new WorkloadCodeError(`workload ${workloadKey(workload)}: ${part} threw ${describe(err)}`, { cause: err })
}

/** Run `fn`, a call into `workload`'s code, so that it can only throw a named error. */
export function callWorkload <T> (workload: Pick<Workload, 'id' | 'version'>, part: WorkloadPart, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw workloadError(workload, part, err)
  }
}

/** `callWorkload` for an asynchronous part (`checkInput`). */
export async function callWorkloadAsync <T> (workload: Pick<Workload, 'id' | 'version'>, part: WorkloadPart, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw workloadError(workload, part, err)
  }
}

/** Items whose `checkInput` runs at once (an image check reads a header on libuv's pool). */
const CHECKS_AT_ONCE = 16

function atItem (index: number, err: InvalidInputError | WorkloadCodeError): InvalidInputError | WorkloadCodeError {
  const message = `item ${index}: ${err.message}`
  return err instanceof InvalidInputError ? new InvalidInputError(message, { cause: err }) : new WorkloadCodeError(message, { cause: err })
}

/**
 * What a requester does with a job's items before any peer spends work on them: decode each
 * with the workload's input codec, then run its `checkInput` if it has one. The first bad item
 * fails the whole job with an `InvalidInputError` (or a `WorkloadCodeError`) that names its index.
 */
export async function checkInputItems <In> (workload: Workload<In, any>, items: Uint8Array[]): Promise<void> {
  const decoded = items.map((item, i) => {
    try {
      return callWorkload(workload, 'input.decode', () => workload.input.decode(item))
    } catch (err) {
      throw atItem(i, err as InvalidInputError | WorkloadCodeError)
    }
  })
  const check = workload.checkInput
  if (check == null) {
    return
  }
  for (let start = 0; start < decoded.length; start += CHECKS_AT_ONCE) {
    const outcomes = await Promise.allSettled(decoded.slice(start, start + CHECKS_AT_ONCE).map(async item => {
      await callWorkloadAsync(workload, 'checkInput', async () => { await check.call(workload, item) })
    }))
    const i = outcomes.findIndex(o => o.status === 'rejected')
    if (i !== -1) {
      throw atItem(start + i, (outcomes[i] as PromiseRejectedResult).reason)
    }
  }
}
