import '@shardmesh/protocol/polyfill'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import * as C from './constants.js'
import { ListenError } from './errors.js'
import { budgetMetrics, connectionsPerPeerGater, inboundBudget, limitInboundStreams, resolveLimits, yamuxLimits } from './inbound-limits.js'
import { joinMesh } from './join.js'
import { loadOrCreatePrivateKey } from './keys.js'
import { meshMetrics } from './metrics.js'
import { meshServices } from './services.js'
import { parseSwarmKey } from './swarm-key.js'
import type { InboundLimits, RefusalSink, WaitSink } from './inbound-limits.js'
import type { JoinResult } from './join.js'
import type { RateLimits } from './inbound-guard.js'
import type { MeshServices, MeshServicesInit } from './services.js'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { ComputeInit } from '@shardmesh/compute'
import type { Libp2pOptions } from 'libp2p'
import type { Registry } from 'prom-client'

export interface MeshNodeOptions extends MeshServicesInit {
  /** Directory holding the node key (`peer.key`); a restart with the same dir keeps the PeerId. */
  dataDir?: string
  /** Use this key instead of the data dir's (or a fresh one when neither is given). */
  privateKey?: PrivateKey
  /** Listen addresses. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Addresses to announce instead of the listen addresses. */
  announce?: string[]
  /** Bootstrap peers (multiaddrs with `/p2p/<id>`): dialled on start, then a DHT self-lookup. */
  bootstrap?: string[]
  /** Register libp2p and shardmesh metrics in this prom-client registry (one per node). */
  metricsRegistry?: Registry
  /** Replace the TCP transport (e.g. `[memory()]` in unit tests). */
  transports?: Libp2pOptions['transports']
  /** Start (listen, then join through `bootstrap`) before returning. @default true */
  start?: boolean
  /**
   * Wait for the join before returning. When false, the node is returned as soon as it listens
   * and `node.joined` settles later: a daemon serves its local API while an unreachable
   * bootstrap peer is still being redialled. @default true
   */
  awaitJoin?: boolean
  /** Deadline of the join (ms). @default 15000 */
  joinTimeout?: number
  /**
   * A private mesh: the bytes of a swarm key file (`generateSwarmKey`, libp2p's
   * `/key/swarm/psk/1.0.0/` format). Every connection is then protected with it before Noise,
   * and only nodes holding the same key can connect: an outsider cannot gossip, find peers
   * through this node or send it shards. @default none (an open mesh)
   */
  swarmKey?: Uint8Array
  /**
   * Node-wide caps on what peers may make this node hold (`InboundLimits`): bytes buffered on
   * inbound shard streams (total and per peer), inbound streams of all protocols (total and per
   * peer), connections per peer and streams per connection. `false` turns them off.
   * @default 256 MiB (64 MiB a peer), 1024 streams (64 a peer), 4 connections a peer, 256 streams a connection, 4 MiB stream window
   */
  limits?: InboundLimits | false
  /**
   * Who may ask this node for work. Only the requesters in `allowRequesters` (peer id strings)
   * are served shards when it is not empty; those in `denyRequesters` never are (deny wins).
   * A refused requester gets ERR_NOT_ALLOWED on the shard protocol and places its shards
   * elsewhere. The lists are the compute service's `allow`/`deny` (either may be given there);
   * they do not apply to the mesh's own protocols (DHT, gossip, adverts): a denied peer still
   * routes and relays for the others, and adverts are signed and public anyway. @default everyone
   */
  access?: { allowRequesters?: string[], denyRequesters?: string[] }
  /**
   * Per-peer rates of inbound streams, on every protocol (see `RateLimits`); `false`: none.
   * The same as `inbound.rateLimits`. @default 500 streams per 10 s per peer and protocol
   */
  rateLimits?: RateLimits | false
}

export type MeshNode = Libp2p<MeshServices> & {
  /**
   * The outcome of joining the mesh at start (resolves once the DHT self-lookup is done, or at
   * the join deadline, or when the node stops; it never rejects).
   */
  joined: Promise<JoinResult>
}

/**
 * Create a libp2p node with everything shardmesh needs: TCP, Noise, Yamux, identify, ping,
 * kad-dht on `/shardmesh/kad/1.0.0` (server mode), gossipsub and the capabilities service,
 * with connection limits that hold with many peers per host. Started and joined by default.
 */
