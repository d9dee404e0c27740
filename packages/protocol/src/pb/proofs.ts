import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ProofRequest {
  receiptIds: Uint8Array<ArrayBuffer>[]
  signedIds: Uint8Array<ArrayBuffer>[]
}

export namespace ProofRequest {
  let _codec: Codec<ProofRequest>

  export const codec = (): Codec<ProofRequest> => {
    if (_codec == null) {
      _codec = message<ProofRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.receiptIds != null && obj.receiptIds.length > 0) {
          for (const value of obj.receiptIds) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (obj.signedIds != null && obj.signedIds.length > 0) {
          for (const value of obj.signedIds) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          receiptIds: [],
          signedIds: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.receiptIds != null && obj.receiptIds.length === opts.limits.receiptIds) {
                throw new MaxLengthError('Decode error - repeated field "receiptIds" had too many elements')
              }

              obj.receiptIds.push(reader.bytes())
              break
            }
            case 2: {
              if (opts.limits?.signedIds != null && obj.signedIds.length === opts.limits.signedIds) {
                throw new MaxLengthError('Decode error - repeated field "signedIds" had too many elements')
              }

              obj.signedIds.push(reader.bytes())
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
          receiptIds: 0,
          signedIds: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.receiptIds != null && obj.receiptIds === opts.limits.receiptIds) {
                throw new MaxLengthError('Streaming decode error - repeated field "receiptIds" had too many elements')
              }

              yield {
                field: `${prefix}.receiptIds[]`,
                index: obj.receiptIds,
                value: reader.bytes()
              }

              obj.receiptIds++

              break
            }
            case 2: {
              if (opts.limits?.signedIds != null && obj.signedIds === opts.limits.signedIds) {
                throw new MaxLengthError('Streaming decode error - repeated field "signedIds" had too many elements')
              }

              yield {
                field: `${prefix}.signedIds[]`,
                index: obj.signedIds,
                value: reader.bytes()
              }

              obj.signedIds++

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

  export interface ProofRequestReceiptIdsFieldEvent {
    field: '$.receiptIds[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProofRequestSignedIdsFieldEvent {
    field: '$.signedIds[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ProofRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProofRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProofRequest>): ProofRequest {
    return decodeMessage(buf, ProofRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProofRequest>): Generator<ProofRequestReceiptIdsFieldEvent | ProofRequestSignedIdsFieldEvent> {
    return streamMessage(buf, ProofRequest.codec(), opts)
  }
}

export interface ProofResponse {
  proofs: Uint8Array<ArrayBuffer>[]
  receipts: Uint8Array<ArrayBuffer>[]
}

export namespace ProofResponse {
  let _codec: Codec<ProofResponse>

  export const codec = (): Codec<ProofResponse> => {
    if (_codec == null) {
      _codec = message<ProofResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.proofs != null && obj.proofs.length > 0) {
          for (const value of obj.proofs) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (obj.receipts != null && obj.receipts.length > 0) {
          for (const value of obj.receipts) {
            w.uint32(18)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          proofs: [],
          receipts: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.proofs != null && obj.proofs.length === opts.limits.proofs) {
                throw new MaxLengthError('Decode error - repeated field "proofs" had too many elements')
              }

              obj.proofs.push(reader.bytes())
              break
            }
            case 2: {
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
          proofs: 0,
          receipts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.proofs != null && obj.proofs === opts.limits.proofs) {
                throw new MaxLengthError('Streaming decode error - repeated field "proofs" had too many elements')
              }

              yield {
                field: `${prefix}.proofs[]`,
                index: obj.proofs,
                value: reader.bytes()
              }

              obj.proofs++

              break
            }
            case 2: {
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

  export interface ProofResponseProofsFieldEvent {
    field: '$.proofs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProofResponseReceiptsFieldEvent {
    field: '$.receipts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<ProofResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProofResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProofResponse>): ProofResponse {
    return decodeMessage(buf, ProofResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProofResponse>): Generator<ProofResponseProofsFieldEvent | ProofResponseReceiptsFieldEvent> {
    return streamMessage(buf, ProofResponse.codec(), opts)
  }
}
