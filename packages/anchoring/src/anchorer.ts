import { linkSignals } from '@shardmesh/protocol'
import { anchorMemo, decodeTrustedReceipt, owedLamports, storedOwedLamports } from '@shardmesh/receipts'
import { BlockhashExpiredError, MAX_ANCHOR_PAYMENTS, addressOfPeerId, parseTransaction, rentRefusedAccount } from '@shardmesh/solana'
import * as C from './constants.js'
import type { Logger } from '@libp2p/interface'
import type { ReceiptBatch, ReceiptStore } from '@shardmesh/receipts'
import type { Ledger, Payment } from '@shardmesh/solana'

export interface AnchorerInit {
  store: ReceiptStore
  ledger: Ledger
  log: Logger
  /** receipts per batch: a full batch is sealed at once */
  batchSize: number
  batchInterval: number
  retryBase: number
  retryMax: number
  /** test-only: SIGKILL this process right after an anchor was sent, before it is recorded */
  crashAfterSend?: boolean
  /**
   * Anchor the `worker` receipts this node holds without a proof once the oldest has waited
   * this long (ms): their requester delivered no anchor in time. 0 or none: never.
   */
  selfAnchorAfter?: number
  /** called before such a batch is sealed: a last chance to get the requester's proofs (a pull) */
  beforeSelfAnchor?(): Promise<void>
  onAnchored?(batch: ReceiptBatch): void
  /** an anchoring attempt failed (it is retried) */
  onFailed?(err: Error): void
}

export interface AnchorerStats {
  /** the last error of an anchoring attempt, cleared by a success */
  lastError?: string
  /** anchoring attempts that failed (each is retried) */
  failures: number
  /** lamports paid for every anchor recorded in the store: persisted, so a restart keeps the total */
  feesLamports: bigint
}

/**
 * The anchoring loop of one node. It seals unbatched receipts this node countersigned (role
 * `requester`) into Merkle batches (by count or by age), and anchors each batch with one memo
 * transaction. Receipts it holds as a worker are its requesters' to anchor; with
 * `selfAnchorAfter` it anchors those that waited that long for a proof itself, in batches of
 * their own. Exactly once, across crashes:
 * the signed transaction is recorded before it is sent, so after a restart the loop asks the
 * chain whether that signature landed before it signs another for the same batch.
 */
export class Anchorer {
  private readonly init: AnchorerInit
  private readonly controller = new AbortController()
  /** the genesis hash of the cluster anchors land on, once asked */
  private genesisHash?: string
  private running?: Promise<void>
  private wake?: () => void
  private flushing = 0
  private failures = 0
  private feesLamports = 0n
  private lastError?: string
  private readonly waiters = new Set<() => void>()
  /**
   * Per batch, payees the chain refused to pay (no account yet, and paid less than one needs to
   * exist): its anchor is made without them, and what they are owed stays owed
   */
  private readonly unpayable = new Map<string, Set<string>>()

  constructor (init: AnchorerInit) {
    this.init = init
    // the fees of earlier runs are in the store's anchor records; this run adds its own
    this.feesLamports = init.store.batches({ anchored: true }).reduce((sum, b) => sum + (b.anchor?.fee ?? 0n), 0n)
  }

  start (): void {
    this.running = this.loop()
  }

  async stop (): Promise<void> {
    this.controller.abort()
    this.wake?.()
    await this.running
  }

  /** new receipts arrived: seal a batch if it is full */
  poke (): void {
    this.wake?.()
  }

  stats (): AnchorerStats {
    return { failures: this.failures, feesLamports: this.feesLamports, lastError: this.lastError }
  }

  /** seal every receipt stored so far and wait until all batches are anchored */
  async flush (options: { signal?: AbortSignal } = {}): Promise<void> {
    this.flushing++
    // wake the loop once to seal now; later rounds wait for it (and keep its retry backoff)
    this.wake?.()
    // the caller's signal combined with shutdown, as every service combines them
    const { signal, clear } = linkSignals([options.signal, this.controller.signal])
    try {
      while (true) {
        signal.throwIfAborted()
        if (this.init.store.count({ anchored: false, role: 'requester' }) === 0 && this.init.store.batches({ anchored: false }).length === 0) {
          return
        }
        await new Promise<void>(resolve => {
          const done = (): void => {
            this.waiters.delete(done)
            signal.removeEventListener('abort', done)
            resolve()
          }
          this.waiters.add(done)
          signal.addEventListener('abort', done, { once: true })
        })
      }
    } finally {
      clear()
      this.flushing--
    }
  }

  private notify (): void {
    for (const w of [...this.waiters]) {
      w()
    }
  }

