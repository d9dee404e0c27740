import { healthy, wants } from './state.js'
import type { PeerState, ShardState } from './state.js'

/**
 * The order in which a job hands out its shards: first the shards that want another attempt
 * (retries, replicas, spot checks, disputes; in queue order), then fresh shards in index order.
 * A peer never gets a shard it already tried.
 */
export class ShardQueue {
  private readonly needs: ShardState[] = []
  private nextFresh = 0

  constructor (private readonly shards: readonly ShardState[]) {}

  /** Every shard was handed out once and no queued shard wants another attempt. */
  drained (): boolean {
    return this.nextFresh >= this.shards.length && !this.needs.some(s => wants(s) > 0)
  }

  /** The next shard for this peer, if any. */
  pick (peerId: string): ShardState | undefined {
    for (let i = 0; i < this.needs.length; i++) {
      const shard = this.needs[i]
      if (wants(shard) <= 0) {
        this.needs.splice(i--, 1)
        continue
      }
      if (!shard.tried.has(peerId)) {
        return shard
      }
    }
    if (this.nextFresh < this.shards.length) {
      const shard = this.shards[this.nextFresh++]
      if (shard.needed > 1) {
        this.needs.push(shard)
      }
      return shard
    }
    return undefined
  }

  /** The shard wants more results (a spot check, a dispute): after those already waiting. */
  push (shard: ShardState): void {
    this.needs.push(shard)
  }

  /** A failed shard goes first, unless it is already waiting. */
  retry (shard: ShardState): void {
    if (!this.needs.includes(shard)) {
      this.needs.unshift(shard)
    }
  }
}

/** How soon a pass of the scheduler looks again at a peer it skipped as `suspect` or `dead` (ms). */
export const HEALTH_RECHECK_INTERVAL = 100

/**
 * One pass of the pull scheduler: every peer that is not dropped, not backing off and not
 * `suspect` or `dead` (`channel.health()`) takes shards from the queue while it has room in its
 * window, so faster peers take more. `launch` must count the attempt in `peer.inflight` before
 * it returns.
 *
 * @returns when the scheduler should run again by itself: when the first peer still backing off
 * leaves its backoff, or, while work is left and a peer was skipped as unhealthy, after
 * `recheckMs` (a peer that recovers gets work again); `Infinity` when neither
 */
export function pullShards (peers: readonly PeerState[], queue: ShardQueue, now: number, launch: (shard: ShardState, peer: PeerState) => void, recheckMs = HEALTH_RECHECK_INTERVAL): number {
  let waitUntil = Infinity
  let unhealthy = false
  for (const peer of peers) {
    if (peer.banned) {
      continue
    }
    if (!healthy(peer)) {
      unhealthy = true
      continue
    }
    if (peer.backoffUntil > now) {
      waitUntil = Math.min(waitUntil, peer.backoffUntil)
      continue
    }
    while (peer.inflight < peer.window) {
      const shard = queue.pick(peer.id)
      if (shard == null) {
        break
      }
      launch(shard, peer)
    }
  }
  if (unhealthy && !queue.drained()) {
    waitUntil = Math.min(waitUntil, now + recheckMs)
  }
  return waitUntil
}
