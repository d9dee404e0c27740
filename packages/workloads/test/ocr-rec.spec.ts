import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { charAccuracy, editDistance, generateOcrLines, ocrImageCodec, ocrLineCodec, ocrRec } from '../src/ocr-rec/index.js'
import { createKernel } from '../src/ocr-rec/kernel.js'
import { defaultModelPaths } from '../src/ocr-rec/model-files.js'
import { checkLineSize, lineWidth } from '../src/ocr-rec/preprocess.js'
import type { GeneratedOcrLines, OcrLine } from '../src/ocr-rec/index.js'
import type { Kernel } from '../src/workload.js'

const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function isInvalidInput (err: unknown): boolean {
  return (err as Error).name === 'InvalidInputError'
}

async function blank (width: number, height: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width, height, channels: 3, background: '#ffffff' } }).png().toBuffer())
}

/** Dark text on white, rendered with sharp, with a small margin. */
async function textImage (text: string, size: number): Promise<Uint8Array> {
  const glyphs = await sharp({ text: { text, font: `DejaVu Sans ${size}px`, dpi: 72, rgba: true } }).png().toBuffer()
  return new Uint8Array(await sharp(glyphs).extend({ top: 4, bottom: 4, left: 4, right: 4, background: '#ffffff' }).flatten({ background: '#ffffff' }).png().toBuffer())
}

