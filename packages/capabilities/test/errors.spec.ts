import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  CapabilityAdvert,
  MAX_ADVERT_ADDRS,
  MAX_ADVERT_BYTES,
  MAX_SIGNED_ADVERT_BYTES,
  ShardmeshError,
  decodeSignedAdvert,
  encodeSignedAdvert
} from '@shardmesh/protocol'
import { AdvertRejectedError, PeerTable, REJECT_REASONS, signAdvert, verifyAdvert, constants } from '../src/index.js'
import { NOW, content, rawAdvert, signPayload, signRaw } from './utils/fixtures.js'
import type { RejectReason } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

interface Keys { a: PrivateKey, b: PrivateKey, c: PrivateKey, secp: PrivateKey }

/** Each case must make verifyAdvert or PeerTable refuse with the reason it is listed under. */
type Case = [name: string, run: (k: Keys) => Promise<unknown>]

async function signed (key: PrivateKey, seq = 1, issuedAt = NOW, ttl = 30_000): Promise<Uint8Array> {
  return (await signAdvert(key, await content(), { seq, issuedAt, ttl })).bytes
}

async function verified (key: PrivateKey, seq = 1, issuedAt = NOW, ttl = 30_000): ReturnType<typeof signAdvert> {
  return verifyAdvert(await signed(key, seq, issuedAt, ttl), { now: issuedAt })
}

/** Re-encode a valid SignedAdvert with one of its parts changed. */
async function tamper (key: PrivateKey, change: (s: ReturnType<typeof decodeSignedAdvert>) => void): Promise<Uint8Array> {
  const s = decodeSignedAdvert(await signed(key))
  change(s)
  return encodeSignedAdvert(s)
}

const verify = async (bytes: Uint8Array | Promise<Uint8Array>, now = NOW): Promise<unknown> => verifyAdvert(await bytes, { now })

