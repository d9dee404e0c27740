import { open } from 'node:fs/promises'
import { crc32 } from './crc32.js'
import { AppendLogCorruptError } from './errors.js'
import type { FileHandle } from 'node:fs/promises'

/**
 * The frames of an append-only log, `u32 length ‖ u32 crc32 ‖ payload`, and how a log is read
 * back at open: up to the first frame that is short, claims an impossible length or fails its
 * checksum (see `AppendLog` for what a writer then does with the rest).
 */

export const FRAME_HEADER = 8


/** How a log lays out its frames. */
export interface AppendLogFormat {
  /** byte order of the length and checksum */
  byteOrder: 'big' | 'little'
  /** the largest payload (bytes) */
  maxRecordBytes: number
}

/** Why the log's valid part ended before the end of the file. */
export type LogStop = 'torn-header' | 'bad-length' | 'torn-record' | 'bad-checksum'

/** One frame of `payload` in `format`. */
export function encodeFrame (payload: Uint8Array, format: AppendLogFormat): Uint8Array {
  if (payload.byteLength === 0 || payload.byteLength > format.maxRecordBytes) {
    throw new RangeError(`a log record is 1 to ${format.maxRecordBytes} bytes, not ${payload.byteLength}`)
  }
  const framed = Buffer.allocUnsafe(FRAME_HEADER + payload.byteLength)
  if (format.byteOrder === 'big') {
    framed.writeUInt32BE(payload.byteLength, 0)
    framed.writeUInt32BE(crc32(payload), 4)
  } else {
    framed.writeUInt32LE(payload.byteLength, 0)
    framed.writeUInt32LE(crc32(payload), 4)
  }
  framed.set(payload, FRAME_HEADER)
  return framed
}

/** Reads a file forward in large chunks, handing out exact slices. */
class ChunkReader {
  private buffer = Buffer.alloc(0)
  private at = 0
  private filePosition = 0

  constructor (private readonly fh: FileHandle, private readonly size: number, private readonly chunk: number) {}

  /** The next `n` bytes, or undefined if the file ends first. */
  async take (n: number): Promise<Buffer | undefined> {
    const have = this.buffer.byteLength - this.at
    if (have < n) {
      const left = this.size - this.filePosition
      if (have + left < n) {
        return undefined
      }
      const next = Buffer.allocUnsafe(have + Math.min(left, Math.max(n - have, this.chunk)))
      this.buffer.copy(next, 0, this.at)
      let filled = have
      while (filled < next.byteLength) {
        const { bytesRead } = await this.fh.read(next, filled, next.byteLength - filled, this.filePosition)
        if (bytesRead === 0) {
          return undefined
        }
        filled += bytesRead
        this.filePosition += bytesRead
      }
      this.buffer = next
      this.at = 0
    }
    const slice = this.buffer.subarray(this.at, this.at + n)
    this.at += n
    return slice
  }
}

export interface Scan {
  validBytes: number
  stop?: LogStop
  /** for a stop on a frame header that was read: the frame's claimed length */
  length?: number
}

export async function scanFrames (fh: FileHandle, size: number, format: AppendLogFormat, chunk: number, onRecord: (payload: Uint8Array, offset: number) => void): Promise<Scan> {
  const { byteOrder, maxRecordBytes } = format
  const reader = new ChunkReader(fh, size, chunk)
  let offset = 0
  while (offset < size) {
    const header = await reader.take(FRAME_HEADER)
    if (header == null) {
      return { validBytes: offset, stop: 'torn-header' }
    }
    const length = byteOrder === 'big' ? header.readUInt32BE(0) : header.readUInt32LE(0)
    const checksum = byteOrder === 'big' ? header.readUInt32BE(4) : header.readUInt32LE(4)
    // a zero-filled tail (grown ahead, or a crash after the size grew, before the data landed) reads as length 0
    if (length === 0 || length > maxRecordBytes) {
      return { validBytes: offset, stop: 'bad-length', length }
    }
    const payload = await reader.take(length)
    if (payload == null) {
      return { validBytes: offset, stop: 'torn-record', length }
    }
    if (crc32(payload) !== checksum) {
      return { validBytes: offset, stop: 'bad-checksum', length }
    }
    onRecord(payload, offset)
    offset += FRAME_HEADER + length
  }
  return { validBytes: offset }
}

/** True if the bytes of `fh` from `from` to `size` are all zeros (or there are none). */
async function zerosFrom (fh: FileHandle, from: number, size: number, chunk: number): Promise<boolean> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(size - from, chunk)))
  for (let at = from; at < size;) {
    const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.byteLength, size - at), at)
    if (bytesRead === 0) {
      break
    }
    for (let i = 0; i < bytesRead; i++) {
      if (buffer[i] !== 0) {
        return false
      }
    }
    at += bytesRead
  }
  return true
}

/** Under the 'strict' tail policy: refuse damage that is not a torn last record. */
export async function checkStrict (fh: FileHandle, path: string, size: number, found: Scan, chunk: number): Promise<void> {
  const offset = found.validBytes
  const length = found.length ?? 0
  const end = offset + FRAME_HEADER + length
  if (found.stop === 'bad-length' && end <= size && !(await zerosFrom(fh, offset, size, chunk))) {
    throw new AppendLogCorruptError(`${path}: record at byte ${offset} has an impossible length ${length}`, offset)
  }
  if (found.stop === 'bad-checksum' && !(await zerosFrom(fh, end, size, chunk))) {
    throw new AppendLogCorruptError(`${path}: record at byte ${offset} fails its checksum and is not the last one`, offset)
  }
}

/** Copy the bytes of `fh` from `from` to its end into a new file `path`. */
export async function saveTail (fh: FileHandle, from: number, size: number, path: string, chunk: number): Promise<void> {
  const out = await open(path, 'w')
  try {
    const buffer = Buffer.allocUnsafe(Math.min(size - from, chunk))
    for (let at = from; at < size;) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.byteLength, size - at), at)
      if (bytesRead === 0) {
        break
      }
      await out.write(buffer, 0, bytesRead)
      at += bytesRead
    }
    await out.sync()
  } finally {
    await out.close()
  }
}
