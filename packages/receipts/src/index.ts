/**
 * @packageDocumentation
 *
 * Work receipts. A worker signs one receipt per shard with its node key; the requester
 * countersigns it with its verdict once verification accepts the work. Anyone can check
 * both signatures with the receipt alone: the keys are the peers' ids.
 *
 * A node keeps its receipts in a `ReceiptStore`: an fsynced, checksummed append-only log that
 * survives a crash at any moment. It seals them into batches, RFC 9162 Merkle trees whose root
 * is anchored on Solana in a memo (`anchorMemo`); `store.proof(id)` then gives a portable
 * `ReceiptProof` (a JSON file, `encodeReceiptProof`) that anyone can check with the file alone
 * (`checkReceiptProof`) and the anchor transaction. A whole batch travels as a bundle
 * (`batchBundle(store.getBatch(root)!, store)`, a JSON file by `encodeBundle`): `checkBundle`
 * recomputes its root and checks every receipt, and `tally` sums checked bundles per worker.
 *
 * @example
 *
 * ```TypeScript
 * import { verifyReceipt } from '@shardmesh/receipts'
 *
 * const receipt = await verifyReceipt(bytes) // throws InvalidReceiptError naming the failed check
 * receipt.worker.toString() // the peer that did the work
 * ```
 *
 * @example
 *
 * ```TypeScript
 * import { ReceiptStore, checkReceiptProof, decodeReceiptProof, encodeReceiptProof } from '@shardmesh/receipts'
 *
 * const store = await ReceiptStore.open('/var/lib/shardmesh/receipts')
 * const stored = await store.add(countersigned) // on disk when this resolves
 * const batch = await store.sealBatch()          // { root, count, receiptIds, ... }
 * const file = encodeReceiptProof(store.proof(stored.id)!)
 * await checkReceiptProof(decodeReceiptProof(file)) // signatures and Merkle path
 * await store.close()
 * ```
 */

export * from './receipt.js'
export * from './errors.js'
export * from './constants.js'
export * from './merkle.js'
export * from './proof.js'
export * from './store.js'
export * from './bundle.js'
export * from './tally.js'
