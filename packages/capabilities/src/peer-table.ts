import { MAX_CLOCK_SKEW, MAX_TABLE_SIZE } from './constants.js'
import { AdvertRejectedError } from './errors.js'
import type { VerifiedAdvert } from './advert.js'

/** Where an advert reached us from. */
export type AdvertSource = 'gossip' | 'direct' | 'sync' | 'dht'

/** One row of the peer table: a verified, unexpired advert and how fresh it is. */
export interface PeerEntry extends VerifiedAdvert {
  /** When this version of the advert reached us (ms since epoch). */
  receivedAt: number
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
 */
export class PeerTable {
  private readonly entries = new Map<string, PeerEntry>()
  /** Highest seq seen per peer, kept after expiry so an old advert cannot be replayed. */
  private readonly highestSeq = new Map<string, { seq: number, expiresAt: number }>()
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
    if (advert.expiresAt <= now) {
      throw new AdvertRejectedError('expired', `expired ${now - advert.expiresAt} ms ago`)
    }
    const highest = this.highestSeq.get(key)
    if (highest != null && advert.seq <= highest.seq) {
      throw new AdvertRejectedError('not-newer', `seq ${advert.seq} is not above ${highest.seq}`)
    }
    const previous = this.entries.get(key)
    if (previous == null && this.entries.size >= this.maxSize) {
      throw new AdvertRejectedError('table-full', `the peer table holds ${this.maxSize} peers`)
    }
    const entry: PeerEntry = { ...advert, receivedAt: now, firstSeenAt: previous?.firstSeenAt ?? now, source }
    this.entries.set(key, entry)
    this.highestSeq.set(key, { seq: advert.seq, expiresAt: Math.max(advert.expiresAt, highest?.expiresAt ?? 0) })
    return { entry, added: previous == null }
  }

  /** The highest sequence number we have seen from this peer, if any. */
  seqOf (peerId: string): number | undefined {
    return this.highestSeq.get(peerId)?.seq
  }

  get (peerId: string, now = Date.now()): PeerEntry | undefined {
    const entry = this.entries.get(peerId)
    return entry != null && entry.expiresAt > now ? entry : undefined
  }

  /** Every unexpired entry. */
  list (now = Date.now()): PeerEntry[] {
    return [...this.entries.values()].filter(e => e.expiresAt > now)
  }

  get size (): number {
    return this.entries.size
  }

  /** Drop expired entries; returns the ones dropped. Replay memory is kept a while longer. */
  sweep (now = Date.now()): PeerEntry[] {
    const dropped: PeerEntry[] = []
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key)
        dropped.push(entry)
      }
    }
    // An expired advert can never be accepted again, so its seq need not be remembered past expiry
    // (plus the clock skew we tolerate); this bounds the memory a churn of peer ids can cost.
    for (const [key, h] of this.highestSeq) {
      if (!this.entries.has(key) && h.expiresAt + MAX_CLOCK_SKEW <= now) {
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
