import { StreamClosedError } from './errors.js'
import type { Stream } from '@libp2p/interface'
import { InboundBudgetError } from '@shardmesh/protocol'
import type { InboundBudget } from '@shardmesh/protocol'

/**
 * Length-prefixed frames (an unsigned varint length, then that many bytes) on a libp2p stream,
 * read and written without `lpStream`'s per-byte awaits: every frame that a chunk of the stream
 * completes is cut out at once, zero-copy when it lies in one chunk. A shard stream carries tens
 * of thousands of small frames a second, and reading one byte of length at a time through a
 * byte list cost more than the frames' decoding.
 */

/** A frame's length prefix says more than `maxDataLength` bytes. */
export class InvalidDataLengthError extends Error {
  override name = 'InvalidDataLengthError'
}

/** A frame's length prefix is longer than any allowed length needs. */
export class InvalidDataLengthLengthError extends Error {
  override name = 'InvalidDataLengthLengthError'
}

/** The peer sent more than the read buffer holds before it was read. */
export class StreamBufferError extends Error {
  override name = 'StreamBufferError'
}

/** The stream ended in the middle of a frame. */
export class UnexpectedEOFError extends Error {
  override name = 'UnexpectedEOFError'
}

export interface FrameReaderInit {
  /** the largest frame accepted (bytes) */
  maxDataLength: number
  /** the most bytes held unread; more aborts the stream with `StreamBufferError` */
  maxBufferSize: number
  /**
   * The node-wide inbound budget the stream's bytes are taken from (inbound streams): the
   * reader reads on only while the frame it is receiving fits what it holds of the budget;
   * otherwise it pauses the stream and waits in line, and a wait that times out aborts the
   * stream with `InboundBudgetError`.
   */
  budget?: { budget: InboundBudget, peer: string, protocol: string }
}

/** Bytes a varint needs for `value`. */
function varintLength (value: number): number {
  let bytes = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    bytes++
  }
  return bytes
}

/**
 * Reads the frames of one stream, in order. Listens to the stream from construction (as
 * `lpStream` does), so nothing the peer sends is missed; `read()` returns the next whole frame,
 * undefined once the peer closed its end cleanly between frames.
 */
export class FrameReader {
  private readonly chunks: Uint8Array[] = []
  /** where the first chunk's unread bytes start */
  private offset = 0
  private buffered = 0
  private failure?: Error
  private ended = false
  private wake?: () => void
  private readonly maxLengthLength: number
  /** bytes held of the inbound budget */
  private charged = 0
  /** the whole length (prefix and body) of the frame at the head of the buffer, once its prefix arrived */
  private headFrame = 0
  /** a wait for budget is under way (the stream is paused) */
  private waiting?: AbortController
  /** closed by its owner: it holds nothing more of the budget */
  private closed = false

  constructor (private readonly stream: Stream, private readonly init: FrameReaderInit) {
    this.maxLengthLength = varintLength(init.maxDataLength)
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('close', this.onClose)
    stream.addEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
  }

  private readonly onMessage = (evt: { data: Uint8Array | Iterable<Uint8Array> }): void => {
    if (this.failure != null) {
      return
    }
    const data = evt.data
    if (data instanceof Uint8Array) {
      this.push(data)
    } else {
      for (const chunk of data) {
        this.push(chunk)
      }
    }
    if (this.buffered > this.init.maxBufferSize) {
      this.fail(new StreamBufferError(`read buffer overflow - ${this.buffered} > ${this.init.maxBufferSize}`))
    } else {
      this.settle()
    }
    this.wake?.()
  }

  /**
   * Give up on the stream: drop what it buffered and abort it with `err` (after the current
   * dispatch). A refusal by the budget leaves the stream open (and paused) for the caller to
   * say why before it closes it: `read()` throws the `InboundBudgetError`.
   */
  private fail (err: Error): void {
    this.failure = err
    this.chunks.length = 0
    this.buffered = 0
    this.giveBack()
    if (err.name !== 'InboundBudgetError') {
      // let the current dispatch finish first
      queueMicrotask(() => { this.stream.abort(err) })
    }
  }

