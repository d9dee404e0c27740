import assert from 'node:assert/strict'
import {
  MAX_ADVERT_BYTES,
  MAX_CAPS_REQUEST_BYTES,
  MAX_CAPS_RESPONSE_BYTES,
  MAX_RECEIPT_BYTES,
  MAX_SHARD_FRAME_BYTES,
  MAX_SHARD_ITEMS,
  MAX_SHARD_PAYLOAD_BYTES,
  MAX_SIGNED_ADVERT_BYTES,
  MAX_SIGNED_RECEIPT_BYTES,
  MAX_TENSOR_DIMS,
  MAX_TENSORS,
  decodeCapabilityAdvert,
  decodeCapsRequest,
  decodeCapsResponse,
  decodeClientFrame,
  decodeItemList,
  decodeReceipt,
  decodeSignedAdvert,
  decodeSignedReceipt,
  decodeTensorMap,
  decodeWorkerFrame,
  encodeCapabilityAdvert,
  encodeCapsRequest,
  encodeCapsResponse,
  encodeClientFrame,
  encodeItemList,
  encodeReceipt,
  encodeSignedAdvert,
  encodeSignedReceipt,
  encodeTensorMap,
  encodeWorkerFrame
} from '../src/index.js'
import {
  emptyAdvert, fullAdvert, fullCapsRequest, fullCapsResponse, fullClientFrames, fullItemList, fullReceipt, fullSignedAdvert,
  fullSignedReceipt, fullTensorMap, fullWorkerFrames
} from './utils/fixtures.js'
import { Prng } from '../src/fuzz.js'

/** Inputs per decoder and per kind of input (random, truncated, bit-flipped). */
const ITERATIONS = 5_000
const SEED = 0x5eed_cafe

const ALLOWED = new Set(['InvalidMessageError', 'MessageTooLargeError'])

/** Every decoder of bytes from peers, with the size limit it enforces. */
const decoders: Array<[string, (bytes: Uint8Array) => unknown, number]> = [
  ['decodeCapabilityAdvert', decodeCapabilityAdvert, MAX_ADVERT_BYTES],
  ['decodeSignedAdvert', decodeSignedAdvert, MAX_SIGNED_ADVERT_BYTES],
  ['decodeCapsRequest', decodeCapsRequest, MAX_CAPS_REQUEST_BYTES],
  ['decodeCapsResponse', decodeCapsResponse, MAX_CAPS_RESPONSE_BYTES],
  ['decodeItemList', (bytes) => decodeItemList(bytes), MAX_SHARD_PAYLOAD_BYTES],
  ['decodeTensorMap', (bytes) => decodeTensorMap(bytes), MAX_SHARD_PAYLOAD_BYTES],
  ['decodeClientFrame', (bytes) => decodeClientFrame(bytes), MAX_SHARD_FRAME_BYTES],
  ['decodeWorkerFrame', (bytes) => decodeWorkerFrame(bytes), MAX_SHARD_FRAME_BYTES],
  ['decodeReceipt', decodeReceipt, MAX_RECEIPT_BYTES],
  ['decodeSignedReceipt', decodeSignedReceipt, MAX_SIGNED_RECEIPT_BYTES]
]

/** Valid encodings of every message: the seeds that get truncated and bit-flipped. */
function corpus (): Uint8Array[] {
  const advert = encodeCapabilityAdvert(fullAdvert())
  const signed = encodeSignedAdvert(fullSignedAdvert(advert))
  const items = encodeItemList(fullItemList())
  const receipt = encodeReceipt(fullReceipt())
  const signedReceipt = encodeSignedReceipt(fullSignedReceipt(receipt))
  return [
    advert,
    encodeCapabilityAdvert({ ...emptyAdvert(), seq: 1n, priceHint: 'x' }),
    signed,
    encodeCapsRequest(fullCapsRequest()),
    encodeCapsResponse(fullCapsResponse(signed)),
    encodeCapsResponse({ advert: signed, more: 3 }),
    items,
    encodeTensorMap(fullTensorMap()),
    ...fullClientFrames(items).map(encodeClientFrame),
    ...fullWorkerFrames(items, signedReceipt).map(encodeWorkerFrame),
    receipt,
    signedReceipt
  ]
}

interface Tally { ok: number, InvalidMessageError: number, MessageTooLargeError: number }

function feed (name: string, decode: (bytes: Uint8Array) => unknown, input: Uint8Array, tally: Tally, what: string): void {
  try {
    decode(input)
    tally.ok++
  } catch (err: any) {
    if (!ALLOWED.has(err?.name)) {
      assert.fail(`${name} threw ${err?.name ?? typeof err} (${err?.message}) for ${what} ${Buffer.from(input).toString('hex').slice(0, 400)}`)
    }
    assert.ok(err instanceof Error, `${name} threw a non-Error`)
    tally[err.name as 'InvalidMessageError' | 'MessageTooLargeError']++
  }
}

