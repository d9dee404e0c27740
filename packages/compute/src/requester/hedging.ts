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
  /** hedge a shard at once when an idle peer is expected to finish it before the peers running it @default true */
  endgame?: boolean
}

/**
 * `hedgeThreshold` of a job's growing list of round trips, sorted again only when the list grew
 * by a sixteenth since (or is still small): a job's tail calls it on every result, and sorting
 * tens of thousands of round trips each time cost more than the shards themselves. A percentile
 * of thousands of samples moves little with the last few.
 */
export class StragglerThreshold {
  private samples = -1
  private value: number | undefined

  constructor (private readonly init: HedgeInit = {}) {}

  of (durations: readonly number[]): number | undefined {
    const n = durations.length
    if (this.samples < 0 || n < this.samples || n - this.samples > Math.max(16, this.samples / 16)) {
      this.value = hedgeThreshold(durations, this.init)
      this.samples = n
    }
    return this.value
  }
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

/** A peer's mean round trip per shard over its completed results (ms); undefined before its first. */
export function meanRoundTrip (peer: PeerState): number | undefined {
  return peer.results > 0 ? peer.roundTripMs / peer.results : undefined
}

/** A hedge launched, and which rule launched it. */
export interface Hedge {
  shard: ShardState
  peer: PeerState
  /** `endgame`: an idle peer would finish it sooner; `straggler`: it ran past the percentile threshold */
  reason: 'endgame' | 'straggler'
}

/**
 * Call only once the queue is drained (no fresh shard, none waiting). Each undecided, unhedged
 * shard gets a second attempt when one of two rules says so:
 *
 * - endgame: every running attempt of the shard is expected to finish later than a peer with
 *   room could finish it, by at least that peer's own mean round trip. An attempt is expected to end at its start plus its peer's mean round
 *   trip per shard (`meanRoundTrip`); a peer with room, at `now` plus its own. The shard goes at
 *   once to the peer with room expected to finish first. Shards expected to end last go first.
 *   A peer without completed results has no expectation: its attempts fall to the next rule, and
 *   it is no endgame target.
 * - straggler: every running attempt is past the threshold (`hedgeThreshold`); the shard goes
 *   to the first peer with room that has not tried it. Stops at the first straggler no peer can take.
 *
 * `shards` are those of the job that may have attempts running (others are skipped), and
 * `threshold` the straggler threshold now (`hedgeThreshold`; undefined: no straggler rule yet).
 * `launch` must count the attempt in `peer.inflight` and `shard.tried` before it returns. A
 * hedge answers for its shard: whichever result comes first counts and the other attempt is
 * cancelled, so the shard needs no more results. A peer with room is healthy, out of backoff and
 * not dropped (`hasRoom`), and never one that tried the shard.
 *
 * @returns the shards hedged now, with the peer each went to and the rule that sent it
 */
export function hedgeStragglers (shards: Iterable<ShardState>, peers: readonly PeerState[], threshold: number | undefined, now: number, launch: (shard: ShardState, peer: PeerState) => void, init: HedgeInit = {}): Hedge[] {
  const hedged: Hedge[] = []
  const open = [...shards].filter(s => s.done == null && !s.hedged && s.running.size > 0).sort((a, b) => a.index - b.index)
  if (init.endgame !== false) {
    // the expected end of each shard's attempts, when every one of its peers has a mean round trip
    const ends: Array<{ shard: ShardState, end: number }> = []
    for (const shard of open) {
      let end = -Infinity
      for (const attempt of shard.running) {
        const mean = meanRoundTrip(attempt.peer)
        if (mean == null) {
          end = NaN
          break
        }
        // an attempt already past its expected end is still expected no sooner than now
        end = Math.max(end, attempt.startedAt + mean, now)
      }
      if (!Number.isNaN(end)) {
        ends.push({ shard, end })
      }
    }
    ends.sort((a, b) => b.end - a.end || a.shard.index - b.shard.index)
    for (const { shard, end } of ends) {
      let best: PeerState | undefined
      let bestEnd = end
      for (const peer of peers) {
        const mean = meanRoundTrip(peer)
        if (mean == null || !hasRoom(peer, now) || shard.tried.has(peer.id)) {
          continue
        }
        // worth a duplicate only when the idle peer saves at least one of its own round trips:
        // near-equal expectations are noise, and a hedge is work done twice
        if (now + mean < bestEnd && now + 2 * mean <= end) {
          best = peer
          bestEnd = now + mean
        }
      }
      if (best != null) {
        shard.hedged = true
        hedged.push({ shard, peer: best, reason: 'endgame' })
        launch(shard, best)
      }
    }
  }
  if (threshold == null) {
    return hedged
  }
  for (const shard of open) {
    if (shard.hedged) {
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
    hedged.push({ shard, peer, reason: 'straggler' })
    launch(shard, peer)
  }
  return hedged
}
