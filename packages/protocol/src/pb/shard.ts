import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ItemList {
  items: Uint8Array<ArrayBuffer>[]
}

export namespace ItemList {
  let _codec: Codec<ItemList>

  export const codec = (): Codec<ItemList> => {
    if (_codec == null) {
      _codec = message<ItemList>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.items != null && obj.items.length > 0) {
          for (const value of obj.items) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          items: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.items != null && obj.items.length === opts.limits.items) {
                throw new MaxLengthError('Decode error - repeated field "items" had too many elements')
              }

              obj.items.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          items: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.items != null && obj.items === opts.limits.items) {
                throw new MaxLengthError('Streaming decode error - repeated field "items" had too many elements')
              }

              yield {
                field: `${prefix}.items[]`,
                index: obj.items,
                value: reader.bytes()
              }

              obj.items++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ItemListItemsFieldEvent {
    field: '$.items[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ItemList>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ItemList.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ItemList>): ItemList {
    return decodeMessage(buf, ItemList.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ItemList>): Generator<ItemListItemsFieldEvent> {
    return streamMessage(buf, ItemList.codec(), opts)
  }
}

export interface Tensor {
  name: string
  dtype: string
  dims: bigint[]
  data: Uint8Array<ArrayBuffer>
}

export namespace Tensor {
  let _codec: Codec<Tensor>

  export const codec = (): Codec<Tensor> => {
    if (_codec == null) {
      _codec = message<Tensor>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.dtype != null && obj.dtype !== '')) {
          w.uint32(18)
          w.string(obj.dtype)
        }

