import { ShardmeshError, isShardmeshError } from '@shardmesh/protocol'

export const WorkloadErrorCode = {
  INVALID_INPUT: 'ERR_INVALID_INPUT',
  UNKNOWN_WORKLOAD: 'ERR_UNKNOWN_WORKLOAD',
  WORKLOAD_FAILED: 'ERR_WORKLOAD_FAILED',
  POOL_CLOSED: 'ERR_POOL_CLOSED',
  POOL_BUSY: 'ERR_POOL_BUSY',
  ABORTED: 'ERR_ABORTED',
  WORKLOAD_CODE: 'ERR_WORKLOAD_CODE'
} as const

/**
 * The input is wrong (undecodable item, wrong size, wrong model): a *user* error. Retrying
 * it on another peer cannot help, so the job fails at once with this message.
 */
export class InvalidInputError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.INVALID_INPUT

  constructor (message = 'Invalid input', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.INVALID_INPUT, options)
    this.name = 'InvalidInputError'
  }
}

/** No workload of that id (and version) is installed here. */
export class UnknownWorkloadError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.UNKNOWN_WORKLOAD

  constructor (message = 'Unknown workload', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.UNKNOWN_WORKLOAD, options)
    this.name = 'UnknownWorkloadError'
  }
}

/** The kernel failed for a reason that is not the input's fault (a provider error). */
export class WorkloadFailedError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.WORKLOAD_FAILED

  constructor (message = 'Workload failed', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.WORKLOAD_FAILED, options)
    this.name = 'WorkloadFailedError'
  }
}

/**
 * A workload's own code (a codec, `compare`, `split`, `merge`, `checkInput`) threw something
 * other than the `InvalidInputError` its contract allows: a fault of the installed workload,
 * not of the input or of a peer. The job fails with it (no retry can help) and the node goes on.
 */
export class WorkloadCodeError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.WORKLOAD_CODE

  constructor (message = 'The workload\'s code failed', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.WORKLOAD_CODE, options)
    this.name = 'WorkloadCodeError'
  }
}

/** The pool was closed before the task could run. */
export class PoolClosedError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.POOL_CLOSED

  constructor (message = 'Worker pool is closed', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.POOL_CLOSED, options)
    this.name = 'PoolClosedError'
  }
}

/** The pool's queue is full. */
export class PoolBusyError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.POOL_BUSY

  constructor (message = 'Worker pool queue is full', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.POOL_BUSY, options)
    this.name = 'PoolBusyError'
  }
}

/** The task was cancelled. */
export class AbortError extends ShardmeshError {
  static readonly code = WorkloadErrorCode.ABORTED

  constructor (message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, WorkloadErrorCode.ABORTED, options)
    this.name = 'AbortError'
  }
}

/** Plain form of an error for crossing a thread boundary. */
export interface SerializedError { name: string, code: string, message: string }

export function serializeError (err: unknown): SerializedError {
  if (isShardmeshError(err)) {
    return { name: err.name, code: err.code, message: err.message }
  }
  return { name: 'WorkloadFailedError', code: WorkloadErrorCode.WORKLOAD_FAILED, message: String((err as Error)?.message ?? err) }
}

export function deserializeError (err: SerializedError): ShardmeshError {
  switch (err.code) {
    case WorkloadErrorCode.INVALID_INPUT: return new InvalidInputError(err.message)
    case WorkloadErrorCode.UNKNOWN_WORKLOAD: return new UnknownWorkloadError(err.message)
    case WorkloadErrorCode.ABORTED: return new AbortError(err.message)
    case WorkloadErrorCode.POOL_CLOSED: return new PoolClosedError(err.message)
    default: return new WorkloadFailedError(err.message)
  }
}
