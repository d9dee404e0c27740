import {
  MAX_MODEL_CHUNK_BYTES,
  MAX_SHARD_FRAME_BYTES,
  SHARD_PROTOCOL,
  decodeWorkerFrame,
  encodeClientFrame,
  fromWireError
} from '@shardmesh/protocol'
import { HEARTBEAT_INTERVAL, MAX_WRITE_BATCH_BYTES, STREAM_READ_BUFFER_BYTES } from '../constants.js'
import { ComputeErrorCode, PeerUnresponsiveError, ShardTimeoutError, StreamClosedError } from '../errors.js'
import { FrameReader, takeFrames, writeFrames } from '../frames.js'
import type { LivenessBook } from './liveness.js'
import type { ShardExecutor, ShardOutput } from '../worker/executor.js'
import type { ModelStore } from '../worker/model-store.js'
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { ClientFrame, Loose, WorkerFrame } from '@shardmesh/protocol'

/** One attempt at one shard, as the scheduler hands it to a channel. */
export interface ShardAttempt {
  jobId: Uint8Array
  shardIndex: number
  workload: string
  version: string
  /** encoded ItemList */
  input: Uint8Array
  model?: { digest: string, bytes: Uint8Array }
  /** the job's price, which the worker signs into its receipt (settlement) @default unpaid */
  lamportsPerItem?: bigint
  /** abandon the attempt after this long without progress (ms) */
  idleTimeout: number
  onProgress?(done: number): void
}

export interface AttemptHandle {
  result: Promise<ShardOutput>
  /** stop the attempt: the worker is told and frees its slot */
  cancel(): void
}

/** A worker's own countersigned receipts of one shard it did, sent back once they are stored. */
export interface CountersignedDelivery {
  jobId: Uint8Array
  shardIndex: number
  /** encoded SignedReceipts, countersigned, each naming the channel's peer as the worker */
  receipts: Uint8Array[]
}

/** What the requester knows now of a peer's liveness: `suspect` and `dead` peers get no new work. */
export type ChannelHealth = 'alive' | 'suspect' | 'dead'

/** The way to one peer's worker: a reused stream, or a direct call for this node itself. */
export interface PeerChannel {
  readonly peerId: PeerId
  readonly local: boolean
  send(attempt: ShardAttempt): AttemptHandle
  /** the peer's liveness as its heartbeat shows it @default 'alive' when absent */
  health?(): ChannelHealth
  /**
   * Give the worker its countersigned receipts of a shard it did (best effort: nothing is
   * answered, a failure is only logged). Absent: the peer gets none.
   */
  deliver?(delivery: CountersignedDelivery): void
  close(): void
}

/** What a `RemoteChannel` needs beyond its peer. */
export interface RemoteChannelOptions {
  /**
   * Where the peer's liveness is recorded and judged. With it, the channel heartbeats the peer
   * while shards are in flight and fails them all with `PeerUnresponsiveError` when the book
   * finds it dead; without it, no heartbeat runs and `health()` is always `alive`.
   */
  liveness?: LivenessBook
  /** ms between two pings while shards are in flight @default HEARTBEAT_INTERVAL */
  heartbeatInterval?: number
}

/** The heartbeat of a channel with shards in flight. */
interface Heartbeat {
  timer: ReturnType<typeof setInterval>
  unwatch(): void
  /** when the watch began (the book's clock) */
  watchedAt: number
  /** when the last tick ran (this process's monotonic clock) */
  lastTick: number
  /** the last tick came late and skipped its verdict */
  skipped: boolean
  /**
   * when the last shard in flight ended without an answer (this process's monotonic clock): the
   * heartbeat lingers until the peer answers once, or is found dead
   */
  lingerSince?: number
}

/** Ping round trips remembered, by seq: more pings than this unanswered are no longer timed. */
const MAX_PINGS_TIMED = 16

interface Pending {
  attempt: ShardAttempt
  resolve(output: ShardOutput): void
  reject(err: Error): void
  timer?: ReturnType<typeof setTimeout>
}