  /**
   * Hold as much of the budget as the reader needs: the bytes it buffers, or the whole frame
   * being received if that is more. What is no longer needed goes back; what is missing is
   * taken if it fits, or else the stream pauses until it is granted (the bytes already in
   * memory are charged anyway).
   */
  private settle (): void {
    const budget = this.init.budget
    if (budget == null || this.failure != null || this.closed) {
      return
    }
    const want = Math.max(this.buffered, this.headFrame)
    if (want < this.charged) {
      budget.budget.release(budget.peer, this.charged - want)
      this.charged = want
      return
    }
    // while it waits the stream is paused: libp2p holds what still arrives (at most what the
    // sender had in flight, and never more than the stream's maxReadBufferLength), and hands it
    // over once the reader resumes
    if (want === this.charged || this.waiting != null) {
      return
    }
    if (this.headFrame > budget.budget.maxPeerBytes) {
      // it could never fit: refused now, not after a wait
      budget.budget.refuse(budget.protocol, 'bytes')
      this.fail(new InboundBudgetError(`a frame of ${this.headFrame} bytes is over this node's inbound share per peer (${budget.budget.maxPeerBytes} bytes)`, 'bytes'))
      return
    }
    if (budget.budget.tryTake(budget.peer, want - this.charged)) {
      this.charged = want
      return
    }
    if (this.buffered > this.charged) {
      budget.budget.force(budget.peer, this.buffered - this.charged)
      this.charged = this.buffered
    }
    // what is missing of the frame, or (a reader that holds more than fits: a slow reader, or
    // bytes forced in over the budget) a byte of room: the stream reads on once there is room
    const amount = Math.max(want - this.charged, 1)
    const waiting = this.waiting = new AbortController()
    try {
      this.stream.pause()
    } catch {
      // closing already: nothing more will come
    }
    budget.budget.take(budget.peer, amount, { protocol: budget.protocol, signal: waiting.signal }).then(() => {
      this.waiting = undefined
      this.charged += amount
      if (this.failure != null || this.ended) {
        this.giveBack()
        return
      }
      try {
        this.stream.resume()
      } catch {}
      this.settle()
    }, (err: Error) => {
      this.waiting = undefined
      if (waiting.signal.aborted || this.failure != null) {
        return
      }
      this.fail(err)
      this.wake?.()
    })
  }

  /** Give back every byte held of the budget, and leave the line. */
  private giveBack (): void {
    this.waiting?.abort()
    this.waiting = undefined
    if (this.init.budget != null && this.charged > 0) {
      this.init.budget.budget.release(this.init.budget.peer, this.charged)
    }
    this.charged = 0
  }

  private readonly onClose = (evt: { error?: Error }): void => {
    if (evt.error != null) {
      this.failure ??= evt.error
    }
    this.ended = true
    if (this.failure != null) {
      this.chunks.length = 0
      this.buffered = 0
      this.giveBack()
    }
    this.wake?.()
  }

  private readonly onRemoteCloseWrite = (): void => {
    this.ended = true
    this.wake?.()
  }

