import { MAX_SIGNED_RECEIPT_BYTES, decodeSignedReceipt, sha256Hex } from '@shardmesh/protocol'
import { verifyReceipt } from '@shardmesh/receipts'
import { MAX_SIGNED_REMEMBERED } from '../constants.js'
import type { ReceiptSink } from '../requester/types.js'
import type { Logger, PeerId } from '@libp2p/interface'

/** Why a countersigned receipt sent back by a requester was not kept. */
export type CountersignedRefusal =
  /** over `MAX_SIGNED_RECEIPT_BYTES` */
  | 'too-large'
  /** not a SignedReceipt */
  | 'undecodable'
  /** not a receipt this worker signed lately (another worker's, a forgery, or one forgotten) */
  | 'not-signed-here'
  /** signed here for another requester than the one that sent it back */
  | 'wrong-requester'
  /** it does not verify: no or a bad countersignature, or names another worker or requester */
  | 'invalid'
  /** its job or shard is not the one the frame names */
  | 'wrong-shard'
  /** the sink failed to store it */
  | 'store-failed'
  /** this worker keeps no receipts (no sink) */
  | 'no-sink'

export interface CountersignedOutcome {
  /** ids (hex) of the receipts handed to the sink */
  stored: string[]
  refused: Array<{ id?: string, reason: CountersignedRefusal, message: string }>
}

export interface WorkerReceiptsInit {
  /** this node: the worker every receipt kept must name */
  self: PeerId
  /** where the countersigned receipts of this node's own work go (durable); none = nothing is kept */
  sink?: ReceiptSink
  log: Logger
  /** receipts remembered as signed, awaiting their countersignature @default MAX_SIGNED_REMEMBERED */
  max?: number
}

/**
 * The worker's side of "both sides hold proof": it remembers the receipts it signed lately (by
 * id, with the requester each names), and keeps the countersigned receipt a requester sends
 * back once the shard was accepted, after checking that it is one of those, sent back by the
 * requester it names, and that both signatures verify. So a requester can make a worker store
 * only receipts of the worker's own work for that requester, each once; anything else is
 * refused with a reason, never thrown. The memory is bounded (the oldest are forgotten first).
 */
export class WorkerReceipts {
  /** receipt id (hex) → the requester it names, oldest first */
  private readonly signed = new Map<string, string>()
  /** signed this tick, to be noted durably in one write */
  private readonly noted: Array<{ id: string, requester: PeerId }> = []
  private readonly max: number
  /** receipts signed since `watch()` whose countersigned copy was not kept yet */
  private watching?: Set<string>
  /** the durable note of the receipts signed this tick: resolves once written (or failed, logged) */
  private noting: Promise<void> = Promise.resolve()

  constructor (private readonly init: WorkerReceiptsInit) {
    this.max = init.max ?? MAX_SIGNED_REMEMBERED
    if (!Number.isSafeInteger(this.max) || this.max < 1) {
      throw new RangeError(`max must be a positive integer, got ${this.max}`)
    }
  }

  /** Whether countersigned receipts are kept at all. */
  get enabled (): boolean {
    return this.init.sink != null
  }

  /** How many signed receipts are remembered now. */
  get remembered (): number {
    return this.signed.size
  }

  /**
   * Count, from now on, the receipts signed until their countersigned copy is kept (a worker
   * shutting down waits for the receipts of its last shards before it stops).
   */
  watch (): void {
    if (this.init.sink != null) {
      this.watching ??= new Set()
    }
  }

  /** Receipts signed since `watch()` whose countersigned copy has not been kept yet. */
  get awaiting (): number {
    return this.watching?.size ?? 0
  }

  /**
   * A receipt this worker just signed (an encoded SignedReceipt) for `requester`. It is also
   * noted durably through the sink's `signed` (those of one tick in one write), so the worker
   * can ask its requester for it later, after a crash of either side. `whenNoted()` resolves once
   * that note is written: the shard's result is sent only then.
   */
  remember (signedReceipt: Uint8Array, requester: PeerId): void {
    const sink = this.init.sink
    if (sink == null) {
      return
    }
    const id = sha256Hex(decodeSignedReceipt(signedReceipt).receipt)
    this.put(id, requester.toString())
    this.watching?.add(id)
    if (sink.signed == null) {
      return
    }
    this.noted.push({ id, requester })
    if (this.noted.length === 1) {
      this.noting = new Promise<void>(resolve => {
        queueMicrotask(() => {
          const noted = this.noted.splice(0)
          Promise.resolve().then(async () => { await sink.signed?.(noted) }).catch((err: any) => {
            this.init.log.error('could not note %d signed receipt(s) durably: %s', noted.length, err?.message)
          }).finally(resolve)
        })
      })
    }
  }