/**
 * The requester's side of `/shardmesh/shard/1.0.0` to one peer: one long-lived stream
 * carries every shard sent to that peer, matched by id, so the hot path pays no stream
 * set-up. When the stream dies, every shard in flight on it fails with `StreamClosedError`
 * (the scheduler places them elsewhere) and the next shard opens a new stream.
 *
 * With a liveness book, a heartbeat runs while shards are in flight: a ping every
 * `heartbeatInterval`, written ahead of any frame still queued, and every frame the worker
 * sends counts as evidence. A peer the book finds dead (silent past its `deadAfter`, though its
 * connection may stay open: a frozen process sends no FIN) fails every shard in flight with
 * `PeerUnresponsiveError` and its stream is aborted; the next shard opens a new one. An idle
 * channel pings nobody.
 */
export class RemoteChannel implements PeerChannel {
  public readonly local = false
  private stream?: Promise<{ stream: Stream, reader: FrameReader }>
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  /** frames waiting to be written, in order */
  private readonly queue: Uint8Array[] = []
  /** a ping waiting to be written: it goes ahead of the queue */
  private ping?: { seq: number, bytes: Uint8Array }
  /** a ping is being written now */
  private pingWriting = false
  private draining = false
  private drainScheduled = false
  private nextSeq = 1
  /** when each recent ping went out (monotonic ms), by seq */
  private readonly pings = new Map<number, number>()
  private heartbeat?: Heartbeat
  private readonly book?: LivenessBook
  private readonly heartbeatInterval: number
  /** the peer's id as the liveness book knows it */
  private readonly key: string
  private closed = false
  /** aborted by `close()`: a stream still being opened is given up */
  private readonly closing = new AbortController()

  constructor (
    public readonly peerId: PeerId,
    private readonly connectionManager: ConnectionManager,
    private readonly log: Logger,
    options: RemoteChannelOptions = {}
  ) {
    this.book = options.liveness
    this.heartbeatInterval = options.heartbeatInterval ?? HEARTBEAT_INTERVAL
    if (!Number.isFinite(this.heartbeatInterval) || this.heartbeatInterval <= 0) {
      throw new RangeError(`heartbeatInterval must be a positive number of ms, got ${this.heartbeatInterval}`)
    }
    this.key = peerId.toString()
  }

  send (attempt: ShardAttempt): AttemptHandle {
    const id = this.nextId
    this.nextId = this.nextId >= 0xffff_fff0 ? 1 : this.nextId + 1
    const result = new Promise<ShardOutput>((resolve, reject) => {
      const entry: Pending = { attempt, resolve, reject }
      this.pending.set(id, entry)
      this.armTimer(id, entry)
    })
    if (this.heartbeat != null) {
      this.heartbeat.lingerSince = undefined
    }
    this.startHeartbeat()
    this.write({
      request: {
        id,
        jobId: attempt.jobId,
        shardIndex: attempt.shardIndex,
        workload: attempt.workload,
        version: attempt.version,
        input: attempt.input,
        model: attempt.model != null ? Buffer.from(attempt.model.digest, 'hex') : new Uint8Array(0),
        timeoutMs: 0,
        // absent when unpaid: the request's bytes stay those of an unpaid job
        ...(attempt.lamportsPerItem != null && attempt.lamportsPerItem > 0n ? { lamportsPerItem: attempt.lamportsPerItem } : {})
      }
    })
    return {
      result,
      cancel: () => {
        if (this.settle(id, new StreamClosedError('cancelled'))) {
          this.write({ cancel: { id } })
        }
      }
    }
  }

  /**
   * Send the worker its countersigned receipts on the shard stream (the current one, or a new
   * one), behind the frames already waiting. Best effort: a stream that fails loses it, logged
   * (no retry yet), and a closed channel sends nothing.
   */
  deliver (delivery: CountersignedDelivery): void {
    if (this.closed) {
      this.log('countersigned receipts of shard %d not sent to %p: the channel is closed', delivery.shardIndex, this.peerId)
      return
    }
    this.write({ countersigned: { jobId: delivery.jobId, shardIndex: delivery.shardIndex, receipts: delivery.receipts } })
  }

  /** The peer's liveness as the book has it (its heartbeat while shards are in flight here). */
  health (): 'alive' | 'suspect' | 'dead' {
    return this.book?.health(this.key) ?? 'alive'
  }

