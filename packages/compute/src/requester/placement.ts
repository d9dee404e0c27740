import * as C from '../constants.js'
import type { PeerChannel } from './channel.js'
import type { LivenessView } from './liveness.js'
import type { VerificationPolicy } from './verification.js'
import type { Measurement, PeerScore } from '@shardmesh/trust'
import type { Workload } from '@shardmesh/workloads'

/** Peers whose score is below this get no work unless the job sets its own minimum. */
export const MIN_SCORE = 0.25

/**
 * A peer whose in-flight shards would take more than this multiple of the time the other peers
 * need for theirs is hoarding work: its window is cut to what its measured rate justifies.
 */
export const HOARD_FACTOR = 4

/** Round trips per item below this multiple of the peer's baseline show no queueing: the window grows. */
export const GROW_BELOW = 1.5

/** Round trips per item above this multiple of the peer's baseline show queueing: the window shrinks. */
export const SHRINK_ABOVE = 2

/** Weight of the newest round trip in a peer's short moving average of recent round trips. */
export const RECENT_WEIGHT = 0.5

/** Share of the way from its baseline to its recent round trip that a peer's baseline rises per result. */
export const BASELINE_DRIFT = 0.02

/** What the requester knows of a candidate beyond its advert (filled by the compute service). */
export interface CandidateEvidence {
  /** its liveness and the evidence behind it */
  liveness: LivenessView
  /** age of the advert it was found by (ms), when it was found by one */
  advertAgeMs?: number
  /** how long such an advert is valid (ms) */
  advertTtlMs?: number
  /** its score, from this node's evidence and weighted attestations */
  score: PeerScore
  /** the best recent measurement of the job's workload on it, if any */
  measured?: Measurement
  /** the in-flight window it earned for the workload in earlier jobs, if any */
  earnedWindow?: number
  /** the last challenge of the workload it was given, if any */
  challenge?: { verdict: string, detail?: string }
}

/** A peer a job could use, as the requester found it. */
export interface PlacementCandidate {
  channel: PeerChannel
  /**
   * Shard slots the peer offers: this node's own slots for the local channel, the `totalSlots`
   * a remote peer advertised, or 0 when it advertised none.
   */
  slots: number
  /** what is known of it (liveness, score, measurements); absent: nothing beyond its advert */
  evidence?: CandidateEvidence
}

/** A peer a job uses, and how many of its shards it may hold in flight at the start. */
export interface PeerPlacement {
  channel: PeerChannel
  window: number
  /** every result of this peer must be confirmed by a second peer before it is accepted (probation) */
  mustVerify?: boolean
}

/** Why a candidate is not used by a job. */
export type ExclusionReason = 'no-workload' | 'stale' | 'dead' | 'suspect' | 'low-score' | 'probation' | 'failed-challenge' | 'contradicted' | 'busy' | 'banned'

/** A candidate a job does not use, and why, for humans. */
export interface Exclusion {
  peerId: string
  reason: ExclusionReason
  /** one sentence, e.g. `score 0.12 < 0.25: lost 3 disputes` */
  detail: string
}

/** The peers a job uses and the candidates it does not use. */
export interface PlacementPlan {
  peers: PeerPlacement[]
  excluded: Exclusion[]
}

/** The job a placement is for. */
export interface PlacementJob {
  workload: Pick<Workload, 'id' | 'version'>
  /** the kind of the job's verification: a peer on probation may only work where its results are checked @default 'none' */
  verification?: VerificationPolicy['kind']
  /** peers scoring below this are excluded (a policy's own default applies when absent) */
  minScore?: number
}

/** The outcome of one attempt, as a placement policy sees it. */
export interface WindowObservation {
  /** the peer that ran the attempt */
  peerId: string
  /** its window when the attempt ended */
  window: number
  /** a result that passed its checks, any other failure, or a busy answer */
  outcome: 'result' | 'failure' | 'busy'
  /** ms from sending the shard to the outcome */
  roundTripMs: number
  /** items of the shard @default 1 */
  items?: number
  /** of the round trip, the time the shard waited at the worker and in transfer (ms), when known */
  queuedMs?: number
}

