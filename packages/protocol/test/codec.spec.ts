import assert from 'node:assert/strict'
import {
  CapabilityAdvert,
  InvalidMessageError,
  MAX_ADVERT_ADDRS,
  MAX_ADVERT_BYTES,
  MAX_ADVERT_GPUS,
  MAX_ADVERT_MODELS,
  MAX_ADVERT_WORKLOADS,
  MAX_CAPS_REQUEST_BYTES,
  MAX_CAPS_RESPONSE_BYTES,
  MAX_SIGNED_ADVERT_BYTES,
  MessageTooLargeError,
  SignedAdvert,
  decodeCapabilityAdvert,
  decodeCapsRequest,
  decodeCapsResponse,
  decodeLimited,
  decodeSignedAdvert,
  encodeCapabilityAdvert,
  encodeCapsRequest,
  encodeCapsResponse,
  encodeSignedAdvert
} from '../src/index.js'
import { emptyAdvert, fullAdvert, fullCapsRequest, fullCapsResponse, fullSignedAdvert } from './utils/fixtures.js'
import type { Gpu, Hardware, WorkloadOffer } from '../src/index.js'

function isNamed (name: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    return true
  }
}

function gpu (i: number): Gpu {
  return { vendor: 'nvidia', model: `gpu ${i}`, memoryBytes: 1n, uuid: `GPU-${i}`, driver: '1' }
}

function workload (i: number): WorkloadOffer {
  return { id: `w${i}`, version: '1', throughput: 1 }
}

