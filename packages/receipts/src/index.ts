/**
 * @packageDocumentation
 *
 * Work receipts. A worker signs one receipt per shard with its node key; the requester
 * countersigns it with its verdict once verification accepts the work. Anyone can check
 * both signatures with the receipt alone: the keys are the peers' ids.
 *
 * @example
 *
 * ```TypeScript
 * import { verifyReceipt } from '@shardmesh/receipts'
 *
 * const receipt = await verifyReceipt(bytes) // throws InvalidReceiptError naming the failed check
 * receipt.worker.toString() // the peer that did the work
 * ```
 */

export * from './receipt.js'
export * from './errors.js'
