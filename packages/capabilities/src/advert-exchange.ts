import { requestAdverts, serveAdverts } from './caps-protocol.js'
import { MAX_SYNC_ADVERTS } from './constants.js'
import type { AdvertGate } from './advert-gate.js'
import type { FetchAdvertsOptions } from './index.js'
import type { PeerEntry, PeerTable } from './peer-table.js'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { LinkedSignal } from '@shardmesh/protocol'

export interface AdvertExchangeInit {
  connectionManager: ConnectionManager
  protocol: string
  /** Deadline of one request, inbound or outbound (ms). */
  timeout: number
  table: PeerTable
  gate: AdvertGate
  log: Logger
  /** This node's current signed advert (published first if there is none yet). */
  own: () => Promise<Uint8Array>
  /** A deadline that also follows `outer` and the service's shutdown; cleared by the caller. */
  signal: (outer: AbortSignal | undefined, timeout: number) => LinkedSignal
}

/**
 * Both ends of the caps protocol with their policy: asking a peer for its advert (and the
 * adverts it holds), every answer going through the gate; and answering such a request with
 * our own advert and the ones we hold (minus the asker's own).
 */
export class AdvertExchange {
  private readonly init: AdvertExchangeInit

  constructor (init: AdvertExchangeInit) {
    this.init = init
  }

  /**
   * Ask one peer for its advert (and, with `includeKnown`, the adverts it holds). Every advert
   * is verified; the peer's own must be signed by the peer. Returns the accepted entries.
   */
  async fetch (peer: PeerId, options: FetchAdvertsOptions = {}): Promise<PeerEntry[]> {
    const linked = this.init.signal(options.signal, options.timeout ?? this.init.timeout)
    const signal = linked.signal
    const accepted: PeerEntry[] = []
    let stream: Stream | undefined
    try {
      stream = await this.init.connectionManager.openStream(peer, this.init.protocol, { signal })
      const adverts = requestAdverts(stream, { includeKnown: options.includeKnown === true, maxAdverts: options.maxAdverts ?? MAX_SYNC_ADVERTS, signal })
      for await (const { bytes, own } of adverts) {
        const entry = own ? await this.init.gate.ingest(bytes, 'direct', peer) : await this.init.gate.ingest(bytes, 'sync')
        if (entry != null) {
          accepted.push(entry)
        }
      }
    } catch (err: any) {
      stream?.abort(err)
      throw err
    } finally {
      linked.clear()
    }
    return accepted
  }

  /** The inbound handler of the caps protocol, with its own deadline. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const linked = this.init.signal(undefined, this.init.timeout)
    try {
      await serveAdverts(stream, {
        signal: linked.signal,
        own: this.init.own,
        known: (max) => this.init.table.list().filter(e => !e.peerId.equals(connection.remotePeer)).slice(0, max).map(e => e.bytes)
      })
    } catch (err: any) {
      this.init.log('caps request from %p failed: %s', connection.remotePeer, err.message)
      stream.abort(err)
    } finally {
      linked.clear()
    }
  }
}