export async function createMeshNode (options: MeshNodeOptions = {}): Promise<MeshNode> {
  const privateKey = options.privateKey ??
    (options.dataDir != null ? await loadOrCreatePrivateKey(options.dataDir) : await generateKeyPair('Ed25519'))
  const bootstrap = options.bootstrap ?? []
  // the compute service calibrates itself once the join settled (or at once when not started
  // here): its CPU would otherwise compete with the join, and on a shared host with all others'
  const joinSettled = Promise.withResolvers<void>()
  // checked before anything starts: a malformed key is named, not a failed handshake later
  const psk = options.swarmKey != null ? parseSwarmKey(options.swarmKey) : undefined
  const limits = options.limits === false ? undefined : resolveLimits(options.limits)
  // refusals are counted by the node's `inbound` service, waits in the registry: there once the node is built
  const built: { node?: MeshNode, waits?: WaitSink } = {}
  const refusals = (): RefusalSink | undefined => (built.node?.services as { inbound?: RefusalSink } | undefined)?.inbound
  const budget = limits != null ? inboundBudget(limits, refusals, () => built.waits) : undefined
  const node = await createLibp2p({
    privateKey,
    connectionProtector: psk != null ? preSharedKey({ psk }) : undefined,
    addresses: {
      listen: options.listen ?? C.DEFAULT_LISTEN,
      announce: options.announce
    },
    transports: options.transports ?? [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(limits != null ? yamuxLimits(limits) : {})],
    connectionGater: limits != null
      ? connectionsPerPeerGater(limits.connectionsPerPeer, peer => built.node?.getConnections(peer).length ?? 0, refusals)
      : undefined,
    connectionManager: {
      inboundConnectionThreshold: C.INBOUND_CONNECTION_THRESHOLD,
      maxIncomingPendingConnections: C.MAX_INCOMING_PENDING_CONNECTIONS,
      maxConnections: C.MAX_CONNECTIONS
    },
    connectionMonitor: {
      pingInterval: C.CONNECTION_MONITOR_INTERVAL
    },
    metrics: options.metricsRegistry != null
      ? meshMetrics({ registry: options.metricsRegistry, collectDefaultMetrics: false })
      : undefined,
    services: meshServices({
      ...options,
      inbound: {
        registry: options.metricsRegistry,
        ...options.inbound,
        rateLimits: options.rateLimits ?? options.inbound?.rateLimits
      },
      compute: {
        cacheDir: options.dataDir != null ? join(options.dataDir, 'cache') : undefined,
        trustFile: options.dataDir != null ? join(options.dataDir, C.TRUST_FILE) : undefined,
        ...options.compute,
        allow: mergeLists(options.compute?.allow, options.access?.allowRequesters),
        deny: mergeLists(options.compute?.deny, options.access?.denyRequesters),
        inboundBudget: options.compute?.inboundBudget ?? budget,
        calibrate: calibrateAfter(options.compute?.calibrate, joinSettled.promise)
      },
      receipts: {
        dir: options.dataDir != null ? join(options.dataDir, C.RECEIPTS_DIR) : undefined,
        ...options.receipts
      }
    }),
    start: false
  }) as MeshNode
  built.node = node
  if (budget != null && options.metricsRegistry != null) {
    built.waits = budgetMetrics(budget, options.metricsRegistry)
  }
  if (budget != null) {
    // before the start, where the services register their handlers: every protocol counts its inbound streams
    limitInboundStreams(node, budget)
  }

  const started = options.start ?? true
  node.joined = Promise.resolve(NOT_JOINED)
  if (!started) {
    joinSettled.resolve()
  }
  if (started) {
    await listen(node)
    const stopped = new AbortController()
    node.addEventListener('stop', () => { stopped.abort() }, { once: true })
    node.joined = joinMesh(node, bootstrap, { timeout: options.joinTimeout, signal: stopped.signal })
      .catch((err: Error) => ({ ...NOT_JOINED, failures: [{ addr: 'join', error: err.message }] }))
    keepJoined(node, bootstrap, stopped.signal)
    void node.joined.finally(() => { joinSettled.resolve() })
    if (options.awaitJoin ?? true) {
      await node.joined
    }
  }
  return node
}

/** The compute service's calibration schedule, with the join to wait for unless one is given (or calibration is off). */
function calibrateAfter (calibrate: ComputeInit['calibrate'], joined: Promise<void>): ComputeInit['calibrate'] {
  if (calibrate === false) {
    return false
  }
  return { after: joined, ...(typeof calibrate === 'object' ? calibrate : {}) }
}

/** Both lists in one, each peer id once (undefined when neither is given). */
function mergeLists (a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  return a == null && b == null ? undefined : [...new Set([...(a ?? []), ...(b ?? [])])]
}

const NOT_JOINED: JoinResult = { connected: 0, attempts: 0, closestPeers: 0, failures: [] }

/**
 * Start libp2p. An address it cannot listen on fails the start (libp2p stops what it started)
 * with a `ListenError` naming each address and its reason, instead of libp2p's message with
 * every listener's stack trace in it.
 */
async function listen (node: MeshNode): Promise<void> {
  try {
    await node.start()
  } catch (err: any) {
    if (err?.name !== 'UnsupportedListenAddressesError') {
      throw err
    }
    // libp2p lists them as "\n  <addr>: <message, stack indented below>"
    const addrs = [...String(err.message).matchAll(/^ {2}(\/\S+): (.*)$/gm)].map(m => ({ addr: m[1], reason: listenReason(m[2]) }))
    throw new ListenError(addrs.length > 0 ? addrs : [{ addr: 'the listen addresses', reason: 'unsupported' }], { cause: err })
  }
}

function listenReason (message: string): string {
  const text = message.replace(/^\w*Error: /, '')
  if (text.includes('EADDRINUSE')) {
    return 'address already in use'
  }
  if (text.includes('EADDRNOTAVAIL')) {
    return 'no such address on this host'
  }
  if (text.includes('EACCES')) {
    return 'permission denied'
  }
  return text.length > 0 ? text : 'no transport can listen on it'
}

/**
 * A node that lost every connection (its bootstrap peers restarted, the network blipped) re-joins
 * through its bootstrap list instead of staying isolated until someone dials it. The first
 * rejoin waits for the join at start to end.
 */
function keepJoined (node: MeshNode, bootstrap: string[], stopped: AbortSignal): void {
  if (bootstrap.length === 0) {
    return
  }
  let rejoining = true
  void node.joined.finally(() => { rejoining = false })
  const timer = setInterval(() => {
    if (rejoining || node.getConnections().length > 0) {
      return
    }
    rejoining = true
    joinMesh(node, bootstrap, { timeout: C.JOIN_TIMEOUT, signal: stopped })
      .catch(() => {})
      .finally(() => { rejoining = false })
  }, C.REJOIN_INTERVAL)
  timer.unref()
  stopped.addEventListener('abort', () => { clearInterval(timer) }, { once: true })
}
