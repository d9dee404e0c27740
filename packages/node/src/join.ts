import { multiaddr } from '@multiformats/multiaddr'
import { linkSignals } from '@shardmesh/protocol'
import { DHT_PROTOCOL, JOIN_TIMEOUT, KNOWN_PEER_DIALS, SELF_QUERY_WAIT } from './constants.js'
import type { AbortOptions, Libp2p, PeerId } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface JoinOptions extends AbortOptions {
  /** @default 15000 */
  timeout?: number
  /** kad-dht protocol to wait for on the bootstrap peers. @default '/shardmesh/kad/1.0.0' */
  dhtProtocol?: string
}

export interface JoinResult {
  /**
   * Peers we connected to: bootstrap peers, or, in a round where none answered, mesh peers this
   * node knew (its peer store's, at the addresses it last had).
   */
  connected: number
  /** Rounds of bootstrap dials it took. */
  attempts: number
  /** Peers the DHT self-lookup returned. */
  closestPeers: number
  /** Errors of bootstrap dials that failed, by address (the last few). */
  failures: Array<{ addr: string, error: string }>
}

/**
 * Join the mesh: dial the bootstrap peers (retrying with backoff), wait until they are
 * identified as DHT servers, then make sure the DHT knows us: a self-lookup fills our routing
 * table and puts us in our neighbours'. Without it a new node's routing table holds only its
 * bootstrap peers and the DHT cannot route to it (kad-dht's next own self-query is 5 min away).
 *
 * kad-dht holds every query until its first self-query has run, and that one waits until the
 * routing table has peers; when it runs after we connected and finds peers, it *is* the lookup
 * we need, so we use its outcome instead of repeating it.
 */
export async function joinMesh (node: Libp2p<{ dht: KadDHT }>, bootstrap: Array<string | Multiaddr>, options: JoinOptions = {}): Promise<JoinResult> {
  const timeout = options.timeout ?? JOIN_TIMEOUT
  const deadline = Date.now() + timeout
  // not AbortSignal.any([AbortSignal.timeout()]): on Node 20 its timer can be collected, and
  // a join to an unreachable peer would then redial for ever
  const deadlineSignal = linkSignals([options.signal], timeout)
  const signal = deadlineSignal.signal
  const protocol = options.dhtProtocol ?? DHT_PROTOCOL
  const failures: JoinResult['failures'] = []
  const selfQueries: Array<{ peers: number, at: number }> = []
  const onSelfQuery = (evt: CustomEvent<{ peers: number }>): void => { selfQueries.push({ peers: evt.detail.peers, at: Date.now() }) }
  node.addEventListener('kad-dht:query:self' as any, onSelfQuery)
  try {
    const { peers, attempts } = await dialBootstrap(node, bootstrap, failures, protocol, signal)
    let closestPeers = 0
    if (peers.length > 0) {
      const connectedAt = Date.now()
      await waitForProtocol(node, peers, protocol, signal)
      closestPeers = await waitFor(() => Math.max(0, ...selfQueries.filter(q => q.at >= connectedAt).map(q => q.peers)), Math.min(SELF_QUERY_WAIT, deadline - Date.now()), signal)
      if (closestPeers === 0) {
        closestPeers = await selfLookup(node, failures, signal)
      }
    }
    return { connected: peers.length, attempts, closestPeers, failures: failures.slice(-8) }
  } finally {
    deadlineSignal.clear()
    node.removeEventListener('kad-dht:query:self' as any, onSelfQuery)
  }
}

/**
 * Dial every bootstrap peer, in rounds with backoff until one answers: under load (many nodes
 * starting on one host) a first dial can time out, and a node that gave up would stay isolated.
 * In a round where no bootstrap peer answers, the mesh peers this node knows (those its peer
 * store holds addresses of and saw speak `protocol`) are dialled too: a node that lost every
 * connection because its bootstrap peers restarted elsewhere rejoins through the others.
 */
async function dialBootstrap (node: Libp2p, bootstrap: Array<string | Multiaddr>, failures: JoinResult['failures'], protocol: string, signal: AbortSignal): Promise<{ peers: PeerId[], attempts: number }> {
  const peers: PeerId[] = []
  let backoff = 250
  let attempts = 0
  while (peers.length === 0 && bootstrap.length > 0 && !signal.aborted) {
    attempts++
    await Promise.all(bootstrap.map(async (addr) => {
      try {
        const conn = await node.dial(typeof addr === 'string' ? multiaddr(addr) : addr, { signal })
        peers.push(conn.remotePeer)
      } catch (err: any) {
        failures.push({ addr: addr.toString(), error: err.message })
      }
    }))
    if (peers.length === 0 && !signal.aborted) {
      await Promise.all((await knownPeers(node, protocol)).map(async (peer) => {
        try {
          const conn = await node.dial(peer, { signal })
          peers.push(conn.remotePeer)
        } catch (err: any) {
          failures.push({ addr: peer.toString(), error: err.message })
        }
      }))
    }
    if (peers.length === 0) {
      await sleep(backoff, signal)
      backoff = Math.min(backoff * 2, 4_000)
    }
  }
  return { peers, attempts }
}

/** Mesh peers this node knows an address of (at most KNOWN_PEER_DIALS): ones it saw speak `protocol`. */
async function knownPeers (node: Libp2p, protocol: string): Promise<PeerId[]> {
  try {
    const known = await node.peerStore.all()
    return known
      .filter(p => !p.id.equals(node.peerId) && p.addresses.length > 0 && p.protocols.includes(protocol))
      .slice(0, KNOWN_PEER_DIALS)
      .map(p => p.id)
  } catch {
    return []
  }
}

async function selfLookup (node: Libp2p<{ dht: KadDHT }>, failures: JoinResult['failures'], signal: AbortSignal): Promise<number> {
  let found = 0
  try {
    for await (const event of node.services.dht.getClosestPeers(node.peerId.toMultihash().bytes, { signal })) {
      if (event.name === 'FINAL_PEER') {
        found++
      }
    }
  } catch (err: any) {
    failures.push({ addr: 'dht self-lookup', error: err.message })
  }
  return found
}

async function waitForProtocol (node: Libp2p, peers: PeerId[], protocol: string, signal: AbortSignal): Promise<void> {
  await waitFor(async () => {
    const ready = await Promise.all(peers.map(async p => {
      try {
        return (await node.peerStore.get(p)).protocols.includes(protocol)
      } catch {
        return false
      }
    }))
    return ready.some(Boolean) ? 1 : 0
  }, Infinity, signal)
}

/** Poll `check` every 25 ms until it is > 0, `ms` pass or `signal` aborts; its last value. */
async function waitFor (check: () => number | Promise<number>, ms: number, signal: AbortSignal): Promise<number> {
  const until = Date.now() + ms
  let value = await check()
  while (value <= 0 && Date.now() < until && !signal.aborted) {
    await sleep(25, signal)
    value = await check()
  }
  return value
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done (): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