describe('codec fuzz', () => {
  const seeds = corpus()

  for (const [name, decode] of decoders) {
    describe(name, () => {
      it(`${ITERATIONS} random byte strings throw only InvalidMessageError or MessageTooLargeError`, () => {
        const prng = new Prng(SEED ^ name.length)
        const tally: Tally = { ok: 0, InvalidMessageError: 0, MessageTooLargeError: 0 }
        for (let i = 0; i < ITERATIONS; i++) {
          // mostly short strings; now and then one around or over the request limit
          const length = i % 50 === 0 ? MAX_CAPS_REQUEST_BYTES + prng.int(8) - 4 : prng.int(48)
          feed(name, decode, prng.bytes(length), tally, `random #${i}`)
        }
        assert.ok(tally.InvalidMessageError > 0, 'random bytes must sometimes be undecodable')
      })

      it(`${ITERATIONS} truncations of valid encodings throw only named errors`, () => {
        const prng = new Prng(SEED + 1)
        const tally: Tally = { ok: 0, InvalidMessageError: 0, MessageTooLargeError: 0 }
        for (let i = 0; i < ITERATIONS; i++) {
          const seed = seeds[i % seeds.length]
          feed(name, decode, prng.truncate(seed), tally, `truncation #${i}`)
        }
        assert.ok(tally.InvalidMessageError > 0, 'truncated messages must sometimes be undecodable')
      })

      it(`${ITERATIONS} bit-flips of valid encodings throw only named errors`, () => {
        const prng = new Prng(SEED + 2)
        const tally: Tally = { ok: 0, InvalidMessageError: 0, MessageTooLargeError: 0 }
        for (let i = 0; i < ITERATIONS; i++) {
          const seed = seeds[i % seeds.length]
          feed(name, decode, prng.flipBits(seed), tally, `bit-flip #${i}`)
        }
        assert.ok(tally.InvalidMessageError > 0, 'flipped messages must sometimes be undecodable')
      })
    })
  }

  it('over-size inputs are refused with MessageTooLargeError whatever their content', () => {
    const prng = new Prng(SEED + 3)
    const big = prng.bytes(40 * 1024)
    for (const [name, decode, max] of decoders) {
      // one byte over each decoder's own limit; random content below 40 KiB, zeros above
      const input = max < big.byteLength ? big.subarray(0, max + 1) : new Uint8Array(max + 1)
      assert.throws(() => decode(input), (err: any) => err.name === 'MessageTooLargeError', name)
    }
  })

  it('too many shard items, tensors or dimensions are refused with MessageTooLargeError', () => {
    const isTooLarge = (err: any): boolean => err.name === 'MessageTooLargeError'
    const item = Uint8Array.of(0x0a, 0x00) // field 1, an empty item
    const items = (n: number): Uint8Array => new Uint8Array(n * item.byteLength).map((_, i) => item[i % 2])
    assert.equal(decodeItemList(items(MAX_SHARD_ITEMS)).items.length, MAX_SHARD_ITEMS)
    assert.throws(() => decodeItemList(items(MAX_SHARD_ITEMS + 1)), isTooLarge)
    assert.throws(() => encodeItemList(Array.from({ length: MAX_SHARD_ITEMS + 1 }, () => new Uint8Array(0))), isTooLarge)
    const tensor = { name: 't', dtype: 'uint8', dims: [] as bigint[], data: new Uint8Array(1) }
    const tensors = (n: number): Uint8Array => encodeTensorMap({ tensors: Array.from({ length: n }, () => tensor) })
    assert.equal(decodeTensorMap(tensors(MAX_TENSORS)).tensors.length, MAX_TENSORS)
    assert.throws(() => decodeTensorMap(tensors(MAX_TENSORS + 1)), isTooLarge)
    const dims = (n: number): Uint8Array => encodeTensorMap({ tensors: [{ ...tensor, dims: Array.from({ length: n }, () => 1n) }] })
    assert.equal(decodeTensorMap(dims(MAX_TENSOR_DIMS)).tensors[0].dims.length, MAX_TENSOR_DIMS)
    assert.throws(() => decodeTensorMap(dims(MAX_TENSOR_DIMS + 1)), isTooLarge)
  })

  it('shard and receipt messages round trip every field', () => {
    const items = fullItemList()
    assert.deepEqual(decodeItemList(encodeItemList(items)).items, items)
    assert.deepEqual(decodeTensorMap(encodeTensorMap(fullTensorMap())), fullTensorMap())
    const list = encodeItemList(items)
    for (const frame of fullClientFrames(list)) {
      assert.deepEqual(decodeClientFrame(encodeClientFrame(frame)), frame)
    }
    const receipt = encodeReceipt(fullReceipt())
    assert.deepEqual(decodeReceipt(receipt), fullReceipt())
    const signed = fullSignedReceipt(receipt)
    assert.deepEqual(decodeSignedReceipt(encodeSignedReceipt(signed)), signed)
    for (const frame of fullWorkerFrames(list, encodeSignedReceipt(signed))) {
      assert.deepEqual(decodeWorkerFrame(encodeWorkerFrame(frame)), frame)
    }
  })
})
