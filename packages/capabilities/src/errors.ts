import { ShardmeshError } from '@shardmesh/protocol'

/**
 * Why an advert was refused. Each reason is logged, counted in
 * `shardmesh_capabilities_adverts_rejected_total{reason}` and never crashes the node.
 */
export type RejectReason =
  | 'oversized'        // over the size limit of the message or one of its fields
  | 'undecodable'      // not a valid protobuf of the expected shape
  | 'invalid'          // decodes, but breaks a rule (bad key type, TTL too long, ...)
  | 'bad-signature'    // the signature does not verify with the included key
  | 'signer-mismatch'  // the advert names a peer other than the key that signed it
  | 'sender-mismatch'  // signed by someone other than the peer that published / answered
  | 'expired'          // past its expiry by more than the clock skew tolerated
  | 'clock-skew'       // issued further in the future than the clock skew tolerated
  | 'not-newer'        // sequence number not above the one we hold (a replay or a duplicate)
  | 'table-full'       // the peer table is at MAX_TABLE_SIZE

export const REJECT_REASONS: readonly RejectReason[] = [
  'oversized', 'undecodable', 'invalid', 'bad-signature', 'signer-mismatch',
  'sender-mismatch', 'expired', 'clock-skew', 'not-newer', 'table-full'
]

/** An advert was refused; `reason` says which check failed. */
export class AdvertRejectedError extends ShardmeshError {
  public readonly reason: RejectReason

  /** The code of a rejection: `ERR_ADVERT_` and the reason (`ERR_ADVERT_BAD_SIGNATURE`). */
  static codeOf (reason: RejectReason): string {
    return `ERR_ADVERT_${reason.toUpperCase().replace('-', '_')}`
  }

  constructor (reason: RejectReason, message: string, options?: ErrorOptions) {
    super(`advert rejected (${reason}): ${message}`, AdvertRejectedError.codeOf(reason), options)
    this.name = 'AdvertRejectedError'
    this.reason = reason
  }
}

/** The remote peer does not speak the caps protocol or answered with an error. */
export class CapsRequestError extends ShardmeshError {
  /** the code when the peer gave none (an answer with an error carries the peer's code) */
  static readonly code = 'ERR_CAPS_REQUEST'

  constructor (message: string, code: string = CapsRequestError.code, options?: ErrorOptions) {
    super(message, code, options)
    this.name = 'CapsRequestError'
  }
}

/** A capability key that does not follow the `kind:value` scheme. */
export class InvalidCapabilityKeyError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_CAPABILITY_KEY'

  constructor (message: string, options?: ErrorOptions) {
    super(message, InvalidCapabilityKeyError.code, options)
    this.name = 'InvalidCapabilityKeyError'
  }
}
