import { DEFAULT_INBOUND_BYTES, DEFAULT_INBOUND_STREAMS, DEFAULT_INBOUND_WAIT_TIMEOUT, InboundBudget } from '@shardmesh/protocol'
import { Counter, Gauge } from 'prom-client'
import type { Registry } from 'prom-client'
import type { Connection, ConnectionGater, Libp2p, PeerId, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'
import type { InboundRefusalReason } from '@shardmesh/protocol'

/**
 * Node-wide caps on what peers may make a node hold, whatever protocol they use (see the README,
 * "Running a node safely"). Each has a default; `createMeshNode({ limits: false })` turns them off.
 */
export interface InboundLimits {
  /**
   * Most bytes buffered on all inbound shard streams together: a frame's bytes are reserved
   * once its length prefix is read, and a stream whose frame does not fit is paused (Yamux stops
   * granting the sender window) until bytes are given back; one that waits `waitTimeout` is
   * refused with ERR_BUSY. @default 256 MiB
   */
  inboundBytes?: number
  /** Most of `inboundBytes` one peer may hold (at least one largest shard frame). @default inboundBytes / 4 */
  peerInboundBytes?: number
  /** Most inbound streams open at once, all peers and protocols together; more are reset. @default 1024 */
  inboundStreams?: number
  /** Most inbound streams one peer may have open at once. @default 64 (or inboundStreams / 4 when that is less) */
  peerInboundStreams?: number
  /** Most connections one peer may have to this node; more are refused before the muxer runs. @default 4 */
  connectionsPerPeer?: number
  /** Most inbound streams on one connection, in negotiation or open (Yamux resets more). @default 256 */
  streamsPerConnection?: number
  /** How long a paused stream may wait for bytes before it is refused (ms). @default 30000 */
  waitTimeout?: number
  /**
   * The largest Yamux window of a stream (bytes, at least 256 KiB): what a sender may have in
   * flight, so what a paused stream may still receive. A stream's read buffer holds as much (a
   * paused honest stream is never reset for it). Larger windows move more per round trip on
   * long links. @default 4 MiB
   */
  streamWindow?: number
}

export const DEFAULT_CONNECTIONS_PER_PEER = 4
/** An honest peer opens a few streams per protocol (one for gossip, up to 8 for shards per connection, a few DHT queries) */
export const DEFAULT_PEER_INBOUND_STREAMS = 64
export const DEFAULT_STREAMS_PER_CONNECTION = 256
export const DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024
/** Yamux's initial window, the least a window may be. */
export const MIN_STREAM_WINDOW = 256 * 1024

export type ResolvedLimits = Required<InboundLimits>

/** Where refusals are counted (the node's `inbound` service, when it has one). */
export interface RefusalSink {
  refused(protocol: string, reason: string): void
}

/** The limits with their defaults; throws RangeError on a value that is not a positive integer. */
export function resolveLimits (limits: InboundLimits = {}): ResolvedLimits {
  const inboundBytes = limits.inboundBytes ?? DEFAULT_INBOUND_BYTES
  const inboundStreams = limits.inboundStreams ?? DEFAULT_INBOUND_STREAMS
  const resolved: ResolvedLimits = {
    inboundBytes,
    peerInboundBytes: limits.peerInboundBytes ?? Math.floor(inboundBytes / 4),
    inboundStreams,
    peerInboundStreams: limits.peerInboundStreams ?? Math.max(1, Math.min(DEFAULT_PEER_INBOUND_STREAMS, Math.floor(inboundStreams / 4))),
    connectionsPerPeer: limits.connectionsPerPeer ?? DEFAULT_CONNECTIONS_PER_PEER,
    streamsPerConnection: limits.streamsPerConnection ?? DEFAULT_STREAMS_PER_CONNECTION,
    waitTimeout: limits.waitTimeout ?? DEFAULT_INBOUND_WAIT_TIMEOUT,
    streamWindow: limits.streamWindow ?? DEFAULT_STREAM_WINDOW
  }
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`limits.${key} must be a positive integer, not ${String(value)}`)
    }
  }
  if (resolved.streamWindow < MIN_STREAM_WINDOW) {
    throw new RangeError(`limits.streamWindow must be at least ${MIN_STREAM_WINDOW} (Yamux's initial window), not ${resolved.streamWindow}`)
  }
  return resolved
}

/** Yamux's options for `limits`: streams per connection, the stream window and a read buffer that holds a window. */
export function yamuxLimits (limits: ResolvedLimits): { maxInboundStreams: number, streamOptions: { maxStreamWindowSize: number, maxReadBufferLength: number } } {
  return {
    maxInboundStreams: limits.streamsPerConnection,
    streamOptions: {
      maxStreamWindowSize: limits.streamWindow,
      // libp2p's default read buffer (4 MiB) would reset a paused stream whose sender had a larger window in flight
      maxReadBufferLength: Math.max(limits.streamWindow, DEFAULT_STREAM_WINDOW)
    }
  }
}

/** The metrics of the inbound budget in a node's registry. */
export const INBOUND_WAITS_METRIC = 'shardmesh_inbound_waits_total'
export const INBOUND_BYTES_METRIC = 'shardmesh_inbound_bytes'
export const INBOUND_STREAMS_METRIC = 'shardmesh_inbound_streams'

/** Where the budget's waits are counted (see `budgetMetrics`). */
export interface WaitSink {
  waited(protocol: string): void
}

