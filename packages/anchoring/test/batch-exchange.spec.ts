import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { BatchRequest, MAX_BATCH_REQUEST_BYTES, RECEIPT_BATCHES_PROTOCOL } from '@shardmesh/protocol'
import { MAX_RECEIPT_BUNDLE_BYTES, decodeBundle, encodeBundle } from '@shardmesh/receipts'
import { silentLogger } from '@shardmesh/solana'
import { BUNDLES_DIR, BatchExchange, BatchFetchError, anchoring, requestBatch } from '../src/index.js'
import { readFrame, writeFrame } from '../src/frames.js'
import { MemoryNet } from './utils/memory-net.js'
import { StubLedger } from './utils/stub-ledger.js'
import { earnedReceipts } from './utils/receipts.js'
import type { Anchoring, AnchoringInit } from '../src/index.js'
import type { BatchFetchFailure } from '../src/index.js'
import type { PeerId, PrivateKey, Startable, Stream } from '@libp2p/interface'
import type { ReceiptBundle, ReceiptStore } from '@shardmesh/receipts'

type Service = Anchoring & Startable

interface Node { key: PrivateKey, peerId: PeerId, dir: string, service: Service }

async function readAll (stream: Stream): Promise<void> {
  for await (const chunk of stream) {
    void chunk
  }
}

