import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_PROOF_REQUEST_BYTES, RECEIPT_PROOFS_PROTOCOL, decodeSignedReceipt, sha256Hex } from '@shardmesh/protocol'
import { ReceiptStore, checkReceiptProof, decodeReceiptProof, encodeReceiptProof } from '@shardmesh/receipts'
import { silentLogger } from '@shardmesh/solana'
import { ProofExchange, anchoring, requestProofs } from '../src/index.js'
import { MemoryNet } from './utils/memory-net.js'
import { StubLedger } from './utils/stub-ledger.js'
import { earnedReceipts } from './utils/receipts.js'
import type { Anchoring, AnchoringInit } from '../src/index.js'
import type { Metrics, PeerId, PrivateKey, Startable, Stream } from '@libp2p/interface'

type Service = Anchoring & Startable

interface Node { key: PrivateKey, peerId: PeerId, service: Service }

describe('anchoring: /shardmesh/receipt-proofs/1.0.0, the worker pulls the proofs of its receipts', function () {
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

  /** The gauges services register (name -> how it is computed), as a metrics registry reads them. */
  const gauges = new Map<string, Map<Service, () => number>>()
  function gaugeOf (service: Service, name: string): number {
    return gauges.get(name)?.get(service)?.() ?? assert.fail(`no gauge ${name}`)
  }

  async function node (init: AnchoringInit = {}, key?: PrivateKey): Promise<Node> {
    key ??= await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key)
    let dir = init.dir
    if (dir == null) {
      dir = await mkdtemp(join(tmpdir(), 'shardmesh-proofs-'))
      dirs.push(dir)
    }
    const registered: Array<[string, () => number]> = []
    const metrics = {
      registerCounter: () => ({ increment: () => {}, reset: () => {} }),
      registerMetric: (name: string, options: { calculate(): number }) => { registered.push([name, options.calculate]) }
    } as unknown as Metrics
    const service = anchoring({ proofPullInterval: 0, ...init, dir })({
      privateKey: key, logger: { forComponent: () => silentLogger() }, metrics, ...net.components(peerId)
    }) as Service
    for (const [name, calculate] of registered) {
      gauges.set(name, (gauges.get(name) ?? new Map()).set(service, calculate))
    }
    await service.start()
    started.push(service)
    return { key, peerId, service }
  }

  it('a worker holding countersigned receipts gets their Merkle paths and anchors, checks and keeps them', async () => {
    const ledger = new StubLedger()
    // nothing is sealed before the flush
    const requester = await node({ ledger, batchSize: 10, batchInterval: 600_000 })
    // the worker checks each anchor on its own view of the chain (here the same stub ledger)
    const worker = await node({ ledger })
    const earned = await earnedReceipts(worker, requester, 5)
    await requester.service.store(earned)
    await worker.service.store(earned, { role: 'worker' })
    assert.equal(gaugeOf(requester.service, 'shardmesh_receipts_unanchored'), 5)
    assert.equal(gaugeOf(worker.service, 'shardmesh_receipts_unanchored'), 0)
    // nothing anchored yet: nothing to give
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 5, stored: 0, receipts: 0, rejected: 0, failed: 0 })

    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    const result = await worker.service.pullProofs()
    assert.deepEqual(result, { requesters: 1, asked: 5, stored: 5, receipts: 0, rejected: 0, failed: 0 })
    const rows = worker.service.list({ role: 'worker' })
    assert.equal(rows.length, 5)
    for (const row of rows) {
      const proof = worker.service.proof(row.id) ?? assert.fail('no proof')
      const verified = await checkReceiptProof(proof, { worker: worker.peerId, requester: requester.peerId })
      assert.equal(Buffer.from(verified.id).toString('hex'), row.id)
      assert.equal(encodeReceiptProof(proof), encodeReceiptProof(requester.service.proof(row.id)!), 'the requester\'s proof, byte for byte')
      const theirs = requester.service.get(row.id)!
      assert.deepEqual([row.batch, row.leafIndex, row.anchor], [theirs.batch, theirs.leafIndex, theirs.anchor])
    }
    assert.deepEqual(worker.service.summarize({ role: 'worker' }), { receipts: 5, batched: 5, anchored: 5, batches: 1, anchoredBatches: 1 })
    // what waits to be anchored is the requester's own: the worker's receipts with their proofs
    // are not counted again (it read -5 here)
    assert.equal(gaugeOf(worker.service, 'shardmesh_receipts_unanchored'), 0)
    assert.equal(gaugeOf(requester.service, 'shardmesh_receipts_unanchored'), 0)
    // nothing left to ask
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    assert.ok(net.served.length >= 2)
    await Promise.all(net.served)
  })

  it('a peer asking for the receipts of another worker gets nothing; an anchor the worker\'s chain lacks is not kept', async () => {
    const ledger = new StubLedger()
    const requester = await node({ ledger, batchSize: 4 })
    const worker = await node()
    const other = await node()
    const earned = await earnedReceipts(worker, requester, 4)
    await requester.service.store(earned)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    // another peer holding the same receipts (as if it were their worker) is given no proof
    await other.service.store(earned, { role: 'worker' })
    assert.deepEqual(await other.service.pullProofs(), { requesters: 1, asked: 4, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(other.service.count({ anchored: true }), 0)

    // a worker whose chain does not hold the anchor transaction keeps nothing
    const blind = await node({ ledger: new StubLedger() })
    const mine = await earnedReceipts(blind, requester, 2)
    await requester.service.store(mine)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    await blind.service.store(mine, { role: 'worker' })
    assert.deepEqual(await blind.service.pullProofs(), { requesters: 1, asked: 2, stored: 0, receipts: 0, rejected: 2, failed: 0 })
    assert.equal(blind.service.count({ anchored: true }), 0)

    // the worker itself gets its own
    await worker.service.store(earned, { role: 'worker' })
    assert.equal((await worker.service.pullProofs()).stored, 4)
  })

  it('a requester that is unreachable is asked again in a later round; a garbage or oversized request is refused without harm', async () => {
    const ledger = new StubLedger()
    const requester = await node({ ledger, batchSize: 2 })
    const worker = await node()
    const earned = await earnedReceipts(worker, requester, 2)
    await requester.service.store(earned)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    await worker.service.store(earned, { role: 'worker' })

    const handler = net.handlers.get(`${requester.peerId.toString()} ${RECEIPT_PROOFS_PROTOCOL}`)!
    net.handlers.delete(`${requester.peerId.toString()} ${RECEIPT_PROOFS_PROTOCOL}`)
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 2, stored: 0, receipts: 0, rejected: 0, failed: 1 })
    net.handlers.set(`${requester.peerId.toString()} ${RECEIPT_PROOFS_PROTOCOL}`, handler)

    // not protobuf
    let stream = await net.open(worker.peerId, requester.peerId, RECEIPT_PROOFS_PROTOCOL)
    stream.send(Uint8Array.of(5, 0xff, 0xff, 0xff, 0xff, 0xff))
    await assert.rejects(readAll(stream))
    // a length prefix over the limit
    stream = await net.open(worker.peerId, requester.peerId, RECEIPT_PROOFS_PROTOCOL)
    const over = MAX_PROOF_REQUEST_BYTES + 1
    stream.send(Uint8Array.of((over & 0x7f) | 0x80, (over >> 7) & 0x7f))
    await assert.rejects(readAll(stream))
    // a length prefix that never ends
    stream = await net.open(worker.peerId, requester.peerId, RECEIPT_PROOFS_PROTOCOL)
    stream.send(new Uint8Array(8).fill(0xff))
    await assert.rejects(readAll(stream))
    // 257 ids: over the repeated-field limit
    stream = await net.open(worker.peerId, requester.peerId, RECEIPT_PROOFS_PROTOCOL)
    await assert.rejects(requestProofs(stream, new Array(257).fill(new Uint8Array(32))), /at most 256/)
    await assert.rejects(requestProofs(stream, new Array(200).fill(new Uint8Array(32)), { signed: new Array(57).fill(new Uint8Array(32)) }), /at most 256/)
    stream.abort(new Error('not sent'))
    // ids of the wrong length, repeated ids: answered, with nothing for them
    stream = await net.open(worker.peerId, requester.peerId, RECEIPT_PROOFS_PROTOCOL)
    assert.deepEqual(await requestProofs(stream, [new Uint8Array(3), new Uint8Array(32), new Uint8Array(32)], { signed: [new Uint8Array(32)] }), { proofs: [], receipts: [] })
    // every handler run returned (none threw), and the requester still serves
    await Promise.all(net.served)
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 2, stored: 2, receipts: 0, rejected: 0, failed: 0 })
  })

  it('a worker that signed receipts and never got them back (its requester crashed, or it did) asks for them: after a restart too, first the receipts, then the proofs', async () => {
    const ledger = new StubLedger()
    const requester = await node({ ledger, batchSize: 10, batchInterval: 600_000 })
    const workerDir = await mkdtemp(join(tmpdir(), 'shardmesh-proofs-'))
    dirs.push(workerDir)
    let worker = await node({ dir: workerDir, ledger })
    const earned = await earnedReceipts(worker, requester, 3)
    const ids = earned.map(bytes => receiptId(bytes))
    // the worker notes what it signed; the countersigned receipts never reach it
    await worker.service.noteSigned(ids.map(id => ({ id, requester: requester.peerId })))
    // the requester has not stored them yet (it crashed before): nothing to give, nothing kept
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 3, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    await requester.service.store(earned)

    // the worker restarts: what it signed is on disk
    const key = worker.key
    await worker.service.stop()
    started.splice(started.indexOf(worker.service), 1)
    worker = await node({ dir: workerDir, ledger }, key)
    // not anchored yet: the countersigned receipts come back, checked, kept as the worker's
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 3, stored: 0, receipts: 3, rejected: 0, failed: 0 })
    assert.deepEqual(worker.service.list({ role: 'worker' }).map(r => r.id).sort(), [...ids].sort())
    // then, once anchored, their proofs (only proofs now: it holds the receipts)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 3, stored: 3, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(worker.service.count({ role: 'worker', anchored: true }), 3)
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 })

    // signed, and the requester anchored before the worker asked: the proof brings the receipt
    const late = await earnedReceipts(worker, requester, 2)
    await worker.service.noteSigned(late.map(bytes => ({ id: receiptId(bytes), requester: requester.peerId })))
    await requester.service.store(late)
    await requester.service.flush({ signal: AbortSignal.timeout(20_000) })
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 1, asked: 2, stored: 2, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(worker.service.count({ role: 'worker', anchored: true }), 5)
  })

  it('a receipt signed here that the requester never countersigned is asked for again only after a backoff, and another peer cannot answer for it', async () => {
    const requester = await node()
    const worker = await node()
    const [bytes] = await earnedReceipts(worker, requester, 1)
    await worker.service.noteSigned([{ id: receiptId(bytes), requester: requester.peerId }])
    assert.equal((await worker.service.pullProofs()).asked, 1)
    // not again at once: the next ask waits 5 s, then 10 s, ... up to 10 min, for an hour
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    // a countersigned receipt for an id not asked for is refused (a forger's, or another worker's)
    const stranger = await node()
    const [theirs] = await earnedReceipts(stranger, requester, 1)
    await requester.service.store([theirs])
    const other = await node()
    await other.service.noteSigned([{ id: receiptId(bytes), requester: requester.peerId }])
    assert.deepEqual(await other.service.pullProofs(), { requesters: 1, asked: 1, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(other.service.count(), 0)
  })

  it('the background pull lets a requester that gives nothing rest (5 s, doubling), until new receipts arrive or it connects again; an explicit pull asks at once', async () => {
    const requester = await node()
    const worker = await node()
    const earned = await earnedReceipts(worker, requester, 2)
    await requester.service.store(earned)
    await worker.service.store(earned, { role: 'worker' })
    const store = await ReceiptStore.open(await mkdtemp(join(tmpdir(), 'shardmesh-proofs-')))
    dirs.push(store.dir)
    await store.addMany(earned, { role: 'worker' })
    const exchange = new ProofExchange({
      store,
      log: silentLogger(),
      timeout: 10_000,
      protocol: RECEIPT_PROOFS_PROTOCOL,
      openStream: async (peer, protocol) => net.open(worker.peerId, peer, protocol)
    })
    try {
      // the requester has not anchored: nothing new, so the next background round leaves it alone
      assert.equal((await exchange.pull()).requesters, 1)
      assert.equal((await exchange.pull()).requesters, 0)
      // asked for by hand, it is asked
      assert.equal((await exchange.pull({ force: true })).requesters, 1)
      // new receipts to ask about: every requester may be asked again
      exchange.wake()
      assert.equal((await exchange.pull()).requesters, 1)
      assert.equal((await exchange.pull()).requesters, 0)
      // another peer connecting wakes nothing; the requester connecting again is asked at once
      exchange.wake(worker.peerId)
      assert.equal((await exchange.pull()).requesters, 0)
      exchange.wake(requester.peerId)
      assert.equal((await exchange.pull()).requesters, 1)
    } finally {
      await store.close()
    }
  })

  it('a worker whose requester delivers no anchor within the deadline anchors its receipts itself, once, and takes no proof of them later', async () => {
    const ledger = new StubLedger()
    // the requester stores but does not anchor (no ledger): it has gone silent on anchors
    const requester = await node({ batchInterval: 600_000 })
    const worker = await node({ ledger, selfAnchorAfter: 1, batchInterval: 600_000 })
    const earned = await earnedReceipts(worker, requester, 4)
    await requester.service.store(earned)
    await worker.service.store(earned, { role: 'worker' })
    const anchored = new Promise<{ root: string, count: number }>(resolve => {
      worker.service.addEventListener('receipts:anchored', ({ detail }) => { resolve(detail) }, { once: true })
    })
    const batch = await anchored
    assert.equal(batch.count, 4)
    assert.equal(worker.service.count({ role: 'worker', anchored: true }), 4)
    for (const row of worker.service.list({ role: 'worker' })) {
      const proof = worker.service.proof(row.id) ?? assert.fail('no proof')
      assert.equal(proof.anchor?.by, 'worker')
      assert.equal(decodeReceiptProof(encodeReceiptProof(proof)).anchor?.by, 'worker', 'the proof file says who anchored')
      await checkReceiptProof(proof, { worker: worker.peerId, requester: requester.peerId })
      assert.equal(toHexString(proof.root), batch.root)
    }
    assert.equal(ledger.submitted.length, 1, 'one anchor transaction')
    assert.deepEqual(ledger.payments.get(ledger.submitted[0]), [], 'a worker pays nobody')
    // anchored here: the worker asks its requester for none of them again, so it never takes a second proof
    assert.deepEqual(await worker.service.pullProofs(), { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(ledger.submitted.length, 1)
  })
})

function receiptId (bytes: Uint8Array): string {
  return sha256Hex(decodeSignedReceipt(bytes).receipt)
}

function toHexString (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

async function readAll (stream: Stream): Promise<void> {
  for await (const chunk of stream) {
    void chunk
  }
}