  close (): void {
    this.closed = true
    this.closing.abort(new StreamClosedError('channel closed'))
    this.failAll(new StreamClosedError('channel closed'))
    this.stopHeartbeat()
    void this.stream?.then(({ stream }) => stream.close()).catch(() => {})
    this.stream = undefined
  }

  /** Heartbeat the peer while shards are in flight (with a liveness book only). */
  private startHeartbeat (): void {
    if (this.book == null || this.heartbeat != null || this.closed || this.pending.size === 0) {
      return
    }
    this.heartbeat = {
      timer: setInterval(() => { this.tick() }, this.heartbeatInterval),
      unwatch: this.book.watch(this.key),
      watchedAt: this.book.now(),
      lastTick: performance.now(),
      skipped: false
    }
  }

  private stopHeartbeat (): void {
    const heartbeat = this.heartbeat
    if (heartbeat == null) {
      return
    }
    this.heartbeat = undefined
    clearInterval(heartbeat.timer)
    heartbeat.unwatch()
    // a ping not yet written is no longer wanted
    this.ping = undefined
  }

  /** One heartbeat: ping the peer, and let the book judge it. */
  private tick (): void {
    const heartbeat = this.heartbeat
    const book = this.book
    if (heartbeat == null || book == null) {
      return
    }
    const tickAt = performance.now()
    if (this.pending.size === 0 && (heartbeat.lingerSince == null || tickAt - heartbeat.lingerSince > book.deadAfter + 2 * this.heartbeatInterval)) {
      // nothing in flight, and the linger after an unanswered shard is over (dead or heard from)
      book.check()
      this.stopHeartbeat()
      return
    }
    // this process stalled (a long task, a GC pause): the peer's answers may wait unread behind
    // this timer, so the verdict waits one tick (only one, or a stalled requester judges nobody)
    const late = tickAt - heartbeat.lastTick > 2 * this.heartbeatInterval
    heartbeat.lastTick = tickAt
    if (this.ping != null || this.pingWriting) {
      // the last ping has not left yet: it waits behind our own writes (a large shard, a model),
      // the stream's opening (a dial) or the transport's back-pressure. The peer cannot answer
      // what it has not received; a peer that stops reading altogether is left to the stream's
      // own timeouts and the attempt's idle timeout
      book.excuse(this.key)
    } else {
      this.sendPing()
    }
    if (late && !heartbeat.skipped) {
      heartbeat.skipped = true
      return
    }
    heartbeat.skipped = false
    book.check()
    const view = book.view(this.key)
    if (view.state !== 'dead') {
      return
    }
    const silence = book.silenceMs(this.key) ?? 0
    if ((view.since ?? -Infinity) < heartbeat.watchedAt && silence <= book.deadAfter) {
      // found dead before this watch began: it gets its full heartbeat before it is given up again
      return
    }
    this.giveUp(new PeerUnresponsiveError(`${this.key} sent nothing for ${Math.round(silence)} ms with ${this.pending.size} shard${this.pending.size === 1 ? '' : 's'} in flight`))
  }

  private sendPing (): void {
    const seq = this.nextSeq
    this.nextSeq = this.nextSeq >= 0xffff_fff0 ? 1 : this.nextSeq + 1
    this.ping = { seq, bytes: encodeClientFrame({ ping: { seq } }) }
    this.drain()
  }

  /** The peer is unresponsive: fail everything in flight, and abort its stream (never reused). */
  private giveUp (err: PeerUnresponsiveError): void {
    this.log('%p is unresponsive: %s', this.peerId, err.message)
    const current = this.stream
    this.stream = undefined
    // what waits to be written belongs to the shards failed here
    this.queue.length = 0
    this.ping = undefined
    void current?.then(({ stream }) => { stream.abort(err) }).catch(() => {})
    this.failAll(err)
  }

