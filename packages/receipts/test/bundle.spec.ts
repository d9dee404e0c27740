import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { base58btc } from 'multiformats/bases/base58'
import {
  InvalidReceiptBundleError, MAX_BUNDLE_RECEIPTS, MerkleTree, RECEIPT_BUNDLE_FORMAT, ReceiptStore, batchBundle, bundleProof,
  checkBundle, checkReceiptProof, decodeBundle, encodeBundle, formatTallyCsv, formatTallyJson, tally
} from '../src/index.js'
import { makePeers, makeReceipts, tempDir, uncountersigned } from './utils/receipts.js'
import type { ReceiptBundle, ReceiptBundleRejection } from '../src/index.js'
import type { Peers } from './utils/receipts.js'

function rejected (reason: ReceiptBundleRejection, field?: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'InvalidReceiptBundleError', `expected InvalidReceiptBundleError, got ${err?.name}: ${err?.message}`)
    assert.ok(err instanceof InvalidReceiptBundleError)
    assert.equal(err.code, 'ERR_INVALID_RECEIPT_BUNDLE')
    assert.equal(err.reason, reason, err.message)
    if (field != null) {
      assert.equal(err.field, field, err.message)
    }
    return true
  }
}

function bundleOf (receipts: Uint8Array[]): ReceiptBundle {
  const tree = MerkleTree.fromLeaves(receipts)
  const sig = randomBytes(64)
  sig[0] = 9
  return { root: tree.root, count: receipts.length, receipts, anchor: { signature: base58btc.baseEncode(sig), slot: 42n } }
}

