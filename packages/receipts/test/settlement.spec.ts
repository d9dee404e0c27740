import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeReceipt, decodeSignedReceipt, encodeReceipt, encodeSignedReceipt } from '@shardmesh/protocol'
import {
  MerkleTree, checkBundle, countersignReceipt, formatTallyCsv, formatTallyJson, owedLamports, paymentsByWorker, signReceipt,
  storedOwedLamports, tally, verifyReceipt
} from '../src/index.js'
import { fields, makeReceipt, makeReceipts } from './utils/receipts.js'
import type { AnchorTransfers, CheckedBundle, ReceiptBundle } from '../src/index.js'
import type { Peers } from './utils/receipts.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A stand-in for a Solana address: any function of the peer works for these checks. */
const addressOf = (peer: PeerId): string => `addr:${peer.toString()}`

async function bundle (receipts: Uint8Array[], signature: string): Promise<CheckedBundle> {
  const b: ReceiptBundle = { root: MerkleTree.fromLeaves(receipts).root, count: receipts.length, receipts, anchor: { signature, slot: 7n } }
  return checkBundle(b)
}

describe('settlement: the price in receipts, owed, paid in the tally', () => {
  let requester: PrivateKey
  const workers: Peers[] = []

  before(async () => {
    requester = await generateKeyPair('Ed25519')
    for (let i = 0; i < 4; i++) {
      workers.push({ worker: await generateKeyPair('Ed25519'), requester })
    }
  })

  it('signs the price into the receipt and reads it back; an unpaid receipt has no price field', async () => {
    const paid = await verifyReceipt(await makeReceipt(workers[0], { lamportsPerItem: 1_500n }))
    assert.equal(paid.lamportsPerItem, 1_500n)
    const unpaid = await makeReceipt(workers[0])
    assert.equal((await verifyReceipt(unpaid)).lamportsPerItem, 0n)
    // field 14 absent: the bytes of an unpaid receipt are those it had before prices existed
    assert.equal(decodeReceipt(decodeSignedReceipt(unpaid).receipt).lamportsPerItem, undefined)
    const zero = await makeReceipt(workers[0], { lamportsPerItem: 0n })
    assert.deepEqual(decodeSignedReceipt(zero).receipt, decodeSignedReceipt(unpaid).receipt)
    await assert.rejects(signReceipt(workers[0].worker, fields(workers[0], { lamportsPerItem: -1n })), RangeError)
    await assert.rejects(signReceipt(workers[0].worker, fields(workers[0], { lamportsPerItem: 1n << 64n })), RangeError)
  })

  it('a changed price breaks the worker signature', async () => {
    const signed = decodeSignedReceipt(await makeReceipt(workers[0], { lamportsPerItem: 10n }))
    const receipt = decodeReceipt(signed.receipt)
    const forged = encodeSignedReceipt({ ...signed, receipt: encodeReceipt({ ...receipt, lamportsPerItem: 11n }) })
    await assert.rejects(verifyReceipt(forged), (err: any) => err.reason === 'bad-worker-signature')
  })

  it('owes items × price for accepted or checked work only, and nothing to the requester itself', async () => {
    const peers = workers[0]
    // the store's bulk reading of the bytes owes the same as the verified receipt
    const owed = async (bytes: Uint8Array): Promise<bigint> => {
      const verified = owedLamports(await verifyReceipt(bytes, { requireCountersignature: false }))
      assert.equal(storedOwedLamports(bytes), verified)
      return verified
    }
    const countersigned = async (outcome: 'accepted' | 'checked' | 'disputed'): Promise<bigint> => {
      const signed = await signReceipt(peers.worker, fields(peers, { items: 4, lamportsPerItem: 25n }))
      return owed(await countersignReceipt(requester, signed, { policy: 'replicate:2', outcome }, { verified: true }))
    }
    assert.equal(await countersigned('accepted'), 100n)
    assert.equal(await countersigned('checked'), 100n)
    assert.equal(await countersigned('disputed'), 0n)
    // not countersigned: no verdict, nothing owed
    assert.equal(await owed(await signReceipt(peers.worker, fields(peers, { lamportsPerItem: 25n }))), 0n)
    // a node that ran shards of its own job pays nobody for them
    const self = { worker: requester, requester }
    assert.equal(await owed(await makeReceipt(self, { lamportsPerItem: 25n })), 0n)
    assert.equal(await owed(await makeReceipt(peers, { lamportsPerItem: 25n })), 100n)
    assert.equal(await owed(await makeReceipt(peers)), 0n)
    assert.equal(await owed(await makeReceipt(peers, { lamportsPerItem: 25n, items: 0 })), 0n)
  })

  it('tallies owed, paid and missing the same whatever the order of the bundles', async () => {
    const [w0, w1, w2] = workers
    const a = await bundle([
      ...await makeReceipts(w0, 2, { items: 3, lamportsPerItem: 10n }),
      ...await makeReceipts(w1, 1, { items: 5, lamportsPerItem: 10n }, 2)
    ], 'sigA')
    const b = await bundle([
      ...await makeReceipts(w0, 1, { items: 4, lamportsPerItem: 10n }, 10),
      ...await makeReceipts(w2, 1, { items: 2 }, 11)
    ], 'sigB')
    const req = addressOf(peerIdFromPrivateKey(requester))
    const ids = [w0, w1, w2].map(w => peerIdFromPrivateKey(w.worker))
    const anchors = new Map<string, AnchorTransfers>([
      // A paid w0 its 60 and w1 only 20 of its 50; a transfer from someone else is not the requester's payment
      ['sigA', { err: null, transfers: [{ from: req, to: addressOf(ids[0]), lamports: 60n }, { from: req, to: addressOf(ids[1]), lamports: 20n }, { from: 'someone', to: addressOf(ids[1]), lamports: 30n }] }],
      // B failed: it moved nothing
      ['sigB', { err: { InstructionError: [1, 'Custom'] }, transfers: [{ from: req, to: addressOf(ids[0]), lamports: 40n }] }]
    ])
    // bundle `a` twice: its anchor is counted once
    const paid = paymentsByWorker([a, b, a], anchors, addressOf)
    assert.deepEqual([...paid.entries()].sort(), [[ids[0].toString(), 60n], [ids[1].toString(), 20n], [ids[2].toString(), 0n]].sort())
    assert.deepEqual(paymentsByWorker([b, a], anchors, addressOf), paid)

    const rows = tally([a, b], { paid })
    const row = (id: PeerId): any => rows.find(r => r.worker === id.toString())
    assert.deepEqual([row(ids[0]).owedLamports, row(ids[0]).paidLamports, row(ids[0]).missingLamports], [100n, 60n, 40n])
    assert.deepEqual([row(ids[1]).owedLamports, row(ids[1]).paidLamports, row(ids[1]).missingLamports], [50n, 20n, 30n])
    assert.deepEqual([row(ids[2]).owedLamports, row(ids[2]).paidLamports, row(ids[2]).missingLamports], [0n, 0n, 0n])
    const backward = tally([b, a], { paid: paymentsByWorker([b, a], anchors, addressOf) })
    assert.equal(formatTallyJson(backward), formatTallyJson(rows))
    assert.equal(formatTallyCsv(backward), formatTallyCsv(rows))

    // without a chain: owed only, paid and missing null
    const offline = JSON.parse(formatTallyJson(tally([a, b])))
    const w0Row = offline.workers.find((r: any) => r.worker === ids[0].toString())
    assert.deepEqual([w0Row.owedLamports, w0Row.paidLamports, w0Row.missingLamports], ['100', null, null])
  })
})
