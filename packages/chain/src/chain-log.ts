import fs from 'node:fs/promises'
import path from 'node:path'
import { AppendLog, FileLock } from '@shardmesh/protocol'
import { CHAIN_LOG_FILE, LOCK_FILE, LOG_PREALLOCATE_BYTES, MAX_LOG_RECORD_BYTES } from './constants.js'
import { ChainLockedError, ChainLogCorruptError } from './errors.js'
import { decodeLogRecord, encodeLogRecord } from './log-record.js'
import type { LogRecord } from './log-record.js'
import type { AppendLogFormat } from '@shardmesh/protocol'

/**
 * The chain's durable history: `<dataDir>/chain.log`, `@shardmesh/protocol`'s append-only log
 * in the chain's format, frames `u32 length | u32 crc32 | JSON payload` (little-endian), each
 * written and fdatasync'd before the call that made it returns (the chain is single-stepped:
 * appends are synchronous). The file is grown ahead in zero-filled steps, so an append does
 * not change its size and the sync has no metadata to write (about twice the syncs per
 * second); the zeros after the last frame are cut off on close. A damaged frame followed only
 * by zeros (a torn write) is cut off on open; one followed by data is refused.
 * `<dataDir>/LOCK` holds the pid of the process using the dir, so two chains never share one.
 */

export const CHAIN_LOG_FORMAT: AppendLogFormat = { byteOrder: 'little', maxRecordBytes: MAX_LOG_RECORD_BYTES }

export class ChainLog {
  private constructor (private readonly log: AppendLog, private readonly lock: FileLock) {}

  /** Lock `dataDir`, read back every intact record and open the log for appending. */
  static async open (dataDir: string): Promise<{ log: ChainLog, records: LogRecord[] }> {
    const dir = path.resolve(dataDir)
    await fs.mkdir(dir, { recursive: true })
    const lock = await lockDir(dir)
    try {
      const file = path.join(dir, CHAIN_LOG_FILE)
      const records: LogRecord[] = []
      const log = await AppendLog.open(file, {
        format: CHAIN_LOG_FORMAT,
        tail: 'strict',
        preallocate: LOG_PREALLOCATE_BYTES,
        name: 'the chain log',
        onRecord: (payload, offset) => {
          try {
            records.push(decodeLogRecord(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')))
          } catch (err: any) {
            throw new ChainLogCorruptError(`${file}: record at byte ${offset} does not decode: ${err.message}`, { cause: err })
          }
        }
      }).catch((err: any) => {
        throw err?.name === 'AppendLogCorruptError' ? new ChainLogCorruptError(err.message, { cause: err }) : err
      })
      return { log: new ChainLog(log, lock), records }
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  /** Append one record and wait until it is on disk. */
  append (record: LogRecord): void {
    this.log.appendSync(Buffer.from(encodeLogRecord(record), 'utf8'))
  }

  /** Cut the zeros grown ahead, close the file and release the data dir. */
  async close (): Promise<void> {
    try {
      await this.log.close()
    } finally {
      await this.lock.release()
    }
  }
}

async function lockDir (dir: string): Promise<FileLock> {
  try {
    return await FileLock.acquire(path.join(dir, LOCK_FILE))
  } catch (err: any) {
    if (err?.name !== 'FileLockedError') {
      throw err
    }
    const holder = err.inProcess === true ? 'another chain in this process' : err.pid != null ? `process ${err.pid}` : 'a process that keeps re-taking it'
    throw new ChainLockedError(dir, holder, { cause: err })
  }
}
