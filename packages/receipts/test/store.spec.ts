import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeSignedReceipt, encodeSignedReceipt, sha256 } from '@shardmesh/protocol'
import { base58btc } from 'multiformats/bases/base58'
import {
  ReceiptStore, checkReceiptProof, countersignReceipt, decodeReceiptProof, encodeReceiptProof, rootOf, signReceipt, verifyReceipt
} from '../src/index.js'
import { fields, hex, jobId, makePeers, makeReceipt, makeReceipts, tempDir, uncountersigned } from './utils/receipts.js'
import type { ReceiptStoreStats } from '../src/index.js'
import type { Peers } from './utils/receipts.js'

function txSignature (): string {
  return base58btc.baseEncode(Buffer.concat([Buffer.of(5), randomBytes(63)]))
}

function named (name: string, reason?: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    if (reason != null) {
      assert.equal(err.reason, reason, err.message)
    }
    return true
  }
}

function withoutIo (stats: ReceiptStoreStats): unknown {
  return { ...stats, fsyncs: undefined }
}

describe('ReceiptStore', () => {
  let peers: Peers
  let tmp: { dir: string, remove(): Promise<void> }
  let store: ReceiptStore

  before(async () => {
    peers = await makePeers()
  })

  beforeEach(async () => {
    tmp = await tempDir()
    store = await ReceiptStore.open(tmp.dir)
  })

  afterEach(async () => {
    await store.close()
    await tmp.remove()
  })

  it('add stores a verified receipt; get returns it by id', async () => {
    const bytes = await makeReceipt(peers, { shardIndex: 3, workload: 'ocr-rec', jobId: jobId(9) })
    const verified = await verifyReceipt(bytes)
    const stored = await store.add(bytes)
    assert.deepEqual({ ...stored, storedAt: 0 }, {
      id: hex(verified.id),
      bytes,
      jobId: hex(jobId(9)),
      shardIndex: 3,
      workload: 'ocr-rec',
      worker: peerIdFromPrivateKey(peers.worker).toString(),
      requester: peerIdFromPrivateKey(peers.requester).toString(),
      storedAt: 0,
      role: 'requester'
    })
    assert.equal(typeof stored.storedAt, 'number')
    assert.deepEqual(store.get(stored.id), stored)
    assert.deepEqual(store.get(stored.id.toUpperCase()), stored)
    assert.equal(store.get('00'.repeat(32)), undefined)
    assert.equal(store.stats().receipts, 1)
  })

  it('list and count filter by job, peer, batched and anchored, in storage order, with offset and limit', async () => {
    const other = { worker: (await makePeers()).worker, requester: peers.requester }
    const a = await makeReceipts(peers, 4, { jobId: jobId(1) })
    const b = await makeReceipts(other, 3, { jobId: jobId(2) })
    const c = await makeReceipts(other, 1, { jobId: jobId(1) }, 10)
    const ids: string[] = []
    for (const bytes of [...a, ...b, ...c]) {
      ids.push((await store.add(bytes)).id)
    }
    const A = peerIdFromPrivateKey(peers.worker).toString()
    const B = peerIdFromPrivateKey(other.worker).toString()
    const R = peerIdFromPrivateKey(peers.requester).toString()
    const listed = (query: Parameters<ReceiptStore['list']>[0]): string[] => store.list(query).map(r => r.id)
    assert.deepEqual(listed({}), ids)
    assert.deepEqual(listed({ jobId: hex(jobId(1)) }), [...ids.slice(0, 4), ids[7]])
    assert.deepEqual(listed({ jobId: hex(jobId(1)).toUpperCase() }), [...ids.slice(0, 4), ids[7]])
    assert.deepEqual(listed({ jobId: hex(jobId(2)) }), ids.slice(4, 7))
    assert.deepEqual(listed({ jobId: hex(jobId(3)) }), [])
    assert.deepEqual(listed({ peer: A }), ids.slice(0, 4))
    assert.deepEqual(listed({ peer: B }), ids.slice(4))
    assert.deepEqual(listed({ peer: R }), ids)
    assert.deepEqual(listed({ peer: B, jobId: hex(jobId(1)) }), [ids[7]])
    assert.deepEqual(listed({ peer: 'nobody' }), [])
    assert.deepEqual(listed({ peer: R, offset: 2, limit: 3 }), ids.slice(2, 5))
    assert.deepEqual(listed({ offset: 7, limit: 5 }), ids.slice(7))
    assert.deepEqual(listed({ limit: 0 }), [])
    assert.equal(store.count(), 8)
    assert.equal(store.count({ peer: B }), 4)
    assert.equal(store.count({ peer: R, limit: 1, offset: 1 }), 8)
    assert.throws(() => store.list({ limit: -1 }), RangeError)
    assert.throws(() => store.list({ offset: 1.5 }), RangeError)

    const batch = await store.sealBatch({ maxCount: 5 })
    assert.deepEqual(batch?.receiptIds, ids.slice(0, 5))
    assert.deepEqual(listed({ batched: true }), ids.slice(0, 5))
    assert.deepEqual(listed({ batched: false }), ids.slice(5))
    assert.deepEqual(listed({ batched: false, offset: 1, limit: 1 }), [ids[6]])
    assert.deepEqual(listed({ batched: false, peer: A }), [])
    assert.deepEqual(listed({ anchored: true }), [])
    assert.equal(store.count({ anchored: false }), 8)
    assert.deepEqual([store.count({ batched: true }), store.count({ batched: false })], [5, 3])
    await store.recordAnchor(batch.root, { signature: txSignature(), slot: 77n })
    assert.deepEqual(listed({ anchored: true }), ids.slice(0, 5))
    assert.deepEqual(listed({ anchored: false }), ids.slice(5))
    assert.deepEqual(listed({ anchored: true, peer: B }), [ids[4]])
    assert.deepEqual(listed({ anchored: false, batched: true }), [])
    assert.deepEqual([store.count({ anchored: true }), store.count({ anchored: false }), store.count({ anchored: false, batched: true })], [5, 3, 0])
    assert.equal(store.get(ids[4])?.anchor?.slot, 77n)
    assert.equal(store.get(ids[5])?.anchor, undefined)
  })

  it('keeps the cluster an anchor landed on across a reopen, and names it in the proof', async () => {
    const cluster = 'US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx'
    const stored = await store.add(await makeReceipt(peers, { shardIndex: 9 }))
    const batch = await store.sealBatch()
    assert.ok(batch != null)
    await assert.rejects(store.recordAnchor(batch.root, { signature: txSignature(), slot: 3n, cluster: 'not a hash' }), named('InvalidAnchorError'))
    await store.recordAnchor(batch.root, { signature: txSignature(), slot: 3n, cluster })
    await store.close()
    store = await ReceiptStore.open(tmp.dir)
    assert.equal(store.getBatch(batch.root)?.anchor?.cluster, cluster)
    assert.equal(store.proof(stored.id)?.cluster, cluster)
  })

  it('matches receipt, job and peer id prefixes, and sums up a query\'s matches', async () => {
    const other = { worker: (await makePeers()).worker, requester: peers.requester }
    const ids: string[] = []
    for (const bytes of [...await makeReceipts(peers, 3, { jobId: jobId(0x1a) }), ...await makeReceipts(other, 2, { jobId: jobId(0x1b) })]) {
      ids.push((await store.add(bytes)).id)
    }
    const A = peerIdFromPrivateKey(peers.worker).toString()
    const R = peerIdFromPrivateKey(peers.requester).toString()
    // a full id, a unique prefix in either case, a prefix of several, none
    assert.deepEqual(store.matchPrefix('receipt', ids[3]), { count: 1, matches: [ids[3]] })
    const unique = ids[2].slice(0, 16)
    assert.deepEqual(store.matchPrefix('receipt', unique.toUpperCase()), { count: 1, matches: [ids[2]] })
    assert.deepEqual(store.matchPrefix('receipt', ''), { count: 5, matches: ids })
    assert.deepEqual(store.matchPrefix('receipt', '', 2), { count: 5, matches: ids.slice(0, 2) })
    assert.equal(store.matchPrefix('receipt', 'zz').count, 0)
    assert.deepEqual(store.matchPrefix('job', '1a1a1a1a1a1a'), { count: 1, matches: [hex(jobId(0x1a))] })
    assert.deepEqual(store.matchPrefix('job', '1').count, 2)
    assert.deepEqual(store.matchPrefix('job', '1c').count, 0)
    assert.deepEqual(store.matchPrefix('peer', A.slice(0, 30)), { count: 1, matches: [A] })
    assert.deepEqual(store.matchPrefix('peer', R), { count: 1, matches: [R] })
    // peer ids are base58: case counts (every Ed25519 peer id starts 12D3KooW)
    assert.equal(store.matchPrefix('peer', '12d3koow').count, 0)

    assert.deepEqual(store.summarize(), { receipts: 5, batched: 0, anchored: 0, batches: 0, anchoredBatches: 0 })
    const batch = await store.sealBatch({ maxCount: 2 })
    await store.sealBatch({ maxCount: 2 })
    await store.recordAnchor(batch!.root, { signature: txSignature(), slot: 5n })
    assert.deepEqual(store.summarize(), { receipts: 5, batched: 4, anchored: 2, batches: 2, anchoredBatches: 1 })
    assert.deepEqual(store.summarize({ jobId: hex(jobId(0x1a)) }), { receipts: 3, batched: 3, anchored: 2, batches: 2, anchoredBatches: 1 })
    assert.deepEqual(store.summarize({ jobId: hex(jobId(0x1b)), limit: 1 }), { receipts: 2, batched: 1, anchored: 0, batches: 1, anchoredBatches: 0 })
    assert.deepEqual(store.summarize({ peer: A, anchored: true }), { receipts: 2, batched: 2, anchored: 2, batches: 1, anchoredBatches: 1 })
  })

  it('stores a receipt added twice once, and returns the stored one', async () => {
    const bytes = await makeReceipt(peers, { shardIndex: 1 })
    const first = await store.add(bytes)
    const bytesAfterOne = store.stats().logBytes
    assert.ok(bytesAfterOne > bytes.byteLength)
    assert.deepEqual(await store.add(bytes), first)
    // the same receipt countersigned with another verdict has the same id: the first stays
    const signed = await signReceipt(peers.worker, fields(peers, { shardIndex: 1 }))
    const recounted = await countersignReceipt(peers.requester, signed, { policy: 'replicate:2', outcome: 'checked' })
    assert.notEqual(hex(recounted), hex(bytes))
    assert.equal(hex((await store.add(recounted)).bytes), hex(bytes))
    assert.equal(store.stats().logBytes, bytesAfterOne)
    // concurrent duplicates of a new receipt share one record
    const next = await makeReceipt(peers, { shardIndex: 2 })
    const results = await Promise.all([store.add(next), store.add(next), store.addMany([next, next])])
    assert.equal(new Set(results.flat().map(r => r.id)).size, 1)
    assert.equal(store.stats().receipts, 2)
    assert.equal(store.stats().logBytes - bytesAfterOne, bytesAfterOne)
  })

  it('rejects an invalid receipt with the reason and writes nothing', async () => {
    const good = await makeReceipt(peers, { shardIndex: 1 })
    const tampered = good.slice()
    tampered[20] ^= 0x01
    await assert.rejects(store.add(await uncountersigned(peers)), named('InvalidReceiptError', 'missing-countersignature'))
    await assert.rejects(store.add(Uint8Array.of(1, 2, 3)), named('InvalidReceiptError', 'undecodable'))
    await assert.rejects(store.add(tampered), named('InvalidReceiptError'))
    // one bad receipt among good ones: none of them is written
    await assert.rejects(store.addMany([good, await uncountersigned(peers, { shardIndex: 5 })]), named('InvalidReceiptError', 'missing-countersignature'))
    assert.equal(store.stats().receipts, 0)
    assert.equal(store.stats().logBytes, 0)
    assert.equal(store.stats().fsyncs, 0)
  })

  it('a trusted add skips the signature checks only: structure is still checked', async () => {
    const good = await makeReceipt(peers, { shardIndex: 1 })
    const signed = decodeSignedReceipt(good)
    // a countersignature that does not verify: only a caller that just made it may skip the check
    const badSignature = encodeSignedReceipt({ ...signed, requesterSignature: new Uint8Array(64) })
    await assert.rejects(store.add(badSignature), named('InvalidReceiptError', 'bad-countersignature'))
    assert.equal((await store.add(badSignature, { trusted: true })).id, hex(sha256(signed.receipt)))
    await assert.rejects(store.add(Uint8Array.of(1, 2, 3), { trusted: true }), named('InvalidReceiptError', 'undecodable'))
    await assert.rejects(store.add(await uncountersigned(peers, { shardIndex: 2 }), { trusted: true }), named('InvalidReceiptError', 'missing-countersignature'))
    assert.equal(store.stats().receipts, 1)
  })

  it('group-commits concurrent adds: one fsync for many', async () => {
    const receipts = await makeReceipts(peers, 84)
    for (const bytes of receipts.slice(0, 4)) {
      await store.add(bytes)
    }
    assert.equal(store.stats().fsyncs, 4, 'one fsync per add when adds do not overlap')
    await Promise.all(receipts.slice(4, 64).map(async bytes => store.add(bytes)))
    // the first add of the burst starts a flush alone; the other 59 queue behind it and share the next
    assert.ok(store.stats().fsyncs <= 6, `60 concurrent adds took ${store.stats().fsyncs - 4} fsyncs`)
    const before = store.stats().fsyncs
    await store.addMany(receipts.slice(64))
    assert.equal(store.stats().fsyncs, before + 1, 'addMany: one fsync for 20')
    assert.equal(store.stats().receipts, 84)
    assert.deepEqual(store.list().map(r => r.shardIndex), [...Array(84).keys()])
  })

  it('addMany writes with a single fsync', async () => {
    const receipts = await makeReceipts(peers, 20)
    const stored = await store.addMany(receipts)
    assert.equal(store.stats().fsyncs, 1)
    assert.deepEqual(stored.map(r => r.shardIndex), [...Array(20).keys()])
  })

  it('an aborted add writes nothing', async () => {
    await assert.rejects(store.add(await makeReceipt(peers), { signal: AbortSignal.abort() }), named('AbortError'))
    assert.equal(store.stats().logBytes, 0)
  })

  it('seals unbatched receipts in storage order; every proof checks, before and after a reopen', async () => {
    assert.equal(await store.sealBatch(), undefined)
    const receipts = await makeReceipts(peers, 9)
    const ids = (await store.addMany(receipts)).map(r => r.id)
    assert.equal(store.proof(ids[0]), undefined, 'no proof before the receipt is batched')
    await assert.rejects(store.sealBatch({ maxCount: 0 }), RangeError)
    const first = await store.sealBatch({ maxCount: 4 })
    assert.ok(first != null)
    assert.equal(first.root, hex(rootOf(receipts.slice(0, 4))))
    assert.deepEqual({ ...first, sealedAt: 0 }, { root: first.root, count: 4, receiptIds: ids.slice(0, 4), sealedAt: 0, attempt: undefined, anchor: undefined })
    const second = await store.sealBatch()
    assert.equal(second?.root, hex(rootOf(receipts.slice(4))))
    assert.equal(second?.count, 5)
    assert.equal(await store.sealBatch(), undefined)
    assert.deepEqual(store.batches().map(b => b.root), [first.root, second?.root])
    assert.deepEqual(store.getBatch(first.root.toUpperCase()), first)
    const check = async (s: ReceiptStore): Promise<void> => {
      for (const [i, id] of ids.entries()) {
        const proof = s.proof(id)
        assert.ok(proof != null)
        assert.equal(proof.index, i < 4 ? i : i - 4)
        assert.equal(proof.count, i < 4 ? 4 : 5)
        assert.equal(hex(proof.root), s.get(id)?.batch)
        assert.equal(s.get(id)?.leafIndex, proof.index)
        const receipt = await checkReceiptProof(decodeReceiptProof(encodeReceiptProof(proof)))
        assert.equal(receipt.shardIndex, i)
      }
    }
    await check(store)
    await store.close()
    store = await ReceiptStore.open(tmp.dir)
    await check(store)
  })

  it('records anchor attempts and anchors; a second, different anchor is refused', async () => {
    await store.addMany(await makeReceipts(peers, 3))
    const batch = (await store.sealBatch())!
    const attempt = { signature: txSignature(), wire: Buffer.from('a signed transaction').toString('base64'), lastValidBlockHeight: 1000n }
    await assert.rejects(store.recordAttempt('ab'.repeat(32), attempt), named('BatchNotFoundError'))
    await assert.rejects(store.recordAttempt('nothex', attempt), named('BatchNotFoundError'))
    await assert.rejects(store.recordAttempt(batch.root, { ...attempt, signature: 'short' }), named('InvalidAnchorError'))
    await assert.rejects(store.recordAttempt(batch.root, { ...attempt, wire: 'not base64!' }), named('InvalidAnchorError'))
    await assert.rejects(store.recordAttempt(batch.root, { ...attempt, lastValidBlockHeight: -1n }), named('InvalidAnchorError'))
    await store.recordAttempt(batch.root, attempt)
    const retry = { ...attempt, signature: txSignature(), lastValidBlockHeight: 1150n }
    await store.recordAttempt(batch.root, retry)
    assert.deepEqual(store.getBatch(batch.root)?.attempt, retry)
    assert.deepEqual(store.batches({ anchored: false }).map(b => b.root), [batch.root])

    await assert.rejects(store.recordAnchor(batch.root, { signature: retry.signature, slot: -5n }), named('InvalidAnchorError'))
    await store.recordAnchor(batch.root, { signature: retry.signature, slot: 500n, fee: 5000n })
    const anchored = store.getBatch(batch.root)?.anchor
    assert.deepEqual({ ...anchored, anchoredAt: 0 }, { signature: retry.signature, slot: 500n, fee: 5000n, anchoredAt: 0 })
    assert.deepEqual(store.batches({ anchored: true }).map(b => b.root), [batch.root])
    assert.deepEqual(store.batches({ anchored: false }), [])
    assert.deepEqual(store.proof(batch.receiptIds[1])?.anchor, { signature: retry.signature, slot: 500n })
    assert.equal(store.stats().anchoredBatches, 1)
    assert.equal(store.stats().anchored, 3)

    const before = store.stats().logBytes
    await store.recordAnchor(batch.root, { signature: retry.signature, slot: 500n, fee: 5000n })
    assert.equal(store.stats().logBytes, before, 'the same anchor again writes nothing')
    await store.recordAnchor(batch.root, { signature: retry.signature, slot: 501n, fee: 5000n })
    assert.equal(store.getBatch(batch.root)?.anchor?.slot, 501n, 'the same transaction at another slot updates it')
    await assert.rejects(store.recordAnchor(batch.root, { signature: attempt.signature, slot: 400n }), named('AnchorConflictError'))
    await assert.rejects(store.recordAttempt(batch.root, attempt), named('AnchorConflictError'))
    assert.equal(store.getBatch(batch.root)?.anchor?.signature, retry.signature)
    assert.equal(store.stats().anchored, 3)
  })

  it('reopening restores receipts, batches, attempts and anchors', async () => {
    const other = { worker: (await makePeers()).worker, requester: peers.requester }
    await store.addMany([...await makeReceipts(peers, 4), ...await makeReceipts(other, 3, { jobId: jobId(4) })])
    const anchoredBatch = (await store.sealBatch({ maxCount: 4 }))!
    const pendingBatch = (await store.sealBatch({ maxCount: 2 }))!
    await store.add(await makeReceipt(peers, { shardIndex: 50 }))
    const signature = txSignature()
    await store.recordAttempt(anchoredBatch.root, { signature, wire: 'AAAA', lastValidBlockHeight: 2n ** 63n })
    await store.recordAnchor(anchoredBatch.root, { signature, slot: 2n ** 64n - 1n })
    await store.recordAttempt(pendingBatch.root, { signature: txSignature(), wire: 'AQID', lastValidBlockHeight: 9n })
    const snapshot = { list: store.list(), batches: store.batches(), stats: withoutIo(store.stats()) }
    assert.deepEqual(snapshot.stats, { receipts: 8, workerReceipts: 0, batched: 6, anchored: 4, batches: 2, anchoredBatches: 1, signedPending: 0, fsyncs: undefined, logBytes: store.stats().logBytes })
    await store.close()
    store = await ReceiptStore.open(tmp.dir)
    assert.deepEqual({ list: store.list(), batches: store.batches(), stats: withoutIo(store.stats()) }, snapshot)
    assert.equal(store.recovery.discardedBytes, 0)
    assert.equal(store.stats().fsyncs, 0)
    // and it goes on from there
    const next = await store.sealBatch()
    assert.equal(next?.count, 2)
    assert.equal(store.list({ batched: false }).length, 0)
  })

  it('a closed store refuses writes; close twice is fine', async () => {
    const bytes = await makeReceipt(peers)
    await store.close()
    await store.close()
    await assert.rejects(store.add(bytes), named('ReceiptStoreClosedError'))
    await assert.rejects(store.sealBatch(), named('ReceiptStoreClosedError'))
  })
})
