import { TypedEventEmitter } from '@libp2p/interface'
import { ReceiptStore } from '@shardmesh/receipts'
import { RpcLedger, loadKeypairFile, signerFromPrivateKey } from '@shardmesh/solana'
import { Anchorer } from './anchorer.js'
import * as C from './constants.js'
import type { AnchorerStats } from './anchorer.js'
import type { AbortOptions, ComponentLogger, Counter, Logger, Metrics, PeerId, PrivateKey, Startable, TypedEventTarget } from '@libp2p/interface'
import type { IdKind, PrefixMatch, ReceiptBatch, ReceiptProof, ReceiptQuery, ReceiptSummary, StoredReceipt } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana'

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

export interface ReceiptsInit {
  /** Directory of the durable receipt store. Without it receipts are only returned with each job. */
  dir?: string
  /** Anchor batches here. Without it receipts are stored and batched but not anchored. */
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
}

export interface ReceiptsComponents {
  peerId: PeerId
  privateKey: PrivateKey
  logger: ComponentLogger
  metrics?: Metrics
}

export interface ReceiptsStats {
  enabled: boolean
  /** the base58 address that signs anchors (the node key), when anchoring */
  address?: string
  /** the RPC endpoint anchors go to, when anchoring over RPC */
  rpcUrl?: string
  anchoring: boolean
  receipts: number
  batched: number
  anchored: number
  batches: number
  anchoredBatches: number
  anchor?: AnchorerStats
}

export interface ReceiptsEvents {
  /** A batch root was anchored on chain (`fee` and `slot` as the ledger reported them). */
  'receipts:anchored': CustomEvent<{ root: string, count: number, signature: string, slot: bigint, fee?: bigint }>
  /** An anchoring attempt failed; it is retried with backoff. */
  'receipts:anchor-failed': CustomEvent<{ error: string }>
}

export interface Receipts extends TypedEventTarget<ReceiptsEvents> {
  /**
   * Store receipts this node countersigned durably (fsync): the compute service's receipt
   * sink. Their signatures are not checked again (the compute service just checked and made
   * them); receipts from elsewhere belong in a `ReceiptStore` with `add()`, which verifies.
   */
  store(receipts: Uint8Array[], options?: AbortOptions): Promise<void>
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
  stats(): ReceiptsStats
  /** Seal every stored receipt into batches and wait until all are anchored. */
  flush(options?: AbortOptions): Promise<void>
  /** The ledger anchors go to, when anchoring. */
  readonly ledger?: Ledger
}

export class ReceiptsService extends TypedEventEmitter<ReceiptsEvents> implements Receipts, Startable {
  private readonly init: ReceiptsInit
  private readonly components: ReceiptsComponents
  private readonly log: Logger
  private receiptStore?: ReceiptStore
  private anchorer?: Anchorer
  private ownLedger = false
  public ledger?: Ledger
  private readonly stored?: Counter
  private readonly anchored?: Counter
  private readonly fees?: Counter
  private readonly anchorFailures?: Counter

  constructor (components: ReceiptsComponents, init: ReceiptsInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('shardmesh:receipts')
    this.stored = components.metrics?.registerCounter('shardmesh_receipts_stored_total', { help: 'Countersigned receipts written to the durable store' })
    this.anchored = components.metrics?.registerCounter('shardmesh_receipts_anchored_total', { help: 'Receipts whose batch root was anchored on chain' })
    this.fees = components.metrics?.registerCounter('shardmesh_receipts_anchor_fees_lamports_total', { help: 'Lamports paid for anchor transactions' })
    this.anchorFailures = components.metrics?.registerCounter('shardmesh_receipts_anchor_failures_total', { help: 'Anchoring attempts that failed (each is retried)' })
    components.metrics?.registerMetric('shardmesh_receipts_unanchored', {
      help: 'Stored receipts not anchored on chain yet',
      calculate: () => {
        const s = this.stats()
        return s.receipts - s.anchored
      }
    })
  }

  readonly [Symbol.toStringTag] = '@shardmesh/receipts'

