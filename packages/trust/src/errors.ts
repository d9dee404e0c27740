import type { AttestationRejectReason } from './types.js'

/** An attestation refused by `verifyAttestation` or the `AttestationLog`: `reason` says why. */
export class AttestationRejectedError extends Error {
  static readonly code = 'ERR_ATTESTATION_REJECTED'
  readonly code = AttestationRejectedError.code
  override readonly name = 'AttestationRejectedError'

  constructor (public readonly reason: AttestationRejectReason, message: string) {
    super(`attestation rejected (${reason}): ${message}`)
  }
}