describe('codec', () => {
  describe('round trips', () => {
    it('CapabilityAdvert keeps every field', () => {
      const advert = fullAdvert()
      const bytes = encodeCapabilityAdvert(advert)
      assert.deepEqual(decodeCapabilityAdvert(bytes), advert)
    })

    it('CapabilityAdvert with every field at its default', () => {
      const bytes = encodeCapabilityAdvert(emptyAdvert())
      assert.equal(bytes.byteLength, 0)
      assert.deepEqual(decodeCapabilityAdvert(bytes), emptyAdvert())
    })

    it('CapabilityAdvert keeps 64-bit values above 2^53 exactly', () => {
      const advert = { ...fullAdvert(), seq: 2n ** 64n - 1n, expiresAt: 2n ** 53n + 1n }
      const decoded = decodeCapabilityAdvert(encodeCapabilityAdvert(advert))
      assert.equal(decoded.seq, 2n ** 64n - 1n)
      assert.equal(decoded.expiresAt, 2n ** 53n + 1n)
    })

    it('SignedAdvert keeps payload, key and signature byte for byte', () => {
      const payload = encodeCapabilityAdvert(fullAdvert())
      const signed = fullSignedAdvert(payload)
      const decoded = decodeSignedAdvert(encodeSignedAdvert(signed))
      assert.deepEqual(decoded, signed)
      assert.deepEqual(decodeCapabilityAdvert(decoded.payload), fullAdvert())
    })

    it('CapsRequest', () => {
      assert.deepEqual(decodeCapsRequest(encodeCapsRequest(fullCapsRequest())), fullCapsRequest())
      assert.deepEqual(decodeCapsRequest(new Uint8Array(0)), { includeKnown: false, maxAdverts: 0 })
    })

    it('CapsResponse with an advert and with an error', () => {
      const advert = encodeSignedAdvert(fullSignedAdvert(encodeCapabilityAdvert(fullAdvert())))
      const response = fullCapsResponse(advert)
      assert.deepEqual(decodeCapsResponse(encodeCapsResponse(response)), response)

      const plain = { advert, more: 0 }
      assert.deepEqual(decodeCapsResponse(encodeCapsResponse(plain)), plain)
    })

    it('decoders accept a view into a larger buffer', () => {
      const bytes = encodeCapabilityAdvert(fullAdvert())
      const big = new Uint8Array(bytes.byteLength + 20)
      big.set(bytes, 10)
      assert.deepEqual(decodeCapabilityAdvert(big.subarray(10, 10 + bytes.byteLength)), fullAdvert())
    })

    it('unknown fields are skipped (a newer peer may add fields)', () => {
      const known = encodeCapsRequest({ includeKnown: true, maxAdverts: 3 })
      // field 15, varint 1 and field 14, length-delimited "hi"
      const extended = Uint8Array.from([...known, 0x78, 0x01, 0x72, 0x02, 0x68, 0x69])
      assert.deepEqual(decodeCapsRequest(extended), { includeKnown: true, maxAdverts: 3 })
    })
  })

  describe('size limits', () => {
    it('whole-message limits: one byte over is MessageTooLargeError, at the limit is not', () => {
      const cases: Array<[string, (b: Uint8Array) => unknown, number]> = [
        ['CapabilityAdvert', decodeCapabilityAdvert, MAX_ADVERT_BYTES],
        ['SignedAdvert', decodeSignedAdvert, MAX_SIGNED_ADVERT_BYTES],
        ['CapsRequest', decodeCapsRequest, MAX_CAPS_REQUEST_BYTES],
        ['CapsResponse', decodeCapsResponse, MAX_CAPS_RESPONSE_BYTES]
      ]
      for (const [name, decode, max] of cases) {
        assert.throws(() => decode(new Uint8Array(max + 1)), isNamed('MessageTooLargeError'), name)
        assert.throws(() => decode(new Uint8Array(max + 1)), MessageTooLargeError, name)
        // zero bytes read as (unknown) field-0 varints that are skipped: at the limit, it decodes
        assert.doesNotThrow(() => decode(new Uint8Array(max)), name)
      }
    })

    it('an advert just under MAX_ADVERT_BYTES decodes; just over does not encode', () => {
      const base = encodeCapabilityAdvert({ ...fullAdvert(), priceHint: '' }).byteLength
      // priceHint tag (1) + length varint (3 bytes for lengths >= 16384)
      const fits = MAX_ADVERT_BYTES - base - 4
      const advert = { ...fullAdvert(), priceHint: 'p'.repeat(fits) }
      const bytes = encodeCapabilityAdvert(advert)
      assert.equal(bytes.byteLength, MAX_ADVERT_BYTES)
      assert.equal(decodeCapabilityAdvert(bytes).priceHint.length, fits)

      assert.throws(() => encodeCapabilityAdvert({ ...advert, priceHint: 'p'.repeat(fits + 1) }), isNamed('MessageTooLargeError'))
    })

    it('a SignedAdvert over its limit is refused before decoding', () => {
      const payload = new Uint8Array(MAX_SIGNED_ADVERT_BYTES)
      const bytes = encodeSignedAdvert({ payload, publicKey: new Uint8Array(0), signature: new Uint8Array(0) })
      assert.throws(() => decodeSignedAdvert(bytes), isNamed('MessageTooLargeError'))
    })

    const repeated: Array<[string, number, (n: number) => CapabilityAdvert]> = [
      ['addrs', MAX_ADVERT_ADDRS, n => ({ ...fullAdvert(), addrs: Array.from({ length: n }, (_, i) => Uint8Array.from([0x04, 10, 0, 0, i & 0xff])) })],
      ['models', MAX_ADVERT_MODELS, n => ({ ...fullAdvert(), models: Array.from({ length: n }, () => new Uint8Array(36).fill(3)) })],
      ['workloads', MAX_ADVERT_WORKLOADS, n => ({ ...fullAdvert(), workloads: Array.from({ length: n }, (_, i) => workload(i)) })],
      ['hardware.gpus', MAX_ADVERT_GPUS, n => ({ ...fullAdvert(), hardware: { ...fullAdvert().hardware as Hardware, gpus: Array.from({ length: n }, (_, i) => gpu(i)) } })]
    ]
    for (const [field, max, make] of repeated) {
      it(`${field}: ${max} elements decode, ${max + 1} are MessageTooLargeError`, () => {
        const ok = decodeCapabilityAdvert(encodeCapabilityAdvert(make(max)))
        const count = field === 'hardware.gpus' ? ok.hardware?.gpus.length : (ok as any)[field].length
        assert.equal(count, max)
        // the raw encoder does not enforce element counts: a hostile peer's would not either
        const over = CapabilityAdvert.encode(make(max + 1))
        assert.ok(over.byteLength <= MAX_ADVERT_BYTES, 'the over-count case must be under the byte limit')
        assert.throws(() => decodeCapabilityAdvert(over), isNamed('MessageTooLargeError'))
        assert.throws(() => decodeCapabilityAdvert(over), /too many elements/)
      })
    }

    it('an over-count advert inside a SignedAdvert still decodes as a SignedAdvert (the payload is opaque bytes)', () => {
      const payload = CapabilityAdvert.encode({ ...fullAdvert(), addrs: Array.from({ length: MAX_ADVERT_ADDRS + 1 }, () => Uint8Array.from([0x04, 1, 2, 3, 4])) })
      const signed = decodeSignedAdvert(SignedAdvert.encode({ payload, publicKey: new Uint8Array(1), signature: new Uint8Array(1) }))
      assert.deepEqual(signed.payload, payload)
      assert.throws(() => decodeCapabilityAdvert(signed.payload), isNamed('MessageTooLargeError'))
    })
  })

  describe('bad input', () => {
    it('non-bytes input is InvalidMessageError', () => {
      for (const value of [undefined, null, 'abc', 42, [1, 2, 3], {}, new ArrayBuffer(4)]) {
        assert.throws(() => decodeCapabilityAdvert(value as any), isNamed('InvalidMessageError'))
        assert.throws(() => decodeCapsRequest(value as any), InvalidMessageError)
      }
    })

    it('a truncated message is InvalidMessageError with the message name and the cause kept', () => {
      const bytes = encodeCapabilityAdvert(fullAdvert())
      assert.throws(() => decodeCapabilityAdvert(bytes.subarray(0, bytes.byteLength - 1)), (err: any) => {
        assert.equal(err.name, 'InvalidMessageError')
        assert.equal(err.code, 'ERR_INVALID_MESSAGE')
        assert.match(err.message, /^CapabilityAdvert: undecodable/)
        assert.ok(err.cause != null)
        return true
      })
    })

    it('a length prefix pointing past the end is InvalidMessageError', () => {
      // field 1 (payload), length 100, 2 bytes follow
      assert.throws(() => decodeSignedAdvert(Uint8Array.from([0x0a, 100, 1, 2])), isNamed('InvalidMessageError'))
    })

    it('a varint longer than 10 bytes is InvalidMessageError', () => {
      assert.throws(() => decodeCapsRequest(Uint8Array.from([0x10, ...new Array(11).fill(0xff), 0x01])), isNamed('InvalidMessageError'))
    })

    it('an invalid wire type in an unknown field is InvalidMessageError', () => {
      // field 15 with wire type 7 (there is no wire type 7)
      assert.throws(() => decodeCapsRequest(Uint8Array.from([0x7f, 0x00])), isNamed('InvalidMessageError'))
    })

    it('decodeLimited maps a protons MaxLengthError to MessageTooLargeError', () => {
      const bytes = CapabilityAdvert.encode({ ...fullAdvert(), models: [new Uint8Array(1), new Uint8Array(1)] })
      assert.throws(
        () => decodeLimited('Test', CapabilityAdvert.codec(), bytes, 1024, { limits: { models: 1 } } as any),
        (err: any) => err.name === 'MessageTooLargeError' && err.message.startsWith('Test: ') && err.cause?.name === 'MaxLengthError'
      )
    })
  })
})
