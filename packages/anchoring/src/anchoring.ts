import { TypedEventEmitter } from '@libp2p/interface'
import { MAX_BATCH_INBOUND_STREAMS, MAX_PROOF_INBOUND_STREAMS, RECEIPT_BATCHES_PROTOCOL, RECEIPT_PROOFS_PROTOCOL, linkSignals } from '@shardmesh/protocol'
import { ReceiptStore, decodeTrustedReceipt } from '@shardmesh/receipts'
import * as C from './constants.js'
import { BatchExchange } from './batch-exchange.js'
import { ProofExchange } from './proof-exchange.js'
import type { Anchorer } from './anchorer.js'
import type { PullOptions, PullResult } from './proof-exchange.js'
import type { Anchoring, AnchoringComponents, AnchoringEvents, AnchoringInit, AnchoringStats, LedgerConfig, StoreReceiptsOptions } from './index.js'
import type { AbortOptions, Counter, Logger, PeerId, Startable } from '@libp2p/interface'
import type { CheckedBundle, IdKind, PrefixMatch, ReceiptBatch, ReceiptProof, ReceiptQuery, ReceiptSummary, StoredReceipt } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana'

/** A ready `Ledger` (it has the methods), not the RPC settings to make one: a Ledger may well have an `rpcUrl` field of its own. */
function isLedger (config: LedgerConfig): config is Ledger {
  return typeof (config as Partial<Ledger>).prepareAnchor === 'function'
}

/**
 * The anchoring service of one node: a durable receipt store (the compute service's receipt
 * sink) and, with a ledger, the loop that seals it into Merkle batches and anchors their roots.
 */
export class AnchoringService extends TypedEventEmitter<AnchoringEvents> implements Anchoring, Startable {
  private readonly components: AnchoringComponents
  private readonly log: Logger
  private readonly dir?: string
  private readonly ledgerConfig?: LedgerConfig
  private readonly batchSize: number
  private readonly batchInterval: number
  private readonly retryBase: number
  private readonly crashAfterSend: boolean
  private receiptStore?: ReceiptStore
  private anchorer?: Anchorer
  private ownLedger = false
  public ledger?: Ledger
  private readonly stored?: Counter
  private readonly anchored?: Counter
  private readonly fees?: Counter
  private readonly anchorFailures?: Counter
  private readonly proofPullInterval: number
  private readonly proofRequestTimeout: number
  private readonly selfAnchorAfter: number
  private proofs?: ProofExchange
  private handling = false
  private pullTimer?: ReturnType<typeof setInterval>
  /** a requester back online may have anchored while it was away: asked at once */
  private readonly onPeerConnect = (evt: CustomEvent<PeerId>): void => {
    this.proofs?.wake(evt.detail)
  }
  private kickTimer?: ReturnType<typeof setTimeout>
  private pulling: Promise<unknown> = Promise.resolve()
  private pullAbort?: AbortController
  private batchExchange?: BatchExchange
  private handlingBatches = false
  /** batch roots of this worker's receipts not held whole yet → the requester to fetch each from */
  private readonly unkept = new Map<string, PeerId>()

  constructor (components: AnchoringComponents, init: AnchoringInit = {}) {
    super()
    this.components = components
    this.dir = init.dir
    this.ledgerConfig = init.ledger
    this.batchSize = Math.min(init.batchSize ?? C.BATCH_SIZE, C.MAX_BATCH_SIZE)
    this.batchInterval = init.batchInterval ?? C.BATCH_INTERVAL
    this.retryBase = init.retryBase ?? C.RETRY_BASE
    this.crashAfterSend = init.crashAfterSend ?? false
    this.proofPullInterval = init.proofPullInterval ?? C.PROOF_PULL_INTERVAL
    this.proofRequestTimeout = init.proofRequestTimeout ?? C.PROOF_REQUEST_TIMEOUT
    this.selfAnchorAfter = init.selfAnchorAfter ?? C.SELF_ANCHOR_AFTER
    if (!Number.isSafeInteger(this.selfAnchorAfter) || this.selfAnchorAfter < 0) {
      throw new RangeError(`selfAnchorAfter is a whole number of ms >= 0, not ${this.selfAnchorAfter}`)
    }
    this.log = components.logger.forComponent('shardmesh:anchoring')
    this.stored = components.metrics?.registerCounter('shardmesh_receipts_stored_total', { help: 'Countersigned receipts written to the durable store' })
    this.anchored = components.metrics?.registerCounter('shardmesh_receipts_anchored_total', { help: 'Receipts whose batch root was anchored on chain' })
    this.fees = components.metrics?.registerCounter('shardmesh_receipts_anchor_fees_lamports_total', { help: 'Lamports paid for anchor transactions' })
    this.anchorFailures = components.metrics?.registerCounter('shardmesh_receipts_anchor_failures_total', { help: 'Anchoring attempts that failed (each is retried)' })
    components.metrics?.registerMetric('shardmesh_receipts_unanchored', {
      help: 'Stored receipts this node countersigned that are not anchored on chain yet',
      // this node's requester receipts only: a worker receipt with its proof counts as anchored
      // in the store's totals, so subtracting the worker receipts from them counted those twice
      calculate: () => this.receiptStore?.count({ role: 'requester', anchored: false }) ?? 0
    })
  }

