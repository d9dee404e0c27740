import assert from 'node:assert/strict'
import {
  MAX_CAPS_REQUEST_BYTES,
  decodeCapabilityAdvert,
  decodeCapsRequest,
  decodeCapsResponse,
  decodeSignedAdvert,
  encodeCapabilityAdvert,
  encodeCapsRequest,
  encodeCapsResponse,
  encodeSignedAdvert
} from '../src/index.js'
import { emptyAdvert, fullAdvert, fullCapsRequest, fullCapsResponse, fullSignedAdvert } from './utils/fixtures.js'
import { Prng } from '../src/fuzz.js'

/** Inputs per decoder and per kind of input (random, truncated, bit-flipped). */
const ITERATIONS = 5_000
const SEED = 0x5eed_cafe

const ALLOWED = new Set(['InvalidMessageError', 'MessageTooLargeError'])

const decoders: Array<[string, (bytes: Uint8Array) => unknown]> = [
  ['decodeCapabilityAdvert', decodeCapabilityAdvert],
  ['decodeSignedAdvert', decodeSignedAdvert],
  ['decodeCapsRequest', decodeCapsRequest],
  ['decodeCapsResponse', decodeCapsResponse]
]

/** Valid encodings of every message: the seeds that get truncated and bit-flipped. */
function corpus (): Uint8Array[] {
  const advert = encodeCapabilityAdvert(fullAdvert())
  const signed = encodeSignedAdvert(fullSignedAdvert(advert))
  return [
    advert,
    encodeCapabilityAdvert({ ...emptyAdvert(), seq: 1n, priceHint: 'x' }),
    signed,
    encodeCapsRequest(fullCapsRequest()),
    encodeCapsResponse(fullCapsResponse(signed)),
    encodeCapsResponse({ advert: signed, more: 3 })
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
    for (const [name, decode] of decoders) {
      assert.throws(() => decode(big), (err: any) => err.name === 'MessageTooLargeError', name)
    }
  })
})
