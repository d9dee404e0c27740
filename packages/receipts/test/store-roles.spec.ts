import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RECEIPT_LOG_FILE, ReceiptStore, verifyReceipt } from '../src/index.js'
import { hex, jobId, makePeers, makeReceipts, tempDir } from './utils/receipts.js'
import type { Peers } from './utils/receipts.js'

/** One frame of the log as the store wrote it before roles existed: u32 length ‖ u32 crc32 ‖ payload, big-endian. */
function oldFrame (payload: Uint8Array): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32BE(payload.byteLength, 0)
  header.writeUInt32BE(crc32(payload), 4)
  return Buffer.concat([header, payload])
}

/** A receipt record of the old log: kind 1 ‖ u64 storedAt ‖ the receipt's bytes. */
function oldReceiptRecord (storedAt: number, bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(9)
  head[0] = 1
  head.writeBigUInt64BE(BigInt(storedAt), 1)
  return oldFrame(Buffer.concat([head, bytes]))
}

/** A base58 transaction signature (64 bytes). */
const SIGNATURE = '5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW'

describe('ReceiptStore roles', () => {
  let peers: Peers
  let tmp: { dir: string, remove(): Promise<void> }

  before(async () => {
    peers = await makePeers()
  })

  beforeEach(async () => {
    tmp = await tempDir()
  })

  afterEach(async () => {
    await tmp.remove()
  })

  it('keeps a role per receipt: listed, counted and summed by role, and the same after a reopen', async () => {
    const mine = await makeReceipts(peers, 3, { jobId: jobId(1) })
    const earned = await makeReceipts(peers, 2, { jobId: jobId(2) })
    let store = await ReceiptStore.open(tmp.dir)
    try {
      await store.addMany(mine)
      const kept = await store.addMany(earned, { role: 'worker' })
      assert.deepEqual(kept.map(r => r.role), ['worker', 'worker'])
      // a receipt stored already keeps its first role
      assert.equal((await store.add(mine[0], { role: 'worker' })).role, 'requester')
    } finally {
      await store.close()
    }
    store = await ReceiptStore.open(tmp.dir)
    try {
      const ids = async (list: Uint8Array[]): Promise<string[]> => Promise.all(list.map(async b => hex((await verifyReceipt(b)).id)))
      assert.deepEqual(store.list().map(r => r.role), ['requester', 'requester', 'requester', 'worker', 'worker'])
      assert.deepEqual(store.list({ role: 'worker' }).map(r => r.id), await ids(earned))
      assert.deepEqual(store.list({ role: 'requester' }).map(r => r.id), await ids(mine))
      assert.deepEqual(store.list({ role: 'worker', batched: false, limit: 1 }).map(r => r.id), (await ids(earned)).slice(0, 1))
      assert.equal(store.count({ role: 'worker' }), 2)
      assert.equal(store.count({ role: 'requester', batched: false }), 3)
      assert.equal(store.summarize({ role: 'worker' }).receipts, 2)
      assert.equal(store.list({ role: 'worker', jobId: hex(jobId(1)) }).length, 0)
      assert.equal(store.stats().receipts, 5)
      assert.equal(store.stats().workerReceipts, 2)
      assert.throws(() => store.list({ role: 'boss' as any }), RangeError)
      await assert.rejects(store.addMany(earned, { role: 'boss' as any }), RangeError)
    } finally {
      await store.close()
    }
  })

  it('seals only the receipts held as requester; those held as worker stay unbatched', async () => {
    const store = await ReceiptStore.open(tmp.dir)
    try {
      await store.addMany(await makeReceipts(peers, 2, { jobId: jobId(3) }), { role: 'worker' })
      const mine = await store.addMany(await makeReceipts(peers, 2, { jobId: jobId(4) }))
      const batch = await store.sealBatch()
      assert.deepEqual(batch?.receiptIds, mine.map(r => r.id))
      assert.equal(await store.sealBatch(), undefined, 'nothing else to seal')
      assert.equal(store.count({ role: 'worker', batched: false }), 2)
      assert.equal(store.count({ role: 'requester', batched: false }), 0)
      assert.equal(store.stats().batched, 2)
    } finally {
      await store.close()
    }
  })

  it('a worker seals its own receipts only when asked, those stored before a time, and then takes no proof of them from their requester', async () => {
    const store = await ReceiptStore.open(tmp.dir)
    try {
      const earned = await store.addMany(await makeReceipts(peers, 3, { jobId: jobId(5) }), { role: 'worker' })
      assert.equal(await store.sealBatch({ role: 'worker', storedBefore: earned[0].storedAt }), undefined, 'none stored before then')
      const batch = await store.sealBatch({ role: 'worker', storedBefore: Date.now() + 1, maxCount: 2 })
      assert.deepEqual(batch?.receiptIds, earned.slice(0, 2).map(r => r.id))
      await store.recordAnchor(batch.root, { signature: SIGNATURE, slot: 9n })
      const proof = store.proof(earned[0].id) ?? assert.fail('no proof')
      assert.deepEqual(proof.anchor, { signature: SIGNATURE, slot: 9n, by: 'worker' })
      // the requester's proof of the same receipt is not taken: this worker anchored it already
      const theirs = { ...proof, anchor: { signature: SIGNATURE, slot: 10n } }
      assert.equal(await store.recordProof(earned[0].id, theirs), false)
      assert.deepEqual(store.proof(earned[0].id)?.anchor, { signature: SIGNATURE, slot: 9n, by: 'worker' })
      assert.equal(store.count({ role: 'worker', anchored: true }), 2)
      assert.equal(store.count({ role: 'worker', batched: false }), 1)
      await assert.rejects(store.sealBatch({ role: 'boss' as any }), RangeError)
    } finally {
      await store.close()
    }
  })

  it('remembers the receipts it signed as a worker until their countersigned form is stored, across a reopen', async () => {
    const earned = await makeReceipts(peers, 3, { jobId: jobId(6) })
    const ids = await Promise.all(earned.map(async b => hex((await verifyReceipt(b)).id)))
    let store = await ReceiptStore.open(tmp.dir)
    try {
      await store.recordSigned(ids.map(id => ({ id, requester: peerIdFromPrivateKey(peers.requester) })))
      assert.deepEqual(store.pendingSigned().map(p => [p.id, p.requester.toString()]), ids.map(id => [id, peerIdFromPrivateKey(peers.requester).toString()]))
      await store.add(earned[1], { role: 'worker' })
      assert.deepEqual(store.pendingSigned().map(p => p.id), [ids[0], ids[2]])
      assert.deepEqual(store.pendingSigned(Date.now() + 1_000), [], 'none signed after then')
      await assert.rejects(store.recordSigned([{ id: 'xyz', requester: peerIdFromPrivateKey(peers.requester) }]), RangeError)
    } finally {
      await store.close()
    }
    store = await ReceiptStore.open(tmp.dir)
    try {
      assert.deepEqual(store.pendingSigned().map(p => p.id), [ids[0], ids[2]])
      // one held already is not noted again
      await store.recordSigned([{ id: ids[1], requester: peerIdFromPrivateKey(peers.requester) }])
      assert.equal(store.pendingSigned().length, 2)
      await store.addMany([earned[0], earned[2]], { role: 'worker' })
      assert.deepEqual(store.pendingSigned(), [])
    } finally {
      await store.close()
    }
  })

  it('opens a store written before roles existed: every receipt is a requester\'s, and sealed batches still hold', async () => {
    const receipts = await makeReceipts(peers, 3)
    await writeFile(join(tmp.dir, RECEIPT_LOG_FILE), Buffer.concat(receipts.map((bytes, i) => oldReceiptRecord(1_750_000_000_000 + i, bytes))))
    const store = await ReceiptStore.open(tmp.dir)
    try {
      assert.equal(store.recovery.stop, undefined, 'the old log reads to its end')
      assert.deepEqual(store.list().map(r => r.role), ['requester', 'requester', 'requester'])
      assert.equal(store.list({ role: 'worker' }).length, 0)
      assert.equal((await store.sealBatch())?.count, 3)
      // a worker receipt added now is written in the new record kind, and the old ones stay
      const [earned] = await store.addMany(await makeReceipts(peers, 1, { jobId: jobId(5) }), { role: 'worker' })
      assert.equal(store.get(earned.id)?.role, 'worker')
    } finally {
      await store.close()
    }
    const again = await ReceiptStore.open(tmp.dir, { readOnly: true })
    try {
      assert.deepEqual(again.list().map(r => r.role), ['requester', 'requester', 'requester', 'worker'])
      assert.equal(again.batches()[0].count, 3)
    } finally {
      await again.close()
    }
  })
})