  private push (chunk: Uint8Array): void {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.byteLength
    }
  }

  /** The next frame; undefined when the peer ended the stream cleanly between frames. */
  async read (options: { signal?: AbortSignal } = {}): Promise<Uint8Array | undefined> {
    while (true) {
      const frame = this.take()
      this.settle()
      if (frame != null) {
        return frame
      }
      if (this.failure != null) {
        throw this.failure
      }
      if (this.ended) {
        if (this.buffered === 0) {
          return undefined
        }
        throw new UnexpectedEOFError(`the stream ended inside a frame, ${this.buffered} bytes into it`)
      }
      const signal = options.signal
      if (signal?.aborted === true) {
        throw signal.reason instanceof Error ? signal.reason : new StreamClosedError('read aborted')
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.wake = undefined
          const reason = signal?.reason
          reject(reason instanceof Error ? reason : new StreamClosedError('read aborted'))
        }
        this.wake = () => {
          this.wake = undefined
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
  }

  /** Stop listening to the stream. */
  close (): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('close', this.onClose)
    this.stream.removeEventListener('remoteCloseWrite', this.onRemoteCloseWrite)
    this.ended = true
    this.closed = true
    this.chunks.length = 0
    this.buffered = 0
    this.headFrame = 0
    this.giveBack()
    this.wake?.()
  }

  /** Cut the next whole frame out of the buffer, or null when it has not all arrived. */
  private take (): Uint8Array | null {
    if (this.buffered === 0) {
      return null
    }
    // the varint length, which may span chunks
    let length = 0
    let scale = 1
    let prefix = 0
    let chunk = 0
    let at = this.offset
    while (true) {
      if (prefix >= this.maxLengthLength) {
        throw new InvalidDataLengthLengthError(`frame length prefix longer than ${this.maxLengthLength} bytes`)
      }
      while (chunk < this.chunks.length && at >= this.chunks[chunk].byteLength) {
        chunk++
        at = 0
      }
      if (chunk >= this.chunks.length) {
        return null
      }
      const byte = this.chunks[chunk][at++]
      prefix++
      length += (byte & 0x7f) * scale
      scale *= 0x80
      if (byte < 0x80) {
        break
      }
    }
    if (length > this.init.maxDataLength) {
      throw new InvalidDataLengthError(`frame of ${length} bytes, over the ${this.init.maxDataLength} byte limit`)
    }
    if (this.buffered < prefix + length) {
      this.headFrame = prefix + length
      return null
    }
    this.headFrame = 0
    this.consume(prefix)
    return this.cut(length)
  }

  private consume (bytes: number): void {
    this.buffered -= bytes
    while (bytes > 0) {
      const left = this.chunks[0].byteLength - this.offset
      if (bytes < left) {
        this.offset += bytes
        return
      }
      bytes -= left
      this.chunks.shift()
      this.offset = 0
    }
  }

  private cut (length: number): Uint8Array {
    const first = this.chunks[0]
    if (length === 0) {
      return new Uint8Array(0)
    }
    if (first.byteLength - this.offset >= length) {
      const frame = first.subarray(this.offset, this.offset + length)
      this.consume(length)
      return frame
    }
    const frame = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const head = this.chunks[0]
      const take = Math.min(length - filled, head.byteLength - this.offset)
      frame.set(head.subarray(this.offset, this.offset + take), filled)
      filled += take
      this.consume(take)
    }
    return frame
  }
}

/** One length-prefixed buffer holding `frames`, each after its varint length. */
export function encodeFrames (frames: Uint8Array[]): Uint8Array {
  let total = 0
  for (const frame of frames) {
    total += varintLength(frame.byteLength) + frame.byteLength
  }
  const out = new Uint8Array(total)
  let at = 0
  for (const frame of frames) {
    let length = frame.byteLength
    while (length >= 0x80) {
      out[at++] = (length & 0x7f) | 0x80
      length = Math.floor(length / 0x80)
    }
    out[at++] = length
    out.set(frame, at)
    at += frame.byteLength
  }
  return out
}

/**
 * Write `frames` in one send; when the stream's send buffer is full, wait until it drains (or
 * the stream closes, or `signal` aborts).
 */
export async function writeFrames (stream: Stream, frames: Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<void> {
  if (stream.send(encodeFrames(frames))) {
    return
  }
  const signal = options.signal
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      if (err != null) {
        reject(err)
      } else {
        resolve()
      }
    }
    const onDrain = (): void => { done() }
    const onClose = (): void => { done(new StreamClosedError('the stream closed while a write waited for it to drain')) }
    const onAbort = (): void => { done(signal?.reason ?? new StreamClosedError('aborted')) }
    if (signal?.aborted === true) {
      onAbort()
      return
    }
    stream.addEventListener('drain', onDrain, { once: true })
    stream.addEventListener('close', onClose, { once: true })
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Take frames from the front of `queue` for one write: at least one, then more while they stay
 * within `maxBytes` in all.
 */
export function takeFrames (queue: Uint8Array[], maxBytes: number): Uint8Array[] {
  let bytes = 0
  let count = 0
  while (count < queue.length && (count === 0 || bytes + queue[count].byteLength <= maxBytes)) {
    bytes += queue[count].byteLength
    count++
  }
  return queue.splice(0, count)
}
