import { lpStream } from '@libp2p/utils'
import {
  MAX_MODEL_CHUNK_BYTES,
  MAX_SHARD_FRAME_BYTES,
  SHARD_PROTOCOL,
  decodeWorkerFrame,
  encodeClientFrame,
  fromWireError
} from '@shardmesh/protocol'
import { STREAM_READ_BUFFER_BYTES } from '../constants.js'
import { ShardTimeoutError, StreamClosedError } from '../errors.js'
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
  /** abandon the attempt after this long without progress (ms) */
  idleTimeout: number
  onProgress?(done: number): void
}

export interface AttemptHandle {
  result: Promise<ShardOutput>
  /** stop the attempt: the worker is told and frees its slot */
  cancel(): void
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
  close(): void
}

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
 */
export class RemoteChannel implements PeerChannel {
  public readonly local = false
  private stream?: Promise<{ stream: Stream, lp: ReturnType<typeof lpStream> }>
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private writing: Promise<void> = Promise.resolve()
  private closed = false
  /** aborted by `close()`: a stream still being opened is given up */
  private readonly closing = new AbortController()

  constructor (
    public readonly peerId: PeerId,
    private readonly connectionManager: ConnectionManager,
    private readonly log: Logger
  ) {}

  send (attempt: ShardAttempt): AttemptHandle {
    const id = this.nextId
    this.nextId = this.nextId >= 0xffff_fff0 ? 1 : this.nextId + 1
    const result = new Promise<ShardOutput>((resolve, reject) => {
      const entry: Pending = { attempt, resolve, reject }
      this.pending.set(id, entry)
      this.armTimer(id, entry)
    })
    this.write({
      request: {
        id,
        jobId: attempt.jobId,
        shardIndex: attempt.shardIndex,
        workload: attempt.workload,
        version: attempt.version,
        input: attempt.input,
        model: attempt.model != null ? Buffer.from(attempt.model.digest, 'hex') : new Uint8Array(0),
        timeoutMs: 0
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

  close (): void {
    this.closed = true
    this.closing.abort(new StreamClosedError('channel closed'))
    this.failAll(new StreamClosedError('channel closed'))
    void this.stream?.then(({ stream }) => stream.close()).catch(() => {})
    this.stream = undefined
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
    const bytes = encodeClientFrame(frame)
    this.writing = this.writing.then(async () => {
      const { lp } = await this.open()
      await lp.write(bytes)
    }).catch((err: Error) => {
      this.log('shard stream to %p failed: %s', this.peerId, err.message)
      this.reset(err)
    })
  }

  private async open (): Promise<{ stream: Stream, lp: ReturnType<typeof lpStream> }> {
    if (this.closed) {
      throw new StreamClosedError('channel closed')
    }
    this.stream ??= (async () => {
      const stream = await this.connectionManager.openStream(this.peerId, SHARD_PROTOCOL, { signal: this.closing.signal })
      const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
      void this.readLoop(stream, lp)
      return { stream, lp }
    })()
    try {
      return await this.stream
    } catch (err) {
      this.stream = undefined
      throw err
    }
  }

  private reset (err: Error): void {
    const current = this.stream
    this.stream = undefined
    void current?.then(({ stream }) => { stream.abort(err) }).catch(() => {})
    this.failAll(new StreamClosedError(`stream to ${this.peerId.toString()} closed: ${err.message}`))
  }

  private async readLoop (stream: Stream, lp: ReturnType<typeof lpStream>): Promise<void> {
    try {
      while (true) {
        const frame = decodeWorkerFrame((await lp.read()).subarray())
        this.onFrame(frame)
      }
    } catch (err: any) {
      if (this.stream != null) {
        const current = await this.stream.catch(() => undefined)
        if (current?.stream === stream) {
          this.reset(err)
        }
      }
    }
  }

  private onFrame (frame: WorkerFrame): void {
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
        // the worker could not read our stream: everything on it is lost
        this.reset(err)
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
      requester: this.peerId
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

  close (): void {}
}
