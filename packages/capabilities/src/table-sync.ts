import { FULL_SYNCS_ON_JOIN, SYNC_ATTEMPTS, SYNC_RETRY_DELAY } from './constants.js'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { Logger, PeerId } from '@libp2p/interface'

export interface TableSyncInit {
  connectionManager: ConnectionManager
  log: Logger
  /** Pull a peer's advert, and with `includeKnown` the adverts it holds (verified by the caller). */
  fetch: (peer: PeerId, includeKnown: boolean) => Promise<unknown[]>
  /** Whether we hold a fresh advert of this peer. */
  holds: (peer: PeerId) => boolean
}

/**
 * When and from whom adverts are pulled over the caps protocol (gossip pushes; this pulls):
 * - a newly identified peer: a joining node pulls whole tables from its first few peers, then
 *   only the advert of a new neighbour it has not heard of (with k=20 DHT neighbours, a full
 *   sync per connection cost O(n) adverts n times over while a cluster started);
 * - a failed pull is retried while the peer stays connected: under load a first sync can time
 *   out, and gossip alone would leave a joining node blind until the next refreshes;
 * - anti-entropy: every tick, one random connected peer's whole table. Gossip is fast but
 *   best-effort (a peer whose pubsub streams failed hears nothing); this bounds how long any
 *   advert can be missed, at the cost of one small exchange per interval.
 */
export class TableSync {
  private readonly syncing = new Set<string>()
  /** Connected peers that speak the caps protocol: the candidates for anti-entropy. */
  private readonly peers = new Map<string, PeerId>()
  private fullSyncs = 0
  private running = false

  constructor (private readonly init: TableSyncInit) {}

  start (): void {
    this.running = true
  }

  stop (): void {
    this.running = false
    this.peers.clear()
    this.fullSyncs = 0
  }

  /** A peer that speaks the caps protocol was identified. */
  onPeer (peer: PeerId): void {
    this.peers.set(peer.toString(), peer)
    if (this.fullSyncs < FULL_SYNCS_ON_JOIN) {
      this.pull(peer, SYNC_ATTEMPTS, true)
    } else if (!this.init.holds(peer)) {
      this.pull(peer, SYNC_ATTEMPTS, false)
    }
  }

  /** Anti-entropy round: pull the whole table of one random connected peer. */
  tick (): void {
    const connected = [...this.peers.values()].filter(p => {
      if (this.init.connectionManager.getConnections(p).length > 0) {
        return true
      }
      this.peers.delete(p.toString())
      return false
    })
    if (connected.length > 0) {
      this.pull(connected[Math.floor(Math.random() * connected.length)], 1, true)
    }
  }

  private pull (peer: PeerId, attempts: number, includeKnown: boolean): void {
    const id = peer.toString()
    if (this.syncing.has(id) || !this.running) {
      return
    }
    this.syncing.add(id)
    this.init.fetch(peer, includeKnown)
      .then(entries => {
        if (includeKnown) {
          this.fullSyncs++
        }
        this.init.log.trace('pulled %d adverts from %p', entries.length, peer)
      })
      .catch(err => {
        this.init.log('pull from %p failed: %s', peer, err.message)
        if (attempts > 1 && this.running && this.init.connectionManager.getConnections(peer).length > 0) {
          const retry = setTimeout(() => { this.pull(peer, attempts - 1, includeKnown) }, SYNC_RETRY_DELAY)
          retry.unref?.()
        }
      })
      .finally(() => { this.syncing.delete(id) })
  }
}
