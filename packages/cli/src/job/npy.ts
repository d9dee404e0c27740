import { open } from 'node:fs/promises'
import type { TensorDtype } from '@shardmesh/workloads'

/**
 * NumPy `.npy` files (format 1.0, 2.0 and 3.0 read; 1.0 written), C order, little-endian:
 * float32, float64, int32, int64, int8, uint8 and bool. Enough to hand tensors to
 * `job run --workload onnx` and get its outputs back, with a size limit on everything read.
 */

/** An n-dimensional array: `data` holds its elements little-endian, in C order. */
export interface NpyArray {
  dtype: TensorDtype
  shape: number[]
  data: Uint8Array
}

/** A file that is not an `.npy` array this reader takes (or is over its size limit). */
export class NpyFormatError extends Error {
  static readonly code = 'ERR_NPY_FORMAT'
  readonly code = NpyFormatError.code

  constructor (message: string) {
    super(message)
    this.name = 'NpyFormatError'
  }
}

/** The largest `.npy` file read, header included. */
export const MAX_NPY_BYTES = 256 * 1024 * 1024

/** The longest header read (NumPy writes a few hundred bytes). */
const MAX_HEADER = 64 * 1024

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY

const DESCR: Record<TensorDtype, string> = {
  float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8', int8: '|i1', uint8: '|u1', bool: '|b1'
}

const BYTES: Record<TensorDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8, int8: 1, uint8: 1, bool: 1 }

/** descr → dtype; one-byte types may be written with any byte order mark. */
const DTYPES = new Map<string, TensorDtype>([
  ...Object.entries(DESCR).map(([dtype, descr]) => [descr, dtype as TensorDtype] as const),
  ['<i1', 'int8'], ['<u1', 'uint8'], ['<b1', 'bool'], ['=i1', 'int8'], ['=u1', 'uint8'], ['=b1', 'bool'], ['?', 'bool']
])

/** Elements of an array of this shape. */
export function elementCount (shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/** Bytes per element of `dtype`. */
export function dtypeBytes (dtype: TensorDtype): number {
  return BYTES[dtype]
}

/** Decode an `.npy` file's bytes; throws `NpyFormatError` naming what is wrong. */
export function decodeNpy (bytes: Uint8Array, maxBytes = MAX_NPY_BYTES): NpyArray {
  if (bytes.byteLength > maxBytes) {
    throw new NpyFormatError(`${bytes.byteLength} bytes is over the ${maxBytes} byte limit`)
  }
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyFormatError('not an .npy file (no \\x93NUMPY magic)')
  }
  const major = bytes[6]
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let headerLength: number
  let start: number
  if (major === 1) {
    headerLength = view.getUint16(8, true)
    start = 10
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) {
      throw new NpyFormatError('truncated header')
    }
    headerLength = view.getUint32(8, true)
    start = 12
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${bytes[7]}`)
  }
  if (headerLength > MAX_HEADER || start + headerLength > bytes.byteLength) {
    throw new NpyFormatError(`bad header length ${headerLength}`)
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength)).trim()
  if (!header.startsWith('{') || !header.endsWith('}')) {
    throw new NpyFormatError('the header is not a dictionary')
  }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]{1,16})['"]/.exec(header)?.[1]
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1]
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]{0,512})\)/.exec(header)?.[1]
  if (descr == null || fortran == null || shapeText == null) {
    throw new NpyFormatError('the header lacks descr, fortran_order or shape')
  }
  const dtype = DTYPES.get(descr)
  if (dtype == null) {
    throw new NpyFormatError(`unsupported dtype ${descr} (float32, float64, int32, int64, int8, uint8 or bool, little-endian)`)
  }
  if (fortran === 'True') {
    throw new NpyFormatError('Fortran order is not supported: save the array in C order (np.ascontiguousarray)')
  }
  const parts = shapeText.split(',').map(p => p.trim()).filter(p => p !== '')
  if (parts.length > 32 || parts.some(p => !/^\d{1,12}$/.test(p))) {
    throw new NpyFormatError(`bad shape (${shapeText.slice(0, 64)})`)
  }
  const shape = parts.map(Number)
  const count = elementCount(shape)
  const data = bytes.subarray(start + headerLength)
  if (!Number.isSafeInteger(count) || data.byteLength !== count * BYTES[dtype]) {
    throw new NpyFormatError(`${data.byteLength} bytes of data for shape (${shape.join(', ')}) of ${dtype}`)
  }
  return { dtype, shape, data }
}

/** Encode an array as an `.npy` file (format 1.0, header padded to 64 bytes as NumPy does). */
export function encodeNpy (array: NpyArray): Uint8Array {
  if (array.data.byteLength !== elementCount(array.shape) * BYTES[array.dtype]) {
    throw new NpyFormatError(`${array.data.byteLength} bytes of data for shape (${array.shape.join(', ')}) of ${array.dtype}`)
  }
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`
  let header = `{'descr': '${DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n'
  const out = new Uint8Array(10 + header.length + array.data.byteLength)
  out.set(MAGIC)
  out[6] = 1
  out[7] = 0
  new DataView(out.buffer).setUint16(8, header.length, true)
  out.set(new TextEncoder().encode(header), 10)
  out.set(array.data, 10 + header.length)
  return out
}

/**
 * Read an `.npy` file, refusing one over `maxBytes` before reading it; errors name the file.
 */
export async function readNpyFile (path: string, maxBytes = MAX_NPY_BYTES): Promise<NpyArray> {
  const file = await open(path, 'r')
  try {
    const { size } = await file.stat()
    if (size > maxBytes) {
      throw new NpyFormatError(`${path}: ${size} bytes is over the ${maxBytes} byte limit`)
    }
    const bytes = new Uint8Array(size)
    const { bytesRead } = await file.read(bytes, 0, size, 0)
    return decodeNpy(bytes.subarray(0, bytesRead), maxBytes)
  } catch (err: any) {
    if (err instanceof NpyFormatError && !err.message.startsWith(path)) {
      throw new NpyFormatError(`${path}: ${err.message}`)
    }
    throw err
  } finally {
    await file.close()
  }
}
