import { decodeTensorMap, encodeTensorMap, MAX_TENSOR_DIMS } from '@shardmesh/protocol'
import { InvalidInputError } from '../errors.js'
import type { ItemCodec } from '../workload.js'

export type TensorDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool'

/** One named tensor; `data` holds its elements little-endian (1 byte per bool). */
export interface NamedTensor {
  name: string
  dtype: TensorDtype
  dims: number[]
  data: Uint8Array
}

export const DTYPE_BYTES: Record<TensorDtype, number> = {
  float32: 4, float64: 8, int32: 4, int64: 8, uint8: 1, int8: 1, bool: 1
}

/** Elements in one tensor, at most. */
export const MAX_TENSOR_ELEMENTS = 64 * 1024 * 1024

function checkTensor (t: NamedTensor): NamedTensor {
  if (typeof t.name !== 'string' || t.name.length === 0 || t.name.length > 256) {
    throw new InvalidInputError('tensor: a name of 1..256 characters is required')
  }
  // own keys only: a peer's dtype of "toString" or "__proto__" is not a dtype
  const size = Object.hasOwn(DTYPE_BYTES, t.dtype) ? DTYPE_BYTES[t.dtype] : undefined
  if (size == null) {
    throw new InvalidInputError(`tensor ${t.name}: unsupported dtype "${t.dtype}"`)
  }
  if (t.dims.length > MAX_TENSOR_DIMS) {
    throw new InvalidInputError(`tensor ${t.name}: ${t.dims.length} dimensions is over the ${MAX_TENSOR_DIMS} limit`)
  }
  let elements = 1
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new InvalidInputError(`tensor ${t.name}: bad dimension ${d}`)
    }
    elements *= d
  }
  if (elements > MAX_TENSOR_ELEMENTS) {
    throw new InvalidInputError(`tensor ${t.name}: ${elements} elements is over the ${MAX_TENSOR_ELEMENTS} limit`)
  }
  if (t.data.byteLength !== elements * size) {
    throw new InvalidInputError(`tensor ${t.name}: ${t.data.byteLength} bytes of data for ${elements} ${t.dtype} elements`)
  }
  return t
}

/** Codec of one `onnx` item: named tensors, each checked against its dtype and shape. */
export const tensorMapCodec: ItemCodec<NamedTensor[]> = {
  encode (tensors: NamedTensor[]): Uint8Array {
    return encodeTensorMap({
      tensors: tensors.map(t => {
        checkTensor(t)
        return { name: t.name, dtype: t.dtype, dims: t.dims.map(BigInt), data: t.data as Uint8Array<ArrayBuffer> }
      })
    })
  },
  decode (bytes: Uint8Array): NamedTensor[] {
    let decoded
    try {
      decoded = decodeTensorMap(bytes)
    } catch (err: any) {
      throw new InvalidInputError(`onnx item: ${err.message}`)
    }
    const names = new Set<string>()
    return decoded.tensors.map(t => {
      const dims = t.dims.map(d => d <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : -1)
      const tensor = checkTensor({ name: t.name, dtype: t.dtype as TensorDtype, dims, data: t.data })
      if (names.has(t.name)) {
        throw new InvalidInputError(`onnx item: tensor ${t.name} appears twice`)
      }
      names.add(t.name)
      return tensor
    })
  }
}

/**
 * A tensor's elements as a typed array over exactly `t.data`'s bytes: a view of them when they
 * start at a multiple of the element size (treat it as read-only), a copy otherwise. Decoded
 * data is often a view at any offset into a larger buffer (Node's shared Buffer pool, a
 * received frame), so neither `t.data.buffer` nor its alignment can be assumed. Throws
 * `InvalidInputError` when the byte length is not a whole number of elements.
 */
export function tensorValues (t: NamedTensor): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array {
  const size = Object.hasOwn(DTYPE_BYTES, t.dtype) ? DTYPE_BYTES[t.dtype] : undefined
  if (size == null) {
    throw new InvalidInputError(`tensor ${t.name}: unsupported dtype "${t.dtype}"`)
  }
  if (t.data.byteLength % size !== 0) {
    throw new InvalidInputError(`tensor ${t.name}: ${t.data.byteLength} bytes is not a whole number of ${t.dtype} elements`)
  }
  // `new Uint8Array(view)` copies into a fresh buffer; Buffer#slice would not copy
  const bytes = t.data.byteOffset % size === 0 ? t.data : new Uint8Array(t.data)
  const { buffer, byteOffset } = bytes
  const length = bytes.byteLength / size
  switch (t.dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, length)
    case 'float64': return new Float64Array(buffer, byteOffset, length)
    case 'int32': return new Int32Array(buffer, byteOffset, length)
    case 'int64': return new BigInt64Array(buffer, byteOffset, length)
    case 'int8': return new Int8Array(buffer, byteOffset, length)
    default: return new Uint8Array(buffer, byteOffset, length)
  }
}

/**
 * Outputs agree when they have the same tensors (names, dtypes, dims) and the same values:
 * exactly for integers, within 1e-4 absolute + 1e-4 relative for floats.
 */
export function compareTensorMaps (a: NamedTensor[], b: NamedTensor[]): boolean {
  if (a.length !== b.length) {
    return false
  }
  const byName = new Map(b.map(t => [t.name, t]))
  for (const ta of a) {
    const tb = byName.get(ta.name)
    if (tb == null || tb.dtype !== ta.dtype || tb.dims.join(',') !== ta.dims.join(',')) {
      return false
    }
    if (ta.dtype !== 'float32' && ta.dtype !== 'float64') {
      if (Buffer.compare(ta.data, tb.data) !== 0) {
        return false
      }
      continue
    }
    const va = tensorValues(ta) as Float32Array
    const vb = tensorValues(tb) as Float32Array
    for (let i = 0; i < va.length; i++) {
      const x = va[i]
      const y = vb[i]
      if (Number.isNaN(x) !== Number.isNaN(y) || Math.abs(x - y) > 1e-4 + 1e-4 * Math.abs(y)) {
        return false
      }
    }
  }
  return true
}