  /**
   * Resolves once the receipts remembered so far are noted durably (a failure is logged, never
   * thrown). A worker sends a shard's result only then: killed right after sending it, it still
   * knows to ask its requester for the countersigned receipt (the copy sent back on that
   * stream never arrives), so it ends up holding the receipt of every shard its requester accepted.
   */
  async whenNoted (): Promise<void> {
    await this.noting
  }

  private put (id: string, requester: string): void {
    this.signed.delete(id)
    this.signed.set(id, requester)
    while (this.signed.size > this.max) {
      this.signed.delete(this.signed.keys().next().value as string)
    }
  }

  /**
   * Check the countersigned receipts `requester` sent back for shard `shardIndex` of `jobId`,
   * and store those that pass in the sink (resolves once stored). Never rejects: what is not
   * kept is in `refused`, and logged.
   */
  async keep (jobId: Uint8Array, shardIndex: number, receipts: Uint8Array[], requester: PeerId): Promise<CountersignedOutcome> {
    const outcome: CountersignedOutcome = { stored: [], refused: [] }
    const sink = this.init.sink
    const from = requester.toString()
    const job = Buffer.from(jobId).toString('hex')
    const refuse = (reason: CountersignedRefusal, message: string, id?: string): void => {
      outcome.refused.push({ id, reason, message })
      this.init.log('refused a countersigned receipt of job %s shard %d from %s: %s (%s)', job, shardIndex, from, reason, message)
    }
    if (sink == null) {
      for (let i = 0; i < receipts.length; i++) {
        refuse('no-sink', 'this worker keeps no receipts')
      }
      return outcome
    }
    const taken: Array<{ id: string, bytes: Uint8Array }> = []
    for (const bytes of receipts) {
      if (bytes.byteLength > MAX_SIGNED_RECEIPT_BYTES) {
        refuse('too-large', `${bytes.byteLength} bytes is over the ${MAX_SIGNED_RECEIPT_BYTES} byte limit`)
        continue
      }
      let id: string
      try {
        id = sha256Hex(decodeSignedReceipt(bytes).receipt)
      } catch (err: any) {
        refuse('undecodable', err.message)
        continue
      }
      // the cheap checks first: only a receipt signed here for this requester costs a verification
      const named = this.signed.get(id)
      if (named == null) {
        refuse('not-signed-here', 'not a receipt this worker signed lately', id)
        continue
      }
      if (named !== from) {
        refuse('wrong-requester', `signed for ${named}`, id)
        continue
      }
      // taken while it is checked and stored: the same receipt sent twice is kept once
      this.signed.delete(id)
      try {
        const verified = await verifyReceipt(bytes, { requireCountersignature: true, worker: this.init.self, requester })
        if (Buffer.from(verified.jobId).toString('hex') !== job || verified.shardIndex !== shardIndex) {
          refuse('wrong-shard', `it is shard ${verified.shardIndex} of job ${Buffer.from(verified.jobId).toString('hex')}`, id)
          this.put(id, named)
          continue
        }
      } catch (err: any) {
        refuse('invalid', err.message, id)
        // the requester may still send the right one
        this.put(id, named)
        continue
      }
      taken.push({ id, bytes })
    }
    if (taken.length === 0) {
      return outcome
    }
    try {
      await sink.store(taken.map(t => t.bytes))
      outcome.stored.push(...taken.map(t => t.id))
      for (const t of taken) {
        this.watching?.delete(t.id)
      }
      this.init.log.trace('kept %d countersigned receipt(s) of job %s shard %d from %s', taken.length, job, shardIndex, from)
    } catch (err: any) {
      for (const t of taken) {
        this.put(t.id, from)
        refuse('store-failed', err.message, t.id)
      }
    }
    return outcome
  }
}
