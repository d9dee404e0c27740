import { Counter } from 'prom-client'
import { INBOUND_GUARD_MAX_PEERS, INBOUND_STREAM_RATE } from './constants.js'
import { InboundRefusedError } from './errors.js'
import type { ComponentLogger, Connection, Logger, PeerId, Stream, StreamHandler, StreamHandlerOptions, StreamMiddleware } from '@libp2p/interface'
import type { Registry } from 'prom-client'

/**
 * How many streams one peer may open on one protocol: a token bucket that holds `streams`
 * tokens and refills `streams` every `interval` ms (continuously). A burst of `streams` is
 * allowed at once, then `streams / interval` on average.
 */
export interface StreamRate {
  streams: number
  /** ms */
  interval: number
}

/**
 * Per-peer stream rates of the inbound protocols. `default` applies to every protocol this
 * node handles (identify, ping, kad-dht, gossipsub, capabilities, shards, receipt proofs and
 * batches ...) unless `protocols` names it; `false` turns the limit off (for all, or for one).
 */
export interface RateLimits {
  /** @default INBOUND_STREAM_RATE (500 streams per 10 s per peer and protocol) */
  default?: StreamRate | false
  /** by protocol id, e.g. `{ '/shardmesh/shard/1.0.0': { streams: 50, interval: 1000 } }` */
  protocols?: Record<string, StreamRate | false>
}

/** Where refusals of inbound work are counted: the `inbound` service, seen by other services as `components.inbound`. */
export interface InboundRefusals {
  /** Count one refusal (a stream, a message, a connection) of `protocol` for `reason`. */
  refused(protocol: string, reason: string): void
}

export interface InboundGuardInit {
  /** Per-peer stream rates; `false`: no rate limit at all. @default 500 streams per 10 s per peer and protocol */
  rateLimits?: RateLimits | false
  /** Peers whose buckets are kept (the least recently seen is forgotten first). @default 4096 */
  maxPeers?: number
  /** The registry of `shardmesh_inbound_refused_total` (the node's `metricsRegistry`). */
  registry?: Registry
  /** The clock (ms) of the buckets (tests). @default Date.now */
  now?: () => number
}

/** The part of libp2p's registrar the guard wraps. */
export interface GuardedRegistrar {
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
  /** libp2p 3's stream middleware of a protocol (absent on registrars without middleware) */
  getMiddleware?(protocol: string): StreamMiddleware[]
}

export interface InboundGuardComponents {
  registrar: GuardedRegistrar
  logger: ComponentLogger
}

/** A refusal as the guard counted it. */
export interface RefusalCount {
  protocol: string
  reason: string
  count: number
}

/** A handler the guard wrapped carries its protocol under this symbol. */
const GUARDED_HANDLER = Symbol.for('@shardmesh/inbound-guard/handler')

/** The metric every inbound refusal is counted in, by protocol and reason. */
export const INBOUND_REFUSED_METRIC = 'shardmesh_inbound_refused_total'

/**
 * A token bucket, refilled continuously: `take()` spends a token when one is there. The clock
 * is read, never kept: an idle bucket costs nothing.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor (private readonly rate: StreamRate, now: number) {
    if (!(rate.streams >= 1) || !(rate.interval > 0) || !Number.isFinite(rate.streams) || !Number.isFinite(rate.interval)) {
      throw new RangeError(`a stream rate needs streams >= 1 and interval > 0 (ms), got ${rate.streams}/${rate.interval}`)
    }
    this.tokens = rate.streams
    this.last = now
  }

  /** Spend one token at `now`; false when the bucket is empty. */
  take (now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) {
      return false
    }
    this.tokens -= 1
    return true
  }

  /** Tokens left at `now`. */
  available (now: number): number {
    this.refill(now)
    return this.tokens
  }

  private refill (now: number): void {
    // a clock that went back refills nothing (and does not lend tokens either)
    const elapsed = Math.max(0, now - this.last)
    this.last = Math.max(this.last, now)
    this.tokens = Math.min(this.rate.streams, this.tokens + elapsed * this.rate.streams / this.rate.interval)
  }
}

/**
 * The rate limit of every inbound protocol, once for all handlers: a libp2p service (the first
 * one `meshServices()` creates) that wraps each handler registered with the registrar, by any
 * service, so that a stream from a peer past its rate on that protocol is reset at once and
 * its handler never runs. Each refusal is counted in `shardmesh_inbound_refused_total{protocol,
 * reason}`, where other services count theirs too (`refused()`).
 *
 * Memory is bounded: buckets per peer are kept for at most `maxPeers` peers (least recently
 * seen forgotten first; a forgotten peer starts again with a full bucket), and per peer for
 * the protocols this node handles only (a stream reaches a handler only after its protocol was
 * negotiated against the registered ones).
 */
export class InboundGuard implements InboundRefusals {
  readonly [Symbol.toStringTag] = '@shardmesh/inbound-guard'
  private readonly log: Logger
  private readonly limits: RateLimits | false
  private readonly maxPeers: number
  private readonly now: () => number
  /** peer id → protocol → bucket; a Map keeps insertion order: the first key is the least recently seen */
  private readonly peers = new Map<string, Map<string, TokenBucket>>()
  private readonly counts = new Map<string, RefusalCount>()
  private readonly counter?: Counter<'protocol' | 'reason'>

