import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NpyFormatError, decodeNpy, encodeNpy, readNpyFile } from '../src/job/npy.js'
import { itemsOfArrays, readNamedArrays, writeTensorOutputs } from '../src/job/tensors.js'

/** Files written by NumPy 2.4 (np.save; the last with format version 2.0). */
const NUMPY = {
  float32x2x3: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8=',
  int64x3: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AAAAAAABAAA=',
  int32x2x2x1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAgAAAAMAAAD8////',
  float32scalar: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAPBA',
  float32v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEA='
}

const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'))

describe('npy', () => {
  it('reads what NumPy writes: float32, int64, int32, a scalar, format 2.0', () => {
    const f = decodeNpy(bytes(NUMPY.float32x2x3))
    assert.equal(f.dtype, 'float32')
    assert.deepEqual(f.shape, [2, 3])
    assert.deepEqual([...new Float32Array(new Uint8Array(f.data).buffer)], [0, 0.25, 0.5, 0.75, 1, 1.25])
    const l = decodeNpy(bytes(NUMPY.int64x3))
    assert.deepEqual([l.dtype, l.shape], ['int64', [3]])
    assert.deepEqual([...new BigInt64Array(new Uint8Array(l.data).buffer)], [1n, -2n, 2n ** 40n])
    const i = decodeNpy(bytes(NUMPY.int32x2x2x1))
    assert.deepEqual([i.dtype, i.shape], ['int32', [2, 2, 1]])
    assert.deepEqual([...new Int32Array(new Uint8Array(i.data).buffer)], [1, 2, 3, -4])
    const s = decodeNpy(bytes(NUMPY.float32scalar))
    assert.deepEqual([s.shape, [...new Float32Array(new Uint8Array(s.data).buffer)]], [[], [7.5]])
    assert.deepEqual(decodeNpy(bytes(NUMPY.float32v2)).shape, [3])
  })

  it('writes byte for byte what NumPy writes (format 1.0)', () => {
    for (const name of ['float32x2x3', 'int64x3', 'int32x2x2x1', 'float32scalar'] as const) {
      assert.deepEqual(Buffer.from(encodeNpy(decodeNpy(bytes(NUMPY[name])))).toString('base64'), NUMPY[name], name)
    }
  })

  it('refuses what it does not take, naming why (never a crash)', () => {
    const good = bytes(NUMPY.float32x2x3)
    const header = (text: string): Uint8Array => {
      const h = new TextEncoder().encode(text)
      const out = new Uint8Array(10 + h.length + 24)
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
      new DataView(out.buffer).setUint16(8, h.length, true)
      out.set(h, 10)
      return out
    }
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(3), /not an \.npy file/],
      [good.subarray(0, good.length - 1), /bytes of data/],
      [header("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"), /unsupported dtype >f4/],
      [header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), /Fortran order/],
      [header("{'descr': '<U8', 'fortran_order': False, 'shape': (3,), }"), /unsupported dtype/],
      [header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }"), /bad shape/],
      [header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), /bytes of data/],
      [header('not a dict'), /not a dictionary/],
      [header("{'descr': '<f4'}"), /lacks/]
    ]
    for (const [input, message] of cases) {
      assert.throws(() => decodeNpy(input), (err: any) => err instanceof NpyFormatError && err.code === 'ERR_NPY_FORMAT' && message.test(err.message))
    }
    assert.throws(() => decodeNpy(good, 100), /over the 100 byte limit/)
  })

  describe('named arrays of job run --workload onnx', () => {
    let dir: string
    before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-npy-')) })
    after(async () => { await rm(dir, { recursive: true, force: true }) })

    it('X.npy is the input X; each row an item with a batch dimension of 1', async () => {
      await writeFile(join(dir, 'X.npy'), bytes(NUMPY.float32x2x3))
      await readNpyFile(join(dir, 'X.npy'))
      const items = itemsOfArrays(await readNamedArrays(join(dir, 'X.npy')))
      assert.deepEqual(items.map(i => i.map(t => [t.name, t.dtype, t.dims, [...new Float32Array(new Uint8Array(t.data).buffer)]])), [
        [['X', 'float32', [1, 3], [0, 0.25, 0.5]]],
        [['X', 'float32', [1, 3], [0.75, 1, 1.25]]]
      ])
      await assert.rejects(readNpyFile(join(dir, 'X.npy'), 50), /X\.npy: \d+ bytes is over the 50 byte limit/)
    })

    it('a JSON file of named nested arrays, with a dtype when not float32; bad ones named', async () => {
      await writeFile(join(dir, 'in.json'), JSON.stringify({ ids: { dtype: 'int64', data: [[1, 2], [3, 4], [5, 6]] }, mask: [[1, 0], [1, 1], [0, 0]] }))
      const items = itemsOfArrays(await readNamedArrays(join(dir, 'in.json')))
      assert.equal(items.length, 3)
      assert.deepEqual(items[2].map(t => [t.name, t.dtype, t.dims]), [['ids', 'int64', [1, 2]], ['mask', 'float32', [1, 2]]])
      assert.deepEqual([...new BigInt64Array(new Uint8Array(items[2][0].data).buffer)], [5n, 6n])
      for (const [body, message] of [
        [{ X: [[1, 2], [3]] }, /X: the nested arrays are not rectangular/],
        [{ X: [['a']] }, /X: expected a number/],
        [{ X: { dtype: 'int32', data: [1.5] } }, /not a whole number/],
        [{ X: { dtype: 'complex', data: [1] } }, /dtype must be one of/],
        [{ X: [1, 2], Y: [1, 2, 3] }, /Y has 3 rows, the other inputs 2/],
        [[1, 2], /expected an object of named arrays/],
        [{ X: 5 }, /X: expected a nested array/],
        [{ X: [] }, /no rows/]
      ] as const) {
        await writeFile(join(dir, 'bad.json'), JSON.stringify(body))
        await assert.rejects(readNamedArrays(join(dir, 'bad.json')), (err: any) => err instanceof NpyFormatError && message.test(err.message))
      }
    })

    it('outputs stack into NAME.npy (per item when shapes differ); unsafe names become output-K', async () => {
      const t = (name: string, dims: number[], values: number[]): any => ({ name, dtype: 'float32', dims, data: new Uint8Array(Float32Array.from(values).buffer) })
      const out = join(dir, 'out')
      const files = await writeTensorOutputs(out, [[t('Y', [1, 2], [1, 2]), t('../z', [2], [0, 1])], [t('Y', [1, 2], [3, 4]), t('../z', [1], [5])]], 'onnx@1.0.0')
      assert.deepEqual(files.map(f => [f.name, f.file, f.shape]), [['Y', 'Y.npy', [2, 2]], ['../z', 'output-1.0.npy', [2]], ['../z', 'output-1.1.npy', [1]]])
      const y = await readNpyFile(join(out, 'Y.npy'))
      assert.deepEqual([...new Float32Array(new Uint8Array(y.data).buffer)], [1, 2, 3, 4])
    })
  })
})
