import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LOG_READ_CHUNK_BYTES, MAX_LOG_RECORD_BYTES } from '../constants.js'
import { ReceiptStoreClosedError } from '../errors.js'
import { crc32 } from './crc32.js'
import type { FileHandle } from 'node:fs/promises'

/**
 * An append-only log of framed records, `u32 length ‖ u32 crc32 ‖ payload` (big-endian), with
 * group commit: appends queued while a flush is in progress go out together in the next one,
 * one write and one fdatasync for all of them. A flush's appends resolve only after its sync.
 *
 * At open the log is read up to the first frame that is short, claims an impossible length or
 * fails its checksum. A writer truncates the file there (what follows was never acknowledged,
 * unless the file was damaged in the middle: those bytes are first saved beside the log).
 */

const FRAME_HEADER = 8

/** Why the log's valid part ended before the end of the file. */
export type LogStop = 'torn-header' | 'bad-length' | 'torn-record' | 'bad-checksum'

export interface LogRecovery {
  /** bytes of whole, valid records */
  validBytes: number
  /** bytes after them that were dropped (for a reader: ignored) */
  discardedBytes: number
  stop?: LogStop
  /** where the dropped bytes were saved, if there were any and this is the writer */
  savedTo?: string
}

export interface LogStats {
  /** records appended since open */
  appends: number
  /** fdatasync calls made for appends since open */
  fsyncs: number
  /** bytes of the log */
  bytes: number
}

export interface OpenLogOptions {
  readOnly?: boolean
  /** called for each valid record in order; the payload's bytes are only valid during the call */
  onRecord(payload: Uint8Array, offset: number): void
}

interface Pending {
  frames: Uint8Array[]
  onDurable?(): void
  resolve(): void
  reject(err: Error): void
}

/** Reads a file forward in large chunks, handing out exact slices. */
class ChunkReader {
  private buffer = Buffer.alloc(0)
  private at = 0
  private filePosition = 0

  constructor (private readonly fh: FileHandle, private readonly size: number) {}

  /** The next `n` bytes, or undefined if the file ends first. */
  async take (n: number): Promise<Buffer | undefined> {
    const have = this.buffer.byteLength - this.at
    if (have < n) {
      const left = this.size - this.filePosition
      if (have + left < n) {
        return undefined
      }
      const next = Buffer.allocUnsafe(have + Math.min(left, Math.max(n - have, LOG_READ_CHUNK_BYTES)))
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

async function scan (fh: FileHandle, size: number, onRecord: OpenLogOptions['onRecord']): Promise<{ validBytes: number, stop?: LogStop }> {
  const reader = new ChunkReader(fh, size)
  let offset = 0
  while (offset < size) {
    const header = await reader.take(FRAME_HEADER)
    if (header == null) {
      return { validBytes: offset, stop: 'torn-header' }
    }
    const length = header.readUInt32BE(0)
    // a zero-filled tail (a crash after the size grew, before the data landed) reads as length 0
    if (length === 0 || length > MAX_LOG_RECORD_BYTES) {
      return { validBytes: offset, stop: 'bad-length' }
    }
    const payload = await reader.take(length)
    if (payload == null) {
      return { validBytes: offset, stop: 'torn-record' }
    }
    if (crc32(payload) !== header.readUInt32BE(4)) {
      return { validBytes: offset, stop: 'bad-checksum' }
    }
    onRecord(payload, offset)
    offset += FRAME_HEADER + length
  }
  return { validBytes: offset }
}

/** fsync a directory so that a file created in it survives a crash (not possible everywhere). */
export async function syncDirectory (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } catch (err: any) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF', 'EACCES'].includes(err.code)) {
      throw err
    }
  } finally {
    await fh.close()
  }
}

