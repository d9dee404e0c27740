import { ShardmeshError } from '@shardmesh/protocol'

export const ComputeErrorCode = {
  BUSY: 'ERR_BUSY',
  NOT_ALLOWED: 'ERR_NOT_ALLOWED',
  MODEL_MISMATCH: 'ERR_MODEL_MISMATCH',
  MODEL_TOO_LARGE: 'ERR_MODEL_TOO_LARGE',
  MODEL_QUOTA: 'ERR_MODEL_QUOTA',
  NO_PEERS: 'ERR_NO_PEERS',
  ALL_BUSY: 'ERR_ALL_BUSY',
  ALL_EXCLUDED: 'ERR_ALL_EXCLUDED',
  SHARD_FAILED: 'ERR_SHARD_FAILED',
  TIMEOUT: 'ERR_TIMEOUT',
  STREAM_CLOSED: 'ERR_STREAM_CLOSED',
  BAD_RESULT: 'ERR_BAD_RESULT',
  DISPUTE_UNRESOLVED: 'ERR_DISPUTE_UNRESOLVED',
  NOT_ENOUGH_PEERS: 'ERR_NOT_ENOUGH_PEERS',
  JOB_ABORTED: 'ERR_JOB_ABORTED',
  NOT_STARTED: 'ERR_NOT_STARTED'
} as const

/** Codes a worker sends when the *input* is at fault: the job fails at once, no retry. */
export const USER_ERROR_CODES: ReadonlySet<string> = new Set(['ERR_INVALID_INPUT', ComputeErrorCode.MODEL_MISMATCH, ComputeErrorCode.MODEL_TOO_LARGE])

/** The worker has no free slot and its queue is full (a provider condition: try elsewhere). */
export class BusyError extends ShardmeshError {
  static readonly code = ComputeErrorCode.BUSY

  constructor (message: string, options?: ErrorOptions) {
    super(message, BusyError.code, options)
    this.name = 'BusyError'
  }
}

/** The worker does not serve this requester (deny list, or not on its allow list). */
export class NotAllowedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.NOT_ALLOWED

  constructor (message: string, options?: ErrorOptions) {
    super(message, NotAllowedError.code, options)
    this.name = 'NotAllowedError'
  }
}

/** The model bytes sent do not hash to the digest the shard names (a user error). */
export class ModelMismatchError extends ShardmeshError {
  static readonly code = ComputeErrorCode.MODEL_MISMATCH

  constructor (message: string, options?: ErrorOptions) {
    super(message, ModelMismatchError.code, options)
    this.name = 'ModelMismatchError'
  }
}

/** The model is larger than the worker accepts (per model, or per requester of its model cache). */
export class ModelTooLargeError extends ShardmeshError {
  static readonly code = ComputeErrorCode.MODEL_TOO_LARGE

  constructor (message: string, options?: ErrorOptions) {
    super(message, ModelTooLargeError.code, options)
    this.name = 'ModelTooLargeError'
  }
}

/**
 * The worker's model cache has no room for the model now: the space (or this requester's share
 * of it) is held by models in use or arriving. A provider condition: another peer may take it.
 */
export class ModelQuotaError extends ShardmeshError {
  static readonly code = ComputeErrorCode.MODEL_QUOTA

  constructor (message: string, options?: ErrorOptions) {
    super(message, ModelQuotaError.code, options)
    this.name = 'ModelQuotaError'
  }
}

/** The job cannot be placed: no peer offers the workload. */
export class NoPeersError extends ShardmeshError {
  static readonly code = ComputeErrorCode.NO_PEERS

  constructor (message: string, options?: ErrorOptions) {
    super(message, NoPeersError.code, options)
    this.name = 'NoPeersError'
  }
}

/** The job cannot be placed: every peer stayed busy past the queue timeout. */
export class AllBusyError extends ShardmeshError {
  static readonly code = ComputeErrorCode.ALL_BUSY

  constructor (message: string, options?: ErrorOptions) {
    super(message, AllBusyError.code, options)
    this.name = 'AllBusyError'
  }
}

/** The job cannot be placed: every peer that could run a shard was excluded (failed it, or banned). */
export class AllExcludedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.ALL_EXCLUDED

  constructor (message: string, options?: ErrorOptions) {
    super(message, AllExcludedError.code, options)
    this.name = 'AllExcludedError'
  }
}

/** A shard failed on every attempt it was allowed. */
export class ShardFailedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.SHARD_FAILED

  constructor (message: string, options?: ErrorOptions) {
    super(message, ShardFailedError.code, options)
    this.name = 'ShardFailedError'
  }
}

/** A shard attempt saw no progress for too long. */
export class ShardTimeoutError extends ShardmeshError {
  static readonly code = ComputeErrorCode.TIMEOUT

  constructor (message: string, options?: ErrorOptions) {
    super(message, ShardTimeoutError.code, options)
    this.name = 'ShardTimeoutError'
  }
}

/** The stream to the worker closed with the shard in flight. */
export class StreamClosedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.STREAM_CLOSED

  constructor (message: string, options?: ErrorOptions) {
    super(message, StreamClosedError.code, options)
    this.name = 'StreamClosedError'
  }
}

/** A worker's result is malformed (wrong item count, bad receipt...). */
export class BadResultError extends ShardmeshError {
  static readonly code = ComputeErrorCode.BAD_RESULT

  constructor (message: string, options?: ErrorOptions) {
    super(message, BadResultError.code, options)
    this.name = 'BadResultError'
  }
}

/** Replicas disagreed and no majority could be formed. */
export class DisputeUnresolvedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.DISPUTE_UNRESOLVED

  constructor (message: string, options?: ErrorOptions) {
    super(message, DisputeUnresolvedError.code, options)
    this.name = 'DisputeUnresolvedError'
  }
}

/**
 * The job's verification policy needs more distinct peers than it has: refused before any work
 * runs when too few offer the workload (spot-check needs 2, `replicate:k` needs k), or failed
 * mid-job when peers dropped out and no peer is left to give a shard its next result.
 */
export class NotEnoughPeersError extends ShardmeshError {
  static readonly code = ComputeErrorCode.NOT_ENOUGH_PEERS

  constructor (message: string, options?: ErrorOptions) {
    super(message, NotEnoughPeersError.code, options)
    this.name = 'NotEnoughPeersError'
  }
}

/** The requester cancelled the job. */
export class JobAbortedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.JOB_ABORTED

  constructor (message: string, options?: ErrorOptions) {
    super(message, JobAbortedError.code, options)
    this.name = 'JobAbortedError'
  }
}

/** The compute service was asked to run a job, or a shard stream came in, before `start()` or after `stop()`. */
export class NotStartedError extends ShardmeshError {
  static readonly code = ComputeErrorCode.NOT_STARTED

  constructor (message = 'the compute service is not started', options?: ErrorOptions) {
    super(message, NotStartedError.code, options)
    this.name = 'NotStartedError'
  }
}

/**
 * A peer with shards in flight stopped answering its heartbeat (its connection may still be
 * open: a frozen process sends no FIN). Every shard in flight on it fails with this error, a
 * provider error: the scheduler places them on other peers at once.
 */
export class PeerUnresponsiveError extends ShardmeshError {
  static readonly code = 'ERR_PEER_UNRESPONSIVE'

  constructor (message: string, options?: ErrorOptions) {
    super(message, PeerUnresponsiveError.code, options)
    this.name = 'PeerUnresponsiveError'
  }
}
