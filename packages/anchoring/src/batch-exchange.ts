import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { BatchRequest, MAX_BATCH_REQUEST_BYTES, MessageTooLargeError, ShardmeshError, decodeLimited, linkSignals, writeFileAtomic } from '@shardmesh/protocol'
import { MAX_RECEIPT_BUNDLE_BYTES, batchBundle, bundleProof, checkBundle, decodeBundle, encodeBundle } from '@shardmesh/receipts'
import { verifyReceiptProof } from '@shardmesh/solana/core'
import { readFrame, writeFrame } from './frames.js'
import type { AbortOptions, Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { CheckedBundle, ReceiptBundle, ReceiptStore } from '@shardmesh/receipts'
import type { Ledger } from '@shardmesh/solana/core'

/**
 * Both ends of `/shardmesh/receipt-batches/1.0.0`, the fetch by which anyone who saw an anchor
 * memo on chain gets every receipt of that batch from a node that holds it whole. The fetcher
 * sends one length-prefixed `BatchRequest` (the 32-byte root); the node answers one
 * length-prefixed frame holding the batch's bundle file (`shardmesh-receipt-bundle/1`), or an
 * empty frame when it does not hold that batch, and both ends close. The fetcher recomputes the
 * root, checks every receipt and (with a ledger) the anchor on chain, so it trusts nobody.
 */

/** The folder of `dir` where bundles fetched from other nodes are kept (one `<root>.json` each). */
export const BUNDLES_DIR = 'bundles'

/** Why a batch fetch failed. */
export type BatchFetchFailure =
  /** the peer answered that it does not hold the batch */
  | 'not-held'
  /** the stream could not be opened or broke (unreachable, refused, reset) */
  | 'unreachable'
  /** no whole answer within the deadline */
  | 'timeout'
  /** the answer's length prefix is over MAX_RECEIPT_BUNDLE_BYTES */
  | 'too-large'
  /** the answer is not a bundle file */
  | 'undecodable'
  /** a bundle of another batch than the one asked for */
  | 'wrong-batch'
  /** the bundle's receipts do not hash to its root, or a receipt fails its checks */
  | 'invalid-bundle'
  /** the anchor the bundle names is not on the ledger for this root and count (or it names none) */
  | 'anchor'

/** A batch fetch failed; `reason` names why, `cause` holds the underlying error. */
export class BatchFetchError extends ShardmeshError {
  static readonly code = 'ERR_BATCH_FETCH'
  readonly reason: BatchFetchFailure
  /** the batch root asked for, hex */
  readonly root: string

  constructor (reason: BatchFetchFailure, root: string, message: string, options?: ErrorOptions) {
    super(`${reason}: ${message}`, BatchFetchError.code, options)
    this.name = 'BatchFetchError'
    this.reason = reason
    this.root = root
  }
}

export interface BatchExchangeInit {
  store: ReceiptStore
  /** the store's directory: bundles fetched to keep go to `<dir>/bundles/<root>.json` */
  dir: string
  /** with a ledger, the anchor of each fetched bundle is checked on chain */
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

const ROOT_HEX = /^[0-9a-f]{64}$/

/**
 * Ask one peer for the batch `root` (32 bytes) on an open stream: the bundle file it sent, or
 * undefined when it does not hold the batch. The answer is read up to MAX_RECEIPT_BUNDLE_BYTES
 * (`MessageTooLargeError` over it) and not checked: `BatchExchange.fetch` checks it.
 */
export async function requestBatch (stream: Stream, root: Uint8Array, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
  if (root.byteLength !== 32) {
    throw new RangeError(`a batch root is 32 bytes, not ${root.byteLength}`)
  }
  await writeFrame(stream, BatchRequest.encode({ root: new Uint8Array(root) }), options)
  const answer = await readFrame(stream, MAX_RECEIPT_BUNDLE_BYTES, options)
  await stream.close(options)
  return answer.byteLength === 0 ? undefined : answer
}

/** A failed keep is tried again after this long (ms), doubling up to KEEP_RETRY_MAX. */
const KEEP_RETRY_BASE = 5_000
const KEEP_RETRY_MAX = 10 * 60_000

export class BatchExchange {
  private readonly init: BatchExchangeInit
  private readonly bundlesDir: string
  /** roots of the bundles kept in `bundlesDir` */
  private readonly kept = new Set<string>()
  /** roots whose keep failed in this run: how often, and when it may be tried again (backing off) */
  private readonly retry = new Map<string, { count: number, next: number }>()

  constructor (init: BatchExchangeInit) {
    this.init = init
    this.bundlesDir = join(init.dir, BUNDLES_DIR)
  }

  /** Learn which bundles are kept on disk (call once before serving). */
  async start (): Promise<void> {
    let names: string[] = []
    try {
      names = await readdir(this.bundlesDir)
    } catch (err: any) {
      if (err?.code !== 'ENOENT') {
        throw err
      }
    }
    for (const name of names) {
      const root = name.endsWith('.json') ? name.slice(0, -5) : ''
      if (ROOT_HEX.test(root)) {
        this.kept.add(root)
      }
    }
  }

  /**
   * Whether this node holds batch `root` (hex) whole: an anchored batch of its store, or a bundle
   * it keeps.
   */
  holds (root: string): boolean {
    const batch = this.init.store.getBatch(root)
    return (batch?.anchor != null) || this.kept.has(root)
  }

  /**
   * The bundle file of batch `root` (hex) as this node serves it, or undefined when it does not
   * hold it whole: an anchored batch of its own store (every receipt in it; a batch it has not
   * anchored yet is not served), else a bundle it keeps in `<dir>/bundles/`.
   */
  async answer (root: string): Promise<Uint8Array | undefined> {
    if (!ROOT_HEX.test(root)) {
      return undefined
    }
    const batch = this.init.store.getBatch(root)
    if (batch?.anchor != null) {
      try {
        return new TextEncoder().encode(encodeBundle(batchBundle(batch, this.init.store)))
      } catch (err: any) {
        // over a bundle's limit, or a receipt missing: not held whole
        this.init.log('batch %s is not served: %s', root, err?.message)
      }
    }
    if (this.kept.has(root)) {
      try {
        const file = await readFile(join(this.bundlesDir, `${root}.json`))
        return file.byteLength <= MAX_RECEIPT_BUNDLE_BYTES ? file : undefined
      } catch (err: any) {
        this.init.log('kept bundle %s is not served: %s', root, err?.message)
      }
    }
    return undefined
  }

  /** The inbound handler: one request, one answer; a hostile request is logged and its stream aborted, never thrown. */
  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const linked = linkSignals([], this.init.timeout)
    const signal = linked.signal
    try {
      const request = decodeLimited('BatchRequest', BatchRequest.codec(), await readFrame(stream, MAX_BATCH_REQUEST_BYTES, { signal }), MAX_BATCH_REQUEST_BYTES)
      if (request.root.byteLength !== 32) {
        throw new Error(`a batch root is 32 bytes, not ${request.root.byteLength}`)
      }
      const bundle = await this.answer(hexOf(request.root))
      await writeFrame(stream, bundle ?? new Uint8Array(0), { signal })
      await stream.close({ signal })
    } catch (err: any) {
      this.init.log('receipt batch request from %p refused: %s', connection.remotePeer, err?.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      linked.clear()
    }
  }

  /**
   * Fetch batch `root` (hex) from `peer`: one request within the deadline, the answer decoded
   * (at most MAX_RECEIPT_BUNDLE_BYTES), its root compared with the one asked for, its receipts
   * checked (`checkBundle`: the root recomputed, both signatures of each) and, with a ledger, its
   * anchor on chain (`verifyReceiptProof` of its first leaf: the memo's root and count, the
   * anchoring party's signature, the slot and cluster). Throws `BatchFetchError` naming why.
   */
  async fetch (peer: PeerId, root: string, options: AbortOptions = {}): Promise<CheckedBundle> {
    root = root.toLowerCase()
    if (!ROOT_HEX.test(root)) {
      throw new RangeError(`a batch root is 64 hex characters, not "${root.slice(0, 80)}"`)
    }
    options.signal?.throwIfAborted()
    // a cleared timer, not AbortSignal.timeout: a deadline that garbage collection cannot lose
    const linked = linkSignals([options.signal], this.init.timeout, () => new BatchFetchError('timeout', root, `no answer from ${peer.toString()} within ${this.init.timeout} ms`))
    const signal = linked.signal
    let file: Uint8Array | undefined
    let stream: Stream | undefined
    try {
      stream = await this.init.openStream(peer, this.init.protocol, { signal })
      file = await requestBatch(stream, Buffer.from(root, 'hex'), { signal })
    } catch (err: any) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      options.signal?.throwIfAborted()
      if (signal.aborted && signal.reason instanceof BatchFetchError) {
        throw signal.reason
      }
      if (err instanceof MessageTooLargeError) {
        throw new BatchFetchError('too-large', root, `${peer.toString()} sent ${err.message}`, { cause: err })
      }
      throw new BatchFetchError('unreachable', root, `asking ${peer.toString()}: ${err?.message ?? err}`, { cause: err })
    } finally {
      linked.clear()
    }
    if (file == null) {
      throw new BatchFetchError('not-held', root, `${peer.toString()} does not hold batch ${root}`)
    }
    return this.check(file, root, peer, options)
  }

  /** Decode and check the bundle file `peer` sent for `root`. */
  private async check (file: Uint8Array, root: string, peer: PeerId, options: AbortOptions): Promise<CheckedBundle> {
    let bundle: ReceiptBundle
    try {
      bundle = decodeBundle(file)
    } catch (err: any) {
      throw new BatchFetchError('undecodable', root, `${peer.toString()} sent no bundle file: ${err.message}`, { cause: err })
    }
    if (hexOf(bundle.root) !== root) {
      throw new BatchFetchError('wrong-batch', root, `${peer.toString()} sent batch ${hexOf(bundle.root)}`)
    }
    let checked: CheckedBundle
    try {
      checked = await checkBundle(bundle, options)
    } catch (err: any) {
      options.signal?.throwIfAborted()
      throw new BatchFetchError('invalid-bundle', root, `the bundle ${peer.toString()} sent: ${err.message}`, { cause: err })
    }
    if (this.init.ledger != null) {
      try {
        await verifyReceiptProof(bundleProof(bundle), this.init.ledger, { signal: options.signal })
      } catch (err: any) {
        options.signal?.throwIfAborted()
        throw new BatchFetchError('anchor', root, `the anchor of the bundle ${peer.toString()} sent: ${err.message}`, { cause: err })
      }
    }
    return checked
  }

  /**
   * Keep batch `root` (hex) from `peer` (the requester that anchored it) so this node serves it
   * too: unless it holds the batch already, fetch it (checked as `fetch` checks it) and write it
   * to `<dir>/bundles/<root>.json`. Resolves true once held (kept now or before); failures are
   * logged, never thrown, and a failed root is fetched again only after a backoff (5 s, doubling
   * to 10 min): before that this resolves false at once.
   */
  async keep (peer: PeerId, root: string, options: AbortOptions = {}): Promise<boolean> {
    root = root.toLowerCase()
    if (this.holds(root)) {
      return true
    }
    const failed = this.retry.get(root)
    if (failed != null && failed.next > Date.now()) {
      return false
    }
    try {
      const checked = await this.fetch(peer, root, options)
      await mkdir(this.bundlesDir, { recursive: true })
      await writeFileAtomic(join(this.bundlesDir, `${root}.json`), encodeBundle(checked.bundle), 0o644)
      this.kept.add(root)
      this.retry.delete(root)
      return true
    } catch (err: any) {
      options.signal?.throwIfAborted()
      const count = (failed?.count ?? 0) + 1
      this.retry.set(root, { count, next: Date.now() + Math.min(KEEP_RETRY_MAX, KEEP_RETRY_BASE * 2 ** (count - 1)) })
      this.init.log('batch %s was not kept from %p (try %d): %s', root, peer, count, err?.message)
      return false
    }
  }
}
