import { TypedEventEmitter } from '@libp2p/interface'
import { DEAD_AFTER, LIVENESS_ALIVE_FOR, LIVENESS_FORGET_AFTER, MAX_LIVENESS_PEERS, SUSPECT_AFTER } from '../constants.js'

/**
 * What this node knows now of a peer's liveness:
 *
 * - `alive`: its heartbeat answers (work in flight), or direct evidence arrived recently;
 * - `suspect` / `dead`: a heartbeat with work in flight went silent (`suspectAfter` / `deadAfter`);
 * - `advert`: only its signed advert vouches for it; `unknown`: nothing does.
 */
export type LivenessState = 'alive' | 'suspect' | 'dead' | 'advert' | 'unknown'

/** The kind of evidence a liveness state rests on. */
export type LivenessEvidence = 'heartbeat' | 'result' | 'challenge' | 'advert' | 'none'

/** Evidence heard from the peer itself (an advert may be relayed, and old). */
export type DirectEvidence = 'heartbeat' | 'result' | 'challenge'

/** A peer's liveness state with the evidence behind it. */
export interface LivenessView {
  state: LivenessState
  /** the newest evidence behind the state */
  evidence: LivenessEvidence
  /** age of that evidence at `now` (ms; null: none) */
  ageMs: number | null
  /** when the current state began (ms epoch of the book's clock; null: unknown) */
  since: number | null
  /** the last heartbeat's round trip (ms) */
  rttMs?: number
}

/** A signed advert of the peer, as received: both times in ms of the book's clock. */
export interface AdvertSeen {
  /** when this node received it */
  receivedAt: number
  /** when the peer says it issued it (never trusted to be later than `receivedAt`) */
  issuedAt: number
  /** when it was issued on this node's clock (`issuedAt` corrected by the peer's clock offset), where known */
  localIssuedAt?: number
}

export interface LivenessInit {
  /** a watched peer silent longer than this is suspect (ms) @default SUSPECT_AFTER */
  suspectAfter?: number
  /** a watched peer silent longer than this is dead (ms) @default DEAD_AFTER */
  deadAfter?: number
  /** an unwatched peer is alive this long after its last direct evidence (ms) @default LIVENESS_ALIVE_FOR */
  aliveFor?: number
  /** an unwatched peer with no news for this long is forgotten (ms) @default LIVENESS_FORGET_AFTER */
  forgetAfter?: number
  /** most peers remembered; the least recently heard of go first @default MAX_LIVENESS_PEERS */
  maxPeers?: number
  /** the clock (ms epoch) @default Date.now */
  now?(): number
}

/** A change of a peer's heartbeat verdict. */
export interface LivenessChange {
  peerId: string
  state: LivenessState
  previous: LivenessState
  /** when (the book's clock) */
  at: number
}

export interface LivenessEvents {
  liveness: CustomEvent<LivenessChange>
}

type Verdict = 'alive' | 'suspect' | 'dead'

interface PeerRecord {
  last?: { kind: DirectEvidence, at: number }
  rttMs?: number
  advert?: AdvertSeen
  /** heartbeats running on the peer now */
  watchers: number
  watchedSince: number
  /** the requester itself held the heartbeat up until then (its own writes) */
  excusedAt: number
  /** `suspect` and `dead` stick until fresh direct evidence, or an advert received after them */
  verdict: Verdict
  /** when the verdict began */
  since: number
  /** when the peer last became alive (its derived state) */
  aliveSince?: number
  /** last news of any kind: what the bounds go by */
  touched: number
}

/** How often `check()` sweeps forgotten peers, at most, as a fraction of `forgetAfter`. */
const SWEEP_FRACTION = 0.1

