import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  EMBED_DIMENSIONS, EMBED_MAX_TOKENS, EMBED_SEED, EMBED_VOCAB_SIZE, WordPieceTokenizer, buildEmbedModel, compareEmbeddings,
  embed, embedModelPath, embedTextCodec, embedTokenizer, embedVectorCodec, embedVocab, ensureEmbedModel
} from '../src/embed/index.js'
import { createKernel } from '../src/embed/kernel.js'
import { WorkloadRunner } from '../src/runner.js'
import type { Kernel } from '../src/workload.js'

function isInvalidInput (err: unknown): boolean {
  return (err as Error).name === 'InvalidInputError'
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function norm (v: Float32Array): number {
  let sum = 0
  for (const x of v) sum += x * x
  return Math.sqrt(sum)
}

describe('embed', () => {
  describe('vocabulary and tokenizer', () => {
    const tokenizer = embedTokenizer()

    it('has the documented special tokens and size, without duplicates', () => {
      const vocab = embedVocab()
      assert.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'])
      assert.equal(vocab.length, EMBED_VOCAB_SIZE)
      assert.equal(new Set(vocab).size, vocab.length)
      for (const char of 'az09.,!?') {
        assert.ok(vocab.includes(char) && vocab.includes(`##${char}`), char)
      }
    })

    it('lowercases, strips accents and splits on whitespace and punctuation', () => {
      assert.deepEqual(tokenizer.basicTokenize('Hello,  World!\tÇa va?'), ['hello', ',', 'world', '!', 'ca', 'va', '?'])
      assert.deepEqual(tokenizer.basicTokenize("don't stop-now...(42)"), ['don', "'", 't', 'stop', '-', 'now', '.', '.', '.', '(', '42', ')'])
      assert.deepEqual(tokenizer.basicTokenize('中文x'), ['中', '文', 'x'])
      assert.deepEqual(tokenizer.basicTokenize('a\u0000b\u200bc \n '), ['abc'])
    })

    it('splits words greedily, longest match first, into ## pieces', () => {
      assert.deepEqual(tokenizer.tokenize('jumping computers quickly'), ['jump', '##ing', 'computer', '##s', 'quickly'])
      assert.deepEqual(tokenizer.tokenize('xyz'), ['x', '##yz'])
      assert.deepEqual(tokenizer.tokenize('Peer-to-peer'), ['peer', '-', 'to', '-', 'peer'])
      const small = new WordPieceTokenizer(['[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', '##a'])
      assert.deepEqual(small.tokenize('unaffable'), ['un', '##aff', '##able'])
      assert.deepEqual(small.tokenize('unaffablex'), ['[UNK]'])
    })

    it('maps unknown characters and words over 100 characters to [UNK]', () => {
      assert.deepEqual(tokenizer.tokenize('€ ß 中'), ['[UNK]', '[UNK]', '[UNK]'])
      assert.deepEqual(tokenizer.tokenize('a'.repeat(101)), ['[UNK]'])
      assert.equal(tokenizer.tokenize('a'.repeat(100)).length, 51)
      assert.deepEqual(tokenizer.encode('€').ids, [2, 1, 3])
    })

    it('wraps in [CLS] … [SEP] and truncates to 128 tokens', () => {
      assert.deepEqual(tokenizer.encode(''), { tokens: ['[CLS]', '[SEP]'], ids: [2, 3], truncated: false })
      const exact = tokenizer.encode('word '.repeat(EMBED_MAX_TOKENS - 2))
      assert.equal(exact.ids.length, EMBED_MAX_TOKENS)
      assert.equal(exact.truncated, false)
      const long = tokenizer.encode('the river '.repeat(500))
      assert.equal(long.ids.length, EMBED_MAX_TOKENS)
      assert.equal(long.truncated, true)
      assert.equal(long.tokens[0], '[CLS]')
      assert.equal(long.tokens[EMBED_MAX_TOKENS - 1], '[SEP]')
      assert.equal(long.tokens[EMBED_MAX_TOKENS - 2], 'river')
      assert.equal(tokenizer.encode('the river flows', 4).tokens.join(' '), '[CLS] the river [SEP]')
    })
  })

  describe('codecs', () => {
    it('round trips UTF-8 text and rejects bad UTF-8 and over 16 KiB', () => {
      for (const text of ['', 'héllo wörld 中文 🙂']) {
        assert.equal(embedTextCodec.decode(embedTextCodec.encode(text)), text)
      }
      assert.throws(() => embedTextCodec.decode(Uint8Array.of(0x68, 0xC3, 0x28)), isInvalidInput)
      assert.throws(() => embedTextCodec.decode(Uint8Array.of(0xFF)), isInvalidInput)
      assert.equal(embedTextCodec.decode(new Uint8Array(16 * 1024).fill(0x61)).length, 16 * 1024)
      assert.throws(() => embedTextCodec.decode(new Uint8Array(16 * 1024 + 1).fill(0x61)), isInvalidInput)
      assert.throws(() => embedTextCodec.encode('é'.repeat(8 * 1024 + 1)), isInvalidInput)
    })

    it('round trips vectors as 1536 bytes and rejects other sizes', () => {
      const v = Float32Array.from({ length: EMBED_DIMENSIONS }, (_, i) => Math.fround(Math.sin(i)))
      const bytes = embedVectorCodec.encode(v)
      assert.equal(bytes.byteLength, 1536)
      assert.equal(new DataView(bytes.buffer).getFloat32(4, true), v[1])
      assert.deepEqual(embedVectorCodec.decode(bytes), v)
      assert.throws(() => embedVectorCodec.decode(bytes.subarray(1)), isInvalidInput)
      assert.throws(() => embedVectorCodec.decode(new Uint8Array(1540)), isInvalidInput)
      assert.throws(() => embedVectorCodec.encode(new Float32Array(383)), isInvalidInput)
    })

    it('compares within 1e-5 element-wise', () => {
      const a = new Float32Array(EMBED_DIMENSIONS).fill(0.25)
      const b = a.slice()
      b[7] += 0.000009
      assert.equal(compareEmbeddings(a, b), true)
      b[7] += 0.00001
      assert.equal(compareEmbeddings(a, b), false)
      b[7] = Number.NaN
      assert.equal(compareEmbeddings(a, b), false)
      assert.equal(compareEmbeddings(a, a.subarray(1)), false)
    })
  })

  describe('model and kernel', function () {
    this.timeout(20_000)
    let cacheDir: string
    let kernel: Kernel
    const texts = ['The quick brown fox jumps over the lazy dog.', 'Payment is released once the results are checked.', 'hello world']

    async function run (items: string[]): Promise<Float32Array[]> {
      const outputs = await kernel.run(items.map(t => embedTextCodec.encode(t)), {})
      return outputs.map(o => embedVectorCodec.decode(o))
    }

    before(async () => {
      cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-embed-'))
    })

    after(async () => {
      await kernel?.close?.()
      await rm(cacheDir, { recursive: true, force: true })
    })

    it('generates the model deterministically into the cache and reuses it', async () => {
      const first = await ensureEmbedModel(cacheDir)
      assert.equal(first.path, embedModelPath(cacheDir, { seed: EMBED_SEED }))
      assert.match(first.digest, /^[0-9a-f]{64}$/)
      const { mtimeMs } = await stat(first.path)
      const again = await ensureEmbedModel(cacheDir)
      assert.deepEqual(again, first)
      assert.equal((await stat(first.path)).mtimeMs, mtimeMs)
      assert.equal(sha256(buildEmbedModel({ seed: EMBED_SEED })), first.digest)
      assert.deepEqual(await embed().models?.(cacheDir), [first.digest])
    })

    it('survives two writers racing, and another seed gives another model', async () => {
      const dir = join(cacheDir, 'race')
      const [a, b] = await Promise.all([ensureEmbedModel(dir, { seed: 7 }), ensureEmbedModel(dir, { seed: 7 })])
      assert.deepEqual(a, b)
      assert.notEqual(a.digest, (await ensureEmbedModel(cacheDir)).digest)
      assert.deepEqual(await readdir(join(dir, 'models')), ['embed-minilm-l6-r1-seed7.onnx'])
    })

    it('runs in onnxruntime: unit vectors of 384 floats', async () => {
      kernel = await createKernel({ workload: 'embed', version: '1.0.0', params: { seed: EMBED_SEED }, cacheDir })
      const vectors = await run(texts)
      assert.equal(vectors.length, texts.length)
      for (const v of vectors) {
        assert.equal(v.length, EMBED_DIMENSIONS)
        assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`)
      }
    })

    it('gives the same bits for a text alone and inside a shard', async () => {
      const [alone] = await run([texts[1]])
      const shard = await run([texts[0], 'a much longer sentence '.repeat(20), texts[1], ''])
      assert.deepEqual(embedVectorCodec.encode(shard[2]), embedVectorCodec.encode(alone))
    })

    it('gives different vectors for different texts', async () => {
      const [a, b, c] = await run(texts)
      assert.equal(compareEmbeddings(a, b), false)
      assert.equal(compareEmbeddings(a, c), false)
      assert.equal(compareEmbeddings(b, c), false)
    })

    it('ignores what is truncated away', async () => {
      const long = 'the river flows south through the valley '.repeat(30)
      const [a, b] = await run([long, `${long} and something else entirely`])
      assert.deepEqual(a, b)
    })

    it('rejects bad UTF-8 with InvalidInputError, and stops when aborted', async () => {
      await assert.rejects(kernel.run([embedTextCodec.encode('ok'), Uint8Array.of(0xC0, 0xAF)], {}), isInvalidInput)
      const controller = new AbortController()
      const done: number[] = []
      await assert.rejects(kernel.run(texts.map(t => embedTextCodec.encode(t)), {
        signal: controller.signal,
        onProgress: (n) => { done.push(n); controller.abort() }
      }), (err: Error) => err.name === 'AbortError')
      assert.deepEqual(done, [1])
    })

    it('runs in the worker pool with the same result', async () => {
      const workload = embed()
      assert.equal(workload.executor, 'pool')
      await stat(fileURLToPath(workload.kernel.module))
      const items = await workload.calibration()
      assert.ok(items.length > 0)
      const runner = new WorkloadRunner({ cacheDir, size: 1 })
      try {
        const { outputs } = await runner.run(workload, items.map(t => workload.input.encode(t)))
        const local = await kernel.run(items.map(t => workload.input.encode(t)), {})
        assert.deepEqual(outputs, local)
      } finally {
        await runner.close()
      }
    })
  })
})
