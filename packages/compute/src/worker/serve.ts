import {
  MAX_MODEL_CHUNK_BYTES,
  MAX_SHARD_FRAME_BYTES,
  MessageTooLargeError,
  decodeClientFrame,
  encodeWorkerFrame,
  isShardmeshError,
  linkSignals,
  toWireError
} from '@shardmesh/protocol'
import { AbortError } from '@shardmesh/workloads'
import { MAX_COUNTERSIGNED_QUEUE, MAX_WRITE_BATCH_BYTES, PING_MIN_INTERVAL, STREAM_READ_BUFFER_BYTES } from '../constants.js'
import { BusyError, ModelMismatchError, ShardTimeoutError, StreamClosedError } from '../errors.js'
import { FrameReader, takeFrames, writeFrames } from '../frames.js'
import type { FrameReaderInit } from '../frames.js'
import type { ShardExecutor } from './executor.js'
import type { ModelStore, ModelWriter } from './model-store.js'
import type { CountersignedOutcome } from './receipts.js'
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import type { Countersigned, Loose, ModelChunk, ShardRequest, WorkerFrame } from '@shardmesh/protocol'
import type { ModelFile } from '@shardmesh/workloads'

export interface ServeShardsOptions {
  executor: ShardExecutor
  models: ModelStore
  requester: PeerId
  log: Logger
  /** aborted when the service stops */
  signal: AbortSignal
  progressInterval: number
  modelTimeout: number
  /**
   * The inbound deadline: with no shard in flight, a stream that sends no frame for this long
   * is closed (ms)
   */
  idleTimeout: number
  /**
   * A ping arriving sooner than this after the last one answered on the stream is ignored (ms)
   * @default PING_MIN_INTERVAL
   */
  pingInterval?: number
  /** the node-wide inbound budget the stream's frames take their bytes from */
  budget?: FrameReaderInit['budget']
  /** models being received now, by digest, shared by every stream of the node */
  inflightModels: Map<string, Promise<ModelFile>>
  /** a shard was answered: with its result, or a coded error */
  onShard?(outcome: 'ok' | 'error', detail: ShardOutcome): void
  /** a countersigned receipt frame was checked (and what passed stored), or dropped unread */
  onCountersigned?(outcome: CountersignedOutcome): void
}

export interface ShardOutcome {
  /** hex */
  jobId: string
  shardIndex: number
  /** `id@version` */
  workload: string
  code?: string
  message?: string
  elapsedMs: number
}

interface Task {
  controller: AbortController
  model?: ModelTransfer
}

/** A model this worker asked a requester for, arriving in chunks. */
interface ModelTransfer {
  digest: string
  writer?: ModelWriter
  /** the chunks received so far, written to disk one after the other */
  writing: Promise<void>
  /** the transfer is over (the model arrived, failed, or is no longer wanted) */
  done: boolean
  resolve(file: ModelFile): void
  reject(err: Error): void
}

/**
 * The worker side of one `/shardmesh/shard/1.0.0` stream. The requester may keep the stream
 * open and send many shards on it, concurrently; each is answered by id. A frame that does
 * not decode ends the stream (its framing can no longer be trusted) after a coded error;
 * a shard whose *content* is bad gets its own error and the stream goes on. Frames waiting to be
 * written go out together in one write. A ping is answered
 * with a pong at once, ahead of any frame waiting to be written (at most one per `pingInterval`),
 * and counts as activity for the inbound deadline. A `countersigned` frame (the requester sends
 * back this worker's receipts of a shard it accepted) is checked and kept by the executor's
 * `WorkerReceipts`, off the read loop; with `MAX_COUNTERSIGNED_QUEUE` of them under way on the
 * stream, reading waits for one to finish. Nothing is answered.
 */