/**
 * Every peer's liveness, from evidence only. A peer with work in flight is *watched*: its
 * channel pings it every heartbeat interval and reports every frame as evidence (`heard`);
 * silent for longer than `suspectAfter` it is `suspect`, longer than `deadAfter` `dead`. A peer
 * not watched is `alive` while direct evidence (a heartbeat, a result, a challenge) is younger
 * than `aliveFor`, then `advert` while a signed advert vouches for it, else `unknown`.
 * `suspect` and `dead` stick until fresh direct evidence, or (once the peer is no longer
 * watched) an advert received after them.
 *
 * The book has no timer: its owners call `check()` (the channels do, on each heartbeat), and it
 * emits a `liveness` event for each change of verdict (alive, suspect, dead), in order: a peer
 * found silent past `deadAfter` at once goes through `suspect` first. Derived states (`advert`,
 * `unknown`) are not events: they follow from the age of the evidence whenever `view()` asks.
 *
 * Bounded: peers not watched with no news for `forgetAfter` are forgotten, and at most
 * `maxPeers` are kept (the least recently heard of, not watched, go first).
 */
export class LivenessBook extends TypedEventEmitter<LivenessEvents> {
  public readonly suspectAfter: number
  public readonly deadAfter: number
  public readonly aliveFor: number
  public readonly forgetAfter: number
  public readonly maxPeers: number
  private readonly clock: () => number
  /** by peer id, least recently touched first */
  private readonly peers = new Map<string, PeerRecord>()
  /** the watched ones: what `check()` goes through */
  private readonly watched = new Map<string, PeerRecord>()
  private lastSweep: number

  constructor (init: LivenessInit = {}) {
    super()
    this.suspectAfter = positive('suspectAfter', init.suspectAfter ?? SUSPECT_AFTER)
    this.deadAfter = positive('deadAfter', init.deadAfter ?? DEAD_AFTER)
    if (this.deadAfter < this.suspectAfter) {
      throw new RangeError(`deadAfter (${this.deadAfter} ms) must not be shorter than suspectAfter (${this.suspectAfter} ms)`)
    }
    this.aliveFor = positive('aliveFor', init.aliveFor ?? LIVENESS_ALIVE_FOR)
    this.forgetAfter = positive('forgetAfter', init.forgetAfter ?? LIVENESS_FORGET_AFTER)
    this.maxPeers = Math.floor(positive('maxPeers', init.maxPeers ?? MAX_LIVENESS_PEERS))
    this.clock = init.now ?? Date.now
    this.lastSweep = this.clock()
  }

  /** The book's clock (ms epoch). */
  now (): number {
    return this.clock()
  }

  /** Peers remembered now. */
  get size (): number {
    return this.peers.size
  }

  /** Direct evidence from the peer now: a frame on its shard stream, a result, a passed challenge. */
  heard (peerId: string, kind: DirectEvidence, rttMs?: number): void {
    const now = this.clock()
    const rec = this.record(peerId, now)
    const wasAlive = this.derive(rec, now).state === 'alive'
    rec.last = { kind, at: now }
    if (rttMs != null && Number.isFinite(rttMs) && rttMs >= 0) {
      rec.rttMs = rttMs
    }
    if (!wasAlive) {
      rec.aliveSince = now
    }
    if (rec.verdict !== 'alive') {
      this.emit([this.setVerdict(peerId, rec, 'alive', now)])
    }
  }

  /**
   * The peer's signed advert arrived (ms of this book's clock). It keeps an unwatched peer with
   * no recent direct evidence at `advert` instead of `unknown`, and clears the `suspect` or `dead`
   * verdict of an unwatched peer older than it.
   */
  advertised (peerId: string, advert: AdvertSeen): void {
    if (!Number.isFinite(advert.receivedAt)) {
      return
    }
    const now = this.clock()
    const rec = this.record(peerId, now)
    if (rec.advert == null || advert.receivedAt >= rec.advert.receivedAt) {
      rec.advert = { receivedAt: advert.receivedAt, issuedAt: advert.issuedAt, localIssuedAt: advert.localIssuedAt }
    }
    // a heartbeat outranks an advert: a watched peer is judged by its heartbeat alone
    if (rec.verdict !== 'alive' && rec.watchers === 0 && advert.receivedAt > rec.since) {
      const previous = rec.verdict
      rec.verdict = 'alive'
      rec.since = now
      this.emit([{ peerId, previous, state: this.derive(rec, now, rec.advert).state, at: now }])
    }
  }

