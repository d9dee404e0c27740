import { plural } from '@shardmesh/protocol'
import { UnknownWorkloadError, workloadKey } from '@shardmesh/workloads'
import { AllBusyError, AllExcludedError, DisputeUnresolvedError, NoPeersError, NotEnoughPeersError } from '../errors.js'
import { healthy, wants } from './state.js'
import { formatVerification } from './verification.js'
import type { PeerState, ShardState } from './state.js'
import type { VerificationPolicy } from './verification.js'
import type { Workload } from '@shardmesh/workloads'

/** What decides whether a job with nothing in flight can still finish. */
export interface StuckInput {
  shards: readonly ShardState[]
  peers: readonly PeerState[]
  workload: Pick<Workload, 'id' | 'version'>
  policy: VerificationPolicy
  now: number
  /** when a shard was last accepted (or the job started) */
  lastAccepted: number
  /** how long a job may wait with no peer accepting work (ms) */
  queueTimeout: number
}

/**
 * The error a job fails with when nothing is in flight and no shard can make progress any
 * more (every peer dropped, a shard that every peer left has tried, or no peer accepting work
 * for `queueTimeout`), saying why; undefined while the job can go on.
 */
export function whyStuck (input: StuckInput): Error | undefined {
  const { shards, peers } = input
  if (peers.some(p => p.inflight > 0)) {
    return undefined
  }
  const live = peers.filter(p => !p.banned)
  if (live.length === 0) {
    const why = peers.map(p => `${p.id} (${p.lastError != null ? `${p.lastError.code} ${p.lastError.message}; ` : ''}${plural(p.failures, 'failure')})`).join(', ')
    if (peers.every(p => p.lastError?.code === UnknownWorkloadError.code)) {
      // the job named its peers, and none of them has the workload
      return new NoPeersError(`no peer offers workload ${workloadKey(input.workload)}: ${why}`)
    }
    return new AllExcludedError(`every peer was dropped from the job: ${why}`)
  }
  const waiting = shards.find(s => s.done == null && wants(s) > 0 && live.every(p => s.tried.has(p.id)))
  if (waiting != null) {
    return cannotFinish(waiting, peers, input.policy)
  }
  if (input.now - input.lastAccepted > input.queueTimeout) {
    // each with what failed its last attempt (a silence counts once against a peer, so one that
    // went dead holding shards is waited for, not dropped; this says why it got none)
    const unhealthy = live.filter(p => !healthy(p)).map(p => `${p.id} (${p.channel.health?.() ?? 'alive'}${p.lastError != null ? `; last failed with ${p.lastError.code}: ${p.lastError.message}` : ''})`)
    const note = unhealthy.length > 0 ? `; not given work while unresponsive: ${unhealthy.join(', ')}` : ''
    return new AllBusyError(`no peer accepted work for ${input.queueTimeout} ms${note}`)
  }
  return undefined
}

/**
 * A shard that every peer left has tried, with nothing of it in flight and retries left
 * (`failures <= maxRetries`), goes round again on the peers that lost their attempt to the link
 * or their liveness (`lostTo`: a crash, a partition, a silence), not on those that refused it or
 * answered: under a partition and crashes, the few peers left may each have lost it once, and
 * that says nothing about the shard. Their backoffs and bans still keep a failing peer away,
 * and `maxRetries` bounds the rounds. Returns how many shards were reopened.
 */
export function reopenLost (shards: readonly ShardState[], peers: readonly PeerState[], maxRetries: number): number {
  const live = peers.filter(p => !p.banned)
  if (live.length === 0) {
    return 0
  }
  let reopened = 0
  for (const s of shards) {
    if (s.done != null || s.running.size > 0 || wants(s) <= 0 || s.failures > maxRetries || s.lostTo.size === 0 || !live.every(p => s.tried.has(p.id))) {
      continue
    }
    const answered = new Set(s.results.map(r => r.peer.id))
    let again = false
    for (const p of live) {
      if (s.lostTo.has(p.id) && !answered.has(p.id)) {
        s.tried.delete(p.id)
        s.lostTo.delete(p.id)
        again = true
      }
    }
    if (again) {
      reopened++
    }
  }
  return reopened
}

/**
 * Why a shard that wants another attempt cannot have one: every peer left has already
 * returned a result for it or failed it. Names what the shard needs, what it has, which
 * peers are left and which were dropped.
 */
export function cannotFinish (shard: ShardState, peers: readonly PeerState[], policy: VerificationPolicy): Error {
  const live = peers.filter(p => !p.banned)
  const returned = new Set(shard.results.map(r => r.peer.id))
  const left = live.map(p => `${p.id} (${returned.has(p.id) ? 'returned a result' : 'failed it'})`).join(', ')
  const failures = shard.errors.length > 0 ? `; failed attempts: ${shard.errors.join('; ')}` : ''
  const dropped = peers.filter(p => p.banned)
  const droppedText = dropped.length > 0
    ? `; dropped from the job: ${dropped.map(p => `${p.id}${p.lastError != null ? ` (${p.lastError.code})` : ''}`).join(', ')}`
    : ''
  const remain = `${plural(live.length, 'peer')} left: ${left}`
  if (shard.needed > 1) {
    const why = shard.disputed
      ? 'to settle a dispute'
      : shard.probation
        ? 'to confirm the result of a peer that must be verified (on probation, or it lost a dispute)'
        : shard.checked ? 'for its spot check' : `for ${formatVerification(policy)}`
    const message = `shard ${shard.index} needs results from ${shard.needed} distinct peers ${why} and has ${shard.results.length}; no peer is left to ask (${remain})${failures}${droppedText}`
    return shard.disputed || shard.checked ? new DisputeUnresolvedError(message) : new NotEnoughPeersError(message)
  }
  return new AllExcludedError(`shard ${shard.index}: every peer left has failed it (${remain})${failures}${droppedText}`)
}