export async function serveShards (stream: Stream, options: ServeShardsOptions): Promise<void> {
  const { executor, log, requester } = options
  const reader = new FrameReader(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES, budget: options.budget })
  const tasks = new Map<number, Task>()
  const pingInterval = options.pingInterval ?? PING_MIN_INTERVAL
  /** frames waiting to be written, in order */
  const queue: Uint8Array[] = []
  /** the seq of a pong waiting to be written: it goes ahead of the queue */
  let pong: number | undefined
  let lastPong = -Infinity
  let draining = false
  let drained: Promise<void> = Promise.resolve()
  let open = true
  /** countersigned frames being checked and stored, off the read loop */
  const countersigned = new Set<Promise<void>>()

  const drain = (): void => {
    if (draining) {
      return
    }
    draining = true
    drained = (async () => {
      try {
        while (open) {
          // what waits goes out in one write (one Yamux frame and one Noise message, not one each),
          // a pong first
          const frames = takeFrames(queue, MAX_WRITE_BATCH_BYTES)
          if (pong != null) {
            frames.unshift(encodeWorkerFrame({ pong: { seq: pong } }))
            pong = undefined
          }
          if (frames.length === 0) {
            break
          }
          await writeFrames(stream, frames, { signal: options.signal })
        }
      } catch (err: any) {
        open = false
        log.trace('shard stream write failed: %s', err.message)
      } finally {
        draining = false
      }
    })()
  }

  let drainScheduled = false
  const send = (frame: Loose<WorkerFrame>): void => {
    queue.push(encodeWorkerFrame(frame))
    // at the end of this turn of the event loop: the frames queued in it share one write
    if (!drainScheduled) {
      drainScheduled = true
      setImmediate(() => {
        drainScheduled = false
        drain()
      })
    }
  }

  const answerPing = (seq: number): void => {
    const now = performance.now()
    if (now - lastPong < pingInterval) {
      return
    }
    lastPong = now
    pong = seq
    drain()
  }

  const onShutdown = (): void => { stream.abort(new AbortError('worker stopping')) }
  options.signal.addEventListener('abort', onShutdown, { once: true })
  // the inbound deadline: reads give up when it passes, the service's shutdown as well
  const deadline = new AbortController()
  const reading = linkSignals([options.signal, deadline.signal])
  let idleTimer: ReturnType<typeof setTimeout> | undefined
  let reads = true
  /** the inbound budget refused the stream: it is reset once the refusal went out */
  let refused: Error | undefined
  const armDeadline = (): void => {
    clearTimeout(idleTimer)
    if (tasks.size === 0 && reads) {
      idleTimer = setTimeout(() => {
        deadline.abort(new ShardTimeoutError(`no shard from ${requester.toString()} for ${options.idleTimeout} ms`))
      }, options.idleTimeout)
    }
  }
  armDeadline()

  try {
    while (open) {
      let frame
      try {
        const bytes = await reader.read({ signal: reading.signal })
        if (bytes == null) {
          // the requester closed its end: nothing more will come
          break
        }
        frame = decodeClientFrame(bytes)
      } catch (err: any) {
        if (err.name === 'InvalidDataLengthError' || err.name === 'InvalidDataLengthLengthError') {
          send({ error: { id: 0, ...toWireError(new MessageTooLargeError(`shard frame over ${MAX_SHARD_FRAME_BYTES} bytes`)) } })
        } else if (err.name === 'InvalidMessageError' || err.name === 'MessageTooLargeError') {
          send({ error: { id: 0, ...toWireError(err) } })
        } else if (err.name === 'InboundBudgetError') {
          // the node buffers all it may for peers: the requester tries again later or elsewhere
          refused = err
          send({ error: { id: 0, ...toWireError(new BusyError(`refused: ${String(err.message)}`)) } })
        }
        break
      }
      if (frame.request != null) {
        startShard(frame.request)
      } else if (frame.cancel != null) {
        tasks.get(frame.cancel.id)?.controller.abort(new AbortError('shard cancelled by the requester'))
      } else if (frame.model != null) {
        // not awaited: a disk slower than the network must not stop this loop from reading,
        // or the frames behind it would overflow the stream's read buffer
        onModelChunk(frame.model)
      } else if (frame.ping != null) {
        answerPing(frame.ping.seq)
      } else if (frame.countersigned != null) {
        await onCountersigned(frame.countersigned)
      }
      armDeadline()
    }
  } finally {
    reads = false
    reader.close()
    clearTimeout(idleTimer)
    reading.clear()
    options.signal.removeEventListener('abort', onShutdown)
    // the requester is gone or misbehaved: whatever it asked for is no longer wanted
    for (const task of tasks.values()) {
      task.controller.abort(new AbortError('shard stream closed'))
    }
    // a frame queued in this turn (an error about the stream, say) goes out before the stream closes
    if (drainScheduled) {
      drainScheduled = false
      drain()
    }
    do {
      await drained
    } while (draining)
    open = false
    if (refused != null) {
      // the refusal is written before the stream is reset; a peer that holds its end open
      // (paused, it can send no more than its window) does not keep it
      await stream.close({ signal: AbortSignal.timeout(REFUSAL_CLOSE_TIMEOUT) }).catch(() => {})
      stream.abort(refused)
    } else if (deadline.signal.aborted) {
      // a peer that sends nothing may not close its end either: do not wait for it
      log('shard stream from %p closed: %s', requester, deadline.signal.reason.message)
      stream.abort(deadline.signal.reason)
    } else {
      await stream.close().catch(() => { stream.abort(new StreamClosedError('close failed')) })
    }
  }

  /**
   * Check and keep a countersigned frame without holding up the read loop (concurrent frames
   * share the sink's group commit); with `MAX_COUNTERSIGNED_QUEUE` of them under way, wait for
   * one to finish before reading on, so a requester that sends faster than the disk stores is
   * slowed down rather than its receipts lost, and its frames take bounded memory.
   */
  async function onCountersigned (frame: Countersigned): Promise<void> {
    const receipts = executor.receipts
    if (receipts?.enabled !== true) {
      log.trace('ignored countersigned receipts from %p: this worker keeps none', requester)
      return
    }
    const keeping: Promise<void> = receipts.keep(frame.jobId, frame.shardIndex, frame.receipts, requester).then(outcome => {
      options.onCountersigned?.(outcome)
    }).catch((err: Error) => {
      log.error('could not keep countersigned receipts from %p: %s', requester, err.message)
    }).finally(() => {
      countersigned.delete(keeping)
    })
    countersigned.add(keeping)
    if (countersigned.size >= MAX_COUNTERSIGNED_QUEUE) {
      await Promise.race(countersigned)
    }
  }

  function startShard (request: ShardRequest): void {
    const { id } = request
    if (tasks.has(id)) {
      send({ error: { id, code: 'ERR_INVALID_MESSAGE', message: `shard id ${id} is already in flight on this stream` } })
      return
    }
    const task: Task = { controller: new AbortController() }
    tasks.set(id, task)
    const timeout = request.timeoutMs > 0 ? setTimeout(() => { task.controller.abort(new ShardTimeoutError('shard deadline passed')) }, request.timeoutMs) : undefined
    // progress goes out once the shard has run for a progress interval: a short shard's result
    // is its only frame
    let lastProgress = Date.now()
    const started = performance.now()
    const outcome = (wire?: { code: string, message: string }): ShardOutcome => ({
      jobId: Buffer.from(request.jobId).toString('hex'),
      shardIndex: request.shardIndex,
      workload: `${request.workload}@${request.version}`,
      code: wire?.code,
      message: wire?.message,
      elapsedMs: performance.now() - started
    })
    void executor.execute({
      jobId: request.jobId,
      shardIndex: request.shardIndex,
      workload: request.workload,
      version: request.version,
      input: request.input,
      model: request.model.byteLength > 0 ? Buffer.from(request.model).toString('hex') : undefined,
      requester,
      // the price asked: signed into the receipt as asked (the requester refuses any other)
      lamportsPerItem: request.lamportsPerItem
    }, {
      signal: task.controller.signal,
      onProgress: (done) => {
        const now = Date.now()
        if (now - lastProgress >= options.progressInterval) {
          lastProgress = now
          send({ progress: { id, done } })
        }
      },
      fetchModel: async (digest) => fetchModel(id, task, digest)
    }).then(result => {
      send({ result: { id, output: result.output, receipt: result.receipt } })
      options.onShard?.('ok', outcome())
    }, (err: any) => {
      // a shard stopped on purpose fails for that purpose (a deadline, say), whatever the kernel threw
      const reason = task.controller.signal.aborted ? task.controller.signal.reason : undefined
      const wire = toWireError(isShardmeshError(reason) ? reason : err)
      log('shard %d of %p failed: %s %s', request.shardIndex, requester, wire.code, wire.message)
      send({ error: { id, ...wire } })
      options.onShard?.('error', outcome(wire))
    }).finally(() => {
      clearTimeout(timeout)
      tasks.delete(id)
      armDeadline()
    })
  }

  async function fetchModel (id: number, task: Task, digest: string): Promise<ModelFile> {
    // another shard, of this requester or another, may be receiving the model already: wait for
    // that transfer, and ask our own requester only if it fails (a wrong model, a cancelled
    // shard), since neither is this shard's fault
    for (let existing = options.inflightModels.get(digest); existing != null; existing = options.inflightModels.get(digest)) {
      try {
        return await raceAbort(existing, task.controller.signal)
      } catch (err) {
        if (task.controller.signal.aborted) {
          throw err
        }
      }
    }
    // nothing may be awaited from here until the transfer is registered below, or shards
    // arriving together would each ask for the model
    let timer: ReturnType<typeof setTimeout> | undefined
    const promise = new Promise<ModelFile>((resolve, reject) => {
      task.model = { digest, resolve, reject, writing: Promise.resolve(), done: false }
      timer = setTimeout(() => { reject(new ShardTimeoutError(`model ${digest} did not arrive within ${options.modelTimeout} ms`)) }, options.modelTimeout)
      task.controller.signal.addEventListener('abort', () => {
        const reason = task.controller.signal.reason
        reject(reason instanceof Error ? reason : new AbortError('shard cancelled'))
      }, { once: true })
      send({ needModel: { id, digest: Buffer.from(digest, 'hex') } })
    })
    options.inflightModels.set(digest, promise)
    const cleanup = (): void => {
      clearTimeout(timer)
      options.inflightModels.delete(digest)
      if (task.model != null) {
        task.model.done = true
        if (task.model.writer != null && !task.model.writer.complete) {
          void task.model.writer.abort()
        }
      }
    }
    promise.then(cleanup, cleanup)
    return promise
  }

  function onModelChunk (chunk: ModelChunk): void {
    const model = tasks.get(chunk.id)?.model
    if (model == null || model.done) {
      return
    }
    model.writing = model.writing.then(async () => {
      if (model.done) {
        return
      }
      if (Buffer.from(chunk.digest).toString('hex') !== model.digest || chunk.data.byteLength > MAX_MODEL_CHUNK_BYTES) {
        throw new ModelMismatchError('model chunk for another model, or over the chunk size limit')
      }
      if (model.writer == null) {
        const writer = await options.models.receive(model.digest, Number(chunk.total), requester.toString())
        if (model.done) {
          // given up on while the file was being created
          await writer.abort()
          return
        }
        model.writer = writer
      }
      await model.writer.write(Number(chunk.offset), chunk.data)
      if (model.writer.complete) {
        model.resolve(await model.writer.finish())
      }
    }).catch((err: Error) => {
      model.reject(err)
    })
  }
}

/** How long a refused stream's close may take to write the refusal before the stream is reset (ms). */
const REFUSAL_CLOSE_TIMEOUT = 5_000

/** `promise`, or the signal's reason as soon as it aborts. */
async function raceAbort <T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    throw abortReason(signal)
  }
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([promise, new Promise<never>((resolve, reject) => {
      onAbort = () => { reject(abortReason(signal)) }
      signal.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort != null) {
      signal.removeEventListener('abort', onAbort)
    }
  }
}

function abortReason (signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new AbortError('shard cancelled')
}