describe('receipt bundle', () => {
  let alice: Peers
  let bob: Peers
  let a: Uint8Array[]
  let b: Uint8Array[]

  before(async () => {
    alice = await makePeers()
    // one requester countersigned both workers' receipts: a batch is one requester's
    bob = { worker: (await makePeers()).worker, requester: alice.requester }
    a = await makeReceipts(alice, 5)
    b = [
      ...await makeReceipts(bob, 2, { workload: 'echo', items: 3, cpuMicros: 250 }),
      ...await makeReceipts(bob, 3, { workload: 'embed', workloadVersion: '2.1.0', items: 10, cpuMicros: 7000 }, 10)
    ]
  })

  it('round-trips through its file and checks', async () => {
    const bundle = bundleOf(a)
    const text = encodeBundle(bundle)
    assert.equal(JSON.parse(text).format, RECEIPT_BUNDLE_FORMAT)
    const decoded = decodeBundle(text)
    assert.deepEqual(decoded, bundle)
    assert.equal(encodeBundle(decoded), text)
    const checked = await checkBundle(decoded)
    assert.equal(checked.root, Buffer.from(bundle.root).toString('hex'))
    assert.equal(checked.receipts.length, 5)
    // the anchor check's proof: leaf 0 of the same root
    const proof = bundleProof(decoded)
    assert.equal(proof.count, 5)
    await checkReceiptProof(proof)
  })

  it('is what the store gives for a sealed batch', async () => {
    const { dir, remove } = await tempDir()
    try {
      const store = await ReceiptStore.open(dir)
      await store.addMany(a)
      const batch = await store.sealBatch()
      assert.ok(batch != null)
      const bundle = batchBundle(store.getBatch(batch.root)!, store)
      assert.equal(Buffer.from(bundle.root).toString('hex'), batch.root)
      const checked = await checkBundle(decodeBundle(encodeBundle(bundle)))
      assert.deepEqual(checked.receipts.map(r => Buffer.from(r.id).toString('hex')), batch.receiptIds)
      await store.close()
    } finally {
      await remove()
    }
  })

  it('refuses a tampered receipt, root or count by name', async () => {
    const bundle = bundleOf(a)
    const json = JSON.parse(encodeBundle(bundle))
    // a flipped byte in a receipt: its leaf changes, so the root no longer matches
    const bytes = Buffer.from(json.receipts[2], 'base64')
    bytes[bytes.length - 1] ^= 1
    await assert.rejects(checkBundle(decodeBundle(JSON.stringify({ ...json, receipts: json.receipts.map((r: string, i: number) => i === 2 ? bytes.toString('base64') : r) }))), rejected('root-mismatch', 'root'))
    // ... and with the root recomputed over it, the signature check names the receipt
    const tampered = a.map((r, i) => i === 2 ? new Uint8Array(bytes) : r)
    await assert.rejects(checkBundle({ ...bundle, root: MerkleTree.fromLeaves(tampered).root, receipts: tampered }), (err: any) => {
      rejected('bad-receipt', 'receipts[2]')(err)
      assert.equal(err.index, 2)
      return true
    })
    const root = Buffer.from(bundle.root)
    root[0] ^= 1
    await assert.rejects(checkBundle({ ...bundle, root }), rejected('root-mismatch', 'root'))
    assert.throws(() => decodeBundle(JSON.stringify({ ...json, count: 4 })), rejected('count-mismatch', 'count'))
    assert.throws(() => decodeBundle(JSON.stringify({ ...json, format: 'x' })), rejected('unsupported-format', 'format'))
    assert.throws(() => decodeBundle(JSON.stringify({ ...json, root: 'ab' })), rejected('undecodable', 'root'))
    assert.throws(() => decodeBundle(JSON.stringify({ ...json, receipts: [...json.receipts.slice(1), 'not base64!'] })), rejected('undecodable', 'receipts[4]'))
    assert.throws(() => decodeBundle('[1'), rejected('undecodable'))
    assert.throws(() => decodeBundle('x'.repeat(MAX_BUNDLE_RECEIPTS * 6000)), (err: any) => err.name === 'MessageTooLargeError')
  })

  it('refuses a batch whose receipts do not all name the party that anchored it (mixed-party)', async () => {
    const stranger = await makeReceipts(await makePeers(), 1)
    await assert.rejects(checkBundle(bundleOf([a[0], stranger[0]])), rejected('mixed-party', 'receipts[1]'))
    // a worker's own batch (anchor.by worker) holds that worker's receipts, of any requester
    const mine = await makeReceipts({ worker: alice.worker, requester: (await makePeers()).requester }, 1)
    const anchor = { signature: '5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW', slot: 1n }
    const own = { ...bundleOf([a[0], mine[0]]), anchor: { ...anchor, by: 'worker' as const } }
    assert.equal((await checkBundle(own)).receipts.length, 2)
    assert.equal(decodeBundle(encodeBundle(own)).anchor?.by, 'worker')
    await assert.rejects(checkBundle({ ...own, anchor }), rejected('mixed-party', 'receipts[1]'))
    await assert.rejects(checkBundle({ ...bundleOf([a[0], b[0]]), anchor: { ...anchor, by: 'worker' } }), rejected('mixed-party', 'receipts[1]'))
  })

  it('refuses an uncountersigned or repeated receipt', async () => {
    const lone = [...a.slice(0, 2), await uncountersigned(alice, { shardIndex: 99 })]
    await assert.rejects(checkBundle(bundleOf(lone)), rejected('bad-receipt', 'receipts[2]'))
    await assert.rejects(checkBundle(bundleOf([a[0], a[1], a[0]])), rejected('duplicate-receipt', 'receipts[2]'))
  })

  it('tallies the same figures, byte for byte, for bundles in any order', async () => {
    const one = await checkBundle(bundleOf(a))
    const two = await checkBundle(bundleOf(b))
    // a bundle that repeats receipts of both counts each once
    const three = await checkBundle(bundleOf([b[4], a[0]]))
    const forward = tally([one, two, three])
    const backward = tally([three, two, one])
    assert.equal(formatTallyJson(forward), formatTallyJson(backward))
    assert.equal(formatTallyCsv(forward), formatTallyCsv(backward))

    const aliceId = one.receipts[0].worker.toString()
    const bobId = two.receipts[0].worker.toString()
    const [first, second] = [aliceId, bobId].sort()
    const rows: Record<string, unknown> = {
      // unpaid receipts owe nothing; no chain was asked, so nothing is known paid
      [aliceId]: { worker: aliceId, shards: 5, items: 20, cpuMicros: 5000, owedLamports: '0', paidLamports: null, missingLamports: null, byWorkload: { 'echo@1.0.0': { shards: 5, items: 20, cpuMicros: 5000, owedLamports: '0' } } },
      [bobId]: {
        worker: bobId,
        shards: 5,
        items: 36,
        cpuMicros: 21500,
        owedLamports: '0',
        paidLamports: null,
        missingLamports: null,
        byWorkload: { 'echo@1.0.0': { shards: 2, items: 6, cpuMicros: 500, owedLamports: '0' }, 'embed@2.1.0': { shards: 3, items: 30, cpuMicros: 21000, owedLamports: '0' } }
      }
    }
    assert.equal(formatTallyJson(forward), JSON.stringify({ workers: [rows[first], rows[second]] }, null, 2) + '\n')
    const csv: Record<string, string[]> = {
      [aliceId]: [`${aliceId},echo@1.0.0,5,20,5000,0,,`, `${aliceId},*,5,20,5000,0,,`],
      [bobId]: [`${bobId},echo@1.0.0,2,6,500,0,,`, `${bobId},embed@2.1.0,3,30,21000,0,,`, `${bobId},*,5,36,21500,0,,`]
    }
    assert.equal(formatTallyCsv(forward), ['worker,workload,shards,items,cpu_micros,owed_lamports,paid_lamports,missing_lamports', ...csv[first], ...csv[second]].join('\n') + '\n')

    assert.deepEqual(tally([one, two], { worker: bobId }).map(r => r.worker), [bobId])
    assert.deepEqual(tally([one, two], { since: 1_750_000_000_101 }), [])
    assert.equal(tally([one, two], { since: 1_750_000_000_100 }).length, 2)
  })

  it('tallies to the JSON and CSV fixtures', async () => {
    const seeded = async (worker: number): Promise<Peers> => ({
      worker: await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(worker)),
      requester: await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(3))
    })
    const x = await seeded(1)
    const y = await seeded(2)
    const receipts = [
      ...await makeReceipts(x, 2),
      // paid: 10 items at 5 lamports, so 50 owed
      ...await makeReceipts(y, 1, { workload: 'embed', workloadVersion: '2.1.0', items: 10, cpuMicros: 7000, lamportsPerItem: 5n }),
      ...await makeReceipts(y, 1, {}, 5)
    ]
    const checked = await checkBundle({ root: MerkleTree.fromLeaves(receipts).root, count: receipts.length, receipts })
    // as a chain would have it: 40 of the 50 paid
    const paid = new Map([[checked.receipts[0].worker.toString(), 0n], [checked.receipts[2].worker.toString(), 40n]])
    const rows = tally([checked], { paid })
    const fixture = async (name: string): Promise<string> => readFile(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8')
    assert.equal(formatTallyJson(rows), await fixture('tally.json'))
    assert.equal(formatTallyCsv(rows), await fixture('tally.csv'))
  })
})