        if (obj.dims != null && obj.dims.length > 0) {
          for (const value of obj.dims) {
            w.uint32(24)
            w.uint64(value)
          }
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          dtype: '',
          dims: [],
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.dtype = reader.string()
              break
            }
            case 3: {
              if (opts.limits?.dims != null && obj.dims.length === opts.limits.dims) {
                throw new MaxLengthError('Decode error - repeated field "dims" had too many elements')
              }

              obj.dims.push(reader.uint64())
              break
            }
            case 4: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          dims: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.dtype`,
                value: reader.string()
              }
              break
            }
            case 3: {
              if (opts.limits?.dims != null && obj.dims === opts.limits.dims) {
                throw new MaxLengthError('Streaming decode error - repeated field "dims" had too many elements')
              }

              yield {
                field: `${prefix}.dims[]`,
                index: obj.dims,
                value: reader.uint64()
              }

              obj.dims++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TensorNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface TensorDtypeFieldEvent {
    field: '$.dtype'
    value: string
  }

  export interface TensorDimsFieldEvent {
    field: '$.dims[]'
    index: number
    value: bigint
  }

  export interface TensorDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Tensor>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Tensor.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tensor>): Tensor {
    return decodeMessage(buf, Tensor.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tensor>): Generator<TensorNameFieldEvent | TensorDtypeFieldEvent | TensorDimsFieldEvent | TensorDataFieldEvent> {
    return streamMessage(buf, Tensor.codec(), opts)
  }
}

export interface TensorMap {
  tensors: Tensor[]
}

export namespace TensorMap {
  let _codec: Codec<TensorMap>

  export const codec = (): Codec<TensorMap> => {
    if (_codec == null) {
      _codec = message<TensorMap>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.tensors != null && obj.tensors.length > 0) {
          for (const value of obj.tensors) {
            w.uint32(10)
            Tensor.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tensors: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.tensors != null && obj.tensors.length === opts.limits.tensors) {
                throw new MaxLengthError('Decode error - repeated field "tensors" had too many elements')
              }

              obj.tensors.push(Tensor.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tensors$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          tensors: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.tensors != null && obj.tensors === opts.limits.tensors) {
                throw new MaxLengthError('Streaming decode error - repeated field "tensors" had too many elements')
              }

              for (const evt of Tensor.codec().stream(reader, reader.uint32(), `${prefix}.tensors[]`, {
                limits: opts.limits?.tensors$
              })) {
                yield {
                  ...evt,
                  index: obj.tensors
                }
              }

              obj.tensors++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface TensorMapTensorsNameFieldEvent {
    field: '$.tensors[].name'
    value: string
    index: number
  }

  export interface TensorMapTensorsDtypeFieldEvent {
    field: '$.tensors[].dtype'
    value: string
    index: number
  }

  export interface TensorMapTensorsDimsFieldEvent {
    field: '$.tensors[].dims[]'
    index: number
    value: bigint
  }

  export interface TensorMapTensorsDataFieldEvent {
    field: '$.tensors[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<TensorMap>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TensorMap.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TensorMap>): TensorMap {
    return decodeMessage(buf, TensorMap.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TensorMap>): Generator<TensorMapTensorsNameFieldEvent | TensorMapTensorsDtypeFieldEvent | TensorMapTensorsDimsFieldEvent | TensorMapTensorsDataFieldEvent> {
    return streamMessage(buf, TensorMap.codec(), opts)
  }
}

export interface ShardRequest {
  id: number
  jobId: Uint8Array<ArrayBuffer>
  shardIndex: number
  workload: string
  version: string
  input: Uint8Array<ArrayBuffer>
  model: Uint8Array<ArrayBuffer>
  timeoutMs: number
  lamportsPerItem?: bigint
}

export namespace ShardRequest {
  let _codec: Codec<ShardRequest>

  export const codec = (): Codec<ShardRequest> => {
    if (_codec == null) {
      _codec = message<ShardRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.jobId)
        }

        if ((obj.shardIndex != null && obj.shardIndex !== 0)) {
          w.uint32(24)
          w.uint32(obj.shardIndex)
        }

        if ((obj.workload != null && obj.workload !== '')) {
          w.uint32(34)
          w.string(obj.workload)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(42)
          w.string(obj.version)
        }

        if ((obj.input != null && obj.input.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.input)
        }

        if ((obj.model != null && obj.model.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.model)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(64)
          w.uint32(obj.timeoutMs)
        }

        if (obj.lamportsPerItem != null) {
          w.uint32(72)
          w.uint64(obj.lamportsPerItem)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          jobId: uint8ArrayAlloc(0),
          shardIndex: 0,
          workload: '',
          version: '',
          input: uint8ArrayAlloc(0),
          model: uint8ArrayAlloc(0),
          timeoutMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.jobId = reader.bytes()
              break
            }
            case 3: {
              obj.shardIndex = reader.uint32()
              break
            }
            case 4: {
              obj.workload = reader.string()
              break
            }
            case 5: {
              obj.version = reader.string()
              break
            }
            case 6: {
              obj.input = reader.bytes()
              break
            }
            case 7: {
              obj.model = reader.bytes()
              break
            }
            case 8: {
              obj.timeoutMs = reader.uint32()
              break
            }
            case 9: {
              obj.lamportsPerItem = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.shardIndex`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.workload`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.input`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.model`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.lamportsPerItem`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ShardRequestIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ShardRequestJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ShardRequestShardIndexFieldEvent {
    field: '$.shardIndex'
    value: number
  }

  export interface ShardRequestWorkloadFieldEvent {
    field: '$.workload'
    value: string
  }

  export interface ShardRequestVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface ShardRequestInputFieldEvent {
    field: '$.input'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ShardRequestModelFieldEvent {
    field: '$.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ShardRequestTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface ShardRequestLamportsPerItemFieldEvent {
    field: '$.lamportsPerItem'
    value: bigint
  }

  export function encode (obj: Partial<ShardRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ShardRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardRequest>): ShardRequest {
    return decodeMessage(buf, ShardRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardRequest>): Generator<ShardRequestIdFieldEvent | ShardRequestJobIdFieldEvent | ShardRequestShardIndexFieldEvent | ShardRequestWorkloadFieldEvent | ShardRequestVersionFieldEvent | ShardRequestInputFieldEvent | ShardRequestModelFieldEvent | ShardRequestTimeoutMsFieldEvent | ShardRequestLamportsPerItemFieldEvent> {
    return streamMessage(buf, ShardRequest.codec(), opts)
  }
}

export interface CancelShard {
  id: number
}

export namespace CancelShard {
  let _codec: Codec<CancelShard>