// A Record over RejectReason: the compiler insists on a case list for every reason.
const CASES: Record<RejectReason, Case[]> = {
  oversized: [
    ['a SignedAdvert over MAX_SIGNED_ADVERT_BYTES', async () => verify(new Uint8Array(MAX_SIGNED_ADVERT_BYTES + 1))],
    ['a validly signed payload over MAX_ADVERT_BYTES', async ({ a }) => {
      const payload = CapabilityAdvert.encode(rawAdvert(a, { priceHint: 'p'.repeat(MAX_ADVERT_BYTES) }))
      assert.ok(payload.byteLength > MAX_ADVERT_BYTES)
      const bytes = await signPayload(a, payload)
      assert.ok(bytes.byteLength <= MAX_SIGNED_ADVERT_BYTES, 'the envelope itself is under its limit')
      return verify(bytes)
    }],
    [`a validly signed advert with ${MAX_ADVERT_ADDRS + 1} addrs`, async ({ a }) =>
      verify(signRaw(a, rawAdvert(a, { addrs: Array.from({ length: MAX_ADVERT_ADDRS + 1 }, () => Uint8Array.from([0x04, 10, 0, 0, 1])) })))]
  ],
  undecodable: [
    ['random bytes', async () => verify(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))],
    ['a truncated SignedAdvert', async ({ a }) => verify((await signed(a)).subarray(0, 50))],
    ['a validly signed payload that is not a CapabilityAdvert', async ({ a }) => verify(signPayload(a, Uint8Array.from([0x0a, 0x50, 0x01])))]
  ],
  invalid: [
    ['a secp256k1 signer', async ({ secp }) => verify(signRaw(secp, rawAdvert(secp)))],
    ['a public key that does not decode', async ({ a }) => verify(tamper(a, s => { s.publicKey = Uint8Array.from([1, 2, 3]) }))],
    ['a TTL over MAX_ADVERT_TTL', async ({ a }) => verify(signed(a, 1, NOW, constants.MAX_ADVERT_TTL + 1))],
    ['a zero TTL', async ({ a }) => verify(signRaw(a, rawAdvert(a, { expiresAt: BigInt(NOW) })), NOW - 1)],
    ['an expiry before the issue time', async ({ a }) => verify(signRaw(a, rawAdvert(a, { issuedAt: BigInt(NOW + 10), expiresAt: BigInt(NOW + 5) })), NOW)],
    ['a workload id with a space', async ({ a }) => verify(signRaw(a, rawAdvert(a, { workloads: [{ id: 'ocr rec', version: '1', throughput: 0 }] })))],
    ['an empty workload id', async ({ a }) => verify(signRaw(a, rawAdvert(a, { workloads: [{ id: '', version: '1', throughput: 0 }] })))],
    ['a text field over MAX_TEXT_FIELD_LENGTH', async ({ a }) => verify(signRaw(a, rawAdvert(a, { priceHint: 'x'.repeat(257) })))],
    ['a seq above Number.MAX_SAFE_INTEGER', async ({ a }) => verify(signRaw(a, rawAdvert(a, { seq: 2n ** 53n })))],
    ['a model that is not a CID', async ({ a }) => verify(signRaw(a, rawAdvert(a, { models: [Uint8Array.from([1, 2, 3])] })))],
    ['an addr that is not a multiaddr', async ({ a }) => verify(signRaw(a, rawAdvert(a, { addrs: [Uint8Array.from([0xff, 0xff, 0x03, 0x01])] })))]
  ],
  'bad-signature': [
    ['a flipped payload byte', async ({ a }) => verify(tamper(a, s => { s.payload[s.payload.byteLength - 3] ^= 0x01 }))],
    ['a flipped signature byte', async ({ a }) => verify(tamper(a, s => { s.signature[10] ^= 0x80 }))],
    ['an empty signature', async ({ a }) => verify(tamper(a, s => { s.signature = new Uint8Array(0) }))],
    ['a signature over the payload without the domain prefix', async ({ a }) => {
      const s = decodeSignedAdvert(await signed(a))
      s.signature = await a.sign(s.payload) as Uint8Array<ArrayBuffer>
      return verify(encodeSignedAdvert(s))
    }],
    ["B's signature with A's public key", async ({ a, b }) => {
      const s = decodeSignedAdvert(await signed(a))
      s.signature = decodeSignedAdvert(await signRaw(b, decodeCapabilityAdvertOf(s.payload))).signature
      return verify(encodeSignedAdvert(s))
    }]
  ],
  'signer-mismatch': [
    ['an advert naming A, signed by B with B\'s key', async ({ a, b }) => verify(signRaw(b, rawAdvert(a)))]
  ],
  'sender-mismatch': [
    ['signed by A, received from C', async ({ a, c }) => verifyAdvert(await signed(a), { now: NOW, expectedSigner: peerIdFromPrivateKey(c) })]
  ],
  expired: [
    ['now past the expiry by more than MAX_CLOCK_SKEW', async ({ a }) => verify(signed(a, 1, NOW, 30_000), NOW + 30_001 + constants.MAX_CLOCK_SKEW)],
    ['now exactly MAX_CLOCK_SKEW past the expiry', async ({ a }) => verify(signed(a, 1, NOW, 30_000), NOW + 30_000 + constants.MAX_CLOCK_SKEW)],
    ['PeerTable.accept at its expiry from a sync (the issuer\'s clock offset unknown)', async ({ a }) => new PeerTable().accept(await verified(a, 1, NOW, 1000), 'sync', NOW + 1000)],
    ['PeerTable.accept by gossip MAX_CLOCK_SKEW past its expiry', async ({ a }) => new PeerTable().accept(await verified(a, 1, NOW, 1000), 'gossip', NOW + 1000 + constants.MAX_CLOCK_SKEW)],
    ['PeerTable.accept from a sync, after its expiry, of a peer whose clock gossip showed right', async ({ a }) => {
      const table = new PeerTable()
      table.accept(await verified(a, 1, NOW, 1000), 'gossip', NOW)
      return table.accept(await verified(a, 2, NOW + 10, 1000), 'sync', NOW + 1010)
    }]
  ],
  'clock-skew': [
    ['issued further than MAX_CLOCK_SKEW in the future', async ({ a }) => verify(signed(a, 1, NOW + constants.MAX_CLOCK_SKEW + 1, 30_000), NOW)]
  ],
  'not-newer': [
    ['the same seq again', async ({ a }) => {
      const table = new PeerTable()
      const advert = await verified(a, 5)
      table.accept(advert, 'gossip', NOW)
      return table.accept(advert, 'sync', NOW + 1)
    }],
    ['a lower seq', async ({ a }) => {
      const table = new PeerTable()
      table.accept(await verified(a, 5), 'gossip', NOW)
      return table.accept(await verified(a, 4), 'gossip', NOW + 1)
    }],
    ['an older advert replayed after the newer one expired and was swept', async ({ a }) => {
      const table = new PeerTable()
      // seq 1 lives 60 s; seq 2, issued later, only 1 s
      const older = await verified(a, 1, NOW, 60_000)
      const newer = await verified(a, 2, NOW + 100, 1000)
      table.accept(newer, 'gossip', NOW + 100)
      assert.equal(table.sweep(NOW + 1200).length, 1)
      assert.equal(table.size, 0)
      return table.accept(older, 'gossip', NOW + 1300)
    }]
  ],
  'table-full': [
    ['a new peer when the table is at maxSize', async ({ a, b, c }) => {
      const table = new PeerTable({ maxSize: 2 })
      table.accept(await verified(a), 'gossip', NOW)
      table.accept(await verified(b), 'gossip', NOW)
      return table.accept(await verified(c), 'gossip', NOW)
    }]
  ]
}

