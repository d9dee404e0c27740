import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ReceiptStore } from '../src/index.js'
import { makeReceipt, tempDir } from './utils/receipts.js'
import type { Peers } from './utils/receipts.js'
import type { PrivateKey } from '@libp2p/interface'

describe('ReceiptStore.sealBatch({ maxPayees }): a batch owes at most so many workers (settlement)', () => {
  let requester: PrivateKey
  const workers: Peers[] = []

  before(async () => {
    requester = await generateKeyPair('Ed25519')
    for (let i = 0; i < 4; i++) {
      workers.push({ worker: await generateKeyPair('Ed25519'), requester })
    }
  })

  it('seals at most maxPayees paid workers a batch, unpaid receipts riding along', async () => {
    const tmp = await tempDir()
    const store = await ReceiptStore.open(tmp.dir)
    try {
      // in storage order: w0 paid, w1 unpaid, w1 paid, w2 paid, w0 paid, w3 paid, w2 paid
      const order: Array<[number, bigint]> = [[0, 3n], [1, 0n], [1, 3n], [2, 3n], [0, 3n], [3, 3n], [2, 3n]]
      for (const [i, [w, price]] of order.entries()) {
        await store.add(await makeReceipt(workers[w], { shardIndex: i, lamportsPerItem: price }))
      }
      await assert.rejects(store.sealBatch({ maxPayees: 0 }), RangeError)
      await assert.rejects(store.sealBatch({ maxPayees: 1.5 }), RangeError)
      const one = await store.sealBatch({ maxPayees: 2 })
      // w0, w1 (unpaid), w1, then w2 would be a third payee
      assert.equal(one?.count, 3)
      const two = await store.sealBatch({ maxPayees: 2 })
      // w2, w0, then w3 would be a third
      assert.equal(two?.count, 2)
      const three = await store.sealBatch({ maxPayees: 2 })
      assert.equal(three?.count, 2)
      assert.equal(await store.sealBatch({ maxPayees: 2 }), undefined)
      // every receipt sealed once, in storage order
      const ids = [one, two, three].flatMap(b => b?.receiptIds ?? [])
      assert.equal(new Set(ids).size, order.length)
    } finally {
      await store.close()
      await tmp.remove()
    }
  })
})
