import {
  MAX_PROOF_REQUEST_BYTES, MAX_PROOF_REQUEST_IDS, MAX_PROOF_RESPONSE_BYTES, MAX_SIGNED_RECEIPT_BYTES, MAX_WIRE_PROOF_BYTES, MessageTooLargeError, ProofRequest,
  ProofResponse, decodeLimited, linkSignals
} from '@shardmesh/protocol'
import { MAX_PENDING_SIGNED, checkReceiptProof, decodeReceiptProof, decodeTrustedReceipt, encodeReceiptProof, verifyReceipt } from '@shardmesh/receipts'
import { addressOfPeerId } from '@shardmesh/solana/core'
import { PENDING_SIGNED_RETRY_BASE, PENDING_SIGNED_RETRY_MAX, PENDING_SIGNED_WINDOW, PULL_BACKOFF_BASE, PULL_BACKOFF_MAX } from './constants.js'
import { readFrame, writeFrame } from './frames.js'
import type { AbortOptions, Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { ReceiptStore } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana/core'

/**
 * Both ends of `/shardmesh/receipt-proofs/1.0.0`, the pull by which a worker gets, from the
 * requester that countersigned them, the Merkle path and anchor of each countersigned receipt
 * it holds, and the countersigned receipts it signed but never received (the shard stream's
 * `Countersigned` frame is best effort: either side may crash first). The worker sends one
 * length-prefixed `ProofRequest` (receipt ids); the requester answers one length-prefixed
 * `ProofResponse` (proof files of the anchored ones, countersigned receipts of the others) and
 * both ends close. Both stores are durable (the worker notes each receipt it signs), so a pull
 * that fails (the requester is away, has not anchored yet) is simply asked again later: every
 * `proofPullInterval`, until delivered.
 */

export interface PullOptions extends AbortOptions {
  /**
   * Ask every requester now, even one whose last rounds gave nothing (the background pull lets
   * such a requester rest, 5 s doubling to a minute, until new receipts arrive). @default false
   */
  force?: boolean
}

/** Where the proofs of a pull round went. */
export interface PullResult {
  /** requesters asked (one request each) */
  requesters: number
  /** receipt ids asked for */
  asked: number
  /** proofs checked and stored */
  stored: number
  /** countersigned receipts (not anchored yet) checked and stored: ones the shard stream never delivered */
  receipts: number
  /** proofs received that failed a check (each is logged) */
  rejected: number
  /** requesters whose request failed (unreachable, refused, timed out) */
  failed: number
}

export interface ProofExchangeInit {
  store: ReceiptStore
  /** with a ledger, each anchor is checked on chain before its proof is stored */
  ledger?: Ledger
  log: Logger
  /** deadline of one request, inbound or outbound (ms) */
  timeout: number
  /** opens a stream to a peer (the node's connection manager) */
  openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  protocol: string
}

function hexOf (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/**
 * Ask one peer for the proofs of `ids`, receipts held countersigned, and for the countersigned
 * form of `options.signed`, receipts signed but never received (at most MAX_PROOF_REQUEST_IDS
 * in all): the proof files it sent (anchored receipts) and the countersigned receipts of
 * `signed` it holds but has not anchored yet.
 */
export async function requestProofs (stream: Stream, ids: Uint8Array[], options: AbortOptions & { signed?: Uint8Array[] } = {}): Promise<ProofResponse> {
  const signed = options.signed ?? []
  if (ids.length + signed.length > MAX_PROOF_REQUEST_IDS) {
    throw new RangeError(`at most ${MAX_PROOF_REQUEST_IDS} receipt ids in one request, not ${ids.length + signed.length}`)
  }
  await writeFrame(stream, ProofRequest.encode({ receiptIds: ids.map(id => new Uint8Array(id)), signedIds: signed.map(id => new Uint8Array(id)) }), options)
  // decodeLimited: whatever the peer sent, only InvalidMessageError or MessageTooLargeError comes out
  const response = decodeLimited('ProofResponse', ProofResponse.codec(), await readFrame(stream, MAX_PROOF_RESPONSE_BYTES, options), MAX_PROOF_RESPONSE_BYTES, { limits: { proofs: MAX_PROOF_REQUEST_IDS, receipts: MAX_PROOF_REQUEST_IDS } })
  await stream.close(options)
  if (response.proofs.length + response.receipts.length > MAX_PROOF_REQUEST_IDS) {
    throw new MessageTooLargeError(`${response.proofs.length} proofs and ${response.receipts.length} receipts answer at most ${MAX_PROOF_REQUEST_IDS} ids`)
  }
  return response
}

export class ProofExchange {
  private readonly init: ProofExchangeInit
  /**
   * Each receipt signed here but never received countersigned that was asked for in this run:
   * how often, and when it may be asked again (backing off, so a requester that is away for a
   * while is still asked when it is back, and one that dropped the shard is not asked often)
   */
  private readonly asks = new Map<string, { count: number, next: number }>()
  /** requesters (peer id) whose last rounds gave nothing: how many in a row, and when to ask again */
  private readonly quiet = new Map<string, { misses: number, next: number }>()

  constructor (init: ProofExchangeInit) {
    this.init = init
  }

  /** Whether a pull would ask anything: worker receipts without a proof, or signed ones never received. */
  get hasWork (): boolean {
    const store = this.init.store
    return store.count({ role: 'worker', batched: false }) > 0 || this.pendingSigned().length > 0
  }

  /** The receipts signed here and never received countersigned that are still worth asking for. */
  private pendingSigned (): Array<{ id: string, requester: PeerId }> {
    const now = Date.now()
    return this.init.store.pendingSigned(now - PENDING_SIGNED_WINDOW).filter(p => (this.asks.get(p.id)?.next ?? 0) <= now)
  }

  /**
   * What to answer `asker` with, per id that names a receipt this node holds as the requester
   * and whose receipt names `asker` as its worker: its proof file once anchored, else the
   * countersigned receipt. Any other id is left out.
   */
  answer (asker: PeerId, ids: Uint8Array[], signed: Uint8Array[] = []): ProofResponse {
    const worker = asker.toString()
    const seen = new Set<string>()
    const files: Array<Uint8Array<ArrayBuffer>> = []
    const receipts: Array<Uint8Array<ArrayBuffer>> = []
    const wanted = new Set(signed.map(hexOf))
    for (const raw of [...ids, ...signed]) {
      if (raw.byteLength !== 32) {
        continue
      }
      const id = hexOf(raw)
      if (seen.has(id)) {
        continue
      }
      seen.add(id)
      const stored = this.init.store.get(id)
      if (stored == null || stored.role !== 'requester' || stored.worker !== worker) {
        continue
      }
      const proof = stored.anchor == null ? undefined : this.init.store.proof(id)
      if (proof?.anchor == null) {
        // countersigned and stored, not anchored yet: the receipt itself, to a worker that never got it
        if (wanted.has(id)) {
          receipts.push(new Uint8Array(stored.bytes))
        }
        continue
      }
      const file = new TextEncoder().encode(encodeReceiptProof(proof))
      if (file.byteLength <= MAX_WIRE_PROOF_BYTES) {
        files.push(file)
      }
    }
    return { proofs: files, receipts }
  }

  /** The inbound handler: one request, one answer; a hostile request is logged and its stream aborted, never thrown. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const linked = linkSignals([], this.init.timeout)
    const signal = linked.signal
    try {
      const request = decodeLimited('ProofRequest', ProofRequest.codec(), await readFrame(stream, MAX_PROOF_REQUEST_BYTES, { signal }), MAX_PROOF_REQUEST_BYTES, { limits: { receiptIds: MAX_PROOF_REQUEST_IDS, signedIds: MAX_PROOF_REQUEST_IDS } })
      if (request.receiptIds.length + request.signedIds.length > MAX_PROOF_REQUEST_IDS) {
        throw new MessageTooLargeError(`${request.receiptIds.length + request.signedIds.length} ids, over the ${MAX_PROOF_REQUEST_IDS} of one request`)
      }
      await writeFrame(stream, ProofResponse.encode(this.answer(connection.remotePeer, request.receiptIds, request.signedIds)), { signal })
      await stream.close({ signal })
    } catch (err: any) {
      this.init.log('receipt proof request from %p refused: %s', connection.remotePeer, err?.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      linked.clear()
    }
  }

  /**
   * One round of the pull: the `worker` receipts without a proof and the receipts signed here
   * but never received countersigned, grouped by requester, at most MAX_PROOF_REQUEST_IDS each,
   * one request per requester (a requester resting after rounds that gave nothing is left out
   * unless `force`). Each receipt and proof received is decoded, checked (both signatures, the
   * Merkle path, that it is what was asked for, and the anchor on chain when there is a ledger)
   * and stored. Failures are logged and counted, never thrown.
   */
  async pull (options: PullOptions = {}): Promise<PullResult> {
    const result: PullResult = { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 }
    const groups = new Map<string, { requester: PeerId, ids: Set<string>, held: string[], signed: string[] }>()
    const now = Date.now()
    const ask = (requester: string, peer: () => PeerId, id: string, held: boolean): boolean => {
      if (options.force !== true && (this.quiet.get(requester)?.next ?? 0) > now) {
        // it had nothing new lately: asked again after its backoff (or when new receipts arrive)
        return false
      }
      let group = groups.get(requester)
      if (group == null) {
        group = { requester: peer(), ids: new Set(), held: [], signed: [] }
        groups.set(requester, group)
      }
      if (group.ids.size >= MAX_PROOF_REQUEST_IDS || group.ids.has(id)) {
        return false
      }
      group.ids.add(id)
      ;(held ? group.held : group.signed).push(id)
      return true
    }
    for (const stored of this.init.store.list({ role: 'worker', batched: false })) {
      ask(stored.requester, () => decodeTrustedReceipt(stored.bytes).requester, stored.id, true)
    }
    // signed here, never received countersigned (a crash on either side, a stream that broke)
    const pending = this.pendingSigned()
    for (const { id, requester } of pending) {
      if (ask(requester.toString(), () => requester, id, false)) {
        const count = (this.asks.get(id)?.count ?? 0) + 1
        this.asks.delete(id)
        this.asks.set(id, { count, next: now + Math.min(PENDING_SIGNED_RETRY_MAX, PENDING_SIGNED_RETRY_BASE * 2 ** (count - 1)) })
      }
    }
    for (const id of this.asks.keys()) {
      if (this.asks.size <= MAX_PENDING_SIGNED) {
        break
      }
      this.asks.delete(id)
    }
    for (const [key, { requester, ids, held, signed }] of groups) {
      options.signal?.throwIfAborted()
      const before = result.stored + result.receipts
      result.requesters++
      result.asked += ids.size
      let response: ProofResponse
      // a cleared timer, not AbortSignal.timeout: a deadline that garbage collection cannot lose
      const linked = linkSignals([options.signal], this.init.timeout)
      const signal = linked.signal
      let stream: Stream | undefined
      try {
        stream = await this.init.openStream(requester, this.init.protocol, { signal })
        response = await requestProofs(stream, held.map(id => Buffer.from(id, 'hex')), { signal, signed: signed.map(id => Buffer.from(id, 'hex')) })
      } catch (err: any) {
        stream?.abort(err instanceof Error ? err : new Error(String(err)))
        this.init.log('asking %p for %d receipt proofs failed: %s', requester, ids.size, err?.message)
        result.failed++
        this.backOff(key)
        continue
      } finally {
        linked.clear()
      }
      // receipts first: a proof of the same receipt then finds it held
      for (const bytes of response.receipts) {
        try {
          await this.acceptReceipt(bytes, requester, ids, { signal: options.signal })
          result.receipts++
        } catch (err: any) {
          this.init.log('a countersigned receipt from %p was rejected: %s', requester, err?.message)
          result.rejected++
        }
      }
      for (const file of response.proofs) {
        try {
          await this.accept(file, requester, ids, { signal: options.signal })
          result.stored++
        } catch (err: any) {
          this.init.log('a receipt proof from %p was rejected: %s', requester, err?.message)
          result.rejected++
        }
      }
      if (result.stored + result.receipts > before) {
        this.quiet.delete(key)
      } else {
        this.backOff(key)
      }
    }
    return result
  }

  /** A requester gave nothing new: ask it again after 5 s, doubling to a minute (`force` asks at once). */
  private backOff (key: string): void {
    const misses = (this.quiet.get(key)?.misses ?? 0) + 1
    this.quiet.set(key, { misses, next: Date.now() + Math.min(PULL_BACKOFF_MAX, PULL_BACKOFF_BASE * 2 ** (misses - 1)) })
  }

  /** New receipts to ask about arrived (every requester), or `requester` connected again: asked at once at the next round. */
  wake (requester?: PeerId): void {
    if (requester == null) {
      this.quiet.clear()
    } else {
      this.quiet.delete(requester.toString())
    }
  }

  /**
   * Check one countersigned receipt from `requester` and store it as this node's `worker`
   * receipt: it must be one asked for (an id this node signed, or holds), from the requester it
   * names, with both signatures valid (its id is the hash of the receipt this worker signed, so
   * it names this worker).
   */
  private async acceptReceipt (bytes: Uint8Array, requester: PeerId, asked: Set<string>, options: AbortOptions): Promise<void> {
    if (bytes.byteLength > MAX_SIGNED_RECEIPT_BYTES) {
      throw new MessageTooLargeError(`a receipt of ${bytes.byteLength} bytes, over the ${MAX_SIGNED_RECEIPT_BYTES} byte limit`)
    }
    const receipt = await verifyReceipt(bytes, { requireCountersignature: true, requester })
    const id = hexOf(receipt.id)
    if (!asked.has(id)) {
      throw new Error(`receipt ${id} was not asked for`)
    }
    await this.init.store.addMany([bytes], { role: 'worker', trusted: true, signal: options.signal })
  }

  /** Check one proof file from `requester` against what was asked and store it. */
  private async accept (file: Uint8Array, requester: PeerId, asked: Set<string>, options: AbortOptions): Promise<void> {
    if (file.byteLength > MAX_WIRE_PROOF_BYTES) {
      throw new MessageTooLargeError(`a proof of ${file.byteLength} bytes, over the ${MAX_WIRE_PROOF_BYTES} byte limit`)
    }
    const proof = decodeReceiptProof(file)
    const receipt = await checkReceiptProof(proof, { requester, signal: options.signal })
    const id = hexOf(receipt.id)
    if (!asked.has(id)) {
      throw new Error(`receipt ${id} was not asked for`)
    }
    if (proof.anchor == null) {
      throw new Error(`the proof of receipt ${id} names no anchor`)
    }
    if (proof.anchor.by === 'worker') {
      throw new Error(`the proof of receipt ${id} says its worker anchored it: a requester's proof is its own anchor`)
    }
    if (this.init.ledger != null) {
      await this.init.ledger.verifyAnchor(proof.anchor.signature, proof.root, proof.count, addressOfPeerId(requester), { signal: options.signal })
    }
    if (this.init.store.get(id) == null) {
      // signed here and never received countersigned: the proof carries it (checked above)
      await this.init.store.addMany([proof.receipt], { role: 'worker', trusted: true, signal: options.signal })
    }
    // checks that it is the stored worker receipt and that its path leads to its root
    await this.init.store.recordProof(id, proof, options)
  }
}
