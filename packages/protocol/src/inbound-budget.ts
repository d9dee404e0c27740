import { ShardmeshError } from './errors.js'

/**
 * A node-wide budget of what peers may make this node hold: bytes buffered on inbound streams
 * (all streams of all peers together, and each peer's share of it) and inbound streams open at
 * once (all protocols, and each peer's share).
 *
 * Bytes are reserved by the readers of inbound streams (`FrameReader` in `@shardmesh/compute`):
 * a stream reads on only while the frame it is receiving fits its reservation. When it does not
 * fit, the reader stops reading (back-pressure: the stream is paused, so Yamux stops granting
 * the sender window and the sender stops) and waits in line for the bytes. Bytes are handed out
 * first come, first served among the waiters that fit, a peer never holds more than its share
 * (so one peer cannot take the whole budget and starve the others), and a wait that lasts
 * `waitTimeout` ends in an `InboundBudgetError`: the stream is refused with that named error
 * rather than held forever.
 *
 * Bytes that arrived anyway (what a sender had in flight when the stream was paused) are charged
 * with `force`: the budget may run over by those, and `used` says so honestly.
 */

/** An inbound stream was refused by a node-wide limit: its bytes or the count of streams. */
export class InboundBudgetError extends ShardmeshError {
  static readonly code = 'ERR_INBOUND_LIMIT'
  readonly reason: InboundRefusalReason

  constructor (message: string, reason: InboundRefusalReason) {
    super(message, InboundBudgetError.code)
    this.name = 'InboundBudgetError'
    this.reason = reason
  }
}

/** Why the budget refused a stream (the `reason` label of `shardmesh_inbound_refused_total`). */
export type InboundRefusalReason = 'bytes' | 'streams' | 'peer-streams'

export interface InboundBudgetInit {
  /** Most bytes buffered on all inbound streams together. */
  maxBytes: number
  /** Most bytes one peer's inbound streams may hold together. @default maxBytes / 4 */
  maxPeerBytes?: number
  /** Most inbound streams open at once, all peers and protocols together. */
  maxStreams: number
  /** Most inbound streams one peer may have open at once. @default maxStreams / 4 */
  maxPeerStreams?: number
  /** How long a reservation may wait for bytes before its stream is refused (ms). @default 30000 */
  waitTimeout?: number
  /** A stream was refused (counted by the node's metrics). */
  onRefused?(protocol: string, reason: InboundRefusalReason): void
  /** A reservation had to wait for bytes (back-pressure). */
  onWait?(protocol: string): void
  /** Timers (tests pass fake ones). @default setTimeout / clearTimeout */
  timers?: {
    setTimeout(fn: () => void, ms: number): unknown
    clearTimeout(handle: unknown): void
  }
}

/** Default caps of a mesh node: see the README's "running a node safely". */
export const DEFAULT_INBOUND_BYTES = 256 * 1024 * 1024
export const DEFAULT_INBOUND_STREAMS = 1024
export const DEFAULT_INBOUND_WAIT_TIMEOUT = 30_000

interface PeerUse {
  bytes: number
  streams: number
}

interface Waiter {
  peer: string
  bytes: number
  protocol: string
  resolve(): void
  reject(err: Error): void
  timer: unknown
  cleanup(): void
}

export interface InboundBudgetStats {
  bytes: number
  maxBytes: number
  streams: number
  maxStreams: number
  waiting: number
  peers: number
}

export class InboundBudget {
  readonly maxBytes: number
  readonly maxPeerBytes: number
  readonly maxStreams: number
  readonly maxPeerStreams: number
  readonly waitTimeout: number
  private usedBytes = 0
  private openStreams = 0
  private readonly peers = new Map<string, PeerUse>()
  private readonly waiters: Waiter[] = []
  private readonly init: InboundBudgetInit
  private readonly timers: NonNullable<InboundBudgetInit['timers']>