  /**
   * A heartbeat runs on the peer from now (its channel has work in flight): it becomes subject to
   * `suspect` and `dead`, its silence counted from now or its last evidence, whichever is later.
   * Returns the function that ends this watch (several may watch one peer).
   */
  watch (peerId: string): () => void {
    const now = this.clock()
    const rec = this.record(peerId, now)
    if (rec.watchers === 0) {
      if (this.derive(rec, now).state !== 'alive') {
        rec.aliveSince = now
      }
      rec.watchedSince = now
      rec.excusedAt = -Infinity
      this.watched.set(peerId, rec)
    }
    rec.watchers++
    let watching = true
    return () => {
      if (watching) {
        watching = false
        rec.watchers = Math.max(0, rec.watchers - 1)
        rec.touched = Math.max(rec.touched, this.clock())
        if (rec.watchers === 0 && this.watched.get(peerId) === rec) {
          this.watched.delete(peerId)
        }
      }
    }
  }

  /**
   * The watcher itself held the heartbeat up (its ping still waits behind its own writes, which
   * the peer is reading): count the peer's silence from now. Not evidence, and no verdict changes.
   */
  excuse (peerId: string): void {
    const rec = this.peers.get(peerId)
    if (rec != null && rec.watchers > 0) {
      rec.excusedAt = this.clock()
    }
  }

  /** Re-evaluate every watched peer now; emits the changes of verdict, in order. */
  check (): void {
    const now = this.clock()
    if (now - this.lastSweep >= this.forgetAfter * SWEEP_FRACTION) {
      this.sweep(now)
    }
    const changes: LivenessChange[] = []
    for (const [peerId, rec] of this.watched) {
      if (rec.watchers === 0 || rec.verdict === 'dead') {
        continue
      }
      const silence = now - this.baseline(rec)
      if (silence > this.suspectAfter && rec.verdict === 'alive') {
        changes.push(this.setVerdict(peerId, rec, 'suspect', now))
      }
      if (silence > this.deadAfter) {
        changes.push(this.setVerdict(peerId, rec, 'dead', now))
      }
    }
    this.emit(changes)
  }

  /** The peer is dead, whatever its heartbeat said (it sticks as `check()`'s verdict does). */
  markDead (peerId: string): void {
    const now = this.clock()
    const rec = this.record(peerId, now)
    if (rec.verdict !== 'dead') {
      this.emit([this.setVerdict(peerId, rec, 'dead', now)])
    }
  }

  /**
   * How long a peer has been silent (ms): for a watched peer since its last evidence, the start of
   * the watch or its last excuse, whichever is latest; otherwise since its last direct evidence.
   */
  silenceMs (peerId: string): number | undefined {
    const rec = this.peers.get(peerId)
    if (rec == null) {
      return undefined
    }
    const now = this.clock()
    if (rec.watchers > 0) {
      return now - this.baseline(rec)
    }
    return rec.last != null ? now - rec.last.at : undefined
  }

  /**
   * The peer's state and the evidence behind it, at the book's `now`. An advert given (e.g. the
   * entry of the peer's advert in the capabilities table: it has both times) stands in for the
   * one recorded by `advertised()`; one without a finite `receivedAt` is ignored.
   */
  view (peerId: string, given?: AdvertSeen): LivenessView {
    const now = this.clock()
    const rec = this.peers.get(peerId)
    const advert = given != null && Number.isFinite(given.receivedAt) ? given : rec?.advert
    if (rec == null) {
      if (advert != null) {
        return { state: 'advert', evidence: 'advert', ageMs: advertAge(advert, now), since: advert.receivedAt }
      }
      return { state: 'unknown', evidence: 'none', ageMs: null, since: null }
    }
    const derived = this.derive(rec, now, advert)
    const seen: LivenessView = derived.state === 'advert' && advert != null
      ? { state: 'advert', evidence: 'advert', ageMs: advertAge(advert, now), since: derived.since }
      : {
          state: derived.state,
          evidence: rec.last?.kind ?? 'none',
          ageMs: rec.last != null ? Math.max(0, now - rec.last.at) : null,
          since: derived.since
        }
    if (rec.rttMs != null) {
      seen.rttMs = rec.rttMs
    }
    return seen
  }

