import { MAX_SIGNATURES_FOR_ADDRESS } from './constants.js'
import { extractMemos, parseWire } from './wire.js'
import type { AddressSignature, TransactionRecord } from './types.js'

/**
 * Every landed transaction, by signature, by slot (with the block's blockhash) and by each
 * account it names (in landing order).
 */
export class ChainHistory {
  private readonly bySignature = new Map<string, TransactionRecord>()
  private readonly byAddress = new Map<string, TransactionRecord[]>()
  private readonly bySlot = new Map<bigint, { record: TransactionRecord, blockhash: string }>()

  get size (): number {
    return this.bySignature.size
  }

  has (signature: string): boolean {
    return this.bySignature.has(signature)
  }

  get (signature: string): TransactionRecord | undefined {
    return this.bySignature.get(signature)
  }

  /** The transaction that landed in `slot` and the blockhash that block issued, if any. */
  atSlot (slot: bigint): { record: TransactionRecord, blockhash: string } | undefined {
    return this.bySlot.get(slot)
  }

  /** Every address a landed transaction named (each once). */
  addresses (): IterableIterator<string> {
    return this.byAddress.keys()
  }

  add (record: TransactionRecord, blockhash: string): void {
    this.bySignature.set(record.signature, record)
    this.bySlot.set(record.slot, { record, blockhash })
    for (const address of new Set(record.accountKeys)) {
      let list = this.byAddress.get(address)
      if (list == null) {
        list = []
        this.byAddress.set(address, list)
      }
      list.push(record)
    }
  }

  /**
   * Transactions naming `address`, newest first, like `getSignaturesForAddress`: at most
   * `limit`, starting below `before` and stopping at `until` (neither included). An unknown
   * `before` gives an empty list.
   */
  signaturesForAddress (address: string, options: { limit?: number, before?: string, until?: string } = {}): AddressSignature[] {
    const list = this.byAddress.get(address) ?? []
    const limit = Math.max(0, Math.min(options.limit ?? MAX_SIGNATURES_FOR_ADDRESS, MAX_SIGNATURES_FOR_ADDRESS))
    let end = list.length
    if (options.before != null) {
      const before = this.bySignature.get(options.before)
      if (before == null) {
        return []
      }
      end = lowerBound(list, before.index)
    }
    const out: AddressSignature[] = []
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const record = list[i]
      if (record.signature === options.until) {
        break
      }
      out.push({
        signature: record.signature,
        slot: record.slot,
        blockTime: record.blockTime,
        err: record.err,
        memo: memoOf(record)
      })
    }
    return out
  }
}

/** The first position in `list` (ascending by index) whose index is >= `index`. */
function lowerBound (list: TransactionRecord[], index: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid].index < index) {
      lo = mid + 1
    } else {
      hi = mid
    }
  }
  return lo
}

function memoOf (record: TransactionRecord): string | null {
  try {
    return extractMemos(parseWire(record.wire).message)
  } catch {
    return null
  }
}
