import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeTensorMap } from '@shardmesh/protocol'
import { ElemType, GraphBuilder } from '../src/embed/onnx-graph.js'
import { createKernel } from '../src/onnx/kernel.js'
import { compareTensorMaps, onnx, tensorMapCodec, tensorValues, MAX_TENSOR_ELEMENTS } from '../src/onnx/index.js'
import { WorkloadRunner } from '../src/runner.js'
import type { NamedTensor } from '../src/onnx/index.js'
import type { Kernel, ModelFile } from '../src/workload.js'

/** Y = X * 2 + 1 over float32 [n, 3]. */
function tinyModel (): Uint8Array {
  const g = new GraphBuilder('affine')
  const x = g.input('X', ElemType.FLOAT, ['n', 3])
  const doubled = g.node('Mul', [x, g.scalar(2)])
  g.node('Add', [doubled, g.scalar(1)], {}, 'Y')
  g.output('Y', ElemType.FLOAT, ['n', 3])
  return g.encode({ producerName: 'shardmesh-test', producerVersion: '1', docString: '', opset: 13, irVersion: 8, metadata: {} })
}

function f32 (name: string, dims: number[], values: number[]): NamedTensor {
  return { name, dtype: 'float32', dims, data: new Uint8Array(Float32Array.from(values).buffer) }
}

function isInvalidInput (pattern?: RegExp): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'InvalidInputError', `expected InvalidInputError, got ${err?.name}: ${err?.message}`)
    assert.equal(err.code, 'ERR_INVALID_INPUT')
    if (pattern != null) {
      assert.match(err.message, pattern)
    }
    return true
  }
}

