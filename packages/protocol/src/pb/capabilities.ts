import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Gpu {
  vendor: string
  model: string
  memoryBytes: bigint
  uuid: string
  driver: string
}

export namespace Gpu {
  let _codec: Codec<Gpu>

  export const codec = (): Codec<Gpu> => {
    if (_codec == null) {
      _codec = message<Gpu>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.vendor != null && obj.vendor !== '')) {
          w.uint32(10)
          w.string(obj.vendor)
        }

        if ((obj.model != null && obj.model !== '')) {
          w.uint32(18)
          w.string(obj.model)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0n)) {
          w.uint32(24)
          w.uint64(obj.memoryBytes)
        }

        if ((obj.uuid != null && obj.uuid !== '')) {
          w.uint32(34)
          w.string(obj.uuid)
        }

        if ((obj.driver != null && obj.driver !== '')) {
          w.uint32(42)
          w.string(obj.driver)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          vendor: '',
          model: '',
          memoryBytes: 0n,
          uuid: '',
          driver: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.vendor = reader.string()
              break
            }
            case 2: {
              obj.model = reader.string()
              break
            }
            case 3: {
              obj.memoryBytes = reader.uint64()
              break
            }
            case 4: {
              obj.uuid = reader.string()
              break
            }
            case 5: {
              obj.driver = reader.string()
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
                field: `${prefix}.vendor`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.model`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.uuid`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.driver`,
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

  export interface GpuVendorFieldEvent {
    field: '$.vendor'
    value: string
  }

  export interface GpuModelFieldEvent {
    field: '$.model'
    value: string
  }

  export interface GpuMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: bigint
  }

  export interface GpuUuidFieldEvent {
    field: '$.uuid'
    value: string
  }

  export interface GpuDriverFieldEvent {
    field: '$.driver'
    value: string
  }

  export function encode (obj: Partial<Gpu>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Gpu.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Gpu {
    return decodeMessage(buf, Gpu.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Gpu>): Generator<GpuVendorFieldEvent | GpuModelFieldEvent | GpuMemoryBytesFieldEvent | GpuUuidFieldEvent | GpuDriverFieldEvent> {
    return streamMessage(buf, Gpu.codec(), opts)
  }
}

export interface Hardware {
  cpuModel: string
  cpuCores: number
  memoryBytes: bigint
  gpus: Gpu[]
  platform: string
  arch: string
}

export namespace Hardware {
  let _codec: Codec<Hardware>

  export const codec = (): Codec<Hardware> => {
    if (_codec == null) {
      _codec = message<Hardware>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cpuModel != null && obj.cpuModel !== '')) {
          w.uint32(10)
          w.string(obj.cpuModel)
        }

        if ((obj.cpuCores != null && obj.cpuCores !== 0)) {
          w.uint32(16)
          w.uint32(obj.cpuCores)
        }

        if ((obj.memoryBytes != null && obj.memoryBytes !== 0n)) {
          w.uint32(24)
          w.uint64(obj.memoryBytes)
        }

        if (obj.gpus != null && obj.gpus.length > 0) {
          for (const value of obj.gpus) {
            w.uint32(34)
            Gpu.codec().encode(value, w)
          }
        }

        if ((obj.platform != null && obj.platform !== '')) {
          w.uint32(42)
          w.string(obj.platform)
        }

        if ((obj.arch != null && obj.arch !== '')) {
          w.uint32(50)
          w.string(obj.arch)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cpuModel: '',
          cpuCores: 0,
          memoryBytes: 0n,
          gpus: [],
          platform: '',
          arch: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cpuModel = reader.string()
              break
            }
            case 2: {
              obj.cpuCores = reader.uint32()
              break
            }
            case 3: {
              obj.memoryBytes = reader.uint64()
              break
            }
            case 4: {
              if (opts.limits?.gpus != null && obj.gpus.length === opts.limits.gpus) {
                throw new MaxLengthError('Decode error - repeated field "gpus" had too many elements')
              }

              obj.gpus.push(Gpu.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.gpus$
              }))
              break
            }
            case 5: {
              obj.platform = reader.string()
              break
            }
            case 6: {
              obj.arch = reader.string()
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
          gpus: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.cpuModel`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cpuCores`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.memoryBytes`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              if (opts.limits?.gpus != null && obj.gpus === opts.limits.gpus) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpus" had too many elements')
              }

              for (const evt of Gpu.codec().stream(reader, reader.uint32(), `${prefix}.gpus[]`, {
                limits: opts.limits?.gpus$
              })) {
                yield {
                  ...evt,
                  index: obj.gpus
                }
              }

              obj.gpus++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.platform`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.arch`,
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

  export interface HardwareCpuModelFieldEvent {
    field: '$.cpuModel'
    value: string
  }

  export interface HardwareCpuCoresFieldEvent {
    field: '$.cpuCores'
    value: number
  }

  export interface HardwareMemoryBytesFieldEvent {
    field: '$.memoryBytes'
    value: bigint
  }

  export interface HardwareGpusVendorFieldEvent {
    field: '$.gpus[].vendor'
    value: string
    index: number
  }

  export interface HardwareGpusModelFieldEvent {
    field: '$.gpus[].model'
    value: string
    index: number
  }

  export interface HardwareGpusMemoryBytesFieldEvent {
    field: '$.gpus[].memoryBytes'
    value: bigint
    index: number
  }

  export interface HardwareGpusUuidFieldEvent {
    field: '$.gpus[].uuid'
    value: string
    index: number
  }

  export interface HardwareGpusDriverFieldEvent {
    field: '$.gpus[].driver'
    value: string
    index: number
  }

  export interface HardwarePlatformFieldEvent {
    field: '$.platform'
    value: string
  }

  export interface HardwareArchFieldEvent {
    field: '$.arch'
    value: string
  }

  export function encode (obj: Partial<Hardware>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hardware.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Hardware {
    return decodeMessage(buf, Hardware.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hardware>): Generator<HardwareCpuModelFieldEvent | HardwareCpuCoresFieldEvent | HardwareMemoryBytesFieldEvent | HardwareGpusVendorFieldEvent | HardwareGpusModelFieldEvent | HardwareGpusMemoryBytesFieldEvent | HardwareGpusUuidFieldEvent | HardwareGpusDriverFieldEvent | HardwarePlatformFieldEvent | HardwareArchFieldEvent> {
    return streamMessage(buf, Hardware.codec(), opts)
  }
}

export interface WorkloadOffer {
  id: string
  version: string
  throughput: number
}

export namespace WorkloadOffer {
  let _codec: Codec<WorkloadOffer>

  export const codec = (): Codec<WorkloadOffer> => {
    if (_codec == null) {
      _codec = message<WorkloadOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(18)
          w.string(obj.version)
        }

        if ((obj.throughput != null && obj.throughput !== 0)) {
          w.uint32(25)
          w.double(obj.throughput)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          version: '',
          throughput: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              obj.version = reader.string()
              break
            }
            case 3: {
              obj.throughput = reader.double()
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
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.throughput`,
                value: reader.double()
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

  export interface WorkloadOfferIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface WorkloadOfferVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface WorkloadOfferThroughputFieldEvent {
    field: '$.throughput'
    value: number
  }

  export function encode (obj: Partial<WorkloadOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WorkloadOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkloadOffer>): WorkloadOffer {
    return decodeMessage(buf, WorkloadOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkloadOffer>): Generator<WorkloadOfferIdFieldEvent | WorkloadOfferVersionFieldEvent | WorkloadOfferThroughputFieldEvent> {
    return streamMessage(buf, WorkloadOffer.codec(), opts)
  }
}

export interface CapabilityAdvert {
  peerId: Uint8Array<ArrayBuffer>
  seq: bigint
  issuedAt: bigint
  expiresAt: bigint
  hardware?: Hardware
  workloads: WorkloadOffer[]
  models: Uint8Array<ArrayBuffer>[]
  loadPermille: number
  freeSlots: number
  totalSlots: number
  priceHint: string
  addrs: Uint8Array<ArrayBuffer>[]
}

export namespace CapabilityAdvert {
  let _codec: Codec<CapabilityAdvert>

  export const codec = (): Codec<CapabilityAdvert> => {
    if (_codec == null) {
      _codec = message<CapabilityAdvert>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.peerId != null && obj.peerId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.peerId)
        }

        if ((obj.seq != null && obj.seq !== 0n)) {
          w.uint32(16)
          w.uint64(obj.seq)
        }

        if ((obj.issuedAt != null && obj.issuedAt !== 0n)) {
          w.uint32(24)
          w.uint64(obj.issuedAt)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(32)
          w.uint64(obj.expiresAt)
        }

        if (obj.hardware != null) {
          w.uint32(42)
          Hardware.codec().encode(obj.hardware, w)
        }

        if (obj.workloads != null && obj.workloads.length > 0) {
          for (const value of obj.workloads) {
            w.uint32(50)
            WorkloadOffer.codec().encode(value, w)
          }
        }

        if (obj.models != null && obj.models.length > 0) {
          for (const value of obj.models) {
            w.uint32(58)
            w.bytes(value)
          }
        }

        if ((obj.loadPermille != null && obj.loadPermille !== 0)) {
          w.uint32(64)
          w.uint32(obj.loadPermille)
        }

        if ((obj.freeSlots != null && obj.freeSlots !== 0)) {
          w.uint32(72)
          w.uint32(obj.freeSlots)
        }

        if ((obj.totalSlots != null && obj.totalSlots !== 0)) {
          w.uint32(80)
          w.uint32(obj.totalSlots)
        }

        if ((obj.priceHint != null && obj.priceHint !== '')) {
          w.uint32(90)
          w.string(obj.priceHint)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(98)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          peerId: uint8ArrayAlloc(0),
          seq: 0n,
          issuedAt: 0n,
          expiresAt: 0n,
          workloads: [],
          models: [],
          loadPermille: 0,
          freeSlots: 0,
          totalSlots: 0,
          priceHint: '',
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.peerId = reader.bytes()
              break
            }
            case 2: {
              obj.seq = reader.uint64()
              break
            }
            case 3: {
              obj.issuedAt = reader.uint64()
              break
            }
            case 4: {
              obj.expiresAt = reader.uint64()
              break
            }
            case 5: {
              obj.hardware = Hardware.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hardware
              })
              break
            }
            case 6: {
              if (opts.limits?.workloads != null && obj.workloads.length === opts.limits.workloads) {
                throw new MaxLengthError('Decode error - repeated field "workloads" had too many elements')
              }

              obj.workloads.push(WorkloadOffer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.workloads$
              }))
              break
            }
            case 7: {
              if (opts.limits?.models != null && obj.models.length === opts.limits.models) {
                throw new MaxLengthError('Decode error - repeated field "models" had too many elements')
              }

              obj.models.push(reader.bytes())
              break
            }
            case 8: {
              obj.loadPermille = reader.uint32()
              break
            }
            case 9: {
              obj.freeSlots = reader.uint32()
              break
            }
            case 10: {
              obj.totalSlots = reader.uint32()
              break
            }
            case 11: {
              obj.priceHint = reader.string()
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
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
          workloads: 0,
          models: 0,
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.peerId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.issuedAt`,
                value: reader.uint64()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64()
              }
              break
            }
            case 5: {
              yield * Hardware.codec().stream(reader, reader.uint32(), `${prefix}.hardware`, {
                limits: opts.limits?.hardware
              })

              break
            }
            case 6: {
              if (opts.limits?.workloads != null && obj.workloads === opts.limits.workloads) {
                throw new MaxLengthError('Streaming decode error - repeated field "workloads" had too many elements')
              }

              for (const evt of WorkloadOffer.codec().stream(reader, reader.uint32(), `${prefix}.workloads[]`, {
                limits: opts.limits?.workloads$
              })) {
                yield {
                  ...evt,
                  index: obj.workloads
                }
              }

              obj.workloads++

              break
            }
            case 7: {
              if (opts.limits?.models != null && obj.models === opts.limits.models) {
                throw new MaxLengthError('Streaming decode error - repeated field "models" had too many elements')
              }

              yield {
                field: `${prefix}.models[]`,
                index: obj.models,
                value: reader.bytes()
              }

              obj.models++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.loadPermille`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.freeSlots`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.totalSlots`,
                value: reader.uint32()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.priceHint`,
                value: reader.string()
              }
              break
            }
            case 12: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

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

  export interface CapabilityAdvertPeerIdFieldEvent {
    field: '$.peerId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CapabilityAdvertSeqFieldEvent {
    field: '$.seq'
    value: bigint
  }

  export interface CapabilityAdvertIssuedAtFieldEvent {
    field: '$.issuedAt'
    value: bigint
  }

  export interface CapabilityAdvertExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export interface CapabilityAdvertHardwareCpuModelFieldEvent {
    field: '$.hardware.cpuModel'
    value: string
  }

  export interface CapabilityAdvertHardwareCpuCoresFieldEvent {
    field: '$.hardware.cpuCores'
    value: number
  }

  export interface CapabilityAdvertHardwareMemoryBytesFieldEvent {
    field: '$.hardware.memoryBytes'
    value: bigint
  }

  export interface CapabilityAdvertHardwareGpusVendorFieldEvent {
    field: '$.hardware.gpus[].vendor'
    value: string
    index: number
  }

  export interface CapabilityAdvertHardwareGpusModelFieldEvent {
    field: '$.hardware.gpus[].model'
    value: string
    index: number
  }

  export interface CapabilityAdvertHardwareGpusMemoryBytesFieldEvent {
    field: '$.hardware.gpus[].memoryBytes'
    value: bigint
    index: number
  }

  export interface CapabilityAdvertHardwareGpusUuidFieldEvent {
    field: '$.hardware.gpus[].uuid'
    value: string
    index: number
  }

  export interface CapabilityAdvertHardwareGpusDriverFieldEvent {
    field: '$.hardware.gpus[].driver'
    value: string
    index: number
  }

  export interface CapabilityAdvertHardwarePlatformFieldEvent {
    field: '$.hardware.platform'
    value: string
  }

  export interface CapabilityAdvertHardwareArchFieldEvent {
    field: '$.hardware.arch'
    value: string
  }

  export interface CapabilityAdvertWorkloadsIdFieldEvent {
    field: '$.workloads[].id'
    value: string
    index: number
  }

  export interface CapabilityAdvertWorkloadsVersionFieldEvent {
    field: '$.workloads[].version'
    value: string
    index: number
  }

  export interface CapabilityAdvertWorkloadsThroughputFieldEvent {
    field: '$.workloads[].throughput'
    value: number
    index: number
  }

  export interface CapabilityAdvertModelsFieldEvent {
    field: '$.models[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface CapabilityAdvertLoadPermilleFieldEvent {
    field: '$.loadPermille'
    value: number
  }

  export interface CapabilityAdvertFreeSlotsFieldEvent {
    field: '$.freeSlots'
    value: number
  }

  export interface CapabilityAdvertTotalSlotsFieldEvent {
    field: '$.totalSlots'
    value: number
  }

  export interface CapabilityAdvertPriceHintFieldEvent {
    field: '$.priceHint'
    value: string
  }

  export interface CapabilityAdvertAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CapabilityAdvert>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapabilityAdvert.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapabilityAdvert>): CapabilityAdvert {
    return decodeMessage(buf, CapabilityAdvert.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapabilityAdvert>): Generator<CapabilityAdvertPeerIdFieldEvent | CapabilityAdvertSeqFieldEvent | CapabilityAdvertIssuedAtFieldEvent | CapabilityAdvertExpiresAtFieldEvent | CapabilityAdvertHardwareCpuModelFieldEvent | CapabilityAdvertHardwareCpuCoresFieldEvent | CapabilityAdvertHardwareMemoryBytesFieldEvent | CapabilityAdvertHardwareGpusVendorFieldEvent | CapabilityAdvertHardwareGpusModelFieldEvent | CapabilityAdvertHardwareGpusMemoryBytesFieldEvent | CapabilityAdvertHardwareGpusUuidFieldEvent | CapabilityAdvertHardwareGpusDriverFieldEvent | CapabilityAdvertHardwarePlatformFieldEvent | CapabilityAdvertHardwareArchFieldEvent | CapabilityAdvertWorkloadsIdFieldEvent | CapabilityAdvertWorkloadsVersionFieldEvent | CapabilityAdvertWorkloadsThroughputFieldEvent | CapabilityAdvertModelsFieldEvent | CapabilityAdvertLoadPermilleFieldEvent | CapabilityAdvertFreeSlotsFieldEvent | CapabilityAdvertTotalSlotsFieldEvent | CapabilityAdvertPriceHintFieldEvent | CapabilityAdvertAddrsFieldEvent> {
    return streamMessage(buf, CapabilityAdvert.codec(), opts)
  }
}

