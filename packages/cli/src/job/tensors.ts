import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { MAX_TENSOR_ELEMENTS } from '@shardmesh/workloads'
import { NpyFormatError, dtypeBytes, elementCount, encodeNpy, readNpyFile } from './npy.js'
import type { NpyArray } from './npy.js'
import type { NamedTensor, TensorDtype } from '@shardmesh/workloads'

/**
 * The files of `job run --workload onnx`: named input arrays (`.npy` files or one JSON file)
 * cut into items along their first axis, and the items' outputs stacked back into `.npy` files.
 */

/** The largest JSON input file read. */
export const MAX_JSON_INPUT_BYTES = 64 * 1024 * 1024

/** A tensor name usable as a file name (model names are usually so). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/

const JSON_DTYPES = new Set<TensorDtype>(['float32', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool'])

/** Named arrays, each with the same first axis: row i of each is item i. */
export type NamedArrays = Map<string, NpyArray>

/**
 * Read the named input arrays of `path`: an `.npy` file (named by its file name: `X.npy` feeds
 * the model input `X`), a directory of them, or a `.json` file of `{ "NAME": nested array }` or
 * `{ "NAME": { "dtype": "int64", "data": nested array } }` (float32 unless a dtype is given).
 * Throws `NpyFormatError` naming the file and what is wrong.
 */
export async function readNamedArrays (path: string): Promise<NamedArrays> {
  const info = await stat(path)
  const arrays: NamedArrays = new Map()
  if (info.isDirectory()) {
    const files = (await readdir(path)).filter(f => extname(f).toLowerCase() === '.npy').sort()
    if (files.length === 0) {
      throw new NpyFormatError(`${path}: no .npy files in this directory`)
    }
    for (const f of files) {
      arrays.set(basename(f, extname(f)), await readNpyFile(join(path, f)))
    }
  } else if (extname(path).toLowerCase() === '.npy') {
    arrays.set(basename(path, extname(path)), await readNpyFile(path))
  } else if (extname(path).toLowerCase() === '.json') {
    if (info.size > MAX_JSON_INPUT_BYTES) {
      throw new NpyFormatError(`${path}: ${info.size} bytes is over the ${MAX_JSON_INPUT_BYTES} byte limit`)
    }
    let body: unknown
    try {
      body = JSON.parse(await readFile(path, 'utf8'))
    } catch (err: any) {
      throw new NpyFormatError(`${path}: not JSON: ${err.message}`)
    }
    if (body == null || typeof body !== 'object' || Array.isArray(body)) {
      throw new NpyFormatError(`${path}: expected an object of named arrays, e.g. { "X": [[1, 2, 3], [4, 5, 6]] }`)
    }
    for (const [name, value] of Object.entries(body)) {
      try {
        arrays.set(name, jsonArray(value))
      } catch (err: any) {
        throw new NpyFormatError(`${path}: ${name}: ${err.message}`)
      }
    }
  } else {
    throw new NpyFormatError(`${path}: inputs of onnx are .npy files, a directory of them or a .json file`)
  }
  if (arrays.size === 0) {
    throw new NpyFormatError(`${path}: no arrays`)
  }
  let rows: number | undefined
  for (const [name, a] of arrays) {
    if (name.length === 0 || name.length > 256) {
      throw new NpyFormatError(`${path}: a tensor name of 1..256 characters is required`)
    }
    if (a.shape.length === 0) {
      throw new NpyFormatError(`${path}: ${name} is a scalar: its first axis must be the items`)
    }
    if (rows != null && a.shape[0] !== rows) {
      throw new NpyFormatError(`${path}: ${name} has ${a.shape[0]} rows, the other inputs ${rows}: every input needs one row per item`)
    }
    rows = a.shape[0]
  }
  if (rows === 0) {
    throw new NpyFormatError(`${path}: no rows: the first axis of every input holds the items`)
  }
  return arrays
}

/** A JSON nested array (or `{ dtype, data }`) as an array: rectangular, numbers only. */
function jsonArray (value: unknown): NpyArray {
  let dtype: TensorDtype = 'float32'
  let data = value
  if (value != null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>
    if (typeof v.dtype !== 'string' || !JSON_DTYPES.has(v.dtype as TensorDtype)) {
      throw new RangeError(`dtype must be one of ${[...JSON_DTYPES].join(', ')}`)
    }
    dtype = v.dtype as TensorDtype
    data = v.data
  }
  const shape: number[] = []
  for (let level = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length)
    if (shape.length > 32) {
      throw new RangeError('over 32 dimensions')
    }
  }
  if (shape.length === 0) {
    throw new RangeError('expected a nested array of numbers')
  }
  const count = elementCount(shape)
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new RangeError(`${count} elements is over the ${MAX_TENSOR_ELEMENTS} limit`)
  }
  const flat: number[] = []
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') {
        throw new RangeError(`expected a number, got ${JSON.stringify(v)?.slice(0, 32)}`)
      }
      flat.push(Number(v))
      return
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new RangeError('the nested arrays are not rectangular')
    }
    v.forEach(x => { walk(x, depth + 1) })
  }
  walk(data, 0)
  return { dtype, shape, data: typedBytes(dtype, flat) }
}