describe('onnx', function () {
  this.timeout(20_000)

  describe('tensor codec', () => {
    it('round trips every dtype, shape and value', () => {
      const tensors: NamedTensor[] = [
        f32('a', [2, 2], [1.5, -2, 0, 3e38]),
        { name: 'b', dtype: 'float64', dims: [1], data: new Uint8Array(Float64Array.of(Math.PI).buffer) },
        { name: 'c', dtype: 'int32', dims: [3], data: new Uint8Array(Int32Array.of(-1, 0, 2 ** 31 - 1).buffer) },
        { name: 'd', dtype: 'int64', dims: [1, 1], data: new Uint8Array(BigInt64Array.of(-(2n ** 63n)).buffer) },
        { name: 'e', dtype: 'uint8', dims: [0], data: new Uint8Array(0) },
        { name: 'f', dtype: 'int8', dims: [], data: new Uint8Array(Int8Array.of(-128).buffer) },
        { name: 'g', dtype: 'bool', dims: [2], data: Uint8Array.of(1, 0) }
      ]
      const decoded = tensorMapCodec.decode(tensorMapCodec.encode(tensors))
      assert.equal(decoded.length, tensors.length)
      decoded.forEach((t, i) => {
        assert.equal(t.name, tensors[i].name)
        assert.equal(t.dtype, tensors[i].dtype)
        assert.deepEqual(t.dims, tensors[i].dims)
        assert.deepEqual(Buffer.from(t.data), Buffer.from(tensors[i].data))
      })
      assert.equal((tensorValues(decoded[3]) as BigInt64Array)[0], -(2n ** 63n))
      assert.equal((tensorValues(decoded[5]) as Int8Array)[0], -128)
    })

    it('encode rejects a data size that does not match, too many dims, a bad dtype, a bad name or dimension', () => {
      const good = f32('x', [1, 3], [1, 2, 3])
      assert.throws(() => tensorMapCodec.encode([{ ...good, data: good.data.subarray(1) }]), isInvalidInput(/11 bytes of data for 3 float32 elements/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, dims: [1, 1, 1, 1, 1, 1, 1, 1, 3] }]), isInvalidInput(/9 dimensions is over the 8 limit/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, dtype: 'float16' as any }]), isInvalidInput(/unsupported dtype "float16"/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, name: '' }]), isInvalidInput(/name/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, dims: [-1, -3] }]), isInvalidInput(/bad dimension -1/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, dims: [1.5, 2] }]), isInvalidInput(/bad dimension 1.5/))
      assert.throws(() => tensorMapCodec.encode([{ ...good, dims: [MAX_TENSOR_ELEMENTS, 2], data: new Uint8Array(0) }]), isInvalidInput(/over the/))
    })

    it('decode rejects what a peer could send past the encoder, always as InvalidInputError', () => {
      const raw = (tensors: Array<{ name: string, dtype: string, dims: bigint[], data: Uint8Array }>): Uint8Array => encodeTensorMap({ tensors })
      const data = new Uint8Array(12)
      assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype: 'float32', dims: [4n], data }])), isInvalidInput(/12 bytes of data for 4 float32/))
      assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype: 'complex64', dims: [3n], data }])), isInvalidInput(/unsupported dtype/))
      for (const dtype of ['toString', '__proto__', 'constructor', '']) {
        assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype, dims: [0n], data: new Uint8Array(0) }])), isInvalidInput(/unsupported dtype/), dtype)
      }
      assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype: 'uint8', dims: [2n ** 60n], data }])), isInvalidInput(/bad dimension/))
      assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype: 'uint8', dims: Array(9).fill(1n), data: new Uint8Array(1) }])), isInvalidInput(/too many elements|over/))
      assert.throws(() => tensorMapCodec.decode(raw([{ name: 'x', dtype: 'float32', dims: [3n], data }, { name: 'x', dtype: 'float32', dims: [3n], data }])), isInvalidInput(/appears twice/))
      assert.throws(() => tensorMapCodec.decode(Uint8Array.of(0x0a, 0xff)), isInvalidInput(/onnx item/))
    })

    it('reads the values of data that is a view at any offset into a larger buffer (Node\'s Buffer pool, a received frame)', () => {
      const values = [1.5, -2, 3e38]
      for (const offset of [1, 2, 3, 4, 8]) {
        // a small Buffer lives in Node's shared 8 KiB pool; one made over its own ArrayBuffer does not
        const pooled = Buffer.allocUnsafe(offset + 12)
        const own = Buffer.from(new ArrayBuffer(offset + 12), 0, offset + 12)
        for (const backing of [pooled, own]) {
          Buffer.from(Float32Array.from(values).buffer).copy(backing, offset)
          const t: NamedTensor = { name: 'x', dtype: 'float32', dims: [3], data: backing.subarray(offset) }
          assert.deepEqual([...tensorValues(t) as Float32Array], values.map(Math.fround), `offset ${offset}`)
          assert.equal(compareTensorMaps([t], [f32('x', [3], values)]), true)
        }
      }
      const int64 = Buffer.allocUnsafe(3 + 16)
      Buffer.from(BigInt64Array.of(-5n, 2n ** 40n).buffer).copy(int64, 3)
      assert.deepEqual([...tensorValues({ name: 'i', dtype: 'int64', dims: [2], data: int64.subarray(3) }) as BigInt64Array], [-5n, 2n ** 40n])
      assert.throws(() => tensorValues({ name: 'x', dtype: 'float32', dims: [1], data: new Uint8Array(5) }), isInvalidInput(/not a whole number/))
    })

    it('decodes tensors from a pooled Buffer, as a daemon receives items, and compares them', () => {
      const tensors = [f32('a', [2], [0.25, -7]), { name: 'b', dtype: 'float64' as const, dims: [1], data: new Uint8Array(Float64Array.of(Math.E).buffer) }]
      for (let pad = 0; pad < 8; pad++) {
        // Buffer.from(base64) and Buffer.concat take small buffers from the shared pool
        const wire = Buffer.concat([Buffer.alloc(pad), Buffer.from(tensorMapCodec.encode(tensors))]).subarray(pad)
        const decoded = tensorMapCodec.decode(wire)
        assert.deepEqual([...tensorValues(decoded[0]) as Float32Array], [0.25, -7])
        assert.deepEqual([...tensorValues(decoded[1]) as Float64Array], [Math.E])
        assert.equal(compareTensorMaps(decoded, tensors), true)
        assert.equal(compareTensorMaps(decoded, tensorMapCodec.decode(Buffer.from(wire))), true)
      }
    })

    it('compares floats within the stated tolerance and everything else exactly', () => {
      const a = [f32('y', [2], [1, 1000])]
      assert.equal(compareTensorMaps(a, [f32('y', [2], [1.00005, 1000.05])]), true)
      assert.equal(compareTensorMaps(a, [f32('y', [2], [1.001, 1000])]), false)
      assert.equal(compareTensorMaps(a, [f32('y', [1, 2], [1, 1000])]), false)
      assert.equal(compareTensorMaps(a, [f32('z', [2], [1, 1000])]), false)
      assert.equal(compareTensorMaps(a, []), false)
      assert.equal(compareTensorMaps([f32('y', [1], [Number.NaN])], [f32('y', [1], [Number.NaN])]), true)
      assert.equal(compareTensorMaps([f32('y', [1], [Number.NaN])], [f32('y', [1], [0])]), false)
      const int = (v: number): NamedTensor[] => [{ name: 'i', dtype: 'int32', dims: [1], data: new Uint8Array(Int32Array.of(v).buffer) }]
      assert.equal(compareTensorMaps(int(5), int(5)), true)
      assert.equal(compareTensorMaps(int(5), int(6)), false)
    })
  })

  describe('kernel', () => {
    let dir: string
    let model: ModelFile
    let kernel: Kernel

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shardmesh-onnx-'))
      const bytes = tinyModel()
      const digest = createHash('sha256').update(bytes).digest('hex')
      model = { digest, path: join(dir, `${digest}.onnx`) }
      await writeFile(model.path, bytes)
      kernel = await createKernel({ workload: 'onnx', version: '1.0.0', params: {}, cacheDir: dir })
    })

    after(async () => {
      await kernel?.close?.()
      await rm(dir, { recursive: true, force: true })
    })

    function input (rows: number[][]): Uint8Array {
      return tensorMapCodec.encode([f32('X', [rows.length, 3], rows.flat())])
    }

    it('runs the model on each item: Y = 2X + 1, one output per item, in order', async () => {
      const rows = [[[0, 1, 2]], [[-1.5, 0.25, 1e6], [3, 4, 5]], [[7, 8, 9]]]
      const done: number[] = []
      const outputs = await kernel.run(rows.map(input), { model, onProgress: (n) => done.push(n) })
      assert.equal(outputs.length, 3)
      assert.deepEqual(done, [1, 2, 3])
      outputs.forEach((bytes, i) => {
        const [y] = tensorMapCodec.decode(bytes)
        assert.equal(y.name, 'Y')
        assert.equal(y.dtype, 'float32')
        assert.deepEqual(y.dims, [rows[i].length, 3])
        assert.deepEqual([...tensorValues(y) as Float32Array], rows[i].flat().map(x => Math.fround(Math.fround(x * 2) + 1)))
      })
    })

    it('gives the same bytes in the worker pool', async () => {
      const runner = new WorkloadRunner({ cacheDir: dir, size: 1 })
      try {
        const items = [input([[1, 2, 3]]), input([[4, 5, 6], [7, 8, 9]])]
        const { outputs } = await runner.run(onnx(), items, { model })
        assert.deepEqual(outputs.map(o => Buffer.from(o)), (await kernel.run(items, { model })).map(o => Buffer.from(o)))
      } finally {
        await runner.close()
      }
    })

    it('runs items whose tensors sit at any offset of the item bytes', async () => {
      for (let pad = 0; pad < 8; pad++) {
        const wire = Buffer.concat([Buffer.alloc(pad), Buffer.from(input([[1, 2, 3]]))]).subarray(pad)
        const [output] = await kernel.run([wire], { model })
        assert.deepEqual([...tensorValues(tensorMapCodec.decode(output)[0]) as Float32Array], [3, 5, 7], `pad ${pad}`)
      }
    })

    it('rejects a shard without a model, an unknown input, a wrong dtype or shape as InvalidInputError', async () => {
      await assert.rejects(kernel.run([input([[1, 2, 3]])], {}), isInvalidInput(/needs a model/))
      await assert.rejects(kernel.run([tensorMapCodec.encode([f32('Z', [1, 3], [1, 2, 3])])], { model }), isInvalidInput(/no input "Z" \(inputs: X\)/))
      const asInt = tensorMapCodec.encode([{ name: 'X', dtype: 'int32', dims: [1, 3], data: new Uint8Array(12) }])
      await assert.rejects(kernel.run([asInt], { model }), isInvalidInput(/rejected the input/))
      await assert.rejects(kernel.run([tensorMapCodec.encode([f32('X', [1, 4], [1, 2, 3, 4])])], { model }), isInvalidInput(/rejected the input/))
      await assert.rejects(kernel.run([Uint8Array.of(0xff)], { model }), isInvalidInput())
    })

    it('rejects a file that is not a model, and still runs the good one afterwards', async () => {
      const junk = { digest: 'f'.repeat(64), path: join(dir, 'junk.onnx') }
      await writeFile(junk.path, 'not an onnx model')
      await assert.rejects(kernel.run([input([[1, 2, 3]])], { model: junk }), isInvalidInput(/does not load/))
      assert.equal((await kernel.run([input([[1, 2, 3]])], { model })).length, 1)
    })

    it('stops between items when the shard is cancelled', async () => {
      const controller = new AbortController()
      await assert.rejects(kernel.run([input([[1, 2, 3]]), input([[1, 2, 3]])], {
        model,
        signal: controller.signal,
        onProgress: () => { controller.abort() }
      }), (err: any) => err.name === 'AbortError')
    })
  })

  it('describes a pool workload that needs a model', () => {
    const w = onnx()
    assert.equal(w.id, 'onnx')
    assert.equal(w.executor, 'pool')
    assert.equal(w.needsModel, true)
    assert.equal(w.input, tensorMapCodec)
  })
})
