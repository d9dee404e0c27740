import { MAX_ADVERT_TTL, MAX_CLOCK_SKEW, MAX_TABLE_SIZE } from './constants.js'
import { AdvertRejectedError } from './errors.js'
import type { VerifiedAdvert } from './advert.js'
import type { PeerCapabilities } from './index.js'

/** Where an advert reached us from. */
export type AdvertSource = 'gossip' | 'direct' | 'sync' | 'dht'

/** One row of the peer table: a verified, unexpired advert and how fresh it is. */
export interface PeerEntry extends VerifiedAdvert {
  /** When this version of the advert reached us (ms since epoch). */
  receivedAt: number
  /**
   * How far this peer's clock lags ours, as we estimate it (ms; negative: it runs ahead): the
   * least age its gossiped adverts had on arrival (a gossiped advert was issued moments before),
   * within ±MAX_CLOCK_SKEW; undefined until one came (taken as 0). `issuedAt` and `expiresAt`
   * are the peer's clock, as it signed them.
   */
  clockOffset?: number
  /** When the advert was issued on our clock: `issuedAt + clockOffset`, never after `receivedAt`. */
  localIssuedAt: number
  /**
   * Until when we hold it (our clock): its TTL from `localIssuedAt`, and never past its signed
   * `expiresAt` + MAX_CLOCK_SKEW. A peer that stops re-publishing leaves the table by then.
   */
  heldUntil: number
  /** When we first held any advert of this peer, since it last left the table (ms since epoch). */
  firstSeenAt: number
  source: AdvertSource
}

export interface PeerTableInit {
  maxSize?: number
}

/**
 * Verified, unexpired adverts by peer. It holds only what `verifyAdvert` accepted, keeps the
 * newest sequence number per peer, and forgets an advert the moment it expires: a peer that
 * stops re-publishing (dead, partitioned, frozen) leaves the table within its TTL.
 *
 * Expiry is on this node's clock. A peer's clock may be off by up to MAX_CLOCK_SKEW: its adverts
 * are held for their TTL from when they were issued as this node's clock puts it (the peer's
 * `issuedAt` moved by the least delay its fresh adverts ever showed), so a peer whose clock lags
 * by 30 s is not dropped on arrival and one that runs 30 s ahead is not held for twice its TTL.
 */
export class PeerTable {
  private readonly entries = new Map<string, PeerEntry>()
  /**
   * Highest seq seen per peer, kept after its advert expired so that an older advert (which may
   * still be unexpired: TTLs differ) cannot be replayed. `forgetAt` is when no older advert of
   * that peer can still be valid: any older one was issued no later than the newest, so it
   * expires by newest.issuedAt + MAX_ADVERT_TTL (+ the clock skew we tolerate).
   */
  private readonly highestSeq = new Map<string, { seq: number, forgetAt: number }>()
  private readonly maxSize: number

  constructor (init: PeerTableInit = {}) {
    this.maxSize = init.maxSize ?? MAX_TABLE_SIZE
  }

  /**
   * Insert a verified advert. Throws `AdvertRejectedError` ('not-newer', 'expired', 'table-full').
   * Returns the entry and whether this peer is new to the table.
   */
  accept (advert: VerifiedAdvert, source: AdvertSource, now = Date.now()): { entry: PeerEntry, added: boolean } {
    const key = advert.peerId.toString()
    if (advert.expiresAt + MAX_CLOCK_SKEW <= now) {
      throw new AdvertRejectedError('expired', `expired ${now - advert.expiresAt} ms ago, beyond the ${MAX_CLOCK_SKEW} ms of clock skew tolerated`)
    }
    const highest = this.highestSeq.get(key)
    if (highest != null && advert.seq <= highest.seq) {
      throw new AdvertRejectedError('not-newer', `seq ${advert.seq} is not above ${highest.seq}`)
    }
    const previous = this.entries.get(key)
    // the least age on arrival of its gossiped adverts (published as they were issued): its
    // clock's lag plus the least delay; it follows a rise (the peer's clock set back) a quarter
    // at a time, so one slow delivery barely moves it
    let clockOffset = previous?.clockOffset
    if (source === 'gossip') {
      const age = Math.min(MAX_CLOCK_SKEW, Math.max(-MAX_CLOCK_SKEW, now - advert.issuedAt))
      clockOffset = clockOffset == null || age <= clockOffset ? age : clockOffset + (age - clockOffset) / 4
    }
    const localIssuedAt = Math.min(now, advert.issuedAt + (clockOffset ?? 0))
    const heldUntil = Math.min(localIssuedAt + (advert.expiresAt - advert.issuedAt), advert.expiresAt + MAX_CLOCK_SKEW)
    if (heldUntil <= now) {
      throw new AdvertRejectedError('expired', `expired ${now - heldUntil} ms ago${clockOffset != null && clockOffset !== 0 ? ` (its clock taken as ${Math.round(clockOffset)} ms behind ours)` : ''}`)
    }
    if (previous == null && this.entries.size >= this.maxSize) {
      throw new AdvertRejectedError('table-full', `the peer table holds ${this.maxSize} peers`)
    }
    const entry: PeerEntry = { ...advert, receivedAt: now, clockOffset, localIssuedAt, heldUntil, firstSeenAt: previous?.firstSeenAt ?? now, source }
    this.entries.set(key, entry)
    // delete first so the Map's order is least-recently-updated first (for the bound in sweep)
    this.highestSeq.delete(key)
    this.highestSeq.set(key, { seq: advert.seq, forgetAt: Math.max(advert.expiresAt, advert.issuedAt + MAX_ADVERT_TTL) + MAX_CLOCK_SKEW })
    return { entry, added: previous == null }
  }

  /** The highest sequence number we have seen from this peer, if any. */
  seqOf (peerId: string): number | undefined {
    return this.highestSeq.get(peerId)?.seq
  }

  get (peerId: string, now = Date.now()): PeerEntry | undefined {
    const entry = this.entries.get(peerId)
    return entry != null && entry.heldUntil > now ? entry : undefined
  }

  /** Every unexpired entry. */
  list (now = Date.now()): PeerEntry[] {
    return [...this.entries.values()].filter(e => e.heldUntil > now)
  }

  get size (): number {
    return this.entries.size
  }

  /** Drop expired entries; returns the ones dropped. Replay memory is kept a while longer. */
  sweep (now = Date.now()): PeerEntry[] {
    const dropped: PeerEntry[] = []
    for (const [key, entry] of this.entries) {
      if (entry.heldUntil <= now) {
        this.entries.delete(key)
        dropped.push(entry)
      }
    }
    for (const [key, h] of this.highestSeq) {
      if (!this.entries.has(key) && h.forgetAt <= now) {
        this.highestSeq.delete(key)
      }
    }
    // bound the replay memory a churn of fresh peer ids can cost: drop the stalest first
    for (const key of this.highestSeq.keys()) {
      if (this.highestSeq.size <= this.maxSize * 4) {
        break
      }
      if (!this.entries.has(key)) {
        this.highestSeq.delete(key)
      }
    }
    return dropped
  }

  clear (): void {
    this.entries.clear()
    this.highestSeq.clear()
  }
}

/** A table entry with its age at `now` (ms since it was issued). */
export function withAge (entry: PeerEntry, now: number): PeerCapabilities {
  return { ...entry, ageMs: Math.max(0, now - entry.localIssuedAt) }
}