  async start (): Promise<void> {
    if (this.init.dir == null) {
      return
    }
    this.receiptStore = await ReceiptStore.open(this.init.dir)
    const config = this.init.ledger
    if (config == null) {
      return
    }
    if ('rpcUrl' in config) {
      const signer = await signerFromPrivateKey(this.components.privateKey)
      const feePayer = config.feePayerKeypair != null ? await loadKeypairFile(config.feePayerKeypair) : undefined
      this.ledger = new RpcLedger({ rpcUrl: config.rpcUrl, wsUrl: config.wsUrl, signer, feePayer, logger: this.components.logger })
      this.ownLedger = true
    } else {
      this.ledger = config
    }
    this.anchorer = new Anchorer({
      store: this.receiptStore,
      ledger: this.ledger,
      log: this.log.newScope('anchor'),
      batchSize: Math.min(this.init.batchSize ?? C.BATCH_SIZE, C.MAX_BATCH_SIZE),
      batchInterval: this.init.batchInterval ?? C.BATCH_INTERVAL,
      retryBase: this.init.retryBase ?? C.RETRY_BASE,
      retryMax: C.RETRY_MAX,
      crashAfterSend: this.init.crashAfterSend,
      onAnchored: (batch) => {
        this.anchored?.increment(batch.count)
        this.fees?.increment(Number(batch.anchor?.fee ?? 0n))
        if (batch.anchor != null) {
          this.safeDispatchEvent('receipts:anchored', { detail: { root: batch.root, count: batch.count, signature: batch.anchor.signature, slot: batch.anchor.slot, fee: batch.anchor.fee } })
        }
      },
      onFailed: (err) => {
        this.anchorFailures?.increment()
        this.safeDispatchEvent('receipts:anchor-failed', { detail: { error: `${err.name ?? 'Error'}: ${err.message}` } })
      }
    })
    // batches left unanchored by an earlier run (a crash, a stop) are anchored first
    this.anchorer.start()
  }

  async stop (): Promise<void> {
    await this.anchorer?.stop()
    this.anchorer = undefined
    if (this.ownLedger) {
      await this.ledger?.close()
    }
    this.ledger = undefined
    await this.receiptStore?.close()
    this.receiptStore = undefined
  }

  async store (receipts: Uint8Array[], options: AbortOptions = {}): Promise<void> {
    if (this.receiptStore == null || receipts.length === 0) {
      return
    }
    // the compute service countersigned these a moment ago, after checking the worker's
    // signature: storing them does not verify both signatures again (4k/s on one core)
    await this.receiptStore.addMany(receipts, { ...options, trusted: true })
    this.stored?.increment(receipts.length)
    this.anchorer?.poke()
  }

  list (query?: ReceiptQuery): StoredReceipt[] {
    return this.receiptStore?.list(query) ?? []
  }

  count (query?: ReceiptQuery): number {
    return this.receiptStore?.count(query) ?? 0
  }

  get (id: string): StoredReceipt | undefined {
    return this.receiptStore?.get(id)
  }

  matchPrefix (kind: IdKind, prefix: string, max?: number): PrefixMatch {
    return this.receiptStore?.matchPrefix(kind, prefix, max) ?? { count: 0, matches: [] }
  }

  summarize (query?: ReceiptQuery): ReceiptSummary {
    return this.receiptStore?.summarize(query) ?? { receipts: 0, batched: 0, anchored: 0, batches: 0, anchoredBatches: 0 }
  }

  proof (id: string): ReceiptProof | undefined {
    return this.receiptStore?.proof(id)
  }

  batches (query?: { anchored?: boolean }): ReceiptBatch[] {
    return this.receiptStore?.batches(query) ?? []
  }

  stats (): ReceiptsStats {
    const s = this.receiptStore?.stats()
    return {
      enabled: this.receiptStore != null,
      address: this.ledger?.address,
      rpcUrl: this.init.ledger != null && 'rpcUrl' in this.init.ledger ? this.init.ledger.rpcUrl : undefined,
      anchoring: this.anchorer != null,
      receipts: s?.receipts ?? 0,
      batched: s?.batched ?? 0,
      anchored: s?.anchored ?? 0,
      batches: s?.batches ?? 0,
      anchoredBatches: s?.anchoredBatches ?? 0,
      anchor: this.anchorer?.stats()
    }
  }

  async flush (options: AbortOptions = {}): Promise<void> {
    if (this.anchorer == null) {
      throw new Error(this.receiptStore == null ? 'receipts are not stored: the node has no data dir' : 'receipts are not anchored: the node has no ledger (--solana-rpc)')
    }
    await this.anchorer.flush(options)
  }
}

export function receipts (init: ReceiptsInit = {}): (components: ReceiptsComponents) => ReceiptsService {
  return (components) => new ReceiptsService(components, init)
}
