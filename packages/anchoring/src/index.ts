/**
 * @packageDocumentation
 *
 * Anchoring: a node's countersigned work receipts kept in a durable store (those it
 * countersigned as a requester, and those of its own work its requesters sent back), the
 * former sealed into Merkle batches and anchored on Solana, one memo transaction per batch signed by the node key. Give
 * it a directory, a ledger (a ready `Ledger`, or the RPC URL of any cluster) and the node key:
 * it gives back batches, anchors and a portable proof per receipt.
 *
 * It is a libp2p service: `anchoring(init)` returns the factory libp2p calls with its
 * components, and `meshServices()` of `@shardmesh/node` installs it as the compute service's
 * receipt sink, under the service key `receipts`. Anchoring is exactly once across crashes:
 * each signed transaction is recorded before it is sent, and after a restart the loop asks
 * the chain whether it landed before signing another for the same batch.
 *
 * Workers get proofs too: the service serves `/shardmesh/receipt-proofs/1.0.0` (the proof files
 * of what it anchored, each only to the worker its receipt names) and pulls, from each requester,
 * the proofs of the `worker` receipts it holds without one (`pullProofs()`, also every
 * `proofPullInterval`), checks them and keeps them in its store.
 *
 * @example Anchor receipts over JSON-RPC with the node key
 *
 * ```TypeScript
 * import { generateKeyPair } from '@libp2p/crypto/keys'
 * import { defaultLogger } from '@libp2p/logger'
 * import { anchoring } from '@shardmesh/anchoring'
 * import { RpcLedger, signerFromPrivateKey } from '@shardmesh/solana'
 *
 * const privateKey = await generateKeyPair('Ed25519') // the node key: it signs every anchor memo
 * const ledger = new RpcLedger({ rpcUrl: 'http://127.0.0.1:8899', signer: await signerFromPrivateKey(privateKey) })
 * const service = anchoring({ dir: './receipts', ledger, batchSize: 100 })({ privateKey, logger: defaultLogger() })
 * service.addEventListener('receipts:anchored', ({ detail }) => {
 *   process.stdout.write(`batch ${detail.root}: ${detail.count} receipts in ${detail.signature}\n`)
 * })
 * await service.start()
 *
 * await service.store(countersigned)   // countersigned receipts, on disk when this resolves
 * await service.flush()                // sealed into batches and every batch anchored
 * const [first] = service.list()
 * const proof = service.proof(first.id) // receipt + Merkle path + anchor transaction
 *
 * await service.stop()
 * await ledger.close()                 // a ledger passed in stays the caller's to close
 * ```
 *
 * @example In a libp2p node
 *
 * ```TypeScript
 * import { anchoring } from '@shardmesh/anchoring'
 * import { createLibp2p } from 'libp2p'
 *
 * const node = await createLibp2p({
 *   services: {
 *     // with `rpcUrl` the service signs with the node's own key
 *     receipts: anchoring({ dir: './data/receipts', ledger: { rpcUrl: 'https://api.devnet.solana.com' } })
 *   }
 * })
 * const stats = node.services.receipts.stats() // { receipts, batched, anchored, anchor: { feesLamports, ... } }
 * ```
 */

import { AnchoringService } from './anchoring.js'
import type { AnchorerStats } from './anchorer.js'
import type { PullResult } from './proof-exchange.js'
import type { AbortOptions, ComponentLogger, Metrics, PeerId, PrivateKey, Stream, StreamHandler, StreamHandlerOptions, TypedEventTarget } from '@libp2p/interface'
import type { CheckedBundle, IdKind, PrefixMatch, ReceiptBatch, ReceiptProof, ReceiptQuery, ReceiptRole, ReceiptSummary, StoredReceipt } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana'

export type { AnchorerStats } from './anchorer.js'
export type { PullOptions, PullResult } from './proof-exchange.js'
export { ProofExchange, requestProofs } from './proof-exchange.js'
export { BatchExchange, BatchFetchError, BUNDLES_DIR, requestBatch } from './batch-exchange.js'
export type { BatchExchangeInit, BatchFetchFailure } from './batch-exchange.js'

