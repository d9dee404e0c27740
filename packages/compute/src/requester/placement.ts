import * as C from '../constants.js'
import type { PeerChannel } from './channel.js'
import type { Workload } from '@shardmesh/workloads'

/** A peer a job could use, as the requester found it. */
export interface PlacementCandidate {
  channel: PeerChannel
  /**
   * Shard slots the peer offers: this node's own slots for the local channel, the `totalSlots`
   * a remote peer advertised, or 0 when it advertised none.
   */
  slots: number
}

/** A peer a job uses, and how many of its shards it may hold in flight at the start. */
export interface PeerPlacement {
  channel: PeerChannel
  window: number
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
}

/**
 * Which peers a job uses and how much work each may hold at once. The requester finds the
 * candidates (the peers offering the workload, this node first when it offers it too); the
 * policy picks among them and sets each one's window, then adjusts the window after every
 * attempt. Pass one as `ComputeInit.placement` or `RunJobOptions.placement`, e.g. to earn
 * windows from what peers did before instead of trusting what they advertise.
 */
export interface PlacementPolicy {
  /** The peers of a job, in the order they pull shards, each with its first window. */
  place(candidates: PlacementCandidate[], job: { workload: Pick<Workload, 'id' | 'version'> }): PeerPlacement[]
  /** The window a peer has after an attempt's outcome (at least 1). */
  window(observation: WindowObservation): number
}

/**
 * Every candidate, in the order found. This node's window is its slots; a remote peer's is the
 * `totalSlots` it advertised (`UNKNOWN_PEER_SLOTS` when none) plus `PIPELINE_DEPTH`, so it never
 * idles waiting for its next shard. A busy answer shrinks the window by one, down to 1; other
 * outcomes leave it as it is.
 */
export function defaultPlacement (): PlacementPolicy {
  return {
    place (candidates) {
      return candidates.map(({ channel, slots }) => ({
        channel,
        window: channel.local ? slots : (slots > 0 ? slots : C.UNKNOWN_PEER_SLOTS) + C.PIPELINE_DEPTH
      }))
    },
    window ({ window, outcome }) {
      return outcome === 'busy' ? Math.max(1, window - 1) : window
    }
  }
}
