import assert from 'node:assert/strict'
import { generateKeyPair, generateKeyPairFromSeed, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  decodeReceipt, decodeSignedReceipt, encodeReceipt, encodeSignedReceipt, sha256
} from '@shardmesh/protocol'
import { Prng } from '@shardmesh/protocol/fuzz'
import { countersignReceipt, InvalidReceiptError, signReceipt, verifyReceipt } from '../src/index.js'
import type { ReceiptFields, ReceiptRejection, VerifiedReceipt } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

async function key (seed: number): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(seed))
}

function rejected (reason: ReceiptRejection): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'InvalidReceiptError', `expected InvalidReceiptError, got ${err?.name}: ${err?.message}`)
    assert.ok(err instanceof InvalidReceiptError)
    assert.equal(err.code, 'ERR_INVALID_RECEIPT')
    assert.equal(err.reason, reason, err.message)
    return true
  }
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** The part of a verified receipt that the signatures vouch for. */
function content (r: VerifiedReceipt): unknown {
  return {
    ...r,
    worker: r.worker.toString(),
    requester: r.requester.toString(),
    bytes: undefined
  }
}

describe('receipts', () => {
  let workerKey: PrivateKey
  let requesterKey: PrivateKey
  let otherKey: PrivateKey
  let fields: ReceiptFields

  before(async () => {
    workerKey = await key(1)
    requesterKey = await key(2)
    otherKey = await key(3)
    fields = {
      jobId: new Uint8Array(16).fill(0xab),
      shardIndex: 3,
      workload: 'ocr-rec',
      workloadVersion: '1.0.0',
      inputDigest: sha256(Uint8Array.of(1, 2, 3)),
      outputDigest: sha256(Uint8Array.of(4, 5, 6)),
      worker: peerIdFromPrivateKey(workerKey),
      requester: peerIdFromPrivateKey(requesterKey),
      startedAt: 1_717_000_000_000,
      finishedAt: 1_717_000_000_250,
      items: 8,
      cpuMicros: 123_456
    }
  })

  /** A countersigned receipt, and the worker's receipt it was made from. */
  async function signedPair (): Promise<{ worker: Uint8Array, countersigned: Uint8Array }> {
    const worker = await signReceipt(workerKey, fields)
    const countersigned = await countersignReceipt(requesterKey, worker, { policy: 'replicate:3', outcome: 'disputed' })
    return { worker, countersigned }
  }

  describe('round trip', () => {
    it('sign → verify (no countersignature) → countersign → verify keeps every field', async () => {
      const { worker, countersigned } = await signedPair()
      const plain = await verifyReceipt(worker, { requireCountersignature: false, worker: fields.worker, requester: fields.requester })
      assert.equal(plain.countersigned, false)
      assert.equal(plain.verification, undefined)
      const r = await verifyReceipt(countersigned, { worker: fields.worker, requester: fields.requester })
      assert.equal(r.countersigned, true)
      assert.deepEqual(r.verification, { policy: 'replicate:3', outcome: 'disputed' })
      assert.equal(r.version, 1)
      for (const name of ['shardIndex', 'workload', 'workloadVersion', 'startedAt', 'finishedAt', 'items', 'cpuMicros'] as const) {
        assert.equal(r[name], fields[name], name)
      }
      assert.equal(hex(r.jobId), hex(fields.jobId))
      assert.equal(hex(r.inputDigest), hex(fields.inputDigest))
      assert.equal(hex(r.outputDigest), hex(fields.outputDigest))
      assert.ok(r.worker.equals(fields.worker))
      assert.ok(r.requester.equals(fields.requester))
      assert.equal(r.bytes, countersigned)
      // the id is the receipt's, so it does not change when it is countersigned
      assert.equal(hex(r.id), hex(plain.id))
      assert.equal(hex(r.id), hex(sha256(decodeSignedReceipt(worker).receipt)))
    })

    it('refuses to sign a receipt for another worker', async () => {
      await assert.rejects(signReceipt(otherKey, fields), RangeError)
    })

    it('refuses to countersign a receipt that names another requester, or is not signed by its worker', async () => {
      const { worker } = await signedPair()
      await assert.rejects(countersignReceipt(otherKey, worker, { policy: 'none', outcome: 'accepted' }), rejected('unexpected-requester'))
      const signed = decodeSignedReceipt(worker)
      const forged = encodeSignedReceipt({ ...signed, workerSignature: new Uint8Array(64) })
      await assert.rejects(countersignReceipt(requesterKey, forged, { policy: 'none', outcome: 'accepted' }), rejected('bad-worker-signature'))
    })
  })

  describe('each rejection is named', () => {
    it('undecodable bytes', async () => {
      await assert.rejects(verifyReceipt(Uint8Array.of(0xff, 0xff, 0xff)), rejected('undecodable'))
      await assert.rejects(verifyReceipt(new Uint8Array(8192)), rejected('undecodable'))
      const signed = decodeSignedReceipt((await signedPair()).countersigned)
      await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, receipt: Uint8Array.of(0x0a, 0x05) })), rejected('undecodable'))
    })

    it('a worker field that is not a peer id', async () => {
      const signed = decodeSignedReceipt(await signReceipt(workerKey, fields))
      const receipt = encodeReceipt({ ...decodeReceipt(signed.receipt), worker: Uint8Array.of(1, 2, 3) })
      await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, receipt })), rejected('undecodable'))
    })

    it('a tampered receipt field', async () => {
      const signed = decodeSignedReceipt((await signedPair()).countersigned)
      const receipt = decodeReceipt(signed.receipt)
      for (const tampered of [{ items: 9 }, { shardIndex: 4 }, { outputDigest: sha256(Uint8Array.of(7)) }, { cpuMicros: 1n }]) {
        const bytes = encodeSignedReceipt({ ...signed, receipt: encodeReceipt({ ...receipt, ...tampered }) })
        await assert.rejects(verifyReceipt(bytes), rejected('bad-worker-signature'), JSON.stringify(Object.keys(tampered)))
      }
    })

    it('a wrong worker signature', async () => {
      const signed = decodeSignedReceipt(await signReceipt(workerKey, fields))
      const flipped = signed.workerSignature.slice()
      flipped[10] ^= 1
      for (const workerSignature of [flipped, new Uint8Array(0), new Uint8Array(65)]) {
        await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, workerSignature }), { requireCountersignature: false }), rejected('bad-worker-signature'))
      }
    })

    it('a key that is not the worker the receipt names, even with a valid signature by that key', async () => {
      // the other key signs the same receipt bytes correctly, but the receipt names another worker
      const genuine = decodeSignedReceipt(await signReceipt(workerKey, fields))
      const byOther = decodeSignedReceipt(await signReceipt(otherKey, { ...fields, worker: peerIdFromPrivateKey(otherKey) }))
      const swapped = encodeSignedReceipt({
        ...genuine,
        workerKey: publicKeyToProtobuf(otherKey.publicKey),
        // what `otherKey` would sign for the genuine bytes is irrelevant: the key check comes first
        workerSignature: byOther.workerSignature
      })
      await assert.rejects(verifyReceipt(swapped, { requireCountersignature: false }), rejected('worker-mismatch'))
    })

    it('an unusable worker or requester key', async () => {
      const { countersigned } = await signedPair()
      const signed = decodeSignedReceipt(countersigned)
      const secp = await generateKeyPair('secp256k1')
      for (const workerKey of [Uint8Array.of(1, 2, 3), publicKeyToProtobuf(secp.publicKey)]) {
        await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, workerKey })), rejected('bad-worker-key'))
      }
      await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, requesterKey: Uint8Array.of(9) })), rejected('bad-requester-key'))
    })

    it('a missing countersignature, unless it is not required', async () => {
      const { worker } = await signedPair()
      await assert.rejects(verifyReceipt(worker), rejected('missing-countersignature'))
      await assert.rejects(verifyReceipt(worker, { requireCountersignature: true }), rejected('missing-countersignature'))
      assert.equal((await verifyReceipt(worker, { requireCountersignature: false })).countersigned, false)
    })

    it('a countersignature by a key that is not the requester', async () => {
      const { worker } = await signedPair()
      // `verified: true` skips the requester's own checks, as a forger would
      const forged = await countersignReceipt(otherKey, worker, { policy: 'none', outcome: 'accepted' }, { verified: true })
      await assert.rejects(verifyReceipt(forged), rejected('requester-mismatch'))
    })

    it('a countersignature that does not verify, or a tampered verification outcome', async () => {
      const signed = decodeSignedReceipt((await signedPair()).countersigned)
      for (const verification of [
        { policy: 'replicate:3', outcome: 'accepted' },
        { policy: 'none', outcome: 'disputed' },
        undefined
      ]) {
        await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, verification })), rejected('bad-countersignature'), JSON.stringify(verification))
      }
      const requesterSignature = signed.requesterSignature.slice()
      requesterSignature[0] ^= 0x80
      await assert.rejects(verifyReceipt(encodeSignedReceipt({ ...signed, requesterSignature })), rejected('bad-countersignature'))
    })

    it('a worker or requester other than the one expected', async () => {
      const { countersigned } = await signedPair()
      const other = peerIdFromPrivateKey(otherKey)
      await assert.rejects(verifyReceipt(countersigned, { worker: other }), rejected('unexpected-worker'))
      await assert.rejects(verifyReceipt(countersigned, { requester: other }), rejected('unexpected-requester'))
    })

    it('a countersignature over another receipt', async () => {
      // the requester's signature covers the receipt bytes: it cannot be moved to another receipt
      const a = decodeSignedReceipt((await signedPair()).countersigned)
      const otherWorker = await signReceipt(workerKey, { ...fields, shardIndex: 4 })
      const b = decodeSignedReceipt(otherWorker)
      const moved = encodeSignedReceipt({ ...b, verification: a.verification, requesterKey: a.requesterKey, requesterSignature: a.requesterSignature })
      await assert.rejects(verifyReceipt(moved), rejected('bad-countersignature'))
    })
  })

  describe('fuzz', () => {
    const ITERATIONS = 3_000

    it(`${ITERATIONS} mutated receipts throw only InvalidReceiptError, and a mutant that verifies says what the original said`, async () => {
      const { worker, countersigned } = await signedPair()
      const original = [content(await verifyReceipt(worker, { requireCountersignature: false })), content(await verifyReceipt(countersigned))]
      const prng = new Prng(0x7ec_e1b7)
      const tally = { ok: 0, rejected: 0 }
      const reasons = new Set<string>()
      for (let i = 0; i < ITERATIONS; i++) {
        const which = i % 2
        const seed = which === 0 ? worker : countersigned
        const kind = prng.int(4)
        const input = kind === 0
          ? prng.truncate(seed)
          : kind === 1
            ? prng.bytes(prng.int(400))
            : prng.flipBits(seed, kind === 2 ? 1 : 8)
        try {
          const r = await verifyReceipt(input, { requireCountersignature: which === 1 })
          assert.deepEqual({ ...content(r) as object, id: undefined }, { ...original[which] as object, id: undefined }, `mutant #${i} verified with other content: ${Buffer.from(input).toString('hex')}`)
          tally.ok++
        } catch (err: any) {
          if (err?.name !== 'InvalidReceiptError') {
            assert.fail(`mutant #${i} threw ${err?.name} (${err?.message}): ${Buffer.from(input).toString('hex')}`)
          }
          reasons.add(err.reason)
          tally.rejected++
        }
      }
      assert.ok(tally.rejected > ITERATIONS * 0.9, JSON.stringify(tally))
      for (const reason of ['undecodable', 'bad-worker-signature', 'bad-countersignature']) {
        assert.ok(reasons.has(reason), `no mutant was rejected as ${reason}: ${[...reasons].join(', ')}`)
      }
    })
  })
})