  private armTimer (id: number, entry: Pending): void {
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => {
      if (this.settle(id, new ShardTimeoutError(`no progress from ${this.peerId.toString()} for ${entry.attempt.idleTimeout} ms`))) {
        this.write({ cancel: { id } })
      }
    }, entry.attempt.idleTimeout)
  }

  /** Settle one pending shard; false when it was already settled. */
  private settle (id: number, outcome: Error | ShardOutput): boolean {
    const entry = this.pending.get(id)
    if (entry == null) {
      return false
    }
    this.pending.delete(id)
    clearTimeout(entry.timer)
    if (this.pending.size === 0) {
      if (outcome instanceof Error && this.heartbeat != null && !(outcome instanceof PeerUnresponsiveError)) {
        // the last shard ended without an answer (cancelled by a hedge, timed out): keep
        // watching until the peer answers once, so that a frozen peer is still found dead
        this.heartbeat.lingerSince ??= performance.now()
      } else {
        this.stopHeartbeat()
      }
    }
    if (outcome instanceof Error) {
      entry.reject(outcome)
    } else {
      entry.resolve(outcome)
    }
    return true
  }

  private failAll (err: Error): void {
    for (const id of [...this.pending.keys()]) {
      this.settle(id, err)
    }
  }

  private write (frame: Loose<ClientFrame>): void {
    this.queue.push(encodeClientFrame(frame))
    // at the end of this turn of the event loop: the frames queued in it share one write
    if (!this.drainScheduled) {
      this.drainScheduled = true
      setImmediate(() => {
        this.drainScheduled = false
        this.drain()
      })
    }
  }

  /** Write what waits, a waiting ping first, as few writes as the frames allow. */
  private drain (): void {
    if (this.draining) {
      return
    }
    this.draining = true
    void (async () => {
      try {
        while (true) {
          const ping = this.ping
          this.ping = undefined
          if (ping == null && this.queue.length === 0) {
            return
          }
          this.pingWriting = ping != null
          // what waits goes out in one write: one Yamux frame and one Noise message, not one each.
          // Taken before the stream opens, so that a stream that cannot open loses them (their
          // shards fail with it) rather than this loop trying them again forever
          const frames = takeFrames(this.queue, MAX_WRITE_BATCH_BYTES)
          let current: { stream: Stream, reader: FrameReader } | undefined
          try {
            current = await this.open()
            if (ping != null) {
              this.timePing(ping.seq)
              frames.unshift(ping.bytes)
            }
            await writeFrames(current.stream, frames)
          } catch (err: any) {
            this.log('shard stream to %p failed: %s', this.peerId, err.message)
            await this.resetIfCurrent(current?.stream, err)
          } finally {
            this.pingWriting = false
          }
        }
      } finally {
        this.draining = false
      }
    })()
  }

  private timePing (seq: number): void {
    this.pings.set(seq, performance.now())
    for (const old of this.pings.keys()) {
      if (this.pings.size <= MAX_PINGS_TIMED) {
        break
      }
      this.pings.delete(old)
    }
  }

  /** A write on `stream` failed: reset the channel, unless that stream was replaced already. */
  private async resetIfCurrent (stream: Stream | undefined, err: Error): Promise<void> {
    if (stream != null) {
      const current = await this.stream?.catch(() => undefined)
      if (current?.stream !== stream) {
        return
      }
    }
    this.reset(err)
  }

  private async open (): Promise<{ stream: Stream, reader: FrameReader }> {
    if (this.closed) {
      throw new StreamClosedError('channel closed')
    }
    const opening = this.stream ??= (async () => {
      const stream = await this.connectionManager.openStream(this.peerId, SHARD_PROTOCOL, { signal: this.closing.signal })
      const reader = new FrameReader(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
      void this.readLoop(stream, reader)
      return { stream, reader }
    })()
    try {
      return await opening
    } catch (err) {
      // a stream given up while it opened may have been replaced by then: leave the new one be
      if (this.stream === opening) {
        this.stream = undefined
      }
      throw err
    }
  }

  private reset (err: Error, keep = false): void {
    const current = this.stream
    this.stream = undefined
    void current?.then(({ stream }) => { stream.abort(err) }).catch(() => {})
    this.failAll(keep ? err : new StreamClosedError(`stream to ${this.peerId.toString()} closed: ${err.message}`))
  }

  private async readLoop (stream: Stream, reader: FrameReader): Promise<void> {
    try {
      while (true) {
        const bytes = await reader.read()
        if (bytes == null) {
          throw new StreamClosedError('the worker closed the stream')
        }
        this.onFrame(decodeWorkerFrame(bytes))
      }
    } catch (err: any) {
      reader.close()
      if (this.stream != null) {
        const current = await this.stream.catch(() => undefined)
        if (current?.stream === stream) {
          this.reset(err)
        }
      }
    }
  }

  /** Any frame is evidence the worker lives; a pong also times the round trip. */
  private evidence (frame: WorkerFrame): void {
    if (this.book == null) {
      return
    }
    if (this.pending.size === 0 && this.heartbeat?.lingerSince != null) {
      // heard from after its last shard ended unanswered: alive, and no longer watched
      this.stopHeartbeat()
    }
    if (frame.pong != null) {
      const sentAt = this.pings.get(frame.pong.seq)
      this.pings.delete(frame.pong.seq)
      this.book.heard(this.key, 'heartbeat', sentAt != null ? performance.now() - sentAt : undefined)
    } else {
      this.book.heard(this.key, frame.result != null ? 'result' : 'heartbeat')
    }
  }

  private onFrame (frame: WorkerFrame): void {
    this.evidence(frame)
    if (frame.progress != null) {
      const entry = this.pending.get(frame.progress.id)
      if (entry != null) {
        this.armTimer(frame.progress.id, entry)
        entry.attempt.onProgress?.(frame.progress.done)
      }
    } else if (frame.result != null) {
      this.settle(frame.result.id, { output: frame.result.output, receipt: frame.result.receipt })
    } else if (frame.error != null) {
      const err = fromWireError(frame.error)
      if (frame.error.id === 0) {
        // the worker could not read our stream: everything on it is lost. A worker that refused
        // the stream for its inbound caps says ERR_BUSY: busy, not faulty, and its shards fail
        // with that code (the requester backs off and places them again)
        this.reset(err, err.code === ComputeErrorCode.BUSY)
      } else {
        this.settle(frame.error.id, err)
      }
    } else if (frame.needModel != null) {
      this.sendModel(frame.needModel.id, Buffer.from(frame.needModel.digest).toString('hex'))
    }
  }

  private sendModel (id: number, digest: string): void {
    const entry = this.pending.get(id)
    const model = entry?.attempt.model
    if (entry == null || model?.digest !== digest) {
      this.write({ cancel: { id } })
      return
    }
    const total = BigInt(model.bytes.byteLength)
    for (let offset = 0; offset < model.bytes.byteLength; offset += MAX_MODEL_CHUNK_BYTES) {
      this.write({
        model: {
          id,
          digest: Buffer.from(digest, 'hex'),
          total,
          offset: BigInt(offset),
          data: model.bytes.subarray(offset, offset + MAX_MODEL_CHUNK_BYTES)
        }
      })
    }
  }
}

