import { InvalidMessageError, MessageTooLargeError } from '@shardmesh/protocol'
import type { AbortOptions, Stream } from '@libp2p/interface'

/**
 * The frames of the one-request, one-answer receipt protocols (`/shardmesh/receipt-proofs/1.0.0`,
 * `/shardmesh/receipt-batches/1.0.0`): an unsigned varint length, then that many bytes.
 */

/** The longest length prefix read: 5 varint bytes (lengths below 2^35). */
export const MAX_VARINT_BYTES = 5

function chunkBytes (chunk: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray()
}

/** Write one frame: an unsigned varint length, then the bytes. */
export async function writeFrame (stream: Stream, bytes: Uint8Array, options: AbortOptions): Promise<void> {
  const prefix: number[] = []
  let n = bytes.byteLength
  while (n >= 0x80) {
    prefix.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  prefix.push(n)
  const frame = new Uint8Array(prefix.length + bytes.byteLength)
  frame.set(prefix, 0)
  frame.set(bytes, prefix.length)
  if (!stream.send(frame)) {
    await stream.onDrain(options)
  }
}

/**
 * Read one frame of at most `max` bytes (`MessageTooLargeError` when its prefix says more,
 * `InvalidMessageError` when the stream ends before the whole frame); what follows it is not
 * read. The signal aborts the stream.
 */
export async function readFrame (stream: Stream, max: number, options: AbortOptions): Promise<Uint8Array> {
  const signal = options.signal
  signal?.throwIfAborted()
  const onAbort = (): void => { stream.abort(signal?.reason ?? new Error('aborted')) }
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const chunks: Uint8Array[] = []
    let received = 0
    let buffer = new Uint8Array(0)
    let length: number | undefined
    let start = 0
    for await (const chunk of stream) {
      const bytes = chunkBytes(chunk)
      if (length == null) {
        // the prefix is not read yet: join what came so far (a few bytes at most)
        const joined = new Uint8Array(buffer.byteLength + bytes.byteLength)
        joined.set(buffer, 0)
        joined.set(bytes, buffer.byteLength)
        buffer = joined
        let value = 0
        for (let i = 0; i < Math.min(buffer.byteLength, MAX_VARINT_BYTES); i++) {
          value += (buffer[i] & 0x7f) * 2 ** (7 * i)
          if ((buffer[i] & 0x80) === 0) {
            length = value
            start = i + 1
            break
          }
        }
        if (length == null && buffer.byteLength >= MAX_VARINT_BYTES) {
          throw new MessageTooLargeError(`frame length prefix over ${MAX_VARINT_BYTES} bytes`)
        }
        if (length == null) {
          continue
        }
        if (length > max) {
          throw new MessageTooLargeError(`a frame of ${length} bytes, over the ${max} byte limit`)
        }
        chunks.push(buffer.subarray(start))
        received = buffer.byteLength - start
      } else {
        chunks.push(bytes)
        received += bytes.byteLength
      }
      if (received >= length) {
        // one copy of the whole frame, not one per chunk (an answer may be megabytes)
        const frame = new Uint8Array(received)
        let offset = 0
        for (const part of chunks) {
          frame.set(part, offset)
          offset += part.byteLength
        }
        return frame.subarray(0, length)
      }
    }
    signal?.throwIfAborted()
    throw new InvalidMessageError('the stream ended before a whole frame')
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}
