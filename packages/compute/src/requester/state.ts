import { encodeItemList } from '@shardmesh/protocol'
import { callWorkload } from '@shardmesh/workloads'
import type { AttemptHandle, PeerChannel } from './channel.js'
import type { ShardReport } from './types.js'
import type { Workload } from '@shardmesh/workloads'

/** What a job knows of one of its peers. */
export interface PeerState {
  id: string
  channel: PeerChannel
  /** shards this peer may have in flight at once (its placement window) */
  window: number
  inflight: number
  failures: number
  consecutiveFailures: number
  /** code and message of this peer's last failure, to explain why it was dropped */
  lastError?: { code: string, message: string }
  backoffUntil: number
  banned: boolean
  attempts: number
  /** shards whose accepted result includes this peer's (the one used or an agreeing replica) */
  accepted: number
  /** items of those shards */
  items: number
  /** results returned (accepted or not), and their summed round trip and run time */
  results: number
  roundTripMs: number
  runMs: number
  /** summed round trip of its results that were accepted (ms) */
  acceptedRoundTripMs: number
  /** on probation, or lost a dispute in this job: a result of its own is never accepted alone */
  mustVerify: boolean
}

/** A result that passed its checks. */
export interface ShardResult {
  peer: PeerState
  output: Uint8Array
  receipt: Uint8Array
  /** the decoded output items */
  outputs: unknown[]
  /** ms from sending the shard to this result */
  roundTripMs: number
  /** its peer had to be verified when it answered: this result alone cannot decide the shard */
  mustVerify?: boolean
}

/** One attempt of a shard on a peer, in flight. */
export interface Attempt {
  peer: PeerState
  handle: AttemptHandle
  startedAt: number
  hedge: boolean
}

/** How a shard ended. */
export interface ShardDone {
  winner: ShardResult
  agreeing: ShardResult[]
  outcome: ShardReport['outcome']
  at: number
}

/** What a job knows of one of its shards. */
export interface ShardState {
  index: number
  /** encoded ItemList */
  input: Uint8Array
  items: number
  /** results wanted before the shard is decided */
  needed: number
  results: ShardResult[]
  running: Set<Attempt>
  /** peers that got an attempt of this shard (a busy answer does not count) */
  tried: Set<string>
  /**
   * peers of `tried` whose attempt was lost to the link or to the peer's liveness (a stream
   * closed, a silence, an idle timeout), not refused or answered wrongly: once every peer left
   * has tried the shard, these may try it again while it has retries left
   */
  lostTo: Set<string>
  failures: number
  /** failed attempts, `peer: code message` */
  errors: string[]
  attempts: number
  hedged: boolean
  checked: boolean
  disputed: boolean
  /** asked for another result because those it had came only from peers that must be verified */
  probation: boolean
  firstStartedAt: number
  done?: ShardDone
}

export function newShard (index: number, items: Uint8Array[], needed: number): ShardState {
  return {
    index,
    input: encodeItemList(items),
    items: items.length,
    needed,
    results: [],
    running: new Set(),
    tried: new Set(),
    lostTo: new Set(),
    failures: 0,
    errors: [],
    attempts: 0,
    hedged: false,
    checked: false,
    disputed: false,
    probation: false,
    firstStartedAt: 0
  }
}

/** A job's shards, as the workload splits its items, each wanting `needed` results at first. */
export function splitJob (workload: Workload<any, any>, items: Uint8Array[], shardSize: number, needed: number): ShardState[] {
  const inputs = callWorkload(workload, 'split', () => {
    const shards = workload.split(items, shardSize)
    if (!Array.isArray(shards) || !shards.every(shard => Array.isArray(shard))) {
      throw new TypeError('split returned something other than an array of item arrays')
    }
    return shards
  })
  return inputs.map((shardItems, index) => newShard(index, shardItems, needed))
}

export function newPeer (channel: PeerChannel, window: number, mustVerify = false): PeerState {
  return {
    id: channel.peerId.toString(),
    channel,
    window: Math.max(1, window),
    inflight: 0,
    failures: 0,
    consecutiveFailures: 0,
    backoffUntil: 0,
    banned: false,
    attempts: 0,
    accepted: 0,
    items: 0,
    results: 0,
    roundTripMs: 0,
    runMs: 0,
    acceptedRoundTripMs: 0,
    mustVerify
  }
}

/** Attempts a shard wants beyond those it has and those in flight (0 once decided). */
export function wants (shard: ShardState): number {
  return shard.done != null ? 0 : shard.needed - shard.results.length - shard.running.size
}

/** Whether a peer's channel says it is alive: a `suspect` or `dead` peer gets no new work. */
export function healthy (peer: PeerState): boolean {
  const health = peer.channel.health?.() ?? 'alive'
  return health !== 'suspect' && health !== 'dead'
}

/** Whether a peer may be given work now: not dropped, healthy, out of backoff, with room in its window. */
export function hasRoom (peer: PeerState, now: number): boolean {
  return !peer.banned && peer.backoffUntil <= now && peer.inflight < peer.window && healthy(peer)
}
