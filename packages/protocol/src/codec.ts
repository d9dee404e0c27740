import { decodeMessage, MaxLengthError } from 'protons-runtime'
import {
  MAX_ADVERT_ADDRS,
  MAX_ADVERT_BYTES,
  MAX_ADVERT_GPUS,
  MAX_ADVERT_MODELS,
  MAX_ADVERT_WORKLOADS,
  MAX_CAPS_REQUEST_BYTES,
  MAX_CAPS_RESPONSE_BYTES,
  MAX_SIGNED_ADVERT_BYTES
} from './constants.js'
import { InvalidMessageError, MessageTooLargeError } from './errors.js'
import { CapabilityAdvert, CapsRequest, CapsResponse, SignedAdvert } from './pb/capabilities.js'
import type { Codec, DecodeOptions } from 'protons-runtime'

/**
 * Decode `bytes` as a protobuf message with a hard size limit. Whatever the input, only
 * `MessageTooLargeError` or `InvalidMessageError` can come out: a hostile peer never
 * reaches an unnamed exception.
 */
export function decodeLimited <T> (
  name: string,
  codec: Codec<T>,
  bytes: Uint8Array,
  maxBytes: number,
  options: DecodeOptions<T> = {}
): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidMessageError(`${name}: expected bytes`)
  }
  if (bytes.byteLength > maxBytes) {
    throw new MessageTooLargeError(`${name}: ${bytes.byteLength} bytes is over the ${maxBytes} byte limit`)
  }
  try {
    return decodeMessage(bytes, codec, options)
  } catch (err: any) {
    if (err instanceof MaxLengthError || err?.name === 'MaxLengthError') {
      throw new MessageTooLargeError(`${name}: ${String(err.message)}`, { cause: err })
    }
    throw new InvalidMessageError(`${name}: undecodable (${String(err?.message ?? err)})`, { cause: err })
  }
}

const ADVERT_LIMITS = {
  limits: {
    workloads: MAX_ADVERT_WORKLOADS,
    models: MAX_ADVERT_MODELS,
    addrs: MAX_ADVERT_ADDRS,
    hardware: { gpus: MAX_ADVERT_GPUS }
  }
} as DecodeOptions<CapabilityAdvert>

export function decodeCapabilityAdvert (bytes: Uint8Array): CapabilityAdvert {
  return decodeLimited('CapabilityAdvert', CapabilityAdvert.codec(), bytes, MAX_ADVERT_BYTES, ADVERT_LIMITS)
}

export function encodeCapabilityAdvert (advert: CapabilityAdvert): Uint8Array {
  const bytes = CapabilityAdvert.encode(advert)
  if (bytes.byteLength > MAX_ADVERT_BYTES) {
    throw new MessageTooLargeError(`CapabilityAdvert: ${bytes.byteLength} bytes is over the ${MAX_ADVERT_BYTES} byte limit`)
  }
  return bytes
}

export function decodeSignedAdvert (bytes: Uint8Array): SignedAdvert {
  return decodeLimited('SignedAdvert', SignedAdvert.codec(), bytes, MAX_SIGNED_ADVERT_BYTES)
}

/** A message type with every `Uint8Array` field, however deep, loosened to any backing buffer. */
export type Loose<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint | string | number | boolean
    ? T
    : T extends Array<infer E> ? Array<Loose<E>> : { [K in keyof T]: Loose<T[K]> }

export function encodeSignedAdvert (signed: Loose<SignedAdvert>): Uint8Array {
  return SignedAdvert.encode(signed as SignedAdvert)
}

export function decodeCapsResponse (bytes: Uint8Array): CapsResponse {
  return decodeLimited('CapsResponse', CapsResponse.codec(), bytes, MAX_CAPS_RESPONSE_BYTES)
}

export function encodeCapsResponse (response: Loose<CapsResponse>): Uint8Array {
  return CapsResponse.encode(response as CapsResponse)
}

export function decodeCapsRequest (bytes: Uint8Array): CapsRequest {
  return decodeLimited('CapsRequest', CapsRequest.codec(), bytes, MAX_CAPS_REQUEST_BYTES)
}

export function encodeCapsRequest (request: CapsRequest): Uint8Array {
  return CapsRequest.encode(request)
}