describe('ocr-rec', () => {
  describe('input codec', () => {
    it('passes PNG, JPEG and WebP files through unchanged', async () => {
      const png = new Uint8Array(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer())
      const jpeg = new Uint8Array(await sharp(png).jpeg().toBuffer())
      const webp = new Uint8Array(await sharp(png).webp().toBuffer())
      for (const bytes of [png, jpeg, webp]) {
        assert.equal(ocrImageCodec.decode(bytes), bytes)
        assert.equal(ocrImageCodec.encode(bytes), bytes)
      }
    })

    it('rejects empty, oversized and unknown bytes with InvalidInputError', () => {
      const oversized = new Uint8Array(4 * 1024 * 1024 + 1)
      oversized.set(PNG_HEAD)
      const cases = [
        new Uint8Array(0),
        oversized,
        new TextEncoder().encode('not an image at all'),
        PNG_HEAD.subarray(0, 7),
        new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt ')
      ]
      for (const bytes of cases) {
        assert.throws(() => ocrImageCodec.decode(bytes), isInvalidInput)
        assert.throws(() => ocrImageCodec.encode(bytes), isInvalidInput)
      }
    })
  })

  describe('output codec', () => {
    it('round trips lines exactly', () => {
      for (const line of [{ text: '', confidence: 0 }, { text: 'Hello, 世界 2024-01-02.', confidence: 0.987654321 }, { text: 'x'.repeat(4096), confidence: 1 }]) {
        assert.deepEqual(ocrLineCodec.decode(ocrLineCodec.encode(line)), line)
      }
    })

    it('rejects malformed encodings with InvalidInputError', () => {
      const good = ocrLineCodec.encode({ text: 'ok', confidence: 0.5 })
      const withConfidence = (value: number): Uint8Array => {
        const bytes = good.slice()
        new DataView(bytes.buffer).setFloat64(0, value, true)
        return bytes
      }
      const tooLong = new Uint8Array(8 + 4097)
      tooLong.fill(0x61, 8)
      const cases = [
        good.subarray(0, 7),
        withConfidence(Number.NaN),
        withConfidence(Infinity),
        withConfidence(-0.5),
        withConfidence(1.5),
        Uint8Array.from([...good.subarray(0, 8), 0xff, 0xfe]),
        tooLong,
        new Uint8Array(8 + 4096 * 3 + 1)
      ]
      for (const bytes of cases) {
        assert.throws(() => ocrLineCodec.decode(bytes), isInvalidInput)
      }
    })

    it('refuses to encode invalid lines', () => {
      const cases = [
        { text: 'a', confidence: 2 },
        { text: 'a'.repeat(4097), confidence: 0.5 },
        { text: 3, confidence: 0.5 } as unknown as OcrLine
      ]
      for (const line of cases) {
        assert.throws(() => ocrLineCodec.encode(line), isInvalidInput)
      }
    })
  })

  describe('charAccuracy', () => {
    it('counts edits against truth characters', () => {
      assert.equal(editDistance('kitten', 'sitting'), 3)
      assert.equal(editDistance('', 'abc'), 3)
      assert.equal(charAccuracy(['abcd'], ['abcd']), 1)
      assert.equal(charAccuracy(['abcd', 'efgh'], ['abxd', 'efgh']), 1 - 1 / 8)
      assert.equal(charAccuracy(['ab cd'], ['abcd']), 1 - 1 / 5)
      assert.equal(charAccuracy(['ab cd'], [' abcd '], { ignoreSpaces: true }), 1)
      assert.equal(charAccuracy(['ab'], ['xyzuvw']), 0)
      assert.equal(charAccuracy([], []), 1)
      assert.equal(charAccuracy([''], ['a']), 0)
      assert.throws(() => charAccuracy(['a'], []), RangeError)
    })
  })

  describe('generateOcrLines', () => {
    it('is deterministic for a seed', async () => {
      const a = await generateOcrLines({ count: 4, seed: 99 })
      const b = await generateOcrLines({ count: 4, seed: 99 })
      const c = await generateOcrLines({ count: 4, seed: 100 })
      assert.deepEqual(a.truth, b.truth)
      assert.deepEqual(a.images, b.images)
      assert.notDeepEqual(a.truth, c.truth)
    })

    it('renders 48-pixel-high images the input codec accepts', async () => {
      const { images, truth } = await generateOcrLines({ count: 3, seed: 5, format: 'jpeg' })
      assert.equal(images.length, 3)
      for (let i = 0; i < images.length; i++) {
        ocrImageCodec.decode(images[i])
        const meta = await sharp(images[i]).metadata()
        assert.equal(meta.format, 'jpeg')
        assert.equal(meta.height, 48)
        assert.ok(truth[i].length > 0 && truth[i] === truth[i].trim())
      }
    })
  })

  describe('kernel', () => {
    let kernel: Kernel
    let lines: GeneratedOcrLines
    let outputs: Uint8Array[]

    before(async function () {
      this.timeout(60_000)
      kernel = await createKernel({ workload: 'ocr-rec', version: '1.0.0', params: {}, cacheDir: '/tmp' })
      lines = await generateOcrLines({ count: 40, seed: 2024 })
    })

    after(async () => {
      await kernel?.close?.()
    })

    it('recognises at least 95 % of the characters of generated lines', async function () {
      this.timeout(60_000)
      const done: number[] = []
      outputs = await kernel.run(lines.images, { onProgress: (n) => done.push(n) })
      assert.equal(outputs.length, lines.images.length)
      assert.deepEqual(done, lines.images.map((_, i) => i + 1))
      const decoded = outputs.map((bytes) => ocrLineCodec.decode(bytes))
      const accuracy = charAccuracy(lines.truth, decoded.map((line) => line.text), { ignoreSpaces: true })
      assert.ok(accuracy >= 0.95, `character accuracy ${accuracy}`)
      for (const line of decoded) {
        assert.ok(line.confidence > 0.5 && line.confidence <= 1, `confidence ${line.confidence}`)
      }
    })

    it('gives an item the same output alone as in a shard', async function () {
      this.timeout(30_000)
      assert.ok(outputs != null, 'needs the previous test')
      for (const i of [0, 17, 39]) {
        const [alone] = await kernel.run([lines.images[i]], {})
        assert.deepEqual(alone, outputs[i])
      }
      const shuffled = await kernel.run([lines.images[5], lines.images[1]], {})
      assert.deepEqual(shuffled, [outputs[5], outputs[1]])
    })

    it('reads a blank image as no text', async () => {
      const blank = new Uint8Array(await sharp({ create: { width: 200, height: 48, channels: 3, background: '#ffffff' } }).png().toBuffer())
      const [bytes] = await kernel.run([blank], {})
      assert.deepEqual(ocrLineCodec.decode(bytes), { text: '', confidence: 0 })
    })

    it('throws InvalidInputError on an undecodable image', async () => {
      const broken = new Uint8Array(64)
      broken.set(PNG_HEAD)
      await assert.rejects(kernel.run([lines.images[0], broken], {}), isInvalidInput)
      await assert.rejects(kernel.run([new TextEncoder().encode('hello')], {}), isInvalidInput)
    })

    it('stops with AbortError when the shard is cancelled', async () => {
      const controller = new AbortController()
      controller.abort()
      await assert.rejects(kernel.run(lines.images.slice(0, 2), { signal: controller.signal }), (err: Error) => err.name === 'AbortError')
    })

    it('refuses, item by item, images the model would read as nothing or garbage (a page, an over-long line)', async function () {
      this.timeout(30_000)
      const page = await textImage(Array.from({ length: 30 }, () => 'The quick brown fox jumps over the lazy dog').join('\n'), 16)
      const long = new Uint8Array(await sharp({ create: { width: 8000, height: 48, channels: 3, background: '#ffffff' } }).png().toBuffer())
      const cases: Array<[Uint8Array, RegExp]> = [
        [page, /at most 512 px high: the image is \d+×\d+ \(crop each line/],
        [long, /at most 1600 px wide at 48 px high: the image is 8000×48, 8000 px wide at the model's 48 px height \(split the line\)/],
        [await blank(300, 6), /at least 8 px high: the image is 300×6/],
        [await blank(20, 100), /at least 24 px wide at 48 px high: the image is 20×100, 10 px wide/]
      ]
      for (const [image, message] of cases) {
        // alone or among good lines, the shard fails on it with InvalidInputError (no retry can help)
        await assert.rejects(kernel.run([lines.images[0], image], {}), (err: Error) => isInvalidInput(err) && message.test(err.message))
        await assert.rejects(ocrRec().checkInput?.(image) ?? Promise.resolve(), (err: Error) => isInvalidInput(err) && message.test(err.message))
      }
    })

    it('reads a line by its displayed size: a rotated JPEG whose EXIF orientation makes it a line is read', async () => {
      const line = lines.images[3]
      // stored standing up (48 wide, several hundred high), displayed as the line
      const stored = new Uint8Array(await sharp(line).rotate(270).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer())
      const meta = await sharp(stored).metadata()
      assert.equal(meta.width, 48)
      await ocrRec().checkInput?.(stored)
      const [bytes] = await kernel.run([stored], {})
      assert.equal(ocrLineCodec.decode(bytes).text, lines.truth[3])
    })

    it('takes a custom maxWidth into account on both sides', async () => {
      const wide = await blank(700, 48)
      await ocrRec().checkInput?.(wide)
      await assert.rejects(ocrRec({ maxWidth: 600 }).checkInput?.(wide) ?? Promise.resolve(), /at most 600 px wide/)
    })
  })

  describe('line size', () => {
    it('accepts what the model reads: 8 to 512 px high, 24 to maxWidth px wide at 48 px high', () => {
      assert.equal(lineWidth(200, 48), 200)
      assert.equal(lineWidth(100, 96), 50)
      assert.equal(checkLineSize(200, 48), 200)
      assert.equal(checkLineSize(14, 20), 34)
      assert.equal(checkLineSize(1600, 48), 1600)
      assert.equal(checkLineSize(5174, 395), 629)
      assert.equal(checkLineSize(60, 8), 360)
      assert.throws(() => checkLineSize(1601, 48), isInvalidInput)
      assert.throws(() => checkLineSize(801, 48, 800), isInvalidInput)
      assert.throws(() => checkLineSize(10, 48), isInvalidInput)
      assert.throws(() => checkLineSize(356, 756), isInvalidInput)
      assert.throws(() => checkLineSize(1240, 1754), isInvalidInput)
      assert.throws(() => checkLineSize(100, 7), isInvalidInput)
    })
  })

  describe('workload', () => {
    it('describes a pool workload whose kernel module exists', async () => {
      const workload = ocrRec()
      assert.equal(workload.id, 'ocr-rec')
      assert.equal(workload.version, '1.0.0')
      assert.equal(workload.executor, 'pool')
      assert.deepEqual(workload.params, {})
      assert.ok((await stat(fileURLToPath(workload.kernel.module))).isFile())
      assert.deepEqual(ocrRec({ maxWidth: 800, modelPath: '/m.onnx' }).params, { maxWidth: 800, modelPath: '/m.onnx' })
      assert.throws(() => ocrRec({ maxWidth: 2 }), RangeError)
    })

    it('compares text exactly and confidence within 1e-4', () => {
      const { compare } = ocrRec()
      assert.ok(compare({ text: 'abc', confidence: 0.9 }, { text: 'abc', confidence: 0.90009 }))
      assert.ok(!compare({ text: 'abc', confidence: 0.9 }, { text: 'abc', confidence: 0.9002 }))
      assert.ok(!compare({ text: 'abc', confidence: 0.9 }, { text: 'abd', confidence: 0.9 }))
    })

    it('advertises the sha256 of the recognition model', async () => {
      const { modelPath } = await defaultModelPaths()
      const expected = createHash('sha256').update(await readFile(modelPath)).digest('hex')
      assert.deepEqual(await ocrRec().models?.('/tmp'), [expected])
    })

    it('calibrates with valid input items', async () => {
      const images = await ocrRec().calibration()
      assert.ok(images.length > 0)
      for (const image of images) {
        assert.equal(ocrImageCodec.decode(image), image)
      }
    })
  })
})
