import {
  MAX_PROOF_REQUEST_BYTES, MAX_PROOF_REQUEST_IDS, MAX_PROOF_RESPONSE_BYTES, MAX_WIRE_PROOF_BYTES, MessageTooLargeError, ProofRequest, ProofResponse, linkSignals
} from '@shardmesh/protocol'
import { checkReceiptProof, decodeReceiptProof, decodeTrustedReceipt, encodeReceiptProof } from '@shardmesh/receipts'
import { addressOfPeerId } from '@shardmesh/solana'
import { readFrame, writeFrame } from './frames.js'
import type { AbortOptions, Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { ReceiptStore } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana'

/**
 * Both ends of `/shardmesh/receipt-proofs/1.0.0`, the pull by which a worker gets the Merkle
 * path and anchor of each countersigned receipt it holds from the requester that anchored it.
 * The worker sends one length-prefixed `ProofRequest` (receipt ids); the requester answers one
 * length-prefixed `ProofResponse` (proof files) and both ends close. Both stores are durable, so
 * a pull that fails (the requester is away, has not anchored yet) is simply asked again later.
 */

/** Where the proofs of a pull round went. */
export interface PullResult {
  /** requesters asked (one request each) */
  requesters: number
  /** receipt ids asked for */
  asked: number
  /** proofs checked and stored */
  stored: number
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

/** Ask one peer for the proofs of `ids` (at most MAX_PROOF_REQUEST_IDS); the proof files it sent. */
export async function requestProofs (stream: Stream, ids: Uint8Array[], options: AbortOptions = {}): Promise<Uint8Array[]> {
  if (ids.length > MAX_PROOF_REQUEST_IDS) {
    throw new RangeError(`at most ${MAX_PROOF_REQUEST_IDS} receipt ids in one request, not ${ids.length}`)
  }
  await writeFrame(stream, ProofRequest.encode({ receiptIds: ids.map(id => new Uint8Array(id)) }), options)
  const response = ProofResponse.decode(await readFrame(stream, MAX_PROOF_RESPONSE_BYTES, options), { limits: { proofs: MAX_PROOF_REQUEST_IDS } })
  await stream.close(options)
  return response.proofs
}

export class ProofExchange {
  private readonly init: ProofExchangeInit

  constructor (init: ProofExchangeInit) {
    this.init = init
  }

  /**
   * The proof files to answer `asker` with: one per id that names a receipt this node holds as
   * the requester, has anchored, and that names `asker` as its worker (others are left out).
   */
  answer (asker: PeerId, ids: Uint8Array[]): Array<Uint8Array<ArrayBuffer>> {
    const worker = asker.toString()
    const seen = new Set<string>()
    const files: Array<Uint8Array<ArrayBuffer>> = []
    for (const raw of ids) {
      if (raw.byteLength !== 32) {
        continue
      }
      const id = hexOf(raw)
      if (seen.has(id)) {
        continue
      }
      seen.add(id)
      const stored = this.init.store.get(id)
      if (stored == null || stored.role !== 'requester' || stored.worker !== worker || stored.anchor == null) {
        continue
      }
      const proof = this.init.store.proof(id)
      if (proof?.anchor == null) {
        continue
      }
      const file = new TextEncoder().encode(encodeReceiptProof(proof))
      if (file.byteLength <= MAX_WIRE_PROOF_BYTES) {
        files.push(file)
      }
    }
    return files
  }

  /** The inbound handler: one request, one answer; a hostile request is logged and its stream aborted, never thrown. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const linked = linkSignals([], this.init.timeout)
    const signal = linked.signal
    try {
      const request = ProofRequest.decode(await readFrame(stream, MAX_PROOF_REQUEST_BYTES, { signal }), { limits: { receiptIds: MAX_PROOF_REQUEST_IDS } })
      const proofs = this.answer(connection.remotePeer, request.receiptIds)
      await writeFrame(stream, ProofResponse.encode({ proofs }), { signal })
      await stream.close({ signal })
    } catch (err: any) {
      this.init.log('receipt proof request from %p refused: %s', connection.remotePeer, err?.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      linked.clear()
    }
  }

  /**
   * One round of the pull: the `worker` receipts without a proof, grouped by requester, at most
   * MAX_PROOF_REQUEST_IDS each, one request per requester. Each proof received is decoded,
   * checked (both signatures, the Merkle path, that it is the stored receipt asked for, and the
   * anchor on chain when there is a ledger) and stored. Failures are logged and counted, never thrown.
   */
  async pull (options: AbortOptions = {}): Promise<PullResult> {
    const result: PullResult = { requesters: 0, asked: 0, stored: 0, rejected: 0, failed: 0 }
    const groups = new Map<string, { requester: PeerId, ids: Set<string> }>()
    for (const stored of this.init.store.list({ role: 'worker', batched: false })) {
      let group = groups.get(stored.requester)
      if (group == null) {
        group = { requester: decodeTrustedReceipt(stored.bytes).requester, ids: new Set() }
        groups.set(stored.requester, group)
      }
      if (group.ids.size < MAX_PROOF_REQUEST_IDS) {
        group.ids.add(stored.id)
      }
    }
    for (const { requester, ids } of groups.values()) {
      options.signal?.throwIfAborted()
      result.requesters++
      result.asked += ids.size
      let files: Uint8Array[]
      // a cleared timer, not AbortSignal.timeout: a deadline that garbage collection cannot lose
      const linked = linkSignals([options.signal], this.init.timeout)
      const signal = linked.signal
      let stream: Stream | undefined
      try {
        stream = await this.init.openStream(requester, this.init.protocol, { signal })
        files = await requestProofs(stream, [...ids].map(id => Buffer.from(id, 'hex')), { signal })
      } catch (err: any) {
        stream?.abort(err instanceof Error ? err : new Error(String(err)))
        this.init.log('asking %p for %d receipt proofs failed: %s', requester, ids.size, err?.message)
        result.failed++
        continue
      } finally {
        linked.clear()
      }
      for (const file of files) {
        try {
          await this.accept(file, requester, ids, { signal: options.signal })
          result.stored++
        } catch (err: any) {
          this.init.log('a receipt proof from %p was rejected: %s', requester, err?.message)
          result.rejected++
        }
      }
    }
    return result
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
    if (this.init.ledger != null) {
      await this.init.ledger.verifyAnchor(proof.anchor.signature, proof.root, proof.count, addressOfPeerId(requester), { signal: options.signal })
    }
    // checks that it is the stored worker receipt and that its path leads to its root
    await this.init.store.recordProof(id, proof, options)
  }
}