/** Where anchors go: a ready Ledger, or an RPC endpoint of any Solana cluster. */
export type LedgerConfig = Ledger | {
  /** JSON-RPC URL, e.g. https://api.devnet.solana.com or the URL `shardmesh chain` prints */
  rpcUrl: string
  /** WebSocket URL for confirmations. @default the RPC URL's host and port with ws(s):// */
  wsUrl?: string
  /**
   * Solana CLI keypair file of an account that pays the fees; the node key still signs every
   * memo. @default the node key pays
   */
  feePayerKeypair?: string
}

export interface AnchoringInit {
  /** Directory of the durable receipt store. Without it receipts are only returned with each job. */
  dir?: string
  /**
   * Anchor batches here. Without it receipts are stored and batched but not anchored. A
   * `Ledger` passed in is the caller's to close; one made from `rpcUrl` is closed on `stop()`.
   */
  ledger?: LedgerConfig
  /**
   * Receipts per batch (one anchor transaction each, so the fee per receipt is the fee of one
   * transaction divided by this); a full batch is sealed at once. At most 10000. @default 1000
   */
  batchSize?: number
  /** Seal what waits once the oldest receipt is this old (ms). @default 10000 */
  batchInterval?: number
  /** First retry delay after a failed anchor (ms), doubling. @default 1000 */
  retryBase?: number
  /** Test-only: SIGKILL the process right after an anchor was sent, before it is recorded. */
  crashAfterSend?: boolean
  /**
   * How often to ask requesters for the proofs of the `worker` receipts held without one (ms);
   * 0 pulls only when `pullProofs()` is called. @default 5000
   */
  proofPullInterval?: number
  /** Deadline of one receipt-proof request, inbound or outbound (ms). @default 30000 */
  proofRequestTimeout?: number
  /**
   * With a ledger: anchor the countersigned `worker` receipts this node holds without a proof
   * itself, once the oldest has waited this long for its requester's anchor (ms), after one
   * last pull. So a requester that goes silent cannot erase its workers' work. Each receipt is
   * sealed into such a batch once, and a receipt so anchored takes no proof from its requester
   * later: this node anchors a receipt at most once. 0: never. @default 600000 (10 minutes)
   */
  selfAnchorAfter?: number
}

export interface AnchoringComponents {
  /** the node key: it signs anchors made from `ledger: { rpcUrl }` */
  privateKey: PrivateKey
  logger: ComponentLogger
  metrics?: Metrics
  /** with it, the node serves `/shardmesh/receipt-proofs/1.0.0` (libp2p passes its own) */
  registrar?: {
    handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>
    unhandle(protocol: string): Promise<void>
  }
  /** with it, the node pulls the proofs of its `worker` receipts (libp2p passes its own) */
  connectionManager?: {
    openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  }
  /**
   * with them, a requester that connects again is asked for proofs at once, not after the rest
   * its earlier empty or failed rounds earned it (libp2p passes its own)
   */
  events?: Pick<TypedEventTarget<{ 'peer:connect': CustomEvent<PeerId> }>, 'addEventListener' | 'removeEventListener'>
}

export interface AnchoringStats {
  enabled: boolean
  /** the base58 address that signs anchors (the node key), when anchoring */
  address?: string
  /** the RPC endpoint anchors go to, when anchoring over RPC */
  rpcUrl?: string
  anchoring: boolean
  /** receipts stored, in both roles */
  receipts: number
  /** of them, those this node holds as the worker (never anchored by this node) */
  workerReceipts: number
  batched: number
  anchored: number
  batches: number
  anchoredBatches: number
  /** receipts this node signed as a worker whose countersigned form it does not hold (yet) */
  signedPending: number
  /** fdatasync calls of the store since it opened (one per group commit) */
  fsyncs: number
  anchor?: AnchorerStats
}

