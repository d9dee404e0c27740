import { multiaddr } from '@multiformats/multiaddr'
import { DHT_PROTOCOL, JOIN_TIMEOUT } from './constants.js'
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
  /** Bootstrap peers we connected to. */
  connected: number
  /** Rounds of bootstrap dials it took. */
  attempts: number
  /** Peers the DHT self-lookup returned. */
  closestPeers: number
  /** Errors of bootstrap dials that failed, by address (the last few). */
  failures: Array<{ addr: string, error: string }>
}

/**
 * Join the mesh: dial the bootstrap peers, wait until they are identified as DHT servers, then
 * look ourselves up in the DHT. kad-dht's own first self-query runs ~1 s after start, usually
 * before bootstrap finishes, and the next only after 5 minutes: without this lookup a new node's
 * routing table holds only its bootstrap peers and the DHT cannot route to it.
 */
export async function joinMesh (node: Libp2p<{ dht: KadDHT }>, bootstrap: Array<string | Multiaddr>, options: JoinOptions = {}): Promise<JoinResult> {
  const signal = AbortSignal.any([AbortSignal.timeout(options.timeout ?? JOIN_TIMEOUT), ...(options.signal != null ? [options.signal] : [])])
  const protocol = options.dhtProtocol ?? DHT_PROTOCOL
  const failures: JoinResult['failures'] = []
  const peers: PeerId[] = []
  // retry with backoff until one bootstrap peer answers: under load (many nodes starting on one
  // host) a first dial can time out, and a node that gives up stays isolated for good
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
    if (peers.length === 0) {
      await sleep(backoff, signal)
      backoff = Math.min(backoff * 2, 4_000)
    }
  }
  let closestPeers = 0
  if (peers.length > 0) {
    await waitForProtocol(node, peers, protocol, signal)
    try {
      for await (const event of node.services.dht.getClosestPeers(node.peerId.toMultihash().bytes, { signal })) {
        if (event.name === 'FINAL_PEER') {
          closestPeers++
        }
      }
    } catch (err: any) {
      failures.push({ addr: 'dht self-lookup', error: err.message })
    }
  }
  return { connected: peers.length, attempts, closestPeers, failures: failures.slice(-8) }
}

async function waitForProtocol (node: Libp2p, peers: PeerId[], protocol: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const ready = await Promise.all(peers.map(async p => {
      try {
        return (await node.peerStore.get(p)).protocols.includes(protocol)
      } catch {
        return false
      }
    }))
    if (ready.some(Boolean)) {
      return
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
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