/** Copy the bytes of `fh` from `from` to its end into a new file `path`. */
async function saveTail (fh: FileHandle, from: number, size: number, path: string): Promise<void> {
  const out = await open(path, 'w')
  try {
    const buffer = Buffer.allocUnsafe(Math.min(size - from, LOG_READ_CHUNK_BYTES))
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

export function frame (payload: Uint8Array): Uint8Array {
  if (payload.byteLength === 0 || payload.byteLength > MAX_LOG_RECORD_BYTES) {
    throw new RangeError(`a log record is 1 to ${MAX_LOG_RECORD_BYTES} bytes, not ${payload.byteLength}`)
  }
  const framed = Buffer.allocUnsafe(FRAME_HEADER + payload.byteLength)
  framed.writeUInt32BE(payload.byteLength, 0)
  framed.writeUInt32BE(crc32(payload), 4)
  framed.set(payload, FRAME_HEADER)
  return framed
}

export class ReceiptLog {
  public readonly recovery: LogRecovery
  private readonly queue: Pending[] = []
  private flushing?: Promise<void>
  private size: number
  private appends = 0
  private fsyncs = 0
  private failure?: Error
  private closed = false

  private constructor (private readonly fh: FileHandle | undefined, recovery: LogRecovery) {
    this.recovery = recovery
    this.size = recovery.validBytes
  }

  /** Open (a writer creates) the log at `path`, replaying its valid records into `onRecord`. */
  static async open (path: string, options: OpenLogOptions): Promise<ReceiptLog> {
    const readOnly = options.readOnly === true
    let fh: FileHandle
    try {
      fh = await open(path, readOnly ? 'r' : 'r+')
    } catch (err: any) {
      if (err.code !== 'ENOENT') {
        throw err
      }
      if (readOnly) {
        return new ReceiptLog(undefined, { validBytes: 0, discardedBytes: 0 })
      }
      fh = await open(path, 'wx+')
      await fh.sync()
      await syncDirectory(dirname(path))
    }
    try {
      const size = (await fh.stat()).size
      const { validBytes, stop } = await scan(fh, size, options.onRecord)
      const recovery: LogRecovery = { validBytes, discardedBytes: size - validBytes, stop }
      if (readOnly) {
        await fh.close()
        return new ReceiptLog(undefined, recovery)
      }
      if (validBytes < size) {
        recovery.savedTo = `${path}.discarded-${validBytes}`
        await saveTail(fh, validBytes, size, recovery.savedTo)
        await fh.truncate(validBytes)
        await fh.sync()
      }
      return new ReceiptLog(fh, recovery)
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  /**
   * Append records; resolves once they are on disk. `onDurable` runs synchronously right after
   * the sync, in append order, before any later append's.
   */
  async append (payloads: Uint8Array[], onDurable?: () => void): Promise<void> {
    if (this.fh == null) {
      throw new ReceiptStoreClosedError('the receipt log is open read-only')
    }
    if (this.closed || this.failure != null) {
      throw new ReceiptStoreClosedError(this.failure != null ? 'a write to the receipt log failed' : undefined, { cause: this.failure })
    }
    const frames = payloads.map(frame)
    const durable = new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, onDurable, resolve, reject })
    })
    this.flushing ??= this.flush(this.fh)
    return durable
  }

  private async flush (fh: FileHandle): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0)
      const bytes = Buffer.concat(group.flatMap(p => p.frames))
      try {
        for (let written = 0; written < bytes.byteLength;) {
          const { bytesWritten } = await fh.write(bytes, written, bytes.byteLength - written, this.size + written)
          written += bytesWritten
        }
        await fh.datasync()
      } catch (err: any) {
        // the file's tail is unknown now (and after a failed fsync, so is the page cache): stop
        // writing; the next open truncates whatever part of this group landed
        this.failure = err
        for (const p of [...group, ...this.queue.splice(0)]) {
          p.reject(new ReceiptStoreClosedError(`a write to the receipt log failed: ${err.message}`, { cause: err }))
        }
        break
      }
      this.size += bytes.byteLength
      this.fsyncs++
      for (const p of group) {
        this.appends += p.frames.length
        try {
          p.onDurable?.()
          p.resolve()
        } catch (err: any) {
          p.reject(err)
        }
      }
    }
    this.flushing = undefined
  }

  stats (): LogStats {
    return { appends: this.appends, fsyncs: this.fsyncs, bytes: this.size }
  }

  /** Wait for queued appends, then close the file. */
  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    await this.flushing
    await this.fh?.close()
  }
}
