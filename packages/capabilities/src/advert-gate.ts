import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peekAdvert, verifyAdvert } from './advert.js'
import { AdvertRejectedError } from './errors.js'
import type { VerifiedAdvert } from './advert.js'
import type { AdvertSource, PeerEntry, PeerTable } from './peer-table.js'
import type { Message } from '@libp2p/gossipsub'
import type { CounterGroup, Logger, Metrics, PeerId } from '@libp2p/interface'

/** Rejections that may be honest (a duplicate path, a slow relay): ignored, not punished. */
const BENIGN: ReadonlySet<string> = new Set(['not-newer', 'expired', 'table-full'])

export interface AdvertGateInit {
  /** This node: its own advert relayed back is never taken in. */
  peerId: PeerId
  table: PeerTable
  log: Logger
  metrics?: Metrics
  /** A verified advert entered the table (`added`: the peer was not in the table before). */
  onAccept: (entry: PeerEntry, added: boolean) => void
}

/**
 * The one way into the peer table: every advert, whether gossiped, fetched from its signer or
 * relayed by a table sync, is checked here (stale claims dropped before the signature is
 * checked, then verified, then inserted), and every refusal is logged and counted by reason.
 */
export class AdvertGate {
  private readonly peerId: PeerId
  private readonly table: PeerTable
  private readonly log: Logger
  private readonly onAccept: (entry: PeerEntry, added: boolean) => void
  private readonly accepted?: CounterGroup
  private readonly rejected?: CounterGroup

  constructor (init: AdvertGateInit) {
    this.peerId = init.peerId
    this.table = init.table
    this.log = init.log
    this.onAccept = init.onAccept
    this.accepted = init.metrics?.registerCounterGroup('shardmesh_capabilities_adverts_accepted_total', { label: 'source', help: 'Verified adverts accepted into the peer table, by source' })
    this.rejected = init.metrics?.registerCounterGroup('shardmesh_capabilities_adverts_rejected_total', { label: 'reason', help: 'Adverts refused, by reason' })
  }

  /**
   * Verify and insert one advert; log and count a rejection. Returns the table entry (the one
   * we already held when this advert is not newer), or undefined. When the advert must come from
   * `expectedSigner` (the peer we asked), a bad one throws.
   */
  async ingest (bytes: Uint8Array, source: AdvertSource, expectedSigner?: PeerId): Promise<PeerEntry | undefined> {
    let advert: VerifiedAdvert
    try {
      const stale = this.staleClaim(bytes)
      if (stale != null) {
        this.reject(stale, source)
        return this.table.get(stale.peerId)
      }
      advert = await verifyAdvert(bytes, { expectedSigner })
    } catch (err: any) {
      this.reject(err, source)
      if (expectedSigner != null) {
        throw err
      }
      return undefined
    }
    try {
      return this.accept(advert, source)
    } catch (err: any) {
      this.reject(err, source)
      if (err.reason === 'not-newer') {
        return this.table.get(advert.peerId.toString())
      }
      if (expectedSigner != null) {
        throw err
      }
      return undefined
    }
  }

  /** The gossipsub topic validator: accept, ignore a benign refusal, reject (and penalise) the rest. */
  readonly validate = async (from: PeerId, message: Message): Promise<TopicValidatorResult> => {
    try {
      if (message.type !== 'signed') {
        throw new AdvertRejectedError('sender-mismatch', 'unsigned gossip message')
      }
      const stale = this.staleClaim(message.data)
      if (stale != null) {
        throw stale
      }
      this.accept(await verifyAdvert(message.data, { expectedSigner: message.from }), 'gossip')
      return TopicValidatorResult.Accept
    } catch (err: any) {
      this.reject(err, 'gossip')
      return BENIGN.has(err?.reason) ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
    }
  }

  /**
   * An advert whose claimed seq is not above the one we hold for its claimed peer is dropped
   * before its signature is checked: most adverts a table sync hands us are ones we have.
   */
  private staleClaim (bytes: Uint8Array): (AdvertRejectedError & { peerId: string }) | undefined {
    const claim = peekAdvert(bytes)
    if (claim == null) {
      return undefined
    }
    const held = claim.peerId === this.peerId.toString() ? Number.MAX_SAFE_INTEGER : this.table.seqOf(claim.peerId)
    if (held == null || claim.seq > held) {
      return undefined
    }
    return Object.assign(new AdvertRejectedError('not-newer', `seq ${claim.seq} is not above ${held}`), { peerId: claim.peerId })
  }

  private accept (advert: VerifiedAdvert, source: AdvertSource): PeerEntry {
    if (advert.peerId.equals(this.peerId)) {
      // our own advert relayed back to us: nothing to learn
      throw new AdvertRejectedError('not-newer', 'own advert')
    }
    const { entry, added } = this.table.accept(advert, source)
    this.accepted?.increment({ [source]: true })
    this.onAccept(entry, added)
    return entry
  }

  private reject (err: any, source: string): void {
    const reason: string = err?.reason ?? 'undecodable'
    this.rejected?.increment({ [reason]: true })
    if (reason === 'not-newer') {
      this.log.trace('%s advert ignored: %s', source, err.message)
    } else {
      this.log('%s advert rejected: %s', source, err?.message ?? err)
    }
  }
}