/** A varint length prefix. */
function prefix (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

describe('anchoring: /shardmesh/receipt-batches/1.0.0, anyone fetches a whole batch by its root', function () {
  this.timeout(30_000)
  let dirs: string[]
  let net: MemoryNet
  const started: Service[] = []

  beforeEach(() => {
    dirs = []
    net = new MemoryNet()
  })

  afterEach(async () => {
    await Promise.all(started.splice(0).map(async s => s.stop()))
    await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true })))
  })

  async function tempDir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'shardmesh-batches-'))
    dirs.push(dir)
    return dir
  }

  async function node (init: Omit<AnchoringInit, 'dir'> = {}): Promise<Node> {
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key)
    const dir = await tempDir()
    const service = anchoring({ dir, proofPullInterval: 0, ...init })({
      privateKey: key, logger: { forComponent: () => silentLogger() }, ...net.components(peerId)
    }) as Service
    await service.start()
    started.push(service)
    return { key, peerId, dir, service }
  }

  /** A requester with one anchored batch of `count` receipts of `worker`'s; the batch. */
  async function anchoredBatch (ledger: StubLedger, worker: Node, count: number): Promise<{ requester: Node, earned: Uint8Array[], root: string }> {
    const requester = await node({ ledger, batchSize: count, batchInterval: 600_000 })
    const earned = await earnedReceipts(worker, requester, count)
    await requester.service.store(earned)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    const [batch] = requester.service.batches({ anchored: true })
    return { requester, earned, root: batch.root }
  }

  /** A peer whose handler of the batch protocol reads the request and answers with `answer`. */
  function fakePeer (answer: (stream: Stream) => Promise<void>): PeerId {
    const peerId = peerIdFromPrivateKey(fakeKey)
    net.handlers.set(`${peerId.toString()} ${RECEIPT_BATCHES_PROTOCOL}`, async (stream) => {
      await readFrame(stream, MAX_BATCH_REQUEST_BYTES, {})
      await answer(stream)
    })
    return peerId
  }

  let fakeKey: PrivateKey
  before(async () => {
    fakeKey = await generateKeyPair('Ed25519')
  })

  async function failure (promise: Promise<unknown>): Promise<BatchFetchFailure> {
    try {
      await promise
    } catch (err: any) {
      assert.equal(err.name, 'BatchFetchError', err.stack)
      assert.equal(err.code, BatchFetchError.code)
      return err.reason
    }
    assert.fail('the fetch did not fail')
  }

  it('a node that took no part fetches a batch from its requester, and from a worker that kept it after pulling its proofs', async () => {
    const ledger = new StubLedger()
    const worker = await node({ ledger })
    const { requester, earned, root } = await anchoredBatch(ledger, worker, 6)
    const stranger = await node({ ledger })

    const fromRequester = await stranger.service.fetchBatch(requester.peerId, root)
    assert.equal(fromRequester.root, root)
    assert.equal(fromRequester.receipts.length, 6)
    assert.deepEqual(fromRequester.bundle.receipts.map(r => Buffer.from(r).toString('hex')), earned.map(r => Buffer.from(r).toString('hex')), 'every receipt, in leaf order')
    assert.equal(fromRequester.bundle.anchor?.signature, requester.service.batches()[0].anchor?.signature)

    // the worker does not hold the batch before it pulled its proofs
    assert.equal(await failure(stranger.service.fetchBatch(worker.peerId, root)), 'not-held')
    await worker.service.store(earned, { role: 'worker' })
    assert.equal((await worker.service.pullProofs()).stored, 6)
    // pulling the proofs kept the batch, checked, in the worker's dir
    const kept = await readFile(join(worker.dir, BUNDLES_DIR, `${root}.json`), 'utf8')
    assert.equal(decodeBundle(kept).root.length, 32)
    const fromWorker = await stranger.service.fetchBatch(worker.peerId, root)
    assert.equal(encodeBundle(fromWorker.bundle), encodeBundle(fromRequester.bundle), 'the same bundle, byte for byte')
    // each root is fetched once: another pull stores nothing new and fetches nothing
    const served = net.served.length
    await worker.service.pullProofs()
    assert.equal(net.served.length, served + 0)

    // a restarted worker still serves what it kept
    await worker.service.stop()
    started.splice(started.indexOf(worker.service), 1)
    const again = anchoring({ dir: worker.dir, proofPullInterval: 0, ledger })({
      privateKey: worker.key, logger: { forComponent: () => silentLogger() }, ...net.components(worker.peerId)
    }) as Service
    await again.start()
    started.push(again)
    assert.equal((await stranger.service.fetchBatch(worker.peerId, root)).root, root)

    // a root nobody holds; a sealed batch not anchored yet is not served
    assert.equal(await failure(stranger.service.fetchBatch(requester.peerId, 'ab'.repeat(32))), 'not-held')
    const held = await node({ batchSize: 2 })
    await held.service.store(await earnedReceipts(worker, held, 2))
    const store = held.service as unknown as { receiptStore: ReceiptStore }
    const sealed = await store.receiptStore.sealBatch()
    assert.ok(sealed != null)
    assert.equal(await failure(stranger.service.fetchBatch(held.peerId, sealed.root)), 'not-held')
    await Promise.all(net.served)
  })

  it('a batch a worker anchored itself (its requester silent) is served by the worker, its bundle naming the worker as the anchoring party', async () => {
    const ledger = new StubLedger()
    // the requester stores but does not anchor (no ledger)
    const requester = await node({ batchInterval: 600_000 })
    const worker = await node({ ledger, selfAnchorAfter: 1, batchInterval: 600_000 })
    const earned = await earnedReceipts(worker, requester, 3)
    await requester.service.store(earned)
    const anchored = new Promise<{ root: string }>(resolve => {
      worker.service.addEventListener('receipts:anchored', ({ detail }) => { resolve(detail) }, { once: true })
    })
    await worker.service.store(earned, { role: 'worker' })
    const { root } = await anchored
    const stranger = await node({ ledger })
    const checked = await stranger.service.fetchBatch(worker.peerId, root)
    assert.equal(checked.bundle.anchor?.by, 'worker')
    assert.equal(checked.receipts.length, 3)
    // the requester never sealed it: not held there
    assert.equal(await failure(stranger.service.fetchBatch(requester.peerId, root)), 'not-held')
    await Promise.all(net.served)
  })

  it('a hostile or broken peer is named: oversized, garbage, another batch, a tampered receipt, an anchor not on chain, silence', async () => {
    const ledger = new StubLedger()
    const worker = await node({ ledger })
    const { requester, root } = await anchoredBatch(ledger, worker, 4)
    const other = await anchoredBatch(ledger, worker, 3)
    const stranger = await node({ ledger })
    const good = await stranger.service.fetchBatch(requester.peerId, root)
    const otherBundle = (await stranger.service.fetchBatch(other.requester.peerId, other.root)).bundle

    const send = (bytes: Uint8Array) => async (stream: Stream): Promise<void> => {
      await writeFrame(stream, bytes, {})
      await stream.close()
    }
    const text = (bundle: ReceiptBundle): Uint8Array => new TextEncoder().encode(encodeBundle(bundle))

    // a length prefix over MAX_RECEIPT_BUNDLE_BYTES: refused before anything more is read
    let peer = fakePeer(async stream => { stream.send(prefix(MAX_RECEIPT_BUNDLE_BYTES + 1)) })
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'too-large')
    // not a bundle file
    peer = fakePeer(send(Uint8Array.of(0xff, 0xfe, 0x00, 0x7b)))
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'undecodable')
    // a valid bundle of another batch
    peer = fakePeer(send(text(otherBundle)))
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'wrong-batch')
    // one receipt's byte flipped: its leaves no longer hash to the root asked for
    const tampered = good.bundle.receipts.map(r => Uint8Array.from(r))
    tampered[2][tampered[2].byteLength - 1] ^= 1
    peer = fakePeer(send(text({ ...good.bundle, receipts: tampered })))
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'invalid-bundle')
    // a receipt swapped for another batch's: same count, the root no longer matches
    peer = fakePeer(send(text({ ...good.bundle, receipts: [otherBundle.receipts[0], ...good.bundle.receipts.slice(1)] })))
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'invalid-bundle')
    // the bundle names no anchor, or one the fetcher's chain does not hold
    peer = fakePeer(send(text({ ...good.bundle, anchor: undefined })))
    assert.equal(await failure(stranger.service.fetchBatch(peer, root)), 'anchor')
    const blind = await node({ ledger: new StubLedger() })
    assert.equal(await failure(blind.service.fetchBatch(requester.peerId, root)), 'anchor')
    // without a ledger the same bundle is checked offline only, and accepted
    const offline = await node()
    assert.equal((await offline.service.fetchBatch(requester.peerId, root)).root, root)
    // a peer that does not speak the protocol
    assert.equal(await failure(stranger.service.fetchBatch(peerIdFromPrivateKey(await generateKeyPair('Ed25519')), root)), 'unreachable')
    await Promise.all(net.served)

    // a peer that never answers: the deadline ends the fetch (a stream of its own, a short deadline)
    const store = (stranger.service as unknown as { receiptStore: ReceiptStore }).receiptStore
    const exchange = new BatchExchange({
      store,
      dir: stranger.dir,
      log: silentLogger(),
      timeout: 50,
      protocol: RECEIPT_BATCHES_PROTOCOL,
      openStream: async (to, protocol) => net.open(stranger.peerId, to, protocol)
    })
    const silent = fakePeer(async () => new Promise<void>(() => {}))
    const err = await exchange.fetch(silent, root).catch(err => err)
    assert.equal(err.name, 'BatchFetchError')
    assert.equal(err.reason, 'timeout')
    // the caller's own abort is its own reason
    const controller = new AbortController()
    const fetching = exchange.fetch(silent, root, { signal: controller.signal }).catch(err => err)
    controller.abort(new Error('the caller gave up'))
    assert.equal((await fetching).message, 'the caller gave up')
  })

  it('a garbage, oversized or malformed request is refused without harm, and the node still serves', async () => {
    const ledger = new StubLedger()
    const worker = await node({ ledger })
    const { requester, root } = await anchoredBatch(ledger, worker, 2)
    const asker = await node()

    // not protobuf
    let stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
    stream.send(Uint8Array.of(5, 0xff, 0xff, 0xff, 0xff, 0xff))
    await assert.rejects(readAll(stream))
    // a length prefix over MAX_BATCH_REQUEST_BYTES
    stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
    stream.send(prefix(MAX_BATCH_REQUEST_BYTES + 1))
    await assert.rejects(readAll(stream))
    // a length prefix that never ends
    stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
    stream.send(new Uint8Array(8).fill(0xff))
    await assert.rejects(readAll(stream))
    // a root of 31 bytes, and none at all
    for (const bad of [new Uint8Array(31), new Uint8Array(0)]) {
      stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
      await writeFrame(stream, BatchRequest.encode({ root: bad }), {})
      await assert.rejects(readAll(stream))
    }
    // the client refuses to send a root that is not 32 bytes
    stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
    await assert.rejects(requestBatch(stream, new Uint8Array(3)), /32 bytes/)
    stream.abort(new Error('not sent'))
    await assert.rejects(asker.service.fetchBatch(requester.peerId, 'not hex'), RangeError)
    // every handler run returned (none threw), and the requester still serves
    await Promise.all(net.served)
    stream = await net.open(asker.peerId, requester.peerId, RECEIPT_BATCHES_PROTOCOL)
    const file = await requestBatch(stream, Buffer.from(root, 'hex'))
    assert.ok(file != null)
    assert.equal(Buffer.from(decodeBundle(file).root).toString('hex'), root)
  })
})
