import { fdatasyncSync, fsyncSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname } from 'node:path'
import { checkStrict, encodeFrame, saveTail, scanFrames } from './append-log-frame.js'
import { AppendLogClosedError } from './errors.js'
import type { AppendLogFormat, LogStop } from './append-log-frame.js'
import type { FileHandle } from 'node:fs/promises'

/**
 * An append-only log of framed records, `u32 length ‖ u32 crc32 ‖ payload`, each append on disk
 * (written and fdatasync'd) before it resolves. Async appends queued while a flush is in
 * progress go out together in the next one (group commit: one write and one fdatasync for all
 * of them); `appendSync` writes and syncs one record in the calling turn, for single-stepped
 * callers.
 *
 * At open the log is read up to the first frame that is short, claims an impossible length or
 * fails its checksum, and a writer cuts the file there. What happens to the bytes after it is
 * the log's `tail` policy:
 * - `'save'`: they were never acknowledged (unless the file was damaged in the middle), so they
 *   are saved beside the log (`<path>.discarded-<offset>`) and dropped;
 * - `'strict'`: only a damaged last record is dropped (only zeros, or nothing, follow it); any
 *   other damage refuses the open with `AppendLogCorruptError`.
 *
 * With `preallocate`, the file is grown ahead in zero-filled steps, so an append does not
 * change its size and the sync has no metadata to write; the zeros after the last frame are
 * cut off on close (and read as a torn tail after a crash).
 */

export { encodeFrame } from './append-log-frame.js'
export type { AppendLogFormat, LogStop } from './append-log-frame.js'

export interface LogRecovery {
  /** bytes of whole, valid records */
  validBytes: number
  /** bytes after them that were dropped (for a reader: ignored) */
  discardedBytes: number
  stop?: LogStop
  /** where the dropped bytes were saved, if there were any, the tail policy is 'save' and this is the writer */
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

export interface OpenAppendLogOptions {
  format: AppendLogFormat
  /** open for reading only: nothing is created, cut or written @default false */
  readOnly?: boolean
  /** what a writer does with the bytes after the valid part @default 'save' */
  tail?: 'save' | 'strict'
  /** grow the file ahead in zero-filled steps of this many bytes @default 0 (no) */
  preallocate?: number
  /** what error messages call the log @default 'the log' */
  name?: string
  /** bytes read at a time at open @default 1 MiB */
  readChunkBytes?: number
  /** called for each valid record in order; the payload's bytes are only valid during the call */
  onRecord(payload: Uint8Array, offset: number): void
}

interface Pending {
  frames: Uint8Array[]
  onDurable?(): void
  resolve(): void
  reject(err: Error): void
}

const READ_CHUNK_BYTES = 1024 * 1024

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

function writeAllSync (fd: number, bytes: Uint8Array, position: number): void {
  for (let written = 0; written < bytes.byteLength;) {
    written += writeSync(fd, bytes, written, bytes.byteLength - written, position + written)
  }
}

export class AppendLog {
  public readonly recovery: LogRecovery
  private readonly queue: Pending[] = []
  private flushing?: Promise<void>
  /** where the next frame goes */
  private size: number
  /** the file's size: zeros from `size` to here */
  private allocated: number
  private appends = 0
  private fsyncs = 0
  private failure?: Error
  private closed = false

  private constructor (private readonly fh: FileHandle | undefined, private readonly format: AppendLogFormat, private readonly preallocate: number, private readonly name: string, recovery: LogRecovery) {
    this.recovery = recovery
    this.size = recovery.validBytes
    this.allocated = this.size
  }