  private async loop (): Promise<void> {
    const { signal } = this.controller
    let delay = 0
    while (!signal.aborted) {
      try {
        await this.anchorPending()
        const sealed = await this.sealDue()
        delay = 0
        if (sealed) {
          continue
        }
      } catch (err: any) {
        if (signal.aborted) {
          break
        }
        this.failures++
        this.init.onFailed?.(err)
        this.lastError = `${err.name ?? 'Error'}: ${err.message}`
        this.init.log.error('anchoring failed, retrying: %s', this.lastError)
        delay = Math.min(this.init.retryMax, delay === 0 ? this.init.retryBase : delay * 2)
      }
      this.notify()
      await this.sleep(delay > 0 ? delay : this.nextSealIn())
    }
    this.notify()
  }

  /** ms until the oldest unbatched receipt is due, or the interval when there is none */
  private nextSealIn (): number {
    const [oldest] = this.init.store.list({ batched: false, role: 'requester', limit: 1 })
    const requester = oldest == null ? this.init.batchInterval : Math.max(0, oldest.storedAt + this.init.batchInterval - Date.now())
    const worker = this.workerDueIn()
    return worker == null ? requester : Math.min(requester, worker)
  }

  /** ms until the oldest `worker` receipt without a proof is due to be anchored here, if self-anchoring is on and there is one */
  private workerDueIn (): number | undefined {
    const after = this.init.selfAnchorAfter ?? 0
    if (after <= 0) {
      return undefined
    }
    const [oldest] = this.init.store.list({ batched: false, role: 'worker', limit: 1 })
    return oldest == null ? undefined : Math.max(0, oldest.storedAt + after - Date.now())
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, ms)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
    this.wake = undefined
  }

  /** seal one batch if enough receipts wait, the oldest is old enough, or a flush asks */
  private async sealDue (): Promise<boolean> {
    const waiting = this.init.store.count({ batched: false, role: 'requester' })
    if (waiting === 0) {
      return this.sealWorkerDue()
    }
    if (waiting < this.init.batchSize && this.flushing === 0 && this.nextSealIn() > 0) {
      return this.sealWorkerDue()
    }
    // a batch owes at most as many workers as one anchor transaction can pay
    const batch = await this.init.store.sealBatch({ maxCount: this.init.batchSize, maxPayees: MAX_ANCHOR_PAYMENTS })
    if (batch != null) {
      this.init.log('sealed batch %s of %d receipts', batch.root, batch.count)
    }
    return batch != null
  }

  /**
   * A worker's fallback: its countersigned receipts that waited `selfAnchorAfter` for their
   * requester's proof (after one last pull) are sealed into a batch of their own, which this
   * node anchors with its own key as their worker. Each is sealed once (a batched receipt is
   * never asked for, nor accepts, the requester's proof), so this node anchors it at most once.
   */
  private async sealWorkerDue (): Promise<boolean> {
    if (this.workerDueIn() !== 0) {
      return false
    }
    await this.init.beforeSelfAnchor?.()
    const after = this.init.selfAnchorAfter ?? 0
    const batch = await this.init.store.sealBatch({ role: 'worker', storedBefore: Date.now() - after + 1, maxCount: this.init.batchSize })
    if (batch != null) {
      this.init.log('no anchor from their requesters within %d ms: sealed %d receipts of this worker into batch %s, to anchor them itself', after, batch.count, batch.root)
    }
    return batch != null
  }

  private async anchorPending (): Promise<void> {
    for (const batch of this.init.store.batches({ anchored: false })) {
      this.controller.signal.throwIfAborted()
      await this.anchorBatch(batch)
      this.lastError = undefined
      this.notify()
    }
  }

  private async anchorBatch (batch: ReceiptBatch): Promise<void> {
    const { ledger, store } = this.init
    const signal = this.controller.signal
    const root = Buffer.from(batch.root, 'hex')
    for (let attempt = 0; attempt < C.MAX_BLOCKHASH_ATTEMPTS; attempt++) {
      if (attempt === 0 && batch.attempt != null) {
        // a transaction for this batch was signed before (by an earlier run, or an earlier
        // round that failed): it may have landed. Ask before signing another.
        const status = await ledger.status(batch.attempt.signature, { signal })
        if (status.state === 'landed' && status.err == null) {
          await this.record(batch, { signature: batch.attempt.signature, slot: status.slot })
          return
        }
        const height = await ledger.blockHeight({ signal })
        if (status.state !== 'landed' && height <= batch.attempt.lastValidBlockHeight) {
          try {
            const result = await ledger.submit({ ...batch.attempt, memo: anchorMemo(root, batch.count) }, { signal })
            await this.record(batch, result)
            return
          } catch (err: any) {
            // refused as made (a payee the chain will not open an account for) or expired: it never lands; sign a new one below
            if (!this.refusedPayee(batch.root, batch.attempt.wire, err) && err.name !== BlockhashExpiredError.name) {
              throw err
            }
          }
        }
      }
      const unpayable = this.unpayable.get(batch.root)
      const payments = this.payments(batch).filter(p => unpayable?.has(p.to) !== true)
      const prepared = await ledger.prepareAnchor(root, payments.length > 0 ? { count: batch.count, payments } : { count: batch.count }, { signal })
      await store.recordAttempt(batch.root, { signature: prepared.signature, wire: prepared.wire, lastValidBlockHeight: prepared.lastValidBlockHeight })
      try {
        const result = await ledger.submit(prepared, { signal })
        if (this.init.crashAfterSend === true) {
          process.kill(process.pid, 'SIGKILL')
        }
        await this.record(batch, result)
        this.unpayable.delete(batch.root)
        return
      } catch (err: any) {
        if (this.refusedPayee(batch.root, prepared.wire, err)) {
          // signed again without that payee: not an expiry, so it does not count as an attempt
          attempt--
          continue
        }
        if (err.name !== BlockhashExpiredError.name) {
          throw err
        }
        this.init.log('anchor of %s expired before it landed; signing it again', batch.root)
      }
    }
    throw new Error(`batch ${batch.root}: ${C.MAX_BLOCKHASH_ATTEMPTS} anchor transactions expired without landing`)
  }

  /**
   * Whether `err` is the chain refusing the anchor `wire` because one of its payees has no
   * account and is paid less than an account needs to exist (the rent-exempt minimum): the
   * chain would refuse it forever, and the proof must not wait on a payment. That payee is left
   * out of the batch's next anchor (its lamports stay owed: the tally shows them missing), and
   * this says true. Each batch can leave out each payee once, so this ends.
   */
  private refusedPayee (root: string, wire: string, err: unknown): boolean {
    const index = rentRefusedAccount(err)
    if (index == null) {
      return false
    }
    let payee: string | undefined
    try {
      payee = parseTransaction(Buffer.from(wire, 'base64')).accounts[index]
    } catch {
      return false
    }
    const left = this.unpayable.get(root) ?? new Set<string>()
    if (payee == null || payee === this.init.ledger.address || left.has(payee) || !this.payments(this.init.store.getBatch(root)!).some(p => p.to === payee)) {
      return false
    }
    left.add(payee)
    this.unpayable.set(root, left)
    this.init.log.error('the anchor of batch %s was refused: %s has no account and is paid less than one needs to exist; anchoring without paying it (it stays owed)', root, payee)
    return true
  }

  /**
   * What the batch's anchor pays (settlement): per worker address, the sum of `owedLamports` of
   * the receipts in it that this node countersigned as their requester (whose key is the
   * ledger's), in address order. The same batch always yields the same payments, so a
   * transaction prepared again after a crash or an expiry pays exactly what the first would have.
   */
  private payments (batch: ReceiptBatch): Payment[] {
    const owed = new Map<string, bigint>()
    for (const id of batch.receiptIds) {
      const stored = this.init.store.get(id)
      // stored receipts were verified before they were written; most owe nothing: read cheaply first
      if (stored == null || storedOwedLamports(stored.bytes) === 0n) {
        continue
      }
      const receipt = decodeTrustedReceipt(stored.bytes, { requireCountersignature: false })
      const lamports = owedLamports(receipt)
      if (lamports === 0n || addressOfPeerId(receipt.requester) !== this.init.ledger.address) {
        continue
      }
      const to = addressOfPeerId(receipt.worker)
      owed.set(to, (owed.get(to) ?? 0n) + lamports)
    }
    return [...owed.entries()]
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([to, lamports]) => ({ to, lamports }))
  }

  /** The cluster anchors land on (its genesis hash), asked once; unknown when the ledger cannot say. */
  private async cluster (): Promise<string | undefined> {
    if (this.genesisHash === undefined && this.init.ledger.genesisHash != null) {
      try {
        this.genesisHash = await this.init.ledger.genesisHash({ signal: this.controller.signal })
      } catch (err: any) {
        this.init.log('could not ask the ledger for its genesis hash (proofs will not name their cluster): %s', err.message)
        return undefined
      }
    }
    return this.genesisHash
  }

  private async record (batch: ReceiptBatch, result: { signature: string, slot: bigint, fee?: bigint }): Promise<void> {
    let fee = result.fee
    if (fee == null) {
      fee = (await this.init.ledger.lookup(result.signature, { signal: this.controller.signal }))?.fee
    }
    await this.init.store.recordAnchor(batch.root, { signature: result.signature, slot: result.slot, fee, cluster: await this.cluster() })
    this.feesLamports += fee ?? 0n
    this.init.log('anchored batch %s (%d receipts) in %s at slot %d', batch.root, batch.count, result.signature, result.slot)
    const anchored = this.init.store.getBatch(batch.root)
    if (anchored != null) {
      this.init.onAnchored?.(anchored)
    }
  }
}