export interface SignedAdvert {
  payload: Uint8Array<ArrayBuffer>
  publicKey: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedAdvert {
  let _codec: Codec<SignedAdvert>

  export const codec = (): Codec<SignedAdvert> => {
    if (_codec == null) {
      _codec = message<SignedAdvert>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.payload != null && obj.payload.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.payload)
        }

        if ((obj.publicKey != null && obj.publicKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.publicKey)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          payload: uint8ArrayAlloc(0),
          publicKey: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.payload = reader.bytes()
              break
            }
            case 2: {
              obj.publicKey = reader.bytes()
              break
            }
            case 3: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.payload`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.publicKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedAdvertPayloadFieldEvent {
    field: '$.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAdvertPublicKeyFieldEvent {
    field: '$.publicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAdvertSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedAdvert>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedAdvert.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAdvert>): SignedAdvert {
    return decodeMessage(buf, SignedAdvert.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAdvert>): Generator<SignedAdvertPayloadFieldEvent | SignedAdvertPublicKeyFieldEvent | SignedAdvertSignatureFieldEvent> {
    return streamMessage(buf, SignedAdvert.codec(), opts)
  }
}

export interface CapsRequest {
  includeKnown: boolean
  maxAdverts: number
}

export namespace CapsRequest {
  let _codec: Codec<CapsRequest>

  export const codec = (): Codec<CapsRequest> => {
    if (_codec == null) {
      _codec = message<CapsRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.includeKnown != null && obj.includeKnown !== false)) {
          w.uint32(8)
          w.bool(obj.includeKnown)
        }

        if ((obj.maxAdverts != null && obj.maxAdverts !== 0)) {
          w.uint32(16)
          w.uint32(obj.maxAdverts)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          includeKnown: false,
          maxAdverts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.includeKnown = reader.bool()
              break
            }
            case 2: {
              obj.maxAdverts = reader.uint32()
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
                field: `${prefix}.includeKnown`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.maxAdverts`,
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

  export interface CapsRequestIncludeKnownFieldEvent {
    field: '$.includeKnown'
    value: boolean
  }

  export interface CapsRequestMaxAdvertsFieldEvent {
    field: '$.maxAdverts'
    value: number
  }

  export function encode (obj: Partial<CapsRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapsRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapsRequest>): CapsRequest {
    return decodeMessage(buf, CapsRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapsRequest>): Generator<CapsRequestIncludeKnownFieldEvent | CapsRequestMaxAdvertsFieldEvent> {
    return streamMessage(buf, CapsRequest.codec(), opts)
  }
}

export interface CapsResponse {
  advert: Uint8Array<ArrayBuffer>
  more: number
  error?: WireError
}

export namespace CapsResponse {
  let _codec: Codec<CapsResponse>

  export const codec = (): Codec<CapsResponse> => {
    if (_codec == null) {
      _codec = message<CapsResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.advert != null && obj.advert.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.advert)
        }

        if ((obj.more != null && obj.more !== 0)) {
          w.uint32(16)
          w.uint32(obj.more)
        }

        if (obj.error != null) {
          w.uint32(26)
          WireError.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          advert: uint8ArrayAlloc(0),
          more: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.advert = reader.bytes()
              break
            }
            case 2: {
              obj.more = reader.uint32()
              break
            }
            case 3: {
              obj.error = WireError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
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
                field: `${prefix}.advert`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.more`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield * WireError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
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

  export interface CapsResponseAdvertFieldEvent {
    field: '$.advert'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CapsResponseMoreFieldEvent {
    field: '$.more'
    value: number
  }

  export interface CapsResponseErrorCodeFieldEvent {
    field: '$.error.code'
    value: string
  }

  export interface CapsResponseErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export function encode (obj: Partial<CapsResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapsResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapsResponse>): CapsResponse {
    return decodeMessage(buf, CapsResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapsResponse>): Generator<CapsResponseAdvertFieldEvent | CapsResponseMoreFieldEvent | CapsResponseErrorCodeFieldEvent | CapsResponseErrorMessageFieldEvent> {
    return streamMessage(buf, CapsResponse.codec(), opts)
  }
}

export interface WireError {
  code: string
  message: string
}

export namespace WireError {
  let _codec: Codec<WireError>

  export const codec = (): Codec<WireError> => {
    if (_codec == null) {
      _codec = message<WireError>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
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
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
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

  export interface WireErrorCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface WireErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<WireError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WireError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireError>): WireError {
    return decodeMessage(buf, WireError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WireError>): Generator<WireErrorCodeFieldEvent | WireErrorMessageFieldEvent> {
    return streamMessage(buf, WireError.codec(), opts)
  }
}
