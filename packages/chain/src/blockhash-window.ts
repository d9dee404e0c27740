import { createHash } from 'node:crypto'
import { decodeBase58, encodeBase58 } from './base58.js'
import { BLOCKHASH_WINDOW } from './constants.js'
import type { RecentBlockhash } from './types.js'

/**
 * The recent blockhashes a transaction may name, like a cluster's: one new blockhash per
 * block, each usable until the block height passes the height it was issued at plus 150.
 * The chain derives its blockhashes itself (sha256 of the previous one and the slot), so they
 * continue across restarts and differ between chains (the first one comes from the random
 * genesis hash).
 */

export class BlockhashWindow {
  /** blockhash → last valid block height, oldest first */
  private readonly valid = new Map<string, bigint>()
  private latestHash: RecentBlockhash

  constructor (first: RecentBlockhash) {
    this.latestHash = first
    this.valid.set(first.blockhash, first.lastValidBlockHeight)
  }

  /** The genesis blockhash of a chain with `genesisHash`. */
  static genesisBlockhash (genesisHash: string): string {
    return encodeBase58(createHash('sha256').update('shardmesh-embedded-genesis').update(decodeBase58(genesisHash)).digest())
  }

  /** The blockhash that follows `previous` in `slot`. */
  static next (previous: string, slot: bigint): string {
    const slotBytes = Buffer.alloc(8)
    slotBytes.writeBigUInt64LE(slot)
    return encodeBase58(createHash('sha256').update(decodeBase58(previous)).update(slotBytes).digest())
  }

  get latest (): RecentBlockhash {
    return this.latestHash
  }

  /** Whether a transaction naming `blockhash` may land in a block at `blockHeight` (the next block's height). */
  isValid (blockhash: string, blockHeight: bigint): boolean {
    const lastValid = this.valid.get(blockhash)
    return lastValid != null && blockHeight <= lastValid
  }

  /** Issue `blockhash` in the block at `blockHeight` and forget those no later block may use. */
  push (blockhash: string, blockHeight: bigint): void {
    this.latestHash = { blockhash, lastValidBlockHeight: blockHeight + BigInt(BLOCKHASH_WINDOW) }
    this.valid.set(blockhash, this.latestHash.lastValidBlockHeight)
    for (const [hash, lastValid] of this.valid) {
      if (lastValid > blockHeight) {
        break
      }
      this.valid.delete(hash)
    }
  }
}