  /** The peer's liveness as placement needs it: `advert` and `unknown` are not held against it (see `view`). */
  health (peerId: string, advert?: AdvertSeen): 'alive' | 'suspect' | 'dead' {
    const state = this.view(peerId, advert).state
    return state === 'suspect' || state === 'dead' ? state : 'alive'
  }

  private derive (rec: PeerRecord, now: number, advert?: AdvertSeen): { state: LivenessState, since: number | null } {
    if (rec.verdict !== 'alive') {
      if (rec.watchers === 0 && advert != null && advert.receivedAt > rec.since) {
        return { state: 'advert', since: advert.receivedAt }
      }
      return { state: rec.verdict, since: rec.since }
    }
    if (rec.watchers > 0) {
      return { state: 'alive', since: rec.aliveSince ?? rec.watchedSince }
    }
    if (rec.last != null && now - rec.last.at <= this.aliveFor) {
      return { state: 'alive', since: rec.aliveSince ?? rec.last.at }
    }
    const expired = rec.last != null ? rec.last.at + this.aliveFor : null
    if (advert != null) {
      return { state: 'advert', since: Math.max(expired ?? advert.receivedAt, advert.receivedAt) }
    }
    return { state: 'unknown', since: expired }
  }

  /** When the silence of a watched peer began. */
  private baseline (rec: PeerRecord): number {
    return Math.max(rec.last?.at ?? -Infinity, rec.watchedSince, rec.excusedAt)
  }

  private setVerdict (peerId: string, rec: PeerRecord, verdict: Verdict, now: number): LivenessChange {
    const previous = rec.verdict
    rec.verdict = verdict
    rec.since = now
    rec.touched = Math.max(rec.touched, now)
    return { peerId, previous, state: verdict, at: now }
  }

  private emit (changes: LivenessChange[]): void {
    for (const change of changes) {
      this.safeDispatchEvent('liveness', { detail: change })
    }
  }

  /** The peer's record, created if new, moved to the most recently touched end. */
  private record (peerId: string, now: number): PeerRecord {
    let rec = this.peers.get(peerId)
    if (rec != null) {
      this.peers.delete(peerId)
    } else {
      if (this.peers.size >= this.maxPeers) {
        this.sweep(now)
        this.evict()
      }
      rec = { watchers: 0, watchedSince: now, excusedAt: -Infinity, verdict: 'alive', since: now, touched: now }
    }
    rec.touched = Math.max(rec.touched, now)
    this.peers.set(peerId, rec)
    return rec
  }

  /** Forget the peers not watched that had no news for `forgetAfter`. */
  private sweep (now: number): void {
    this.lastSweep = now
    for (const [peerId, rec] of this.peers) {
      if (rec.watchers === 0 && now - Math.max(rec.touched, rec.advert?.receivedAt ?? -Infinity) > this.forgetAfter) {
        this.peers.delete(peerId)
      }
    }
  }

  /** Make room for one more: the least recently touched peer not watched goes (any, if all are). */
  private evict (): void {
    while (this.peers.size >= this.maxPeers) {
      let victim: string | undefined
      for (const [peerId, rec] of this.peers) {
        victim ??= peerId
        if (rec.watchers === 0) {
          victim = peerId
          break
        }
      }
      if (victim == null) {
        return
      }
      this.peers.delete(victim)
      this.watched.delete(victim)
    }
  }
}

function advertAge (advert: AdvertSeen, now: number): number {
  const issued = advert.localIssuedAt != null && Number.isFinite(advert.localIssuedAt) ? advert.localIssuedAt : advert.issuedAt
  const at = Number.isFinite(issued) ? Math.min(issued, advert.receivedAt) : advert.receivedAt
  return Math.max(0, now - at)
}

function positive (name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`LivenessBook: ${name} must be a positive number, got ${value}`)
  }
  return value
}