/** The node's inbound budget for `limits`, counting its refusals in `refusals()` and its waits in `waits()`. */
export function inboundBudget (limits: ResolvedLimits, refusals: () => RefusalSink | undefined, waits: () => WaitSink | undefined = () => undefined): InboundBudget {
  return new InboundBudget({
    maxBytes: limits.inboundBytes,
    maxPeerBytes: limits.peerInboundBytes,
    maxStreams: limits.inboundStreams,
    maxPeerStreams: limits.peerInboundStreams,
    waitTimeout: limits.waitTimeout,
    onRefused: (protocol: string, reason: InboundRefusalReason) => { refusals()?.refused(protocol, reason) },
    onWait: (protocol: string) => { waits()?.waited(protocol) }
  })
}

/**
 * The budget's metrics in a node's registry: the streams paused for bytes
 * (`shardmesh_inbound_waits_total{protocol}`) and what the budget holds now
 * (`shardmesh_inbound_bytes`, `shardmesh_inbound_streams`). Call it once libp2p's metrics are
 * registered (they replace what the registry held of theirs).
 */
export function budgetMetrics (budget: InboundBudget, registry: Registry): WaitSink {
  const waits = registry.getSingleMetric(INBOUND_WAITS_METRIC) as Counter<'protocol'> | undefined ?? new Counter({
    name: INBOUND_WAITS_METRIC,
    help: 'Inbound streams paused because the frame they were receiving did not fit the inbound byte budget (back-pressure), by protocol',
    labelNames: ['protocol'],
    registers: [registry]
  })
  for (const [name, help, value] of [
    [INBOUND_BYTES_METRIC, 'Bytes held now of the inbound byte budget (buffered on inbound shard streams, or reserved for the frames they receive)', () => budget.bytes],
    [INBOUND_STREAMS_METRIC, 'Inbound streams open now, all protocols', () => budget.streams]
  ] as const) {
    // one node per registry: a node made again in it reports its own
    registry.removeSingleMetric(name)
    void new Gauge({ name, help, registers: [registry], collect () { this.set(value()) } })
  }
  return { waited: (protocol) => { waits.inc({ protocol }) } }
}

/**
 * A connection gater that refuses a peer's connection once it has `max` open to this node:
 * decided after the handshake (the peer id is known) and before the muxer runs, counted as
 * `connections-per-peer` on the protocol label `connection`.
 */
export function connectionsPerPeerGater (max: number, connections: (peer: PeerId) => number, sink: () => RefusalSink | undefined): ConnectionGater {
  return {
    denyInboundEncryptedConnection: async (peer) => {
      if (connections(peer) < max) {
        return false
      }
      sink()?.refused('connection', 'connections-per-peer')
      return true
    }
  }
}

const MIDDLEWARE = Symbol.for('@shardmesh/inbound-limits/middleware')
const COPIED = Symbol.for('@shardmesh/inbound-limits/copied-middleware')

/**
 * Make the registrar lend copies of its middleware lists. libp2p 3.3's connection pushes the
 * handler's step onto the list `getMiddleware()` returns, which is the registrar's own once
 * `use()` stored one: the Nth stream of a protocol would run its handler N times.
 */
function copyMiddleware (registrar: MiddlewareRegistrar): void {
  const target = registrar as MiddlewareRegistrar & { [COPIED]?: true }
  if (target[COPIED] === true) {
    return
  }
  const get = registrar.getMiddleware.bind(registrar)
  target.getMiddleware = (protocol) => [...get(protocol)]
  target[COPIED] = true
}

/** The registrar's middleware API (libp2p 3). */
interface MiddlewareRegistrar {
  getProtocols(): string[]
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  use(protocol: string, middleware: StreamMiddleware[]): void
  getMiddleware(protocol: string): StreamMiddleware[]
}

type StreamMiddleware = ((stream: Stream, connection: Connection, next: (stream: Stream, connection: Connection) => void) => void | Promise<void>) & { [MIDDLEWARE]?: true }

/**
 * Count every inbound stream of every protocol the node handles against the budget's stream
 * caps (node-wide and per peer): registrar middleware, so a stream past a cap is reset with
 * `InboundBudgetError` before any handler (or rate limit) sees it. Installed on the protocols
 * handled now, and on each protocol before it is handled (call it before the node starts:
 * services register their handlers as they start); whatever middleware a protocol had is kept,
 * before this one. Outbound streams pass.
 */
export function limitInboundStreams (node: Libp2p, budget: InboundBudget): void {
  // libp2p's public `use()` replaces a protocol's middleware: its registrar lends the list to compose with
  const registrar = (node as unknown as { components: { registrar: MiddlewareRegistrar } }).components.registrar
  const install = (protocol: string): void => {
    const existing = registrar.getMiddleware(protocol)
    if (existing.some(mw => mw[MIDDLEWARE] === true)) {
      return
    }
    const middleware: StreamMiddleware = (stream, connection, next) => {
      if (stream.direction !== 'inbound') {
        next(stream, connection)
        return
      }
      const release = budget.openStream(connection.remotePeer.toString(), protocol)
      if (release instanceof Error) {
        // libp2p aborts the stream with it
        throw release
      }
      if (stream.status !== 'open') {
        release()
      } else {
        stream.addEventListener('close', release, { once: true })
      }
      next(stream, connection)
    }
    middleware[MIDDLEWARE] = true
    registrar.use(protocol, [...existing, middleware])
  }
  copyMiddleware(registrar)
  for (const protocol of registrar.getProtocols()) {
    install(protocol)
  }
  const handle = registrar.handle.bind(registrar)
  registrar.handle = async (protocol, handler, options) => {
    install(protocol)
    await handle(protocol, handler, options)
  }
}