function decodeCapabilityAdvertOf (payload: Uint8Array): CapabilityAdvert {
  return CapabilityAdvert.decode(payload)
}

describe('AdvertRejectedError reasons', () => {
  const keys = {} as Keys

  before(async () => {
    keys.a = await generateKeyPair('Ed25519')
    keys.b = await generateKeyPair('Ed25519')
    keys.c = await generateKeyPair('Ed25519')
    keys.secp = await generateKeyPair('secp256k1')
  })

  it('every reason in REJECT_REASONS has cases here, and no others', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...REJECT_REASONS].sort())
    for (const reason of REJECT_REASONS) {
      assert.ok(CASES[reason].length > 0, reason)
    }
  })

  for (const reason of REJECT_REASONS) {
    describe(reason, () => {
      for (const [name, run] of CASES[reason]) {
        it(name, async () => {
          await assert.rejects(async () => run(keys), (err: any) => {
            assert.ok(err instanceof AdvertRejectedError, `expected AdvertRejectedError, got ${err?.name}: ${err?.message}`)
            assert.ok(err instanceof ShardmeshError)
            assert.equal(err.name, 'AdvertRejectedError')
            assert.equal(err.reason, reason, err.message)
            assert.equal(err.code, `ERR_ADVERT_${reason.toUpperCase().replace('-', '_')}`)
            assert.ok(err.message.includes(`(${reason})`))
            return true
          })
        })
      }
    })
  }

  it('the same adverts are accepted when nothing is wrong with them', async () => {
    const { a, b } = keys
    // controls for the cases above: the fixtures themselves verify and enter a table
    await verify(signRaw(a, rawAdvert(a)))
    await verify(signPayload(a, CapabilityAdvert.encode(rawAdvert(a, { priceHint: 'p'.repeat(256) }))))
    await verify(signRaw(a, rawAdvert(a, { addrs: Array.from({ length: MAX_ADVERT_ADDRS }, () => Uint8Array.from([0x04, 10, 0, 0, 1])) })))
    await verify(signed(a, 1, NOW, constants.MAX_ADVERT_TTL))
    await verifyAdvert(await signed(a), { now: NOW, expectedSigner: peerIdFromPrivateKey(a) })
    const table = new PeerTable({ maxSize: 2 })
    table.accept(await verified(a, 5), 'gossip', NOW)
    table.accept(await verified(a, 6), 'gossip', NOW + 1)
    table.accept(await verified(b, 1), 'gossip', NOW + 1)
    // a full table still takes a newer advert from a peer it holds
    table.accept(await verified(b, 2), 'gossip', NOW + 2)
    assert.equal(table.size, 2)
  })

  it('a wrong key type is refused even with a valid secp256k1 signature', async () => {
    const { secp } = keys
    const payload = CapabilityAdvert.encode(rawAdvert(secp))
    const bytes = await signPayload(secp, payload)
    const s = decodeSignedAdvert(bytes)
    assert.deepEqual(s.publicKey, publicKeyToProtobuf(secp.publicKey))
    await assert.rejects(verify(bytes), /not Ed25519/)
  })
})
