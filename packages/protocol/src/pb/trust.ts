import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Attestation {
  challenger: Uint8Array<ArrayBuffer>
  subject: Uint8Array<ArrayBuffer>
  workload: string
  version: string
  items: number
  itemsPerSec: number
  ok: boolean
  beyondCpu: boolean
  at: bigint
  nonce: Uint8Array<ArrayBuffer>
}

export namespace Attestation {
  let _codec: Codec<Attestation>

  export const codec = (): Codec<Attestation> => {
    if (_codec == null) {
      _codec = message<Attestation>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.challenger != null && obj.challenger.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.challenger)
        }

        if ((obj.subject != null && obj.subject.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.subject)
        }

        if ((obj.workload != null && obj.workload !== '')) {
          w.uint32(26)
          w.string(obj.workload)
        }

        if ((obj.version != null && obj.version !== '')) {
          w.uint32(34)
          w.string(obj.version)
        }

        if ((obj.items != null && obj.items !== 0)) {
          w.uint32(40)
          w.uint32(obj.items)
        }

        if ((obj.itemsPerSec != null && obj.itemsPerSec !== 0)) {
          w.uint32(49)
          w.double(obj.itemsPerSec)
        }

        if ((obj.ok != null && obj.ok !== false)) {
          w.uint32(56)
          w.bool(obj.ok)
        }

        if ((obj.beyondCpu != null && obj.beyondCpu !== false)) {
          w.uint32(64)
          w.bool(obj.beyondCpu)
        }

        if ((obj.at != null && obj.at !== 0n)) {
          w.uint32(72)
          w.uint64(obj.at)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.nonce)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          challenger: uint8ArrayAlloc(0),
          subject: uint8ArrayAlloc(0),
          workload: '',
          version: '',
          items: 0,
          itemsPerSec: 0,
          ok: false,
          beyondCpu: false,
          at: 0n,
          nonce: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.challenger = reader.bytes()
              break
            }
            case 2: {
              obj.subject = reader.bytes()
              break
            }
            case 3: {
              obj.workload = reader.string()
              break
            }
            case 4: {
              obj.version = reader.string()
              break
            }
            case 5: {
              obj.items = reader.uint32()
              break
            }
            case 6: {
              obj.itemsPerSec = reader.double()
              break
            }
            case 7: {
              obj.ok = reader.bool()
              break
            }
            case 8: {
              obj.beyondCpu = reader.bool()
              break
            }
            case 9: {
              obj.at = reader.uint64()
              break
            }
            case 10: {
              obj.nonce = reader.bytes()
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
                field: `${prefix}.challenger`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.subject`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.workload`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.version`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.items`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.itemsPerSec`,
                value: reader.double()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.ok`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.beyondCpu`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.at`,
                value: reader.uint64()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.nonce`,
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

  export interface AttestationChallengerFieldEvent {
    field: '$.challenger'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AttestationSubjectFieldEvent {
    field: '$.subject'
    value: Uint8Array<ArrayBuffer>
  }

  export interface AttestationWorkloadFieldEvent {
    field: '$.workload'
    value: string
  }

  export interface AttestationVersionFieldEvent {
    field: '$.version'
    value: string
  }

  export interface AttestationItemsFieldEvent {
    field: '$.items'
    value: number
  }

  export interface AttestationItemsPerSecFieldEvent {
    field: '$.itemsPerSec'
    value: number
  }

  export interface AttestationOkFieldEvent {
    field: '$.ok'
    value: boolean
  }

  export interface AttestationBeyondCpuFieldEvent {
    field: '$.beyondCpu'
    value: boolean
  }

  export interface AttestationAtFieldEvent {
    field: '$.at'
    value: bigint
  }

  export interface AttestationNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Attestation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Attestation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Attestation>): Attestation {
    return decodeMessage(buf, Attestation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Attestation>): Generator<AttestationChallengerFieldEvent | AttestationSubjectFieldEvent | AttestationWorkloadFieldEvent | AttestationVersionFieldEvent | AttestationItemsFieldEvent | AttestationItemsPerSecFieldEvent | AttestationOkFieldEvent | AttestationBeyondCpuFieldEvent | AttestationAtFieldEvent | AttestationNonceFieldEvent> {
    return streamMessage(buf, Attestation.codec(), opts)
  }
}

export interface SignedAttestation {
  payload: Uint8Array<ArrayBuffer>
  publicKey: Uint8Array<ArrayBuffer>
  signature: Uint8Array<ArrayBuffer>
}

export namespace SignedAttestation {
  let _codec: Codec<SignedAttestation>

  export const codec = (): Codec<SignedAttestation> => {
    if (_codec == null) {
      _codec = message<SignedAttestation>((obj, w, opts = {}) => {
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

  export interface SignedAttestationPayloadFieldEvent {
    field: '$.payload'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAttestationPublicKeyFieldEvent {
    field: '$.publicKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SignedAttestationSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SignedAttestation>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SignedAttestation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAttestation>): SignedAttestation {
    return decodeMessage(buf, SignedAttestation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedAttestation>): Generator<SignedAttestationPayloadFieldEvent | SignedAttestationPublicKeyFieldEvent | SignedAttestationSignatureFieldEvent> {
    return streamMessage(buf, SignedAttestation.codec(), opts)
  }
}