  export const codec = (): Codec<CancelShard> => {
    if (_codec == null) {
      _codec = message<CancelShard>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CancelShardIdFieldEvent {
    field: '$.id'
    value: number
  }

  export function encode (obj: Partial<CancelShard>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CancelShard.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelShard>): CancelShard {
    return decodeMessage(buf, CancelShard.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CancelShard>): Generator<CancelShardIdFieldEvent> {
    return streamMessage(buf, CancelShard.codec(), opts)
  }
}

export interface ModelChunk {
  id: number
  digest: Uint8Array<ArrayBuffer>
  total: bigint
  offset: bigint
  data: Uint8Array<ArrayBuffer>
}

export namespace ModelChunk {
  let _codec: Codec<ModelChunk>

  export const codec = (): Codec<ModelChunk> => {
    if (_codec == null) {
      _codec = message<ModelChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.digest != null && obj.digest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.digest)
        }

        if ((obj.total != null && obj.total !== 0n)) {
          w.uint32(24)
          w.uint64(obj.total)
        }

        if ((obj.offset != null && obj.offset !== 0n)) {
          w.uint32(32)
          w.uint64(obj.offset)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          digest: uint8ArrayAlloc(0),
          total: 0n,
          offset: 0n,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.digest = reader.bytes()
              break
            }
            case 3: {
              obj.total = reader.uint64()
              break
            }
            case 4: {
              obj.offset = reader.uint64()
              break
            }
            case 5: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.digest`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.total`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.offset`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ModelChunkIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ModelChunkDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ModelChunkTotalFieldEvent {
    field: '$.total'
    value: bigint
  }

  export interface ModelChunkOffsetFieldEvent {
    field: '$.offset'
    value: bigint
  }

  export interface ModelChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ModelChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ModelChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): ModelChunk {
    return decodeMessage(buf, ModelChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): Generator<ModelChunkIdFieldEvent | ModelChunkDigestFieldEvent | ModelChunkTotalFieldEvent | ModelChunkOffsetFieldEvent | ModelChunkDataFieldEvent> {
    return streamMessage(buf, ModelChunk.codec(), opts)
  }
}

export interface Ping {
  seq: number
}

export namespace Ping {
  let _codec: Codec<Ping>

  export const codec = (): Codec<Ping> => {
    if (_codec == null) {
      _codec = message<Ping>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint32(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PingSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Ping>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ping.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ping>): Ping {
    return decodeMessage(buf, Ping.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ping>): Generator<PingSeqFieldEvent> {
    return streamMessage(buf, Ping.codec(), opts)
  }
}

export interface Countersigned {
  jobId: Uint8Array<ArrayBuffer>
  shardIndex: number
  receipts: Uint8Array<ArrayBuffer>[]
}

export namespace Countersigned {
  let _codec: Codec<Countersigned>

  export const codec = (): Codec<Countersigned> => {
    if (_codec == null) {
      _codec = message<Countersigned>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.jobId)
        }

        if ((obj.shardIndex != null && obj.shardIndex !== 0)) {
          w.uint32(16)
          w.uint32(obj.shardIndex)
        }

        if (obj.receipts != null && obj.receipts.length > 0) {
          for (const value of obj.receipts) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: uint8ArrayAlloc(0),
          shardIndex: 0,
          receipts: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.bytes()
              break
            }
            case 2: {
              obj.shardIndex = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.receipts != null && obj.receipts.length === opts.limits.receipts) {
                throw new MaxLengthError('Decode error - repeated field "receipts" had too many elements')
              }

              obj.receipts.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          receipts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.shardIndex`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.receipts != null && obj.receipts === opts.limits.receipts) {
                throw new MaxLengthError('Streaming decode error - repeated field "receipts" had too many elements')
              }

              yield {
                field: `${prefix}.receipts[]`,
                index: obj.receipts,
                value: reader.bytes()
              }

              obj.receipts++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CountersignedJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CountersignedShardIndexFieldEvent {
    field: '$.shardIndex'
    value: number
  }

  export interface CountersignedReceiptsFieldEvent {
    field: '$.receipts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Countersigned>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Countersigned.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Countersigned>): Countersigned {
    return decodeMessage(buf, Countersigned.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Countersigned>): Generator<CountersignedJobIdFieldEvent | CountersignedShardIndexFieldEvent | CountersignedReceiptsFieldEvent> {
    return streamMessage(buf, Countersigned.codec(), opts)
  }
}

export interface ClientFrame {
  request?: ShardRequest
  cancel?: CancelShard
  model?: ModelChunk
  ping?: Ping
  countersigned?: Countersigned
}

export namespace ClientFrame {
  let _codec: Codec<ClientFrame>

  export const codec = (): Codec<ClientFrame> => {
    if (_codec == null) {
      _codec = message<ClientFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.request != null) {
          w.uint32(10)
          ShardRequest.codec().encode(obj.request, w)
        }

        if (obj.cancel != null) {
          w.uint32(18)
          CancelShard.codec().encode(obj.cancel, w)
        }

        if (obj.model != null) {
          w.uint32(26)
          ModelChunk.codec().encode(obj.model, w)
        }

        if (obj.ping != null) {
          w.uint32(34)
          Ping.codec().encode(obj.ping, w)
        }

        if (obj.countersigned != null) {
          w.uint32(42)
          Countersigned.codec().encode(obj.countersigned, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.request = ShardRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.request
              })
              break
            }
            case 2: {
              obj.cancel = CancelShard.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancel
              })
              break
            }
            case 3: {
              obj.model = ModelChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.model
              })
              break
            }
            case 4: {
              obj.ping = Ping.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ping
              })
              break
            }
            case 5: {
              obj.countersigned = Countersigned.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.countersigned
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * ShardRequest.codec().stream(reader, reader.uint32(), `${prefix}.request`, {
                limits: opts.limits?.request
              })

              break
            }
            case 2: {
              yield * CancelShard.codec().stream(reader, reader.uint32(), `${prefix}.cancel`, {
                limits: opts.limits?.cancel
              })

              break
            }
            case 3: {
              yield * ModelChunk.codec().stream(reader, reader.uint32(), `${prefix}.model`, {
                limits: opts.limits?.model
              })

              break
            }
            case 4: {
              yield * Ping.codec().stream(reader, reader.uint32(), `${prefix}.ping`, {
                limits: opts.limits?.ping
              })

              break
            }
            case 5: {
              yield * Countersigned.codec().stream(reader, reader.uint32(), `${prefix}.countersigned`, {
                limits: opts.limits?.countersigned
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ClientFrameRequestIdFieldEvent {
    field: '$.request.id'
    value: number
  }

  export interface ClientFrameRequestJobIdFieldEvent {
    field: '$.request.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFrameRequestShardIndexFieldEvent {
    field: '$.request.shardIndex'
    value: number
  }

  export interface ClientFrameRequestWorkloadFieldEvent {
    field: '$.request.workload'
    value: string
  }

  export interface ClientFrameRequestVersionFieldEvent {
    field: '$.request.version'
    value: string
  }

  export interface ClientFrameRequestInputFieldEvent {
    field: '$.request.input'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFrameRequestModelFieldEvent {
    field: '$.request.model'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFrameRequestTimeoutMsFieldEvent {
    field: '$.request.timeoutMs'
    value: number
  }

  export interface ClientFrameRequestLamportsPerItemFieldEvent {
    field: '$.request.lamportsPerItem'
    value: bigint
  }

  export interface ClientFrameCancelIdFieldEvent {
    field: '$.cancel.id'
    value: number
  }

  export interface ClientFrameModelIdFieldEvent {
    field: '$.model.id'
    value: number
  }

  export interface ClientFrameModelDigestFieldEvent {
    field: '$.model.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFrameModelTotalFieldEvent {
    field: '$.model.total'
    value: bigint
  }

  export interface ClientFrameModelOffsetFieldEvent {
    field: '$.model.offset'
    value: bigint
  }

  export interface ClientFrameModelDataFieldEvent {
    field: '$.model.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFramePingSeqFieldEvent {
    field: '$.ping.seq'
    value: number
  }

  export interface ClientFrameCountersignedJobIdFieldEvent {
    field: '$.countersigned.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ClientFrameCountersignedShardIndexFieldEvent {
    field: '$.countersigned.shardIndex'
    value: number
  }

  export interface ClientFrameCountersignedReceiptsFieldEvent {
    field: '$.countersigned.receipts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ClientFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ClientFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClientFrame>): ClientFrame {
    return decodeMessage(buf, ClientFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClientFrame>): Generator<ClientFrameRequestIdFieldEvent | ClientFrameRequestJobIdFieldEvent | ClientFrameRequestShardIndexFieldEvent | ClientFrameRequestWorkloadFieldEvent | ClientFrameRequestVersionFieldEvent | ClientFrameRequestInputFieldEvent | ClientFrameRequestModelFieldEvent | ClientFrameRequestTimeoutMsFieldEvent | ClientFrameRequestLamportsPerItemFieldEvent | ClientFrameCancelIdFieldEvent | ClientFrameModelIdFieldEvent | ClientFrameModelDigestFieldEvent | ClientFrameModelTotalFieldEvent | ClientFrameModelOffsetFieldEvent | ClientFrameModelDataFieldEvent | ClientFramePingSeqFieldEvent | ClientFrameCountersignedJobIdFieldEvent | ClientFrameCountersignedShardIndexFieldEvent | ClientFrameCountersignedReceiptsFieldEvent> {
    return streamMessage(buf, ClientFrame.codec(), opts)
  }
}

export interface ShardProgress {
  id: number
  done: number
}

export namespace ShardProgress {
  let _codec: Codec<ShardProgress>

  export const codec = (): Codec<ShardProgress> => {
    if (_codec == null) {
      _codec = message<ShardProgress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.done != null && obj.done !== 0)) {
          w.uint32(16)
          w.uint32(obj.done)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          done: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.done = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.done`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ShardProgressIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ShardProgressDoneFieldEvent {
    field: '$.done'
    value: number
  }

  export function encode (obj: Partial<ShardProgress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ShardProgress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardProgress>): ShardProgress {
    return decodeMessage(buf, ShardProgress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardProgress>): Generator<ShardProgressIdFieldEvent | ShardProgressDoneFieldEvent> {
    return streamMessage(buf, ShardProgress.codec(), opts)
  }
}

export interface ShardResult {
  id: number
  output: Uint8Array<ArrayBuffer>
  receipt: Uint8Array<ArrayBuffer>
}

export namespace ShardResult {
  let _codec: Codec<ShardResult>

  export const codec = (): Codec<ShardResult> => {
    if (_codec == null) {
      _codec = message<ShardResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.output != null && obj.output.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.output)
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.receipt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          output: uint8ArrayAlloc(0),
          receipt: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.output = reader.bytes()
              break
            }
            case 3: {
              obj.receipt = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.output`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ShardResultIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ShardResultOutputFieldEvent {
    field: '$.output'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ShardResultReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ShardResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ShardResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardResult>): ShardResult {
    return decodeMessage(buf, ShardResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardResult>): Generator<ShardResultIdFieldEvent | ShardResultOutputFieldEvent | ShardResultReceiptFieldEvent> {
    return streamMessage(buf, ShardResult.codec(), opts)
  }
}

export interface ShardError {
  id: number
  code: string
  message: string
}

export namespace ShardError {
  let _codec: Codec<ShardError>

  export const codec = (): Codec<ShardError> => {
    if (_codec == null) {
      _codec = message<ShardError>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(18)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(26)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.code = reader.string()
              break
            }
            case 3: {
              obj.message = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ShardErrorIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ShardErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface ShardErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ShardError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ShardError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardError>): ShardError {
    return decodeMessage(buf, ShardError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardError>): Generator<ShardErrorIdFieldEvent | ShardErrorCodeFieldEvent | ShardErrorMessageFieldEvent> {
    return streamMessage(buf, ShardError.codec(), opts)
  }
}

export interface NeedModel {
  id: number
  digest: Uint8Array<ArrayBuffer>
}

export namespace NeedModel {
  let _codec: Codec<NeedModel>

  export const codec = (): Codec<NeedModel> => {
    if (_codec == null) {
      _codec = message<NeedModel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint32(obj.id)
        }

        if ((obj.digest != null && obj.digest.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.digest)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          digest: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint32()
              break
            }
            case 2: {
              obj.digest = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.digest`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface NeedModelIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface NeedModelDigestFieldEvent {
    field: '$.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<NeedModel>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, NeedModel.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NeedModel>): NeedModel {
    return decodeMessage(buf, NeedModel.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NeedModel>): Generator<NeedModelIdFieldEvent | NeedModelDigestFieldEvent> {
    return streamMessage(buf, NeedModel.codec(), opts)
  }
}

export interface Pong {
  seq: number
}

export namespace Pong {
  let _codec: Codec<Pong>

  export const codec = (): Codec<Pong> => {
    if (_codec == null) {
      _codec = message<Pong>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(8)
          w.uint32(obj.seq)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          seq: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.seq = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PongSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export function encode (obj: Partial<Pong>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Pong.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pong>): Pong {
    return decodeMessage(buf, Pong.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Pong>): Generator<PongSeqFieldEvent> {
    return streamMessage(buf, Pong.codec(), opts)
  }
}

export interface WorkerFrame {
  progress?: ShardProgress
  result?: ShardResult
  error?: ShardError
  needModel?: NeedModel
  pong?: Pong
}

export namespace WorkerFrame {
  let _codec: Codec<WorkerFrame>

  export const codec = (): Codec<WorkerFrame> => {
    if (_codec == null) {
      _codec = message<WorkerFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.progress != null) {
          w.uint32(10)
          ShardProgress.codec().encode(obj.progress, w)
        }

        if (obj.result != null) {
          w.uint32(18)
          ShardResult.codec().encode(obj.result, w)
        }

        if (obj.error != null) {
          w.uint32(26)
          ShardError.codec().encode(obj.error, w)
        }

        if (obj.needModel != null) {
          w.uint32(34)
          NeedModel.codec().encode(obj.needModel, w)
        }

        if (obj.pong != null) {
          w.uint32(42)
          Pong.codec().encode(obj.pong, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.progress = ShardProgress.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.progress
              })
              break
            }
            case 2: {
              obj.result = ShardResult.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.result
              })
              break
            }
            case 3: {
              obj.error = ShardError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
              break
            }
            case 4: {
              obj.needModel = NeedModel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.needModel
              })
              break
            }
            case 5: {
              obj.pong = Pong.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.pong
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * ShardProgress.codec().stream(reader, reader.uint32(), `${prefix}.progress`, {
                limits: opts.limits?.progress
              })

              break
            }
            case 2: {
              yield * ShardResult.codec().stream(reader, reader.uint32(), `${prefix}.result`, {
                limits: opts.limits?.result
              })

              break
            }
            case 3: {
              yield * ShardError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

              break
            }
            case 4: {
              yield * NeedModel.codec().stream(reader, reader.uint32(), `${prefix}.needModel`, {
                limits: opts.limits?.needModel
              })

              break
            }
            case 5: {
              yield * Pong.codec().stream(reader, reader.uint32(), `${prefix}.pong`, {
                limits: opts.limits?.pong
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WorkerFrameProgressIdFieldEvent {
    field: '$.progress.id'
    value: number
  }

  export interface WorkerFrameProgressDoneFieldEvent {
    field: '$.progress.done'
    value: number
  }

  export interface WorkerFrameResultIdFieldEvent {
    field: '$.result.id'
    value: number
  }

  export interface WorkerFrameResultOutputFieldEvent {
    field: '$.result.output'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WorkerFrameResultReceiptFieldEvent {
    field: '$.result.receipt'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WorkerFrameErrorIdFieldEvent {
    field: '$.error.id'
    value: number
  }

  export interface WorkerFrameErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface WorkerFrameErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface WorkerFrameNeedModelIdFieldEvent {
    field: '$.needModel.id'
    value: number
  }

  export interface WorkerFrameNeedModelDigestFieldEvent {
    field: '$.needModel.digest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WorkerFramePongSeqFieldEvent {
    field: '$.pong.seq'
    value: number
  }

  export function encode (obj: Partial<WorkerFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WorkerFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerFrame>): WorkerFrame {
    return decodeMessage(buf, WorkerFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerFrame>): Generator<WorkerFrameProgressIdFieldEvent | WorkerFrameProgressDoneFieldEvent | WorkerFrameResultIdFieldEvent | WorkerFrameResultOutputFieldEvent | WorkerFrameResultReceiptFieldEvent | WorkerFrameErrorIdFieldEvent | WorkerFrameErrorCodeFieldEvent | WorkerFrameErrorMessageFieldEvent | WorkerFrameNeedModelIdFieldEvent | WorkerFrameNeedModelDigestFieldEvent | WorkerFramePongSeqFieldEvent> {
    return streamMessage(buf, WorkerFrame.codec(), opts)
  }
}
