import { plural, ShardmeshError } from '@shardmesh/protocol'
import { InvalidInputError, UnknownWorkloadError } from '@shardmesh/workloads'
import * as C from '../constants.js'
import { ComputeErrorCode, ModelMismatchError, ModelTooLargeError, PeerUnresponsiveError, ShardFailedError, USER_ERROR_CODES } from '../errors.js'
import type { PeerState, ShardState } from './state.js'

export interface FailurePolicyInit {
  /** retries of one shard after provider errors before the job fails */
  maxRetries: number
  /** consecutive failures after which a peer is dropped from the job @default MAX_PEER_FAILURES */
  maxPeerFailures?: number
  /** a peer's backoff after its first failure, doubled after each next one (ms) @default PEER_BACKOFF_BASE */
  backoffBase?: number
  /** the longest backoff (ms) @default PEER_BACKOFF_MAX */
  backoffMax?: number
  /** a peer's pause after it said it is busy (ms) @default BUSY_BACKOFF */
  busyBackoff?: number
}

/**
 * Failures that say nothing about the shard: the stream closed (the peer crashed, the link went
 * down), the peer went silent, or the attempt made no progress in time.
 */
const LOST_TO_THE_LINK: ReadonlySet<string> = new Set([ComputeErrorCode.STREAM_CLOSED, ComputeErrorCode.TIMEOUT, PeerUnresponsiveError.code])

/** What follows a failed attempt. */
export type FailureVerdict =
  /** the input is at fault: the job fails with this error, nothing is retried */
  | { kind: 'fail', error: Error }
  /** the shard goes back to the queue; `busy`: the peer only had no room for it */
  | { kind: 'retry', busy: boolean }

/** The named error of a user error a worker reported, so callers can match it by name. */
export function userError (code: string, message: string): Error {
  switch (code) {
    case ComputeErrorCode.MODEL_MISMATCH: return new ModelMismatchError(message)
    case ComputeErrorCode.MODEL_TOO_LARGE: return new ModelTooLargeError(message)
    case InvalidInputError.code: return new InvalidInputError(message)
    default: return new ShardmeshError(message, code)
  }
}

/**
 * What a job does when an attempt fails. A busy peer is no fault: the shard may go back to it
 * after a short pause. Any other failure counts against the peer (exponential backoff, and a
 * ban after `maxPeerFailures` in a row, or at once when it lacks the workload or refuses this
 * requester; one silence that fails several of its shards at once counts once) and against the
 * shard (the job fails after `maxRetries` retries). An error in the input fails the job at once.
 */
export class FailurePolicy {
  private readonly maxRetries: number
  private readonly maxPeerFailures: number
  private readonly backoffBase: number
  private readonly backoffMax: number
  private readonly busyBackoff: number
  /** the error of each peer's last failure: the same silence failing more shards is one failure */
  private readonly causes = new WeakMap<PeerState, Error>()

  constructor (init: FailurePolicyInit) {
    this.maxRetries = init.maxRetries
    this.maxPeerFailures = init.maxPeerFailures ?? C.MAX_PEER_FAILURES
    this.backoffBase = init.backoffBase ?? C.PEER_BACKOFF_BASE
    this.backoffMax = init.backoffMax ?? C.PEER_BACKOFF_MAX
    this.busyBackoff = init.busyBackoff ?? C.BUSY_BACKOFF
  }

  /** Record that `peer` failed its attempt of `shard` at `now` with `err`, and say what follows. */
  onFailure (shard: ShardState, peer: PeerState, err: Error, now: number): FailureVerdict {
    const code = (err as ShardmeshError).code ?? 'ERR_INTERNAL'
    shard.errors.push(`${peer.id}: ${code} ${err.message}`)
    if (USER_ERROR_CODES.has(code)) {
      return { kind: 'fail', error: userError(code, `shard ${shard.index} was rejected by ${peer.id}: ${err.message}`) }
    }
    if (code === ComputeErrorCode.BUSY) {
      // not a fault: the peer may take it later, after a short pause
      shard.tried.delete(peer.id)
      peer.backoffUntil = now + this.busyBackoff
      return { kind: 'retry', busy: true }
    }
    peer.lastError = { code, message: err.message }
    // One silence, one failure of the peer: a channel whose heartbeat found its peer
    // unresponsive fails every shard in flight there with the same error, and a peer holding
    // three shards when it went silent once has not failed three times in a row (it would be
    // dropped from the job for one slow moment). Each shard still counts the failure against its
    // own retries. (A stream that breaks, by a crash or a hostile frame, still counts per shard.)
    const repeat = code === PeerUnresponsiveError.code && this.causes.get(peer) === err
    this.causes.set(peer, err)
    if (!repeat) {
      peer.failures++
      peer.consecutiveFailures++
      peer.backoffUntil = now + this.backoff(peer.consecutiveFailures)
    }
    if (peer.consecutiveFailures >= this.maxPeerFailures || code === UnknownWorkloadError.code || code === ComputeErrorCode.NOT_ALLOWED) {
      peer.banned = true
    }
    if (LOST_TO_THE_LINK.has(code)) {
      shard.lostTo.add(peer.id)
    }
    shard.failures++
    if (shard.failures > this.maxRetries) {
      return { kind: 'fail', error: new ShardFailedError(`shard ${shard.index} failed ${plural(shard.failures, 'time')}: ${shard.errors.join('; ')}`) }
    }
    return { kind: 'retry', busy: false }
  }

  /** A result from the peer ends its run of failures. */
  onSuccess (peer: PeerState): void {
    peer.consecutiveFailures = 0
  }

  /** The backoff after the `n`th failure in a row: base × 2^(n-1), capped (ms). */
  backoff (n: number): number {
    return Math.min(this.backoffMax, this.backoffBase * 2 ** (n - 1))
  }
}
