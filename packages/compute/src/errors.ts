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
  JOB_ABORTED: 'ERR_JOB_ABORTED'
} as const

/** Codes a worker sends when the *input* is at fault: the job fails at once, no retry. */
export const USER_ERROR_CODES: ReadonlySet<string> = new Set(['ERR_INVALID_INPUT', ComputeErrorCode.MODEL_MISMATCH, ComputeErrorCode.MODEL_TOO_LARGE])

function named (name: string, code: string): new (message: string, options?: ErrorOptions) => ShardmeshError {
  const Class = class extends ShardmeshError {
    static readonly code = code
    constructor (message: string, options?: ErrorOptions) {
      super(message, code, options)
      this.name = name
    }
  }
  Object.defineProperty(Class, 'name', { value: name })
  return Class
}

/** The worker has no free slot and its queue is full (a provider condition: try elsewhere). */
export const BusyError = named('BusyError', ComputeErrorCode.BUSY)
/** The worker does not serve this requester (deny list, or not on its allow list). */
export const NotAllowedError = named('NotAllowedError', ComputeErrorCode.NOT_ALLOWED)
/** The model bytes sent do not hash to the digest the shard names (a user error). */
export const ModelMismatchError = named('ModelMismatchError', ComputeErrorCode.MODEL_MISMATCH)
/** The model is larger than the worker accepts (per model, or per requester of its model cache). */
export const ModelTooLargeError = named('ModelTooLargeError', ComputeErrorCode.MODEL_TOO_LARGE)
/**
 * The worker's model cache has no room for the model now: the space (or this requester's share
 * of it) is held by models in use or arriving. A provider condition: another peer may take it.
 */
export const ModelQuotaError = named('ModelQuotaError', ComputeErrorCode.MODEL_QUOTA)
/** The job cannot be placed: no peer offers the workload. */
export const NoPeersError = named('NoPeersError', ComputeErrorCode.NO_PEERS)
/** The job cannot be placed: every peer stayed busy past the queue timeout. */
export const AllBusyError = named('AllBusyError', ComputeErrorCode.ALL_BUSY)
/** The job cannot be placed: every peer that could run a shard was excluded (failed it, or banned). */
export const AllExcludedError = named('AllExcludedError', ComputeErrorCode.ALL_EXCLUDED)
/** A shard failed on every attempt it was allowed. */
export const ShardFailedError = named('ShardFailedError', ComputeErrorCode.SHARD_FAILED)
/** A shard attempt saw no progress for too long. */
export const ShardTimeoutError = named('ShardTimeoutError', ComputeErrorCode.TIMEOUT)
/** The stream to the worker closed with the shard in flight. */
export const StreamClosedError = named('StreamClosedError', ComputeErrorCode.STREAM_CLOSED)
/** A worker's result is malformed (wrong item count, bad receipt...). */
export const BadResultError = named('BadResultError', ComputeErrorCode.BAD_RESULT)
/** Replicas disagreed and no majority could be formed. */
export const DisputeUnresolvedError = named('DisputeUnresolvedError', ComputeErrorCode.DISPUTE_UNRESOLVED)
/**
 * The job's verification policy needs more distinct peers than it has: refused before any work
 * runs when too few offer the workload (spot-check needs 2, `replicate:k` needs k), or failed
 * mid-job when peers dropped out and no peer is left to give a shard its next result.
 */
export const NotEnoughPeersError = named('NotEnoughPeersError', ComputeErrorCode.NOT_ENOUGH_PEERS)
/** The requester cancelled the job. */
export const JobAbortedError = named('JobAbortedError', ComputeErrorCode.JOB_ABORTED)