/**
 * Which peers a job uses and how much work each may hold at once. The requester finds the
 * candidates (the peers offering the workload, this node first when it offers it too); the
 * policy picks among them and sets each one's window, then adjusts the window after every
 * attempt. Pass one as `ComputeInit.placement` or `RunJobOptions.placement`, e.g. to earn
 * windows from what peers did before instead of trusting what they advertise.
 */
export interface PlacementPolicy {
  /**
   * The peers of a job, in the order they pull shards, each with its first window; either the
   * list alone or a `PlacementPlan` that also says why each other candidate is not used.
   */
  place(candidates: PlacementCandidate[], job: PlacementJob): PeerPlacement[] | PlacementPlan
  /** The window a peer has after an attempt's outcome (at least 1). */
  window(observation: WindowObservation): number
}

/** Either answer of `PlacementPolicy.place` as a plan (a bare list excludes nobody). */
export function planOf (result: PeerPlacement[] | PlacementPlan): PlacementPlan {
  return Array.isArray(result) ? { peers: result, excluded: [] } : result
}

/** The window a remote peer may grow to: the slots it claims (`UNKNOWN_PEER_SLOTS` when none) plus `PIPELINE_DEPTH`. */
export function windowCap (slots: number): number {
  return (slots > 0 ? slots : C.UNKNOWN_PEER_SLOTS) + C.PIPELINE_DEPTH
}

/**
 * Every candidate, in the order found. This node's window is its slots; a remote peer's is the
 * `totalSlots` it advertised (`UNKNOWN_PEER_SLOTS` when none) plus `PIPELINE_DEPTH`, so it never
 * idles waiting for its next shard. A busy answer shrinks the window by one, down to 1; other
 * outcomes leave it as it is. It believes what peers advertise: `earnedPlacement()` does not.
 */
export function defaultPlacement (): PlacementPolicy {
  return {
    place (candidates) {
      return candidates.map(({ channel, slots }) => ({
        channel,
        window: channel.local ? slots : windowCap(slots)
      }))
    },
    window ({ window, outcome }) {
      return outcome === 'busy' ? Math.max(1, window - 1) : window
    }
  }
}

export interface EarnedPlacementOptions {
  /** candidates scoring below this are excluded, unless the job sets its own `minScore` @default MIN_SCORE */
  minScore?: number
  /** the first window of a remote peer nobody measured @default 1 */
  initialWindow?: number
  /** hoarding: in-flight work beyond this multiple of the others' @default HOARD_FACTOR */
  hoardFactor?: number
}

/** What an earned placement keeps of one peer, from the round trips of its attempts. */
interface Gradient {
  /** the window may not grow past this */
  cap: number
  local: boolean
  /** the lowest round trip per item seen (ms), rising slowly toward `recent` */
  baseline?: number
  /** a short moving average of round trips per item (ms) */
  recent?: number
  /** a short moving average of round trips per shard (ms) */
  shardMs?: number
}

function scoreOf (c: PlacementCandidate): number {
  return c.evidence?.score.value ?? 0.5
}

function speedOf (c: PlacementCandidate): number {
  return c.evidence?.measured?.itemsPerSec ?? 0
}

