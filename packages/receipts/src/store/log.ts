import { AppendLog, encodeFrame } from '@shardmesh/protocol'
import { LOG_READ_CHUNK_BYTES, MAX_LOG_RECORD_BYTES } from '../constants.js'
import { ReceiptStoreClosedError } from '../errors.js'
import type { AppendLogFormat, LogRecovery, LogStats } from '@shardmesh/protocol'

/**
 * The receipt log: `@shardmesh/protocol`'s append-only log (group commit, torn-tail recovery)
 * in the receipt store's format, frames `u32 length ‖ u32 crc32 ‖ payload` big-endian. At open a
 * writer cuts the log at its first damaged frame, saving the bytes after it beside the log
 * (they were never acknowledged, unless the file was damaged in the middle).
 */

export type { LogRecovery, LogStats, LogStop } from '@shardmesh/protocol'

export const RECEIPT_LOG_FORMAT: AppendLogFormat = { byteOrder: 'big', maxRecordBytes: MAX_LOG_RECORD_BYTES }

export interface OpenLogOptions {
  readOnly?: boolean
  /** called for each valid record in order; the payload's bytes are only valid during the call */
  onRecord(payload: Uint8Array, offset: number): void
}

/** One frame of the receipt log. */
export function frame (payload: Uint8Array): Uint8Array {
  return encodeFrame(payload, RECEIPT_LOG_FORMAT)
}

/** A log that no longer takes appends is a closed store. */
function storeError (err: any): Error {
  if (err?.name !== 'AppendLogClosedError') {
    return err
  }
  return err.reason === 'closed' ? new ReceiptStoreClosedError() : new ReceiptStoreClosedError(err.message, { cause: err.cause })
}

export class ReceiptLog {
  public readonly recovery: LogRecovery

  private constructor (private readonly log: AppendLog) {
    this.recovery = log.recovery
  }

  /** Open (a writer creates) the log at `path`, replaying its valid records into `onRecord`. */
  static async open (path: string, options: OpenLogOptions): Promise<ReceiptLog> {
    return new ReceiptLog(await AppendLog.open(path, {
      format: RECEIPT_LOG_FORMAT,
      readOnly: options.readOnly,
      tail: 'save',
      name: 'the receipt log',
      readChunkBytes: LOG_READ_CHUNK_BYTES,
      onRecord: options.onRecord
    }))
  }

  /**
   * Append records; resolves once they are on disk. `onDurable` runs synchronously right after
   * the sync, in append order, before any later append's.
   */
  async append (payloads: Uint8Array[], onDurable?: () => void): Promise<void> {
    try {
      await this.log.append(payloads, onDurable)
    } catch (err) {
      throw storeError(err)
    }
  }

  stats (): LogStats {
    return this.log.stats()
  }

  /** Wait for queued appends, then close the file. */
  async close (): Promise<void> {
    await this.log.close()
  }
}
