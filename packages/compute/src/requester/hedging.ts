import * as C from '../constants.js'
import { hasRoom } from './state.js'
import type { PeerState, ShardState } from './state.js'

export interface HedgeInit {
  /** the percentile of completed round trips a straggler is measured against @default HEDGE_PERCENTILE */
  percentile?: number
  /** a straggler runs longer than this multiple of that percentile @default HEDGE_FACTOR */
  factor?: number
  /** no hedging before this many round trips completed @default HEDGE_MIN_SAMPLES */
  minSamples?: number
  /** nor before an attempt ran this long (ms) @default HEDGE_MIN_DELAY */
  minDelay?: number
}

/**
 * How long an attempt may run before it is a straggler: `factor` × the `percentile` of the
 * round trips completed so far, at least `minDelay`; undefined while too few have completed.
 */
export function hedgeThreshold (durations: readonly number[], init: HedgeInit = {}): number | undefined {
  if (durations.length < (init.minSamples ?? C.HEDGE_MIN_SAMPLES)) {
    return undefined
  }
  const sorted = [...durations].sort((a, b) => a - b)
  const at = sorted[Math.floor((sorted.length - 1) * (init.percentile ?? C.HEDGE_PERCENTILE))]
  return Math.max(init.minDelay ?? C.HEDGE_MIN_DELAY, (init.factor ?? C.HEDGE_FACTOR) * at)
}

/**
 * Give each straggler (an undecided, unhedged shard whose every running attempt is past the
 * threshold) a second attempt on the first peer with room that has not tried it. Stops at the
 * first straggler no peer can take. `launch` must count the attempt in `peer.inflight` and
 * `shard.tried` before it returns. A hedge answers for the straggler: whichever result comes
 * first counts and the other attempt is cancelled, so the shard needs no more results.
 *
 * @returns the shards hedged now, with the peer each went to
 */
export function hedgeStragglers (shards: readonly ShardState[], peers: readonly PeerState[], durations: readonly number[], now: number, launch: (shard: ShardState, peer: PeerState) => void, init: HedgeInit = {}): Array<{ shard: ShardState, peer: PeerState }> {
  const hedged: Array<{ shard: ShardState, peer: PeerState }> = []
  const threshold = hedgeThreshold(durations, init)
  if (threshold == null) {
    return hedged
  }
  for (const shard of shards) {
    if (shard.done != null || shard.hedged || shard.running.size === 0) {
      continue
    }
    const straggling = [...shard.running].every(a => now - a.startedAt > threshold)
    if (!straggling) {
      continue
    }
    const peer = peers.find(p => hasRoom(p, now) && !shard.tried.has(p.id))
    if (peer == null) {
      break
    }
    shard.hedged = true
    hedged.push({ shard, peer })
    launch(shard, peer)
  }
  return hedged
}