/** This node as a worker of its own jobs: the same executor, no stream. */
export class LocalChannel implements PeerChannel {
  public readonly local = true

  constructor (
    public readonly peerId: PeerId,
    private readonly executor: ShardExecutor,
    private readonly models: ModelStore
  ) {}

  send (attempt: ShardAttempt): AttemptHandle {
    const controller = new AbortController()
    const result = this.executor.execute({
      jobId: attempt.jobId,
      shardIndex: attempt.shardIndex,
      workload: attempt.workload,
      version: attempt.version,
      input: attempt.input,
      model: attempt.model?.digest,
      requester: this.peerId,
      lamportsPerItem: attempt.lamportsPerItem
    }, {
      signal: controller.signal,
      onProgress: attempt.onProgress,
      fetchModel: async (digest) => {
        if (attempt.model?.digest !== digest) {
          throw new StreamClosedError('model not available')
        }
        const writer = await this.models.receive(digest, attempt.model.bytes.byteLength, this.peerId.toString())
        try {
          await writer.write(0, attempt.model.bytes)
        } catch (err) {
          await writer.abort()
          throw err
        }
        return writer.finish()
      }
    })
    return {
      result,
      cancel: () => { controller.abort(new StreamClosedError('cancelled')) }
    }
  }

  /** This node keeps its own countersigned receipts as their worker too, checked as a remote worker's are. */
  deliver (delivery: CountersignedDelivery): void {
    const receipts = this.executor.receipts
    if (receipts?.enabled === true) {
      // keep() logs what it refuses and never rejects
      void receipts.keep(delivery.jobId, delivery.shardIndex, delivery.receipts, this.peerId)
    }
  }

  close (): void {}
}
