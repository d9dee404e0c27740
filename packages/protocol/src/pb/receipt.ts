import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Receipt {
  version: number
  jobId: Uint8Array<ArrayBuffer>
  shardIndex: number
  workload: string
  workloadVersion: string
  inputDigest: Uint8Array<ArrayBuffer>
  outputDigest: Uint8Array<ArrayBuffer>
  worker: Uint8Array<ArrayBuffer>
  requester: Uint8Array<ArrayBuffer>
  startedAt: bigint
  finishedAt: bigint
  items: number
  cpuMicros: bigint
  lamportsPerItem?: bigint
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
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

        if ((obj.workloadVersion != null && obj.workloadVersion !== '')) {
          w.uint32(42)
          w.string(obj.workloadVersion)
        }

        if ((obj.inputDigest != null && obj.inputDigest.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.inputDigest)
        }

        if ((obj.outputDigest != null && obj.outputDigest.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.outputDigest)
        }

        if ((obj.worker != null && obj.worker.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.worker)
        }

        if ((obj.requester != null && obj.requester.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.requester)
        }

        if ((obj.startedAt != null && obj.startedAt !== 0n)) {
          w.uint32(80)
          w.uint64(obj.startedAt)
        }

        if ((obj.finishedAt != null && obj.finishedAt !== 0n)) {
          w.uint32(88)
          w.uint64(obj.finishedAt)
        }

        if ((obj.items != null && obj.items !== 0)) {
          w.uint32(96)
          w.uint32(obj.items)
        }

        if ((obj.cpuMicros != null && obj.cpuMicros !== 0n)) {
          w.uint32(104)
          w.uint64(obj.cpuMicros)
        }

        if (obj.lamportsPerItem != null) {
          w.uint32(112)
          w.uint64(obj.lamportsPerItem)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          jobId: uint8ArrayAlloc(0),
          shardIndex: 0,
          workload: '',
          workloadVersion: '',
          inputDigest: uint8ArrayAlloc(0),
          outputDigest: uint8ArrayAlloc(0),
          worker: uint8ArrayAlloc(0),
          requester: uint8ArrayAlloc(0),
          startedAt: 0n,
          finishedAt: 0n,
          items: 0,
          cpuMicros: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
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
              obj.workloadVersion = reader.string()
              break
            }
            case 6: {
              obj.inputDigest = reader.bytes()
              break
            }
            case 7: {
              obj.outputDigest = reader.bytes()
              break
            }
            case 8: {
              obj.worker = reader.bytes()
              break
            }
            case 9: {
              obj.requester = reader.bytes()
              break
            }
            case 10: {
              obj.startedAt = reader.uint64()
              break
            }
            case 11: {
              obj.finishedAt = reader.uint64()
              break
            }
            case 12: {
              obj.items = reader.uint32()
              break
            }
            case 13: {
              obj.cpuMicros = reader.uint64()
              break
            }
            case 14: {
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
                field: `${prefix}.version`,
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
                field: `${prefix}.workloadVersion`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.inputDigest`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.outputDigest`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.worker`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.requester`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.startedAt`,
                value: reader.uint64()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.finishedAt`,
                value: reader.uint64()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.items`,
                value: reader.uint32()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.cpuMicros`,
                value: reader.uint64()
              }
              break
            }
            case 14: {
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

  export interface ReceiptVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ReceiptJobIdFieldEvent {
    field: '$.jobId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptShardIndexFieldEvent {
    field: '$.shardIndex'
    value: number
  }

  export interface ReceiptWorkloadFieldEvent {
    field: '$.workload'
    value: string
  }

  export interface ReceiptWorkloadVersionFieldEvent {
    field: '$.workloadVersion'
    value: string
  }

  export interface ReceiptInputDigestFieldEvent {
    field: '$.inputDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptOutputDigestFieldEvent {
    field: '$.outputDigest'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptWorkerFieldEvent {
    field: '$.worker'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptRequesterFieldEvent {
    field: '$.requester'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptStartedAtFieldEvent {
    field: '$.startedAt'
    value: bigint
  }

  export interface ReceiptFinishedAtFieldEvent {
    field: '$.finishedAt'
    value: bigint
  }

  export interface ReceiptItemsFieldEvent {
    field: '$.items'
    value: number
  }

  export interface ReceiptCpuMicrosFieldEvent {
    field: '$.cpuMicros'
    value: bigint
  }

  export interface ReceiptLamportsPerItemFieldEvent {
    field: '$.lamportsPerItem'
    value: bigint
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptVersionFieldEvent | ReceiptJobIdFieldEvent | ReceiptShardIndexFieldEvent | ReceiptWorkloadFieldEvent | ReceiptWorkloadVersionFieldEvent | ReceiptInputDigestFieldEvent | ReceiptOutputDigestFieldEvent | ReceiptWorkerFieldEvent | ReceiptRequesterFieldEvent | ReceiptStartedAtFieldEvent | ReceiptFinishedAtFieldEvent | ReceiptItemsFieldEvent | ReceiptCpuMicrosFieldEvent | ReceiptLamportsPerItemFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

export interface Verification {
  policy: string
  outcome: string
}

export namespace Verification {
  let _codec: Codec<Verification>

  export const codec = (): Codec<Verification> => {
    if (_codec == null) {
      _codec = message<Verification>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.policy != null && obj.policy !== '')) {
          w.uint32(10)
          w.string(obj.policy)
        }

        if ((obj.outcome != null && obj.outcome !== '')) {
          w.uint32(18)
          w.string(obj.outcome)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          policy: '',
          outcome: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.policy = reader.string()
              break
            }
            case 2: {
              obj.outcome = reader.string()
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
                field: `${prefix}.policy`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.outcome`,
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

  export interface VerificationPolicyFieldEvent {
    field: '$.policy'
    value: string
  }

  export interface VerificationOutcomeFieldEvent {
    field: '$.outcome'
    value: string
  }

  export function encode (obj: Partial<Verification>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Verification.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verification>): Verification {
    return decodeMessage(buf, Verification.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verification>): Generator<VerificationPolicyFieldEvent | VerificationOutcomeFieldEvent> {
    return streamMessage(buf, Verification.codec(), opts)
  }
}

export interface SignedReceipt {
  receipt: Uint8Array<ArrayBuffer>
  workerKey: Uint8Array<ArrayBuffer>
  workerSignature: Uint8Array<ArrayBuffer>
  verification?: Verification
  requesterKey: Uint8Array<ArrayBuffer>
  requesterSignature: Uint8Array<ArrayBuffer>
  workerGroup?: GroupPath
  requesterGroup?: GroupPath
}

export namespace SignedReceipt {
  let _codec: Codec<SignedReceipt>

  export const codec = (): Codec<SignedReceipt> => {
    if (_codec == null) {
      _codec = message<SignedReceipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.receipt)
        }

        if ((obj.workerKey != null && obj.workerKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.workerKey)
        }

        if ((obj.workerSignature != null && obj.workerSignature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.workerSignature)
        }

        if (obj.verification != null) {
          w.uint32(34)
          Verification.codec().encode(obj.verification, w)
        }

        if ((obj.requesterKey != null && obj.requesterKey.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.requesterKey)
        }

        if ((obj.requesterSignature != null && obj.requesterSignature.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.requesterSignature)
        }

        if (obj.workerGroup != null) {
          w.uint32(58)
          GroupPath.codec().encode(obj.workerGroup, w)
        }

        if (obj.requesterGroup != null) {
          w.uint32(66)
          GroupPath.codec().encode(obj.requesterGroup, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          receipt: uint8ArrayAlloc(0),
          workerKey: uint8ArrayAlloc(0),
          workerSignature: uint8ArrayAlloc(0),
          requesterKey: uint8ArrayAlloc(0),
          requesterSignature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.receipt = reader.bytes()
              break
            }
            case 2: {
              obj.workerKey = reader.bytes()
              break
            }
            case 3: {
              obj.workerSignature = reader.bytes()
              break
            }
            case 4: {
              obj.verification = Verification.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.verification
              })
              break
            }
            case 5: {
              obj.requesterKey = reader.bytes()
              break
            }
            case 6: {
              obj.requesterSignature = reader.bytes()
              break
            }
            case 7: {
              obj.workerGroup = GroupPath.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.workerGroup
              })
              break
            }
            case 8: {
              obj.requesterGroup = GroupPath.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.requesterGroup
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
              yield {
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.workerKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.workerSignature`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield * Verification.codec().stream(reader, reader.uint32(), `${prefix}.verification`, {
                limits: opts.limits?.verification
              })

              break
            }
            case 5: {
              yield {
                field: `${prefix}.requesterKey`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.requesterSignature`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield * GroupPath.codec().stream(reader, reader.uint32(), `${prefix}.workerGroup`, {
                limits: opts.limits?.workerGroup
              })

              break
            }
            case 8: {
              yield * GroupPath.codec().stream(reader, reader.uint32(), `${prefix}.requesterGroup`, {
                limits: opts.limits?.requesterGroup
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

  export interface SignedReceiptReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptWorkerKeyFieldEvent {
    field: '$.workerKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptWorkerSignatureFieldEvent {
    field: '$.workerSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptVerificationPolicyFieldEvent {
    field: '$.verification.policy'
    value: string
  }

  export interface SignedReceiptVerificationOutcomeFieldEvent {
    field: '$.verification.outcome'
    value: string
  }

  export interface SignedReceiptRequesterKeyFieldEvent {
    field: '$.requesterKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptRequesterSignatureFieldEvent {
    field: '$.requesterSignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptWorkerGroupIndexFieldEvent {
    field: '$.workerGroup.index'
    value: number
  }

  export interface SignedReceiptWorkerGroupCountFieldEvent {
    field: '$.workerGroup.count'
    value: number
  }

  export interface SignedReceiptWorkerGroupPathFieldEvent {
    field: '$.workerGroup.path[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedReceiptRequesterGroupIndexFieldEvent {
    field: '$.requesterGroup.index'
    value: number
  }

  export interface SignedReceiptRequesterGroupCountFieldEvent {
    field: '$.requesterGroup.count'
    value: number
  }

  export interface SignedReceiptRequesterGroupPathFieldEvent {
    field: '$.requesterGroup.path[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedReceipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedReceipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): SignedReceipt {
    return decodeMessage(buf, SignedReceipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): Generator<SignedReceiptReceiptFieldEvent | SignedReceiptWorkerKeyFieldEvent | SignedReceiptWorkerSignatureFieldEvent | SignedReceiptVerificationPolicyFieldEvent | SignedReceiptVerificationOutcomeFieldEvent | SignedReceiptRequesterKeyFieldEvent | SignedReceiptRequesterSignatureFieldEvent | SignedReceiptWorkerGroupIndexFieldEvent | SignedReceiptWorkerGroupCountFieldEvent | SignedReceiptWorkerGroupPathFieldEvent | SignedReceiptRequesterGroupIndexFieldEvent | SignedReceiptRequesterGroupCountFieldEvent | SignedReceiptRequesterGroupPathFieldEvent> {
    return streamMessage(buf, SignedReceipt.codec(), opts)
  }
}

export interface GroupPath {
  index: number
  count: number
  path: Uint8Array<ArrayBuffer>[]
}

export namespace GroupPath {
  let _codec: Codec<GroupPath>

  export const codec = (): Codec<GroupPath> => {
    if (_codec == null) {
      _codec = message<GroupPath>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint32(obj.index)
        }

        if ((obj.count != null && obj.count !== 0)) {
          w.uint32(16)
          w.uint32(obj.count)
        }

        if (obj.path != null && obj.path.length > 0) {
          for (const value of obj.path) {
            w.uint32(26)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          count: 0,
          path: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint32()
              break
            }
            case 2: {
              obj.count = reader.uint32()
              break
            }
            case 3: {
              if (opts.limits?.path != null && obj.path.length === opts.limits.path) {
                throw new MaxLengthError('Decode error - repeated field "path" had too many elements')
              }

              obj.path.push(reader.bytes())
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
          path: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              if (opts.limits?.path != null && obj.path === opts.limits.path) {
                throw new MaxLengthError('Streaming decode error - repeated field "path" had too many elements')
              }

              yield {
                field: `${prefix}.path[]`,
                index: obj.path,
                value: reader.bytes()
              }

              obj.path++

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

  export interface GroupPathIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface GroupPathCountFieldEvent {
    field: '$.count'
    value: number
  }

  export interface GroupPathPathFieldEvent {
    field: '$.path[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<GroupPath>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, GroupPath.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupPath>): GroupPath {
    return decodeMessage(buf, GroupPath.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<GroupPath>): Generator<GroupPathIndexFieldEvent | GroupPathCountFieldEvent | GroupPathPathFieldEvent> {
    return streamMessage(buf, GroupPath.codec(), opts)
  }
}
