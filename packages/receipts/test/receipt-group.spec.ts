import assert from 'node:assert/strict'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MAX_RECEIPT_GROUP, decodeSignedReceipt, encodeSignedReceipt, sha256 } from '@shardmesh/protocol'
import { Prng } from '@shardmesh/protocol/fuzz'
import { InvalidReceiptError, countersignReceipts, signReceipts, verifyReceipt } from '../src/index.js'
import type { ReceiptFields, ReceiptRejection } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

async function key (seed: number): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(seed))
}

function rejected (reason: ReceiptRejection): (err: any) => boolean {
  return (err: any) => {
    assert.ok(err instanceof InvalidReceiptError, `expected InvalidReceiptError, got ${err?.name}: ${err?.message}`)
    assert.equal(err.reason, reason, err.message)
    return true
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/**
 * Group signatures: one worker signature over many receipts, one requester countersignature over
 * many, each receipt still provable on its own through the audit path it carries.
 */
describe('receipt groups', () => {
  let workerKey: PrivateKey
  let requesterKey: PrivateKey
  let otherKey: PrivateKey
  let shards: ReceiptFields[]

  before(async () => {
    workerKey = await key(11)
    requesterKey = await key(12)
    otherKey = await key(13)
    shards = Array.from({ length: 5 }, (_, i) => ({
      jobId: new Uint8Array(16).fill(0xcd),
      shardIndex: i,
      workload: 'echo',
      workloadVersion: '1.0.0',
      inputDigest: sha256(Uint8Array.of(i)),
      outputDigest: sha256(Uint8Array.of(i, i)),
      worker: peerIdFromPrivateKey(workerKey),
      requester: peerIdFromPrivateKey(requesterKey),
      startedAt: 1_717_000_000_000 + i,
      finishedAt: 1_717_000_000_100 + i,
      items: 1,
      cpuMicros: 10 + i
    }))
  })

  async function countersignedGroup (): Promise<{ signed: Uint8Array[], countersigned: Uint8Array[] }> {
    const signed = signReceipts(workerKey, shards)
    const countersigned = await countersignReceipts(requesterKey, signed.map((receipt, i) => ({
      receipt,
      verification: { policy: 'spot-check:0.1', outcome: i === 2 ? 'checked' : 'accepted' }
    })))
    return { signed, countersigned }
  }

  it('one worker signature covers the group, and each receipt verifies alone with its path', async () => {
    const signed = signReceipts(workerKey, shards)
    const decoded = signed.map(decodeSignedReceipt)
    assert.equal(new Set(decoded.map(d => hex(d.workerSignature))).size, 1, 'one signature for the group')
    for (const [i, d] of decoded.entries()) {
      assert.deepEqual({ index: d.workerGroup?.index, count: d.workerGroup?.count }, { index: i, count: shards.length })
      assert.ok((d.workerGroup?.path.length ?? 0) <= 3)
      // each alone: a verifier that never saw the others
      const r = await verifyReceipt(signed[i], { requireCountersignature: false, worker: shards[i].worker, requester: shards[i].requester })
      assert.equal(r.shardIndex, i)
      assert.equal(hex(r.id), hex(sha256(d.receipt)))
    }
  })

  it('one countersignature covers the group, each receipt with its own verdict', async () => {
    const { countersigned } = await countersignedGroup()
    const decoded = countersigned.map(decodeSignedReceipt)
    assert.equal(new Set(decoded.map(d => hex(d.requesterSignature))).size, 1)
    for (const [i, bytes] of countersigned.entries()) {
      const r = await verifyReceipt(bytes, { worker: shards[i].worker, requester: shards[i].requester })
      assert.equal(r.countersigned, true)
      assert.deepEqual(r.verification, { policy: 'spot-check:0.1', outcome: i === 2 ? 'checked' : 'accepted' })
      // the worker's group survives the countersignature
      assert.equal(decoded[i].workerGroup?.count, shards.length)
    }
  })

  it('a group of one is signed alone, as a receipt always was', async () => {
    const [one] = signReceipts(workerKey, [shards[0]])
    assert.equal(decodeSignedReceipt(one).workerGroup, undefined)
    const [countersigned] = await countersignReceipts(requesterKey, [{ receipt: one, verification: { policy: 'none', outcome: 'accepted' } }])
    assert.equal(decodeSignedReceipt(countersigned).requesterGroup, undefined)
    await verifyReceipt(countersigned)
  })

  it(`refuses an empty group, one over ${MAX_RECEIPT_GROUP}, and a receipt of another worker in it`, async () => {
    assert.throws(() => signReceipts(workerKey, []), RangeError)
    assert.throws(() => signReceipts(workerKey, Array.from({ length: MAX_RECEIPT_GROUP + 1 }, () => shards[0])), RangeError)
    assert.throws(() => signReceipts(otherKey, shards), RangeError)
    await assert.rejects(countersignReceipts(requesterKey, []), RangeError)
  })

  it('a tampered receipt, a moved signature, or a doctored path is refused, however warm the cache', async () => {
    const { signed, countersigned } = await countersignedGroup()
    // every group signature verified once already: what follows must fail on its merits
    const a = decodeSignedReceipt(signed[1])
    const b = decodeSignedReceipt(signed[3])
    const cases: Array<[string, Uint8Array, ReceiptRejection]> = [
      ['another receipt with this receipt\'s path', encodeSignedReceipt({ ...b, workerGroup: a.workerGroup }), 'bad-worker-signature'],
      ['another index', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, index: 0 } }), 'bad-worker-signature'],
      ['another count', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, count: 6 } }), 'bad-worker-signature'],
      ['an index past the count', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, index: 5 } }), 'bad-worker-signature'],
      ['a count of one with a path', encodeSignedReceipt({ ...a, workerGroup: { index: 0, count: 1, path: [] } }), 'bad-worker-signature'],
      [`a count over ${MAX_RECEIPT_GROUP}`, encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, count: MAX_RECEIPT_GROUP + 1 } }), 'bad-worker-signature'],
      ['a path one hash short', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, path: a.workerGroup!.path.slice(1) } }), 'bad-worker-signature'],
      ['a path with a hash too many', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, path: [...a.workerGroup!.path, new Uint8Array(32)] } }), 'bad-worker-signature'],
      ['a path hash of the wrong length', encodeSignedReceipt({ ...a, workerGroup: { ...a.workerGroup!, path: [new Uint8Array(31), ...a.workerGroup!.path.slice(1)] } }), 'bad-worker-signature'],
      ['the group dropped (the signature read as a lone one)', encodeSignedReceipt({ ...a, workerGroup: undefined }), 'bad-worker-signature'],
      ['a group signature by another key', encodeSignedReceipt({ ...decodeSignedReceipt(signReceipts(otherKey, shards.map(s => ({ ...s, worker: peerIdFromPrivateKey(otherKey) })))[1]), receipt: a.receipt }), 'worker-mismatch']
    ]
    for (const [name, bytes, reason] of cases) {
      await assert.rejects(verifyReceipt(bytes, { requireCountersignature: false }), rejected(reason), name)
    }
    const c = decodeSignedReceipt(countersigned[2])
    const d = decodeSignedReceipt(countersigned[4])
    const countersignedCases: Array<[string, Uint8Array]> = [
      ['a verdict changed', encodeSignedReceipt({ ...c, verification: { policy: 'spot-check:0.1', outcome: 'accepted' } })],
      ['another receipt\'s countersignature and path', encodeSignedReceipt({ ...d, requesterGroup: c.requesterGroup })],
      ['the requester path dropped', encodeSignedReceipt({ ...c, requesterGroup: undefined })],
      ['the worker\'s path given as the requester\'s', encodeSignedReceipt({ ...c, requesterGroup: c.workerGroup })]
    ]
    for (const [name, bytes] of countersignedCases) {
      await assert.rejects(verifyReceipt(bytes), rejected('bad-countersignature'), name)
    }
  })

  it('1,000 mutated group receipts throw only InvalidReceiptError, and a mutant that verifies says what the original said', async () => {
    const { countersigned } = await countersignedGroup()
    const seed = countersigned[3]
    const original = await verifyReceipt(seed)
    const prng = new Prng(0x6_a0_0b)
    let rejections = 0
    for (let i = 0; i < 1_000; i++) {
      const input = i % 2 === 0 ? prng.flipBits(seed, 1 + prng.int(4)) : prng.truncate(seed)
      try {
        const r = await verifyReceipt(input)
        assert.equal(hex(r.id), hex(original.id), `mutant #${i} verified as another receipt`)
        assert.deepEqual(r.verification, original.verification)
      } catch (err: any) {
        assert.ok(err instanceof InvalidReceiptError, `mutant #${i} threw ${err?.name}: ${err?.message}`)
        rejections++
      }
    }
    assert.ok(rejections > 900, `${rejections} of 1000 rejected`)
  })
})