  readonly [Symbol.toStringTag] = '@shardmesh/anchoring'

  async start (): Promise<void> {
    if (this.dir == null) {
      return
    }
    this.receiptStore = await ReceiptStore.open(this.dir)
    const config = this.ledgerConfig
    if (config == null) {
      await this.startProofs()
      return
    }
    // the anchor loop and the Solana client (@solana/kit, some 150 modules) are loaded only by a
    // node that anchors: one without a ledger stores receipts and never pays for loading them
    const { Anchorer } = await import('./anchorer.js')
    if (!isLedger(config)) {
      const { RpcLedger, loadKeypairFile, signerFromPrivateKey } = await import('@shardmesh/solana')
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
      batchSize: this.batchSize,
      batchInterval: this.batchInterval,
      retryBase: this.retryBase,
      retryMax: C.RETRY_MAX,
      crashAfterSend: this.crashAfterSend,
      selfAnchorAfter: this.selfAnchorAfter,
      // the requester may have anchored by now: ask once more before anchoring its receipts here
      beforeSelfAnchor: async () => {
        const pulled = await this.pullProofs().catch((err: any) => { this.log('the pull before anchoring worker receipts failed: %s', err?.message) })
        if (pulled != null) {
          this.log('pulled before anchoring worker receipts: %d proofs and receipts stored from %d requesters (%d failed)', pulled.stored, pulled.requesters, pulled.failed)
        }
      },
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
    await this.startProofs()
  }

  /** Serve the proofs of what this node anchored, and pull those of its own work. */
  private async startProofs (): Promise<void> {
    const store = this.receiptStore
    if (store == null) {
      return
    }
    const connectionManager = this.components.connectionManager
    this.pullAbort = new AbortController()
    this.proofs = new ProofExchange({
      store,
      ledger: this.ledger,
      log: this.log.newScope('proofs'),
      timeout: this.proofRequestTimeout,
      protocol: RECEIPT_PROOFS_PROTOCOL,
      openStream: async (peer, protocol, options) => {
        if (connectionManager == null) {
          throw new Error('no connection manager: receipt proofs are not pulled')
        }
        return connectionManager.openStream(peer, protocol, options)
      }
    })
    if (this.components.registrar != null) {
      await this.components.registrar.handle(RECEIPT_PROOFS_PROTOCOL, this.proofs.handle, { maxInboundStreams: MAX_PROOF_INBOUND_STREAMS })
      this.handling = true
    }
    // whole batches: served to anyone (those anchored here, and those kept), fetched by root
    const batches = new BatchExchange({
      store,
      dir: store.dir,
      ledger: this.ledger,
      log: this.log.newScope('batches'),
      timeout: C.BATCH_REQUEST_TIMEOUT,
      protocol: RECEIPT_BATCHES_PROTOCOL,
      openStream: async (peer, protocol, options) => {
        if (connectionManager == null) {
          throw new Error('no connection manager: receipt batches are not fetched')
        }
        return connectionManager.openStream(peer, protocol, options)
      }
    })
    await batches.start()
    this.batchExchange = batches
    if (this.components.registrar != null) {
      await this.components.registrar.handle(RECEIPT_BATCHES_PROTOCOL, batches.handle, { maxInboundStreams: MAX_BATCH_INBOUND_STREAMS })
      this.handlingBatches = true
    }
    // the batches of this worker's receipts it has not kept yet (from an earlier run): kept in the background
    this.findUnkept()
    if (connectionManager != null && this.proofPullInterval > 0) {
      this.pullTimer = setInterval(() => { this.backgroundPull() }, this.proofPullInterval)
      this.pullTimer.unref?.()
      this.components.events?.addEventListener('peer:connect', this.onPeerConnect)
    }
  }

  private backgroundPull (): void {
    if (this.proofs?.hasWork === true) {
      this.pull({ force: false }).catch((err: any) => { this.log('receipt proof pull failed: %s', err?.message) })
    } else if (this.unkept.size > 0) {
      this.keepRound().catch((err: any) => { this.log('keeping receipt batches failed: %s', err?.message) })
    }
  }

  /** Note the batch roots of `worker` receipts with a requester's proof that this node does not hold whole (to keep them). */
  private findUnkept (): void {
    const batches = this.batchExchange
    for (const row of this.receiptStore?.list({ role: 'worker', anchored: true }) ?? []) {
      if (row.batch != null && !this.unkept.has(row.batch) && batches?.holds(row.batch) === false) {
        this.unkept.set(row.batch, decodeTrustedReceipt(row.bytes).requester)
      }
    }
  }

  /** One round of keeping: each batch not held yet, fetched from its requester (a failed one again after a backoff). */
  private async keepRound (options: AbortOptions = {}): Promise<void> {
    const run = this.pulling.then(async () => { await this.keepUnkept(options) })
    this.pulling = run.catch(() => {})
    await run
  }

  private async keepUnkept (options: AbortOptions): Promise<void> {
    const batches = this.batchExchange
    if (batches == null) {
      return
    }
    for (const [root, requester] of [...this.unkept]) {
      options.signal?.throwIfAborted()
      if (await batches.keep(requester, root, options)) {
        this.unkept.delete(root)
      }
    }
  }

  async pullProofs (options: AbortOptions = {}): Promise<PullResult> {
    return this.pull({ ...options, force: true })
  }

  private async pull (options: PullOptions): Promise<PullResult> {
    const run = this.pulling.then(async () => {
      const proofs = this.proofs
      if (proofs == null || this.pullAbort == null) {
        return { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 }
      }
      // the caller's signal and shutdown, linked as everywhere else in the tree
      const linked = linkSignals([options.signal, this.pullAbort.signal])
      try {
        const result = await proofs.pull({ signal: linked.signal, force: options.force })
        if (result.stored > 0) {
          // the batch of each new root is fetched from its requester and kept (checked), so this worker serves it too
          this.findUnkept()
        }
        await this.keepUnkept({ signal: linked.signal })
        return result
      } finally {
        linked.clear()
      }
    })
    this.pulling = run.catch(() => {})
    return run
  }

  async fetchBatch (peer: PeerId, root: string, options: AbortOptions = {}): Promise<CheckedBundle> {
    if (this.batchExchange == null) {
      throw new Error('receipt batches are not fetched: the node has no data dir')
    }
    return this.batchExchange.fetch(peer, root, options)
  }

  async stop (): Promise<void> {
    this.components.events?.removeEventListener('peer:connect', this.onPeerConnect)
    clearInterval(this.pullTimer)
    clearTimeout(this.kickTimer)
    this.pullTimer = undefined
    this.kickTimer = undefined
    this.pullAbort?.abort(new Error('the anchoring service stopped'))
    await this.pulling
    if (this.handling) {
      this.handling = false
      await this.components.registrar?.unhandle(RECEIPT_PROOFS_PROTOCOL)
    }
    if (this.handlingBatches) {
      this.handlingBatches = false
      await this.components.registrar?.unhandle(RECEIPT_BATCHES_PROTOCOL)
    }
    this.batchExchange = undefined
    this.proofs = undefined
    this.pullAbort = undefined
    await this.anchorer?.stop()
    this.anchorer = undefined
    if (this.ownLedger) {
      await this.ledger?.close()
    }
    this.ledger = undefined
    await this.receiptStore?.close()
    this.receiptStore = undefined
  }

  async store (receipts: Uint8Array[], options: StoreReceiptsOptions = {}): Promise<void> {
    if (this.receiptStore == null || receipts.length === 0) {
      return
    }
    const role = options.role ?? 'requester'
    // the compute service countersigned these a moment ago, after checking the worker's
    // signature (or, as a worker, checked both signatures of what its requester sent back):
    // storing them does not verify both signatures again (4k/s on one core)
    await this.receiptStore.addMany(receipts, { signal: options.signal, role, trusted: true })
    this.stored?.increment(receipts.length)
    // the loop seals requester receipts in time, and times the fallback anchor of worker ones
    this.anchorer?.poke()
    if (role === 'worker') {
      this.kickPull()
    }
  }

  /** The requester anchors in its own time: ask a little later (the timer asks again after). */
  private kickPull (): void {
    // something new to ask about: no requester rests any longer
    this.proofs?.wake()
    if (this.pullTimer != null && this.kickTimer == null) {
      this.kickTimer = setTimeout(() => {
        this.kickTimer = undefined
        this.backgroundPull()
      }, C.PROOF_PULL_DELAY)
      this.kickTimer.unref?.()
    }
  }

  async noteSigned (signed: Array<{ id: string, requester: PeerId }>, options: AbortOptions = {}): Promise<void> {
    if (this.receiptStore == null || signed.length === 0) {
      return
    }
    await this.receiptStore.recordSigned(signed, options)
    this.kickPull()
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

  stats (): AnchoringStats {
    const s = this.receiptStore?.stats()
    return {
      enabled: this.receiptStore != null,
      address: this.ledger?.address,
      rpcUrl: this.ledgerConfig != null && !isLedger(this.ledgerConfig) ? this.ledgerConfig.rpcUrl : undefined,
      anchoring: this.anchorer != null,
      receipts: s?.receipts ?? 0,
      workerReceipts: s?.workerReceipts ?? 0,
      batched: s?.batched ?? 0,
      anchored: s?.anchored ?? 0,
      batches: s?.batches ?? 0,
      anchoredBatches: s?.anchoredBatches ?? 0,
      signedPending: s?.signedPending ?? 0,
      fsyncs: s?.fsyncs ?? 0,
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
