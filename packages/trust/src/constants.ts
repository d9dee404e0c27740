/** Defaults of the trust layer. Every figure here is a policy choice, documented in the README. */

/** Evidence loses half its weight in this long (ms). */
export const EVIDENCE_HALF_LIFE = 6 * 60 * 60 * 1000
/** Challenges a peer on probation must pass to leave it. */
export const PROBATION_CHALLENGES = 3
/** Peers a trust book keeps. */
export const MAX_TRUST_PEERS = 10_000
/** Attestations of a challenger count only when its own score is at least this. */
export const TRUSTED_ATTESTER_SCORE = 0.6
/** A claim per slot above this multiple of the measured speed is contradicted. */
export const CONTRADICTION_FACTOR = 4
/** More GPUs than this in one machine is implausible. */
export const MAX_PLAUSIBLE_GPUS = 16
/** Attestations older than this are neither accepted nor counted (ms). */
export const MAX_ATTESTATION_AGE = 24 * 60 * 60 * 1000
/** Clock skew tolerated on an attestation's `at` (ms). */
export const MAX_ATTESTATION_SKEW = 60_000
/** Attestations kept per subject, and subjects kept. */
export const MAX_ATTESTATIONS_PER_SUBJECT = 32
export const MAX_ATTESTATION_SUBJECTS = 4096
/** Attestations accepted from one challenger per window. */
export const ATTESTATION_RATE = { count: 60, windowMs: 60_000 }
