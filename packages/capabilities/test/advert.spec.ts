import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeCapabilityAdvert, decodeSignedAdvert } from '@shardmesh/protocol'
import { advertCapabilityKeys, peekAdvert, signAdvert, verifyAdvert } from '../src/index.js'
import { NOW, cidOf, content } from './utils/fixtures.js'
import type { PrivateKey } from '@libp2p/interface'

describe('advert', () => {
  let key: PrivateKey

  before(async () => {
    key = await generateKeyPair('Ed25519')
  })

  describe('signAdvert / verifyAdvert', () => {
    it('round trips every field of the content', async () => {
      const c = await content()
      const signed = await signAdvert(key, c, { seq: 42, issuedAt: NOW, ttl: 30_000 })
      const v = await verifyAdvert(signed.bytes, { now: NOW + 1 })

      assert.ok(v.peerId.equals(peerIdFromPrivateKey(key)))
      assert.equal(v.seq, 42)
      assert.equal(v.issuedAt, NOW)
      assert.equal(v.expiresAt, NOW + 30_000)
      assert.deepEqual(v.hardware, c.hardware)
      assert.deepEqual(v.workloads, c.workloads)
      assert.deepEqual(v.models.map(m => m.toString()), c.models.map(m => m.toString()))
      assert.deepEqual(v.addrs.map(a => a.toString()), c.addrs.map(a => a.toString()))
      assert.equal(v.loadPermille, c.loadPermille)
      assert.equal(v.freeSlots, c.freeSlots)
      assert.equal(v.totalSlots, c.totalSlots)
      assert.equal(v.priceHint, c.priceHint)
      assert.deepEqual(v.bytes, signed.bytes)
    })

    it('signAdvert returns what a verifier will see', async () => {
      const signed = await signAdvert(key, await content(), { seq: 7, issuedAt: NOW + 0.9, ttl: 1000.7 })
      assert.equal(signed.issuedAt, NOW, 'issuedAt is whole ms')
      assert.equal(signed.expiresAt, NOW + 1000, 'expiresAt is whole ms')
      const v = await verifyAdvert(signed.bytes, { now: NOW })
      assert.equal(v.seq, signed.seq)
      assert.equal(v.issuedAt, signed.issuedAt)
      assert.equal(v.expiresAt, signed.expiresAt)
      assert.ok(v.peerId.equals(signed.peerId))
    })

    it('the signed bytes are a SignedAdvert whose payload names the signer', async () => {
      const signed = await signAdvert(key, await content(), { seq: 1, issuedAt: NOW, ttl: 5000 })
      const outer = decodeSignedAdvert(signed.bytes)
      assert.equal(outer.signature.byteLength, 64)
      const advert = decodeCapabilityAdvert(outer.payload)
      assert.deepEqual(advert.peerId, peerIdFromPrivateKey(key).toMultihash().bytes)
      assert.equal(advert.seq, 1n)
    })

    it('an empty advert (no workloads, models, GPUs or addrs) verifies', async () => {
      const c = await content({ workloads: [], models: [], addrs: [], priceHint: '' })
      c.hardware = { ...c.hardware, gpus: [] }
      const v = await verifyAdvert((await signAdvert(key, c, { seq: 1, issuedAt: NOW, ttl: 5000 })).bytes, { now: NOW })
      assert.deepEqual(v.workloads, [])
      assert.deepEqual(v.models, [])
      assert.deepEqual(v.addrs, [])
      assert.deepEqual(v.hardware.gpus, [])
    })

    it('expectedSigner equal to the signer passes', async () => {
      const signed = await signAdvert(key, await content(), { seq: 1, issuedAt: NOW, ttl: 5000 })
      const v = await verifyAdvert(signed.bytes, { now: NOW, expectedSigner: peerIdFromPrivateKey(key) })
      assert.ok(v.peerId.equals(peerIdFromPrivateKey(key)))
    })

    it('verifies against the wall clock when no `now` is given', async () => {
      const fresh = await signAdvert(key, await content(), { seq: 1, issuedAt: Date.now(), ttl: 60_000 })
      await verifyAdvert(fresh.bytes)
      const stale = await signAdvert(key, await content(), { seq: 1, issuedAt: Date.now() - 120_000, ttl: 60_000 })
      await assert.rejects(verifyAdvert(stale.bytes), { name: 'AdvertRejectedError', reason: 'expired' })
    })

    it('accepts an advert issued exactly MAX_CLOCK_SKEW ahead and one about to expire', async () => {
      const ahead = await signAdvert(key, await content(), { seq: 1, issuedAt: NOW + 30_000, ttl: 5000 })
      await verifyAdvert(ahead.bytes, { now: NOW })
      const ending = await signAdvert(key, await content(), { seq: 1, issuedAt: NOW, ttl: 5000 })
      await verifyAdvert(ending.bytes, { now: NOW + 4999 })
    })

    it('clamps a load over 1000 permille and a non-finite or negative throughput', async () => {
      const c = await content({
        loadPermille: 5000,
        workloads: [{ id: 'a', version: '1', throughput: Number.NaN }, { id: 'b', version: '1', throughput: -3 }, { id: 'c', version: '1', throughput: Number.POSITIVE_INFINITY }]
      })
      const v = await verifyAdvert((await signAdvert(key, c, { seq: 1, issuedAt: NOW, ttl: 5000 })).bytes, { now: NOW })
      assert.equal(v.loadPermille, 1000)
      assert.deepEqual(v.workloads.map(w => w.throughput), [0, 0, 0])
    })
  })

  describe('advertCapabilityKeys', () => {
    it('lists workload, model and GPU-vendor keys once each', async () => {
      const model = await cidOf('m')
      const c = await content({
        workloads: [{ id: 'ocr-rec', version: '1', throughput: 0 }, { id: 'ocr-rec', version: '2', throughput: 0 }, { id: 'echo', version: '1', throughput: 0 }],
        models: [model, model]
      })
      c.hardware = { ...c.hardware, gpus: [c.hardware.gpus[0], { ...c.hardware.gpus[0], uuid: 'GPU-2' }] }
      assert.deepEqual(advertCapabilityKeys(c), ['workload:ocr-rec', 'workload:echo', `model:${model.toString()}`, 'gpu:nvidia'])
    })

    it('a node with nothing to offer provides no keys', async () => {
      const c = await content({ workloads: [], models: [] })
      c.hardware = { ...c.hardware, gpus: [] }
      assert.deepEqual(advertCapabilityKeys(c), [])
    })
  })

  describe('peekAdvert', () => {
    it('reads the claimed peer and seq without verifying anything', async () => {
      const signed = await signAdvert(key, await content(), { seq: 77, issuedAt: NOW, ttl: 30_000 })
      assert.deepEqual(peekAdvert(signed.bytes), { peerId: peerIdFromPrivateKey(key).toString(), seq: 77 })
      // a broken signature does not matter to a peek (the caller only uses it to drop stale adverts)
      const broken = signed.bytes.slice()
      broken[broken.length - 1] ^= 0xff
      assert.equal(peekAdvert(broken)?.seq, 77)
    })

    it('is undefined for bytes that do not decode', () => {
      assert.equal(peekAdvert(new Uint8Array([0xff, 0xff, 0xff])), undefined)
      assert.equal(peekAdvert(new Uint8Array(0)), undefined)
    })
  })
})