function typedBytes (dtype: TensorDtype, values: number[]): Uint8Array {
  let array: ArrayBufferView
  switch (dtype) {
    case 'float32': array = Float32Array.from(values); break
    case 'float64': array = Float64Array.from(values); break
    case 'int32': array = Int32Array.from(values, v => checkInteger(v, -(2 ** 31), 2 ** 31 - 1)); break
    case 'int64': array = BigInt64Array.from(values, v => BigInt(checkInteger(v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))); break
    case 'int8': array = Int8Array.from(values, v => checkInteger(v, -128, 127)); break
    default: array = Uint8Array.from(values, v => checkInteger(v, 0, dtype === 'bool' ? 1 : 255))
  }
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
}

function checkInteger (v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${v} is not a whole number from ${min} to ${max}`)
  }
  return v
}

/**
 * The items of named arrays: item i holds row i of each array as a tensor of the same name with
 * a batch dimension of 1 (an `[N, 3]` array gives N items of shape `[1, 3]`).
 */
export function itemsOfArrays (arrays: NamedArrays): NamedTensor[][] {
  const rows = [...arrays.values()][0].shape[0]
  return Array.from({ length: rows }, (_, i) => [...arrays].map(([name, a]) => {
    const rowBytes = a.data.byteLength / Math.max(1, a.shape[0])
    return { name, dtype: a.dtype, dims: [1, ...a.shape.slice(1)], data: a.data.subarray(i * rowBytes, (i + 1) * rowBytes) }
  }))
}

/** One output file written by `writeTensorOutputs`. */
export interface TensorOutputFile {
  /** the model output's name */
  name: string
  /** file name in the output directory */
  file: string
  dtype: TensorDtype
  shape: number[]
}

/**
 * Write each named output of the items to `dir`: `NAME.npy` holding every item's tensor stacked
 * along the first axis when they all have the same shape (items of shape `[1, 4]` give `[N, 4]`;
 * scalars give `[N]`), else one file per item, `NAME.<i>.npy`. A name that is no safe file name
 * is written as `output-<k>`. Returns the files written (also in `dir/outputs.json`).
 */
export async function writeTensorOutputs (dir: string, outputs: NamedTensor[][], workload: string): Promise<TensorOutputFile[]> {
  await mkdir(dir, { recursive: true })
  const names = [...new Set(outputs.flatMap(o => o.map(t => t.name)))]
  const files: TensorOutputFile[] = []
  for (const [k, name] of names.entries()) {
    const stem = FILE_NAME.test(name) ? name : `output-${k}`
    const tensors = outputs.map((o, i) => {
      const t = o.find(t => t.name === name)
      if (t == null) {
        throw new NpyFormatError(`item ${i} has no output ${name}`)
      }
      return t
    })
    const first = tensors[0]
    const same = tensors.every(t => t.dtype === first.dtype && t.dims.join(',') === first.dims.join(','))
    if (same) {
      const shape = first.dims.length === 0 ? [tensors.length] : [first.dims[0] * tensors.length, ...first.dims.slice(1)]
      const data = new Uint8Array(elementCount(shape) * dtypeBytes(first.dtype))
      tensors.forEach((t, i) => { data.set(t.data, i * t.data.byteLength) })
      const file = `${stem}.npy`
      await writeFile(join(dir, file), encodeNpy({ dtype: first.dtype, shape, data }))
      files.push({ name, file, dtype: first.dtype, shape })
    } else {
      for (const [i, t] of tensors.entries()) {
        const file = `${stem}.${i}.npy`
        await writeFile(join(dir, file), encodeNpy({ dtype: t.dtype, shape: t.dims, data: t.data }))
        files.push({ name, file, dtype: t.dtype, shape: t.dims })
      }
    }
  }
  await writeFile(join(dir, 'outputs.json'), JSON.stringify({ workload, items: outputs.length, files }, null, 2) + '\n')
  return files
}