  constructor (components: InboundGuardComponents, init: InboundGuardInit = {}) {
    this.log = components.logger.forComponent('shardmesh:inbound-guard')
    this.limits = init.rateLimits ?? {}
    this.maxPeers = Math.max(1, init.maxPeers ?? INBOUND_GUARD_MAX_PEERS)
    this.now = init.now ?? Date.now
    checkLimits(this.limits)
    if (init.registry != null) {
      const existing = init.registry.getSingleMetric(INBOUND_REFUSED_METRIC) as Counter<'protocol' | 'reason'> | undefined
      this.counter = existing ?? new Counter({
        name: INBOUND_REFUSED_METRIC,
        help: 'Inbound streams, messages or connections this node refused, by protocol and reason (rate, denied, not-allowed, ...)',
        labelNames: ['protocol', 'reason'],
        registers: [init.registry]
      })
    }
    wrapRegistrar(components.registrar, (protocol, handler) => this.wrap(protocol, handler))
  }

  /** The stream rate of `protocol`, or undefined when it is not limited. */
  rateOf (protocol: string): StreamRate | undefined {
    if (this.limits === false) {
      return undefined
    }
    const rate = this.limits.protocols?.[protocol] ?? this.limits.default ?? INBOUND_STREAM_RATE
    return rate === false ? undefined : rate
  }

  /**
   * Whether `peer` may open one more stream of `protocol` now (spending a token when it may).
   * Counts the refusal when it may not.
   */
  admit (peer: PeerId | string, protocol: string): boolean {
    const rate = this.rateOf(protocol)
    if (rate == null) {
      return true
    }
    const key = peer.toString()
    let buckets = this.peers.get(key)
    if (buckets == null) {
      buckets = new Map()
      if (this.peers.size >= this.maxPeers) {
        // the least recently seen peer is forgotten
        const oldest = this.peers.keys().next().value
        if (oldest != null) {
          this.peers.delete(oldest)
        }
      }
    } else {
      // seen now: to the end of the order
      this.peers.delete(key)
    }
    this.peers.set(key, buckets)
    const now = this.now()
    let bucket = buckets.get(protocol)
    if (bucket == null) {
      bucket = new TokenBucket(rate, now)
      buckets.set(protocol, bucket)
    }
    if (bucket.take(now)) {
      return true
    }
    this.refused(protocol, 'rate')
    return false
  }

  refused (protocol: string, reason: string): void {
    const key = `${protocol} ${reason}`
    let entry = this.counts.get(key)
    if (entry == null) {
      entry = { protocol, reason, count: 0 }
      this.counts.set(key, entry)
    }
    entry.count++
    this.counter?.inc({ protocol, reason })
  }

  /** Every refusal counted since start, by protocol and reason. */
  refusals (): RefusalCount[] {
    return [...this.counts.values()].map(c => ({ ...c }))
  }

  /** Peers whose buckets are kept now (at most `maxPeers`). */
  get trackedPeers (): number {
    return this.peers.size
  }

  /** `handler`, behind the rate limit of `protocol` (marked with `Symbol.for('@shardmesh/inbound-guard/handler')`). */
  wrap (protocol: string, handler: StreamHandler): StreamHandler {
    const guarded = (stream: Stream, connection: Connection): void | Promise<void> => {
      if (!this.admit(connection.remotePeer, protocol)) {
        this.log('refused a %s stream from %p: over its rate', protocol, connection.remotePeer)
        stream.abort(new InboundRefusedError(protocol, 'rate'))
        return
      }
      return handler(stream, connection)
    }
    return Object.assign(guarded, { [GUARDED_HANDLER]: protocol })
  }
}

/** Throws RangeError on a malformed rate (checked when the node is created, not at the first stream). */
function checkLimits (limits: RateLimits | false): void {
  if (limits === false) {
    return
  }
  const check = (rate: StreamRate | false | undefined): void => {
    if (rate != null && rate !== false) {
      void new TokenBucket(rate, 0)
    }
  }
  check(limits.default)
  for (const rate of Object.values(limits.protocols ?? {})) {
    check(rate)
  }
}

const WRAPPED = Symbol.for('@shardmesh/inbound-guard/wrapped')

/**
 * Make every later `registrar.handle()` register `wrap(protocol, handler)` instead of `handler`.
 *
 * And make `getMiddleware()` hand out copies: libp2p 3.3's connection pushes the handler's step
 * onto the list it gets for each inbound stream, which is the registrar's own list once a
 * protocol has middleware (`registrar.use()`), so every stream would add one more run of the
 * handler to all later streams of that protocol (the Nth stream ran its handler N times).
 */
function wrapRegistrar (registrar: GuardedRegistrar, wrap: (protocol: string, handler: StreamHandler) => StreamHandler): void {
  const target = registrar as GuardedRegistrar & { [WRAPPED]?: true }
  if (target[WRAPPED] === true) {
    throw new Error('the registrar already has an inbound guard')
  }
  const handle = registrar.handle.bind(registrar)
  target.handle = async (protocol, handler, options) => { await handle(protocol, wrap(protocol, handler), options) }
  const getMiddleware = registrar.getMiddleware?.bind(registrar)
  if (getMiddleware != null) {
    target.getMiddleware = (protocol) => [...getMiddleware(protocol)]
  }
  target[WRAPPED] = true
}

/** The `inbound` service of a mesh node: per-peer rate limits of every inbound protocol, and the count of what was refused. */
export function inboundGuard (init: InboundGuardInit = {}): (components: InboundGuardComponents) => InboundGuard {
  return (components) => new InboundGuard(components, init)
}
