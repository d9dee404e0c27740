import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { ReceiptStore, checkReceiptProof, decodeReceiptProof, encodeReceiptProof, verifyReceipt } from '../src/index.js'
import { hex, jobId, makePeers, makeReceipts, tempDir } from './utils/receipts.js'
import type { ReceiptProof } from '../src/index.js'
import type { Peers } from './utils/receipts.js'

function txSignature (): string {
  return base58btc.baseEncode(Buffer.concat([Buffer.of(5), randomBytes(63)]))
}

function named (name: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    return true
  }
}

const CLUSTER = 'US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx'

describe('ReceiptStore: proofs of worker receipts', () => {
  let peers: Peers
  let requesterDir: { dir: string, remove(): Promise<void> }
  let workerDir: { dir: string, remove(): Promise<void> }
  let receipts: Uint8Array[]
  let ids: string[]
  /** the requester's proof of each receipt, anchored */
  let proofs: ReceiptProof[]

  before(async () => {
    peers = await makePeers()
  })

  beforeEach(async () => {
    requesterDir = await tempDir()
    workerDir = await tempDir()
    receipts = await makeReceipts(peers, 5, { jobId: jobId(3) })
    ids = await Promise.all(receipts.map(async bytes => hex((await verifyReceipt(bytes)).id)))
    const requester = await ReceiptStore.open(requesterDir.dir)
    try {
      await requester.addMany(receipts)
      const batch = await requester.sealBatch()
      await requester.recordAnchor(batch!.root, { signature: txSignature(), slot: 42n, cluster: CLUSTER })
      proofs = ids.map(id => requester.proof(id)!)
    } finally {
      await requester.close()
    }
  })

  afterEach(async () => {
    await requesterDir.remove()
    await workerDir.remove()
  })

  it('records a worker receipt\'s proof durably: proof() and list() show it after a reopen', async () => {
    let store = await ReceiptStore.open(workerDir.dir)
    try {
      await store.addMany(receipts, { role: 'worker' })
      assert.equal(store.proof(ids[1]), undefined)
      assert.equal(await store.recordProof(ids[1], decodeReceiptProof(encodeReceiptProof(proofs[1]))), true)
      // the first proof stays
      assert.equal(await store.recordProof(ids[1], proofs[1]), false)
      assert.deepEqual(store.list({ role: 'worker', batched: false }).map(r => r.id), [ids[0], ids[2], ids[3], ids[4]])
    } finally {
      await store.close()
    }
    store = await ReceiptStore.open(workerDir.dir)
    try {
      const proof = store.proof(ids[1])!
      assert.equal(encodeReceiptProof(proof), encodeReceiptProof(proofs[1]))
      const verified = await checkReceiptProof(proof)
      assert.equal(hex(verified.id), ids[1])
      const row = store.get(ids[1])!
      assert.equal(row.role, 'worker')
      assert.equal(row.batch, hex(proofs[1].root))
      assert.equal(row.leafIndex, proofs[1].index)
      assert.deepEqual(row.anchor, proofs[1].anchor)
      assert.equal(store.get(ids[0])!.anchor, undefined)
      assert.deepEqual(store.list({ role: 'worker', batched: false }).map(r => r.id), [ids[0], ids[2], ids[3], ids[4]])
      assert.deepEqual(store.list({ anchored: true }).map(r => r.id), [ids[1]])
      assert.equal(store.count({ role: 'worker', anchored: true }), 1)
      assert.equal(store.count({ role: 'worker', batched: false }), 4)
      assert.deepEqual(store.summarize({ role: 'worker' }), { receipts: 5, batched: 1, anchored: 1, batches: 1, anchoredBatches: 1 })
      assert.equal(store.stats().anchored, 1)
      // the worker's own batches are untouched: nothing to seal, nothing listed
      assert.deepEqual(store.batches(), [])
      assert.equal(await store.sealBatch(), undefined)
    } finally {
      await store.close()
    }
  })

  it('refuses a proof of another receipt, with a wrong path, without an anchor, or for a receipt it does not hold as the worker', async () => {
    const store = await ReceiptStore.open(workerDir.dir)
    try {
      await store.addMany(receipts.slice(0, 4), { role: 'worker' })
      await assert.rejects(store.recordProof(ids[0], proofs[1]), named('InvalidAnchorError'))
      await assert.rejects(store.recordProof(ids[0], { ...proofs[0], index: proofs[0].index + 1 }), named('InvalidAnchorError'))
      await assert.rejects(store.recordProof(ids[0], { ...proofs[0], root: new Uint8Array(32) }), named('InvalidAnchorError'))
      await assert.rejects(store.recordProof(ids[0], { ...proofs[0], anchor: undefined }), named('InvalidAnchorError'))
      await assert.rejects(store.recordProof(ids[4], proofs[4]), named('InvalidAnchorError'))
      assert.equal(store.proof(ids[0]), undefined)
      assert.equal(store.count({ anchored: true }), 0)
    } finally {
      await store.close()
    }
    // and a requester receipt takes no proof record
    const requester = await ReceiptStore.open(requesterDir.dir)
    try {
      await assert.rejects(requester.recordProof(ids[0], proofs[0]), named('InvalidAnchorError'))
    } finally {
      await requester.close()
    }
  })
})