export interface AnchoringEvents {
  /** A batch root was anchored on chain (`fee` and `slot` as the ledger reported them). */
  'receipts:anchored': CustomEvent<{ root: string, count: number, signature: string, slot: bigint, fee?: bigint }>
  /** An anchoring attempt failed; it is retried with backoff. */
  'receipts:anchor-failed': CustomEvent<{ error: string }>
}

export interface StoreReceiptsOptions extends AbortOptions {
  /**
   * `requester`: receipts this node countersigned (the compute service's `receiptSink`), batched
   * and anchored; `worker`: this node's own work, countersigned by a requester that sent it back
   * (the compute service's `workerReceiptSink`), kept but not anchored here. @default 'requester'
   */
  role?: ReceiptRole
}

export interface Anchoring extends TypedEventTarget<AnchoringEvents> {
  /**
   * Store countersigned receipts durably (fsync), in a role: the compute service's receipt sink
   * (`requester`) and worker receipt sink (`worker`). Their signatures are not checked again
   * (the compute service just checked or made them); receipts from elsewhere belong in a
   * `ReceiptStore` with `add()`, which verifies.
   */
  store(receipts: Uint8Array[], options?: StoreReceiptsOptions): Promise<void>
  list(query?: ReceiptQuery): StoredReceipt[]
  /** How many receipts match (offset and limit do not apply). */
  count(query?: ReceiptQuery): number
  get(id: string): StoredReceipt | undefined
  /** Stored receipt, job or peer ids starting with `prefix` (as `ReceiptStore.matchPrefix`). */
  matchPrefix(kind: IdKind, prefix: string, max?: number): PrefixMatch
  /** Totals over the receipts a query matches: stored, batched, anchored, in how many batches. */
  summarize(query?: ReceiptQuery): ReceiptSummary
  /** The portable proof of a receipt: the receipt, its Merkle path and (once anchored) the transaction. */
  proof(id: string): ReceiptProof | undefined
  batches(query?: { anchored?: boolean }): ReceiptBatch[]
  stats(): AnchoringStats
  /** Seal every stored receipt into batches and wait until all are anchored. */
  flush(options?: AbortOptions): Promise<void>
  /**
   * One round of the receipt-proof pull now (it also runs every `proofPullInterval`): ask each
   * requester for the proofs of the `worker` receipts held without one, check and store them.
   * Resolves after this round (a round under way is waited for first).
   */
  pullProofs(options?: AbortOptions): Promise<PullResult>
  /**
   * Note, durably, receipts this node just signed as a worker (hex ids) for their requester
   * (the compute service's worker receipt sink calls it): until their countersigned receipts are
   * stored, the pull asks their requester for them too. Resolves once on disk.
   */
  noteSigned(signed: Array<{ id: string, requester: PeerId }>, options?: AbortOptions): Promise<void>
  /**
   * Fetch every receipt of batch `root` (64 hex) from `peer` over
   * `/shardmesh/receipt-batches/1.0.0`: the bundle it sent, its root recomputed, every receipt
   * checked and, when this node has a ledger, its anchor on chain. Throws `BatchFetchError`
   * naming why (`not-held`, `unreachable`, `timeout`, `too-large`, `undecodable`, `wrong-batch`,
   * `invalid-bundle`, `anchor`). The node serves, in turn, its anchored batches and the bundles
   * it keeps (those of its `worker` receipts' batches, fetched from their requester until kept).
   */
  fetchBatch(peer: PeerId, root: string, options?: AbortOptions): Promise<CheckedBundle>
  /** The ledger anchors go to, when anchoring. */
  readonly ledger?: Ledger
}

/**
 * The anchoring service: a durable receipt store and, with a `ledger`, the loop that seals
 * it into Merkle batches and anchors each batch root on Solana.
 */
export function anchoring (init: AnchoringInit = {}): (components: AnchoringComponents) => Anchoring {
  return (components) => new AnchoringService(components, init)
}
