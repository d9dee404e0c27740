import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { echo, sleep } from '../src/builtin/index.js'
import { embed, embedTokenizer } from '../src/embed/index.js'
import { generateOcrLines, ocrImageCodec, ocrRec } from '../src/ocr-rec/index.js'
import { lineImageSize } from '../src/ocr-rec/preprocess.js'
import { onnx } from '../src/onnx/index.js'
import { RandomSource } from '../src/random.js'
import { MAX_CALIBRATION_ITEMS, calibrationCount, repeatItems } from '../src/workload.js'

/** A deterministic stand-in for `randomBytes`: a counter, so a test can replay a draw. */
function counterSource (start = 0): (n: number) => Uint8Array {
  let next = start
  return (n) => Uint8Array.from({ length: n }, () => (next++ * 151 + 7) & 0xff)
}

function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

describe('calibration', () => {
  describe('helpers', () => {
    it('counts items: the fixed count, the asked count, and refuses nonsense', () => {
      assert.equal(calibrationCount(4), 4)
      assert.equal(calibrationCount(4, { items: 9 }), 9)
      for (const items of [0, -1, 1.5, Number.NaN, MAX_CALIBRATION_ITEMS + 1]) {
        assert.throws(() => calibrationCount(4, { items }), RangeError, String(items))
      }
    })

    it('repeats items in order', () => {
      assert.deepEqual(repeatItems(['a', 'b', 'c'], 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a'])
      assert.deepEqual(repeatItems(['a', 'b', 'c'], 2), ['a', 'b'])
      assert.deepEqual(repeatItems([], 3), [])
    })

    it('draws uniform integers from random bytes and refuses a short source', () => {
      const random = new RandomSource(randomBytes)
      const seen = new Set<number>()
      for (let i = 0; i < 400; i++) {
        const x = random.int(7)
        assert.ok(Number.isInteger(x) && x >= 0 && x < 7)
        seen.add(x)
      }
      assert.equal(seen.size, 7)
      assert.equal(random.bytes(5).byteLength, 5)
      assert.throws(() => new RandomSource(() => new Uint8Array(2)).int(3), RangeError)
      assert.throws(() => new RandomSource(() => new Uint8Array(2)).bytes(3), RangeError)
      assert.throws(() => random.int(0), RangeError)
    })
  })

  describe('echo and sleep', () => {
    for (const [name, workload, size] of [['echo', echo(), 32], ['sleep', sleep(), 8]] as const) {
      it(`${name}: fixed input unchanged, random input fresh and of the same shape`, async () => {
        assert.deepEqual(await workload.calibration(), [new Uint8Array(size)])
        assert.deepEqual(await workload.calibration({ items: 3 }), [new Uint8Array(size), new Uint8Array(size), new Uint8Array(size)])
        const a = await workload.calibration({ random: randomBytes, items: 8 })
        const b = await workload.calibration({ random: randomBytes, items: 8 })
        assert.equal(a.length, 8)
        assert.equal(b.length, 8)
        for (const item of [...a, ...b]) {
          assert.equal(item.byteLength, size)
          assert.equal(workload.input.decode(workload.input.encode(item)), item)
        }
        assert.notDeepEqual(a.map(hex), b.map(hex))
        assert.equal(new Set(a.map(hex)).size, 8, 'items of one draw differ too')
        // drawn from the source alone: the same bytes give the same input
        assert.deepEqual(await workload.calibration({ random: counterSource(), items: 2 }), await workload.calibration({ random: counterSource(), items: 2 }))
      })
    }
  })

  describe('embed', () => {
    const workload = embed()
    const tokens = (text: string): number => embedTokenizer().tokenize(text).length

    it('keeps its fixed sentences', async () => {
      const fixed = await workload.calibration()
      assert.equal(fixed.length, 16)
      assert.equal(fixed[0], 'The quick brown fox jumps over the lazy dog.')
      assert.deepEqual(await workload.calibration(), fixed)
      assert.deepEqual(await workload.calibration({ items: 18 }), [...fixed, fixed[0], fixed[1]])
    })

    it('draws random texts with the word-piece count of each fixed sentence', async () => {
      const fixed = await workload.calibration()
      const a = await workload.calibration({ random: randomBytes })
      const b = await workload.calibration({ random: randomBytes })
      assert.equal(a.length, fixed.length)
      assert.deepEqual(a.map(tokens), fixed.map(tokens))
      assert.deepEqual(b.map(tokens), fixed.map(tokens))
      assert.notDeepEqual(a, b)
      for (const text of a) {
        assert.ok(!embedTokenizer().tokenize(text).includes('[UNK]'), text)
        assert.equal(workload.input.decode(workload.input.encode(text)), text)
      }
      const more = await workload.calibration({ random: randomBytes, items: 20 })
      assert.deepEqual(more.map(tokens), [...fixed, ...fixed.slice(0, 4)].map(tokens))
    })
  })

  describe('ocr-rec', function () {
    this.timeout(60_000)
    const workload = ocrRec()

    it('keeps its fixed lines: the generator\'s seeded lines, the same every call', async () => {
      const fixed = await workload.calibration()
      const { images, truth } = await generateOcrLines({ count: 4, seed: 0x0c5 })
      assert.deepEqual(fixed.map(hex), images.map(hex))
      assert.deepEqual((await workload.calibration()).map(hex), images.map(hex))
      // the seeded drawing order is what it was: these are the texts of the calibration lines
      assert.deepEqual(truth, [
        'payment garden at winter',
        '947.90 simple delivery network to',
        '2005-10-03 from-quick, model number, window',
        'summer Letter 15.'
      ])
      assert.deepEqual((await workload.calibration({ items: 5 })).map(hex), [...images, images[0]].map(hex))
    })

    it('renders fresh random lines of exactly the fixed lines\' sizes', async () => {
      const fixed = await workload.calibration()
      const sizes = await Promise.all(fixed.map(async image => lineImageSize(image)))
      const a = await workload.calibration({ random: randomBytes, items: 6 })
      const b = await workload.calibration({ random: randomBytes, items: 6 })
      assert.equal(a.length, 6)
      assert.deepEqual(await Promise.all(a.map(async image => lineImageSize(image))), repeatItems(sizes, 6))
      assert.deepEqual(await Promise.all(b.map(async image => lineImageSize(image))), repeatItems(sizes, 6))
      assert.notDeepEqual(a.map(hex), b.map(hex))
      for (const image of a) {
        assert.equal(ocrImageCodec.decode(image), image)
        await workload.checkInput?.(image)
      }
    })

    it('fits random lines to given sizes and says what each shows', async () => {
      const sizes = [{ width: 90, height: 48 }, { width: 400, height: 48 }]
      const { images, truth } = await generateOcrLines({ count: 4, seed: 0, random: randomBytes, sizes })
      assert.deepEqual(await Promise.all(images.map(async image => lineImageSize(image))), repeatItems(sizes, 4))
      for (const text of truth) {
        assert.ok(text.length > 0)
      }
      await assert.rejects(generateOcrLines({ count: 1, seed: 0, sizes: [] }), RangeError)
    })
  })

  describe('onnx', () => {
    it('needs a model, so its calibration input is none', async () => {
      const workload = onnx()
      assert.equal(workload.needsModel, true)
      assert.deepEqual(await workload.calibration(), [])
      assert.deepEqual(await workload.calibration({ random: randomBytes }), [])
    })
  })
})