function fmt (n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

function age (ms: number | null): string {
  return ms == null ? 'never' : `${(ms / 1000).toFixed(1)} s ago`
}

/** Why a remote candidate may not work for this job, or undefined when it may. */
function exclusionOf (c: PlacementCandidate, job: PlacementJob, minScore: number): Exclusion | undefined {
  const e = c.evidence
  if (e == null) {
    return undefined
  }
  const peerId = c.channel.peerId.toString()
  const live = e.liveness
  if (live.state === 'dead' || live.state === 'suspect') {
    return {
      peerId,
      reason: live.state,
      detail: `${live.state}: its heartbeat went silent with work in flight (last ${live.evidence} ${age(live.ageMs)})`
    }
  }
  if (live.state !== 'alive' && e.advertAgeMs != null && e.advertTtlMs != null && e.advertAgeMs > e.advertTtlMs / 2) {
    return {
      peerId,
      reason: 'stale',
      detail: `stale: no direct evidence recently (last ${live.evidence} ${age(live.ageMs)}) and its advert is ${fmt(e.advertAgeMs / 1000)} s old, more than half of its ${fmt(e.advertTtlMs / 1000)} s validity`
    }
  }
  const verdict = e.challenge?.verdict
  if (verdict === 'wrong-answer' || verdict === 'bad-receipt') {
    return {
      peerId,
      reason: 'failed-challenge',
      detail: `failed its challenge of ${job.workload.id}: ${verdict === 'wrong-answer' ? 'a wrong answer' : 'a bad receipt'}${e.challenge?.detail != null ? ` (${e.challenge.detail})` : ''}`
    }
  }
  if (e.score.probation && (job.verification ?? 'none') === 'none') {
    const progress = e.score.probationProgress != null ? `; passed ${e.score.probationProgress.passed} of ${e.score.probationProgress.needed} challenges since` : ''
    return {
      peerId,
      reason: 'probation',
      detail: `on probation (lost a dispute or failed a challenge${progress}) and the job's verification is none: nothing would check its results`
    }
  }
  if (e.score.value < minScore) {
    const why = e.score.reasons.length > 0 ? `: ${e.score.reasons.join('; ')}` : ''
    return { peerId, reason: 'low-score', detail: `score ${e.score.value.toFixed(2)} < ${fmt(minScore)}${why}` }
  }
  return undefined
}

/**
 * A placement that believes nothing it did not observe. Placing a job, it excludes, each with
 * a reason a person can read: `dead` and `suspect` peers (their heartbeat went silent), `stale`
 * ones (no direct evidence lately and an advert past half its validity), those that failed a
 * challenge (`failed-challenge`), those on `probation` when the job's verification would not
 * check them (under `spot-check` and `replicate` they are used with `mustVerify`: every result
 * of theirs needs a second, agreeing peer), and those scoring below `minScore` (`low-score`).
 * This node is never excluded and keeps its slots as its window. The others pull work in order
 * of score, then measured speed, then as found.
 *
 * Windows are earned. An unmeasured peer starts at `initialWindow`; a measured one at the window
 * it earned in earlier jobs (1 without one); no window exceeds the slots the peer claims plus
 * `PIPELINE_DEPTH`. After each attempt the window follows a delay gradient, as TCP Vegas
 * (Brakmo & Peterson, 1994) and Netflix's concurrency-limits (its `GradientLimit`) set a
 * concurrency limit from round trips rather than from what a server says it can take: per peer
 * it keeps the lowest round trip per item seen (the baseline, rising slowly toward the recent
 * figure so that one lucky sample does not rule forever) and a short moving average of recent
 * ones. A result whose recent round trip is within `GROW_BELOW` (1.5) × the baseline shows
 * that the worker ran the shard without queueing it: the window grows by one. Above
 * `SHRINK_ABOVE` (2) × the baseline the worker is queueing what it holds: the window is cut in
 * proportion, to window × 1.5 × baseline / recent. A busy answer takes one off, a failure
 * halves it; never below 1.
 *
 * Hoarding goes through the same rule: by Little's law a peer's recent round trip per shard is
 * the time it needs to finish what it holds. When that exceeds `hoardFactor` (4) × what the
 * other peers of the job need for theirs (the median of their recent round trips per shard), the
 * peer holds work others would finish sooner, and its window is cut to what its measured rate
 * (window / round trip) can finish in that time, at least 1. A node that claims 500 slots but
 * serves one slowly never holds more than its speed earns; the endgame hedge takes back what
 * it holds at the end.
 *
 * The round-trip statistics live in the policy, keyed by peer; placing a job resets those of
 * its peers (the earned window carries over through `CandidateEvidence.earnedWindow`).
 */
export function earnedPlacement (options: EarnedPlacementOptions = {}): PlacementPolicy {
  const initialWindow = Math.max(1, options.initialWindow ?? 1)
  const hoardFactor = options.hoardFactor ?? HOARD_FACTOR
  const peers = new Map<string, Gradient>()

  /** The median recent round trip per shard of every peer but `peerId`, or undefined if none has one. */
  const othersShardMs = (peerId: string): number | undefined => {
    const all: number[] = []
    for (const [id, g] of peers) {
      if (id !== peerId && g.shardMs != null) {
        all.push(g.shardMs)
      }
    }
    if (all.length === 0) {
      return undefined
    }
    all.sort((a, b) => a - b)
    return all[Math.floor((all.length - 1) / 2)]
  }

  return {
    place (candidates, job) {
      const minScore = job.minScore ?? options.minScore ?? MIN_SCORE
      const excluded: Exclusion[] = []
      const local: PeerPlacement[] = []
      const remote: Array<{ candidate: PlacementCandidate, order: number }> = []
      candidates.forEach((candidate, order) => {
        const { channel, slots } = candidate
        const id = channel.peerId.toString()
        if (channel.local) {
          peers.set(id, { cap: Math.max(1, slots), local: true })
          local.push({ channel, window: Math.max(1, slots) })
          return
        }
        const exclusion = exclusionOf(candidate, job, minScore)
        if (exclusion != null) {
          excluded.push(exclusion)
          return
        }
        remote.push({ candidate, order })
      })
      remote.sort((a, b) => scoreOf(b.candidate) - scoreOf(a.candidate) || speedOf(b.candidate) - speedOf(a.candidate) || a.order - b.order)
      const placed = remote.map(({ candidate }) => {
        const { channel, slots, evidence } = candidate
        const cap = windowCap(slots)
        peers.set(channel.peerId.toString(), { cap, local: false })
        const window = evidence?.measured == null
          ? Math.min(cap, initialWindow)
          : Math.min(cap, Math.max(1, Math.floor(evidence.earnedWindow ?? 1)))
        const placement: PeerPlacement = { channel, window }
        if (evidence?.score.probation === true) {
          placement.mustVerify = true
        }
        return placement
      })
      return { peers: [...local, ...placed], excluded }
    },

    window (o) {
      let g = peers.get(o.peerId)
      if (g == null) {
        g = { cap: Math.max(o.window, windowCap(0)), local: false }
        peers.set(o.peerId, g)
      }
      const window = Math.max(1, o.window)
      if (o.outcome === 'busy') {
        return Math.max(1, window - 1)
      }
      if (o.outcome === 'failure') {
        return g.local ? window : Math.max(1, Math.floor(window / 2))
      }
      const items = Math.max(1, o.items ?? 1)
      const rtt = Math.max(0, o.roundTripMs)
      const perItem = rtt / items
      g.recent = g.recent == null ? perItem : g.recent * (1 - RECENT_WEIGHT) + perItem * RECENT_WEIGHT
      g.shardMs = g.shardMs == null ? rtt : g.shardMs * (1 - RECENT_WEIGHT) + rtt * RECENT_WEIGHT
      g.baseline = g.baseline == null ? perItem : Math.min(perItem, g.baseline + (g.recent - g.baseline) * BASELINE_DRIFT)
      if (g.local) {
        // this node's window is its slots: what it measures only informs the others' hoarding test
        return window
      }
      const baseline = Math.max(g.baseline, Number.EPSILON)
      let next = window
      if (g.recent <= baseline * GROW_BELOW) {
        next = Math.min(g.cap, window + 1)
      } else if (g.recent > baseline * SHRINK_ABOVE) {
        next = Math.max(1, Math.floor(window * baseline * GROW_BELOW / g.recent))
      }
      // hoarding: what it holds would take it longer than hoardFactor × what the others need
      const others = othersShardMs(o.peerId)
      if (others != null && g.shardMs > hoardFactor * others) {
        // its measured rate, by Little's law: `window` shards per round trip
        const rate = window / g.shardMs
        next = Math.min(next, Math.max(1, Math.floor(hoardFactor * others * rate)))
      }
      return Math.max(1, Math.min(g.cap, next))
    }
  }
}