  constructor (init: InboundBudgetInit) {
    for (const key of ['maxBytes', 'maxStreams'] as const) {
      if (!Number.isSafeInteger(init[key]) || init[key] <= 0) {
        throw new RangeError(`${key} must be a positive integer, not ${init[key]}`)
      }
    }
    this.init = init
    this.maxBytes = init.maxBytes
    this.maxPeerBytes = Math.min(init.maxPeerBytes ?? Math.floor(init.maxBytes / 4), init.maxBytes)
    this.maxStreams = init.maxStreams
    this.maxPeerStreams = Math.min(init.maxPeerStreams ?? Math.max(1, Math.floor(init.maxStreams / 4)), init.maxStreams)
    this.waitTimeout = init.waitTimeout ?? DEFAULT_INBOUND_WAIT_TIMEOUT
    this.timers = init.timers ?? {
      setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref(); return t },
      clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout>) }
    }
  }

  /** Bytes held now (may exceed `maxBytes` by what was forced). */
  get bytes (): number {
    return this.usedBytes
  }

  get streams (): number {
    return this.openStreams
  }

  stats (): InboundBudgetStats {
    return { bytes: this.usedBytes, maxBytes: this.maxBytes, streams: this.openStreams, maxStreams: this.maxStreams, waiting: this.waiters.length, peers: this.peers.size }
  }

  /** Bytes `peer` holds now. */
  peerBytes (peer: string): number {
    return this.peers.get(peer)?.bytes ?? 0
  }

  /**
   * Whether `bytes` more for `peer` fit both its share and the total. (No waiter in line fits at
   * any moment: each release hands what it frees to them first.)
   */
  fits (peer: string, bytes: number): boolean {
    return this.room(peer, bytes)
  }

  /** Take `bytes` for `peer` if they fit now; false otherwise. */
  tryTake (peer: string, bytes: number): boolean {
    if (bytes <= 0) {
      return true
    }
    if (!this.fits(peer, bytes)) {
      return false
    }
    this.charge(peer, bytes)
    return true
  }

  /** Charge bytes already in memory, over the budget if need be. */
  force (peer: string, bytes: number): void {
    if (bytes > 0) {
      this.charge(peer, bytes)
    }
  }

  /**
   * Take `bytes` for `peer`, waiting in line until they fit. Rejects with `InboundBudgetError`
   * (reason `bytes`, counted) when they can never fit (more than the peer's share), or after
   * `waitTimeout`; with the signal's reason when it aborts (not counted).
   */
  async take (peer: string, bytes: number, options: { protocol: string, signal?: AbortSignal }): Promise<void> {
    if (this.tryTake(peer, bytes)) {
      return
    }
    const protocol = options.protocol
    if (bytes > this.maxPeerBytes) {
      this.init.onRefused?.(protocol, 'bytes')
      throw new InboundBudgetError(`a frame of ${bytes} bytes is over this node's inbound share per peer (${this.maxPeerBytes} bytes)`, 'bytes')
    }
    const signal = options.signal
    signal?.throwIfAborted()
    this.init.onWait?.(protocol)
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.drop(waiter)
        reject(signal?.reason instanceof Error ? signal.reason : new InboundBudgetError('the wait for inbound bytes was aborted', 'bytes'))
      }
      const waiter: Waiter = {
        peer,
        bytes,
        protocol,
        resolve,
        reject,
        timer: this.timers.setTimeout(() => {
          this.drop(waiter)
          this.init.onRefused?.(protocol, 'bytes')
          reject(new InboundBudgetError(`no room for ${bytes} inbound bytes within ${this.waitTimeout} ms: this node buffers ${this.usedBytes} of its ${this.maxBytes} bytes for peers`, 'bytes'))
        }, this.waitTimeout),
        cleanup: () => { signal?.removeEventListener('abort', onAbort) }
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Count a refusal decided by a reader (a frame over the peer share, say). */
  refuse (protocol: string, reason: InboundRefusalReason): void {
    this.init.onRefused?.(protocol, reason)
  }

  /** Give back bytes `peer` held. */
  release (peer: string, bytes: number): void {
    if (bytes <= 0) {
      return
    }
    const use = this.peers.get(peer)
    if (use == null) {
      return
    }
    const given = Math.min(bytes, use.bytes)
    use.bytes -= given
    this.usedBytes -= given
    this.forget(peer, use)
    this.grant()
  }

  /**
   * Count an inbound stream of `peer` on `protocol`: a function that gives it back (call it once
   * when the stream closes), or an `InboundBudgetError` (reason `streams` or `peer-streams`,
   * counted) when the node or the peer has as many open as allowed.
   */
  openStream (peer: string, protocol: string): (() => void) | InboundBudgetError {
    const use = this.peers.get(peer)
    if (this.openStreams >= this.maxStreams) {
      this.init.onRefused?.(protocol, 'streams')
      return new InboundBudgetError(`this node has ${this.openStreams} inbound streams open, its limit`, 'streams')
    }
    if ((use?.streams ?? 0) >= this.maxPeerStreams) {
      this.init.onRefused?.(protocol, 'peer-streams')
      return new InboundBudgetError(`this peer has ${use?.streams ?? 0} inbound streams open to this node, its limit`, 'peer-streams')
    }
    const entry = this.use(peer)
    entry.streams++
    this.openStreams++
    let open = true
    return () => {
      if (!open) {
        return
      }
      open = false
      entry.streams--
      this.openStreams--
      this.forget(peer, entry)
    }
  }

  private room (peer: string, bytes: number): boolean {
    return this.usedBytes + bytes <= this.maxBytes && this.peerBytes(peer) + bytes <= this.maxPeerBytes
  }

  private use (peer: string): PeerUse {
    let use = this.peers.get(peer)
    if (use == null) {
      use = { bytes: 0, streams: 0 }
      this.peers.set(peer, use)
    }
    return use
  }

  private forget (peer: string, use: PeerUse): void {
    if (use.bytes === 0 && use.streams === 0 && this.peers.get(peer) === use) {
      this.peers.delete(peer)
    }
  }

  private charge (peer: string, bytes: number): void {
    this.use(peer).bytes += bytes
    this.usedBytes += bytes
  }

  private drop (waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter)
    if (at >= 0) {
      this.waiters.splice(at, 1)
    }
    this.timers.clearTimeout(waiter.timer)
    waiter.cleanup()
    // a waiter that left may have held the line for those behind it
    this.grant()
  }

  /** Hand bytes to the waiters that fit, in order of arrival (one that does not fit yet does not block those behind it). */
  private grant (): void {
    for (let i = 0; i < this.waiters.length && this.usedBytes < this.maxBytes;) {
      const waiter = this.waiters[i]
      if (!this.room(waiter.peer, waiter.bytes)) {
        i++
        continue
      }
      this.waiters.splice(i, 1)
      this.timers.clearTimeout(waiter.timer)
      waiter.cleanup()
      this.charge(waiter.peer, waiter.bytes)
      waiter.resolve()
    }
  }
}
