/**
 * @packageDocumentation
 *
 * Nothing believed that was not measured. A node's evidence about its peers (shards accepted,
 * failures, disputes, challenges, liveness) with decay, persisted; signed attestations of
 * challenges, checked and bounded; and the status of every claim a peer makes about itself
 * (`claimed`, `measured`, `contradicted`, `implausible`). This package has no networking: the
 * compute service runs the challenges and gossips the attestations.
 */

export * from './types.js'
export { signAttestation, verifyAttestation } from './attestation.js'
export type { SignAttestationOptions, VerifyAttestationOptions } from './attestation.js'
export { AttestationLog } from './attestation-log.js'
export type { AttestationLogInit } from './attestation-log.js'
export { TrustBook } from './trust-book.js'
export type { TrustBookInit } from './trust-book.js'
export { throughputClaim, gpuClaim, shortPeerId, formatRate, formatAge } from './claims.js'
export type { HardwareClaim } from './claims.js'
export { AttestationRejectedError } from './errors.js'
export * as constants from './constants.js'
