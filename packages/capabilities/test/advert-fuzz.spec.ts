import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MAX_TEXT_FIELD_LENGTH, decodeSignedAdvert } from '@shardmesh/protocol'
import { AdvertRejectedError, REJECT_REASONS, constants, signAdvert, verifyAdvert } from '../src/index.js'
import { NOW, content, signPayload } from './utils/fixtures.js'
import { Prng } from '@shardmesh/protocol/fuzz'
import type { VerifiedAdvert } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

const SEED = 0xad5e_17
const REASONS = new Set<string>(REJECT_REASONS)

type Tally = Map<string, number>

/** Feed bytes to verifyAdvert: only AdvertRejectedError may come out; a success must be sane. */
async function feed (bytes: Uint8Array, tally: Tally, what: string): Promise<void> {
  let advert: VerifiedAdvert
  try {
    advert = await verifyAdvert(bytes, { now: NOW })
  } catch (err: any) {
    if (!(err instanceof AdvertRejectedError) || !REASONS.has(err.reason)) {
      assert.fail(`verifyAdvert threw ${err?.name ?? typeof err} (${err?.message}) for ${what} ${Buffer.from(bytes).toString('hex').slice(0, 400)}`)
    }
    tally.set(err.reason, (tally.get(err.reason) ?? 0) + 1)
    return
  }
  tally.set('accepted', (tally.get('accepted') ?? 0) + 1)
  // whatever got through is usable without throwing and within the advertised bounds
  assert.ok(advert.expiresAt > NOW && advert.expiresAt - advert.issuedAt <= constants.MAX_ADVERT_TTL, what)
  assert.ok(advert.issuedAt <= NOW + constants.MAX_CLOCK_SKEW, what)
  assert.ok(Number.isSafeInteger(advert.seq) && Number.isSafeInteger(advert.hardware.memoryBytes), what)
  assert.ok(advert.loadPermille >= 0 && advert.loadPermille <= 1000, what)
  for (const text of [advert.priceHint, advert.hardware.cpuModel, advert.hardware.platform, advert.hardware.arch, ...advert.workloads.flatMap(w => [w.id, w.version])]) {
    assert.ok(text.length <= MAX_TEXT_FIELD_LENGTH, what)
  }
  for (const w of advert.workloads) {
    assert.ok(Number.isFinite(w.throughput) && w.throughput >= 0, what)
  }
  advert.addrs.forEach(a => a.toString())
  advert.models.forEach(m => m.toString())
  advert.peerId.toString()
}

describe('verifyAdvert fuzz', function () {
  this.timeout(60_000)
  let key: PrivateKey
  let valid: Uint8Array
  let payload: Uint8Array

  before(async () => {
    key = await generateKeyPair('Ed25519')
    valid = (await signAdvert(key, await content(), { seq: 9, issuedAt: NOW, ttl: 30_000 })).bytes
    payload = decodeSignedAdvert(valid).payload
  })

  it('3000 bit-flipped, truncated or spliced signed adverts: only AdvertRejectedError', async () => {
    const prng = new Prng(SEED)
    const tally: Tally = new Map()
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array
      switch (i % 3) {
        case 0: bytes = prng.flipBits(valid); break
        case 1: bytes = prng.truncate(valid); break
        default: {
          // overwrite a random run of bytes with random ones
          bytes = valid.slice()
          const at = prng.int(bytes.byteLength)
          bytes.set(prng.bytes(Math.min(1 + prng.int(16), bytes.byteLength - at)), at)
        }
      }
      await feed(bytes, tally, `mutation #${i}`)
    }
    assert.ok((tally.get('bad-signature') ?? 0) > 0, `no bad-signature in ${JSON.stringify([...tally])}`)
    assert.ok((tally.get('undecodable') ?? 0) > 0, `no undecodable in ${JSON.stringify([...tally])}`)
  })

  it('2000 mutated payloads, correctly re-signed, reach every later check: only AdvertRejectedError', async () => {
    const prng = new Prng(SEED + 1)
    const tally: Tally = new Map()
    for (let i = 0; i < 2000; i++) {
      const mutated = i % 2 === 0 ? prng.flipBits(payload, 3) : prng.truncate(payload)
      await feed(await signPayload(key, mutated), tally, `re-signed mutation #${i}`)
    }
    const seen = [...tally.keys()]
    for (const expected of ['accepted', 'invalid', 'undecodable', 'signer-mismatch']) {
      assert.ok(seen.includes(expected), `no ${expected} in ${JSON.stringify([...tally])}`)
    }
    assert.ok(!seen.includes('bad-signature'), 're-signed payloads all carry a good signature')
  })

  it('1000 random byte strings: only AdvertRejectedError', async () => {
    const prng = new Prng(SEED + 2)
    const tally: Tally = new Map()
    for (let i = 0; i < 1000; i++) {
      await feed(prng.bytes(prng.int(200)), tally, `random #${i}`)
    }
    assert.equal(tally.get('accepted') ?? 0, 0)
  })
})