  /** Open (a writer creates) the log at `path`, replaying its valid records into `onRecord`. */
  static async open (path: string, options: OpenAppendLogOptions): Promise<AppendLog> {
    const readOnly = options.readOnly === true
    const chunk = options.readChunkBytes ?? READ_CHUNK_BYTES
    const preallocate = options.preallocate ?? 0
    const name = options.name ?? 'the log'
    let fh: FileHandle
    try {
      fh = await open(path, readOnly ? 'r' : 'r+')
    } catch (err: any) {
      if (err.code !== 'ENOENT') {
        throw err
      }
      if (readOnly) {
        return new AppendLog(undefined, options.format, preallocate, name, { validBytes: 0, discardedBytes: 0 })
      }
      fh = await open(path, 'wx+')
      await fh.sync()
      await syncDirectory(dirname(path))
    }
    try {
      const size = (await fh.stat()).size
      const found = await scanFrames(fh, size, options.format, chunk, options.onRecord)
      const { validBytes, stop } = found
      const recovery: LogRecovery = { validBytes, discardedBytes: size - validBytes, stop }
      if (readOnly) {
        await fh.close()
        return new AppendLog(undefined, options.format, preallocate, name, recovery)
      }
      if (validBytes < size) {
        if (options.tail === 'strict') {
          await checkStrict(fh, path, size, found, chunk)
        } else {
          recovery.savedTo = `${path}.discarded-${validBytes}`
          await saveTail(fh, validBytes, size, recovery.savedTo, chunk)
        }
        await fh.truncate(validBytes)
        await fh.sync()
      }
      return new AppendLog(fh, options.format, preallocate, name, recovery)
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
    const fh = this.writable()
    const frames = payloads.map(payload => encodeFrame(payload, this.format))
    const durable = new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, onDurable, resolve, reject })
    })
    this.flushing ??= this.flush(fh)
    return durable
  }

  /** Append one record and return once it is on disk, without yielding (no async append may be under way). */
  appendSync (payload: Uint8Array): void {
    const fh = this.writable()
    if (this.flushing != null) {
      throw new Error('appendSync while asynchronous appends are being written')
    }
    const frame = encodeFrame(payload, this.format)
    try {
      if (this.preallocate > 0 && this.size + frame.byteLength > this.allocated) {
        this.growSync(fh.fd, frame.byteLength)
      }
      writeAllSync(fh.fd, frame, this.size)
      fdatasyncSync(fh.fd)
    } catch (err: any) {
      this.failure = err
      throw new AppendLogClosedError('failed', `a write to ${this.name} failed: ${err.message}`, { cause: err })
    }
    this.size += frame.byteLength
    this.appends++
    this.fsyncs++
  }

  private writable (): FileHandle {
    if (this.fh == null) {
      throw new AppendLogClosedError('read-only', `${this.name} is open read-only`)
    }
    if (this.closed || this.failure != null) {
      throw this.failure != null
        ? new AppendLogClosedError('failed', `a write to ${this.name} failed`, { cause: this.failure })
        : new AppendLogClosedError('closed', `${this.name} is closed`)
    }
    return this.fh
  }

  /** Add zeros at the end of the file (at least `need` bytes) and sync its new size. */
  private growSync (fd: number, need: number): void {
    const step = Buffer.alloc(Math.max(need, this.preallocate))
    writeAllSync(fd, step, this.allocated)
    fsyncSync(fd)
    this.allocated += step.byteLength
  }

  private async flush (fh: FileHandle): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0)
      const bytes = Buffer.concat(group.flatMap(p => p.frames))
      try {
        if (this.preallocate > 0 && this.size + bytes.byteLength > this.allocated) {
          this.growSync(fh.fd, bytes.byteLength)
        }
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
          p.reject(new AppendLogClosedError('failed', `a write to ${this.name} failed: ${err.message}`, { cause: err }))
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

  /** Wait for queued appends, cut the zeros grown ahead, then close the file. */
  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    await this.flushing
    if (this.fh == null) {
      return
    }
    try {
      if (this.allocated > this.size && this.failure == null) {
        await this.fh.truncate(this.size)
        await this.fh.sync()
      }
    } finally {
      await this.fh.close()
    }
  }
}
