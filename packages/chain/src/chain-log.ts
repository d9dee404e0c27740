import fs from 'node:fs'
import path from 'node:path'
import { crc32 } from 'node:zlib'
import { CHAIN_LOG_FILE, LOCK_FILE, LOG_PREALLOCATE_BYTES, MAX_LOG_RECORD_BYTES } from './constants.js'
import { ChainLockedError, ChainLogCorruptError } from './errors.js'
import { decodeLogRecord, encodeLogRecord } from './log-record.js'
import type { LogRecord } from './log-record.js'

/**
 * The chain's durable history: `<dataDir>/chain.log`, an append-only sequence of frames
 * `u32 length | u32 crc32 | JSON payload` (little-endian), each written and fdatasync'd
 * before the call that made it returns. The file is grown ahead in zero-filled steps, so an
 * append does not change its size and the sync has no metadata to write (about twice the
 * syncs per second); the zeros after the last frame are cut off on close. A damaged frame
 * followed only by zeros (a torn write) is cut off on open; one followed by data is refused.
 * `<dataDir>/LOCK` holds the pid of the process using the dir, so two chains never share one.
 */

const FRAME_HEADER = 8
let zeros: Buffer | undefined

/** Data dirs held by chains in this process (the pid in the lock file cannot tell them apart). */
const heldInProcess = new Set<string>()

export class ChainLog {
  private readonly dataDir: string
  private fd: number | undefined
  private readonly lockPath: string
  /** where the next frame goes */
  private end: number
  /** the file's size: zeros from `end` to here */
  private allocated: number

  private constructor (dataDir: string, fd: number, lockPath: string, end: number) {
    this.dataDir = dataDir
    this.fd = fd
    this.lockPath = lockPath
    this.end = end
    this.allocated = end
  }

  /** Lock `dataDir`, read back every intact record and open the log for appending. */
  static open (dataDir: string): { log: ChainLog, records: LogRecord[] } {
    const dir = path.resolve(dataDir)
    fs.mkdirSync(dir, { recursive: true })
    const lockPath = acquireLock(dir)
    try {
      const file = path.join(dir, CHAIN_LOG_FILE)
      const existed = fs.existsSync(file)
      const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT)
      try {
        const bytes = fs.readFileSync(fd)
        const { records, validLength } = readFrames(bytes, file)
        if (validLength < bytes.length) {
          fs.ftruncateSync(fd, validLength)
          fs.fsyncSync(fd)
        }
        if (!existed) {
          syncDir(dir)
        }
        return { log: new ChainLog(dir, fd, lockPath, validLength), records }
      } catch (err) {
        fs.closeSync(fd)
        throw err
      }
    } catch (err) {
      releaseLock(dir, lockPath)
      throw err
    }
  }

  /** Append one record and wait until it is on disk. */
  append (record: LogRecord): void {
    if (this.fd == null) {
      throw new Error('the chain log is closed')
    }
    const payload = Buffer.from(encodeLogRecord(record), 'utf8')
    const frame = Buffer.allocUnsafe(FRAME_HEADER + payload.length)
    frame.writeUInt32LE(payload.length, 0)
    frame.writeUInt32LE(crc32(payload), 4)
    payload.copy(frame, FRAME_HEADER)
    if (this.end + frame.length > this.allocated) {
      this.grow(this.fd, frame.length)
    }
    writeAll(this.fd, frame, this.end)
    fs.fdatasyncSync(this.fd)
    this.end += frame.length
  }

  /** Add zeros at the end of the file (at least `need` bytes) and sync its new size. */
  private grow (fd: number, need: number): void {
    zeros ??= Buffer.alloc(LOG_PREALLOCATE_BYTES)
    const step = need <= zeros.length ? zeros : Buffer.alloc(need)
    writeAll(fd, step, this.allocated)
    fs.fsyncSync(fd)
    this.allocated += step.length
  }

  close (): void {
    if (this.fd == null) {
      return
    }
    try {
      fs.ftruncateSync(this.fd, this.end)
      fs.fsyncSync(this.fd)
    } finally {
      fs.closeSync(this.fd)
      this.fd = undefined
      releaseLock(this.dataDir, this.lockPath)
    }
  }
}

function writeAll (fd: number, bytes: Buffer, position: number): void {
  let written = 0
  while (written < bytes.length) {
    written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written)
  }
}

function readFrames (bytes: Buffer, file: string): { records: LogRecord[], validLength: number } {
  const records: LogRecord[] = []
  let offset = 0
  while (offset < bytes.length) {
    const rest = bytes.length - offset
    if (rest < FRAME_HEADER) {
      break // torn header
    }
    const length = bytes.readUInt32LE(offset)
    const end = offset + FRAME_HEADER + length
    if (length === 0 || length > MAX_LOG_RECORD_BYTES || end > bytes.length) {
      if (end > bytes.length || isZero(bytes, offset)) {
        break // the zeros grown ahead, or a torn last record
      }
      throw new ChainLogCorruptError(`${file}: record at byte ${offset} has an impossible length ${length}`)
    }
    const payload = bytes.subarray(offset + FRAME_HEADER, end)
    if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) {
      if (isZero(bytes, end)) {
        break // the last record was torn
      }
      throw new ChainLogCorruptError(`${file}: record at byte ${offset} fails its checksum and is not the last one`)
    }
    try {
      records.push(decodeLogRecord(payload.toString('utf8')))
    } catch (err: any) {
      throw new ChainLogCorruptError(`${file}: record at byte ${offset} does not decode: ${err.message}`, { cause: err })
    }
    offset = end
  }
  return { records, validLength: offset }
}

function isZero (bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) {
    if (bytes[i] !== 0) {
      return false
    }
  }
  return true
}

function syncDir (dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // not every platform can fsync a directory
  } finally {
    if (fd != null) {
      fs.closeSync(fd)
    }
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

function acquireLock (dir: string): string {
  const lockPath = path.join(dir, LOCK_FILE)
  if (heldInProcess.has(dir)) {
    throw new ChainLockedError(dir, 'another chain in this process')
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx')
      fs.writeSync(fd, `${process.pid}\n`)
      fs.closeSync(fd)
      heldInProcess.add(dir)
      return lockPath
    } catch (err: any) {
      if (err.code !== 'EEXIST') {
        throw err
      }
    }
    const pid = Number.parseInt(readOr(lockPath, ''), 10)
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new ChainLockedError(dir, `process ${pid}`)
    }
    // stale: its process is gone (or it is this process, which no longer holds it)
    fs.rmSync(lockPath, { force: true })
  }
  throw new ChainLockedError(dir, 'a process that keeps re-taking it')
}

function releaseLock (dir: string, lockPath: string): void {
  heldInProcess.delete(dir)
  fs.rmSync(lockPath, { force: true })
}

function readOr (file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return fallback
  }
}
