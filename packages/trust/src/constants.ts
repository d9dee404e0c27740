/** Defaults of the trust layer. Every figure here is a policy choice, documented in the README. */

import type { EvidenceKind } from './types.js'

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
/** Attestations one challenger may hold about one subject (its newest; an older one for the same workload is replaced). */
export const MAX_ATTESTATIONS_PER_CHALLENGER = 4
/** Challengers whose acceptance rate is tracked at once (the least recently seen go first). */
export const MAX_RATE_TRACKED_CHALLENGERS = 16_384
/** Bytes of an attestation's nonce. */
export const ATTESTATION_NONCE_BYTES = 16

/**
 * How much one piece of evidence of each kind counts, as good or bad, in the Beta-reputation
 * score `(good + 1) / (good + bad + 2)`. A lie (a lost dispute, a wrong answer to a challenge)
 * outweighs ten honest results; a slow or silent peer is only mildly suspect.
 */
export const EVIDENCE_WEIGHTS: Readonly<Record<EvidenceKind, Readonly<{ good: number, bad: number }>>> = Object.freeze({
  'shard-accepted': { good: 1, bad: 0 },
  'dispute-won': { good: 1, bad: 0 },
  'challenge-passed': { good: 3, bad: 0 },
  'shard-failed': { good: 0, bad: 1 },
  'shard-timeout': { good: 0, bad: 1 },
  unresponsive: { good: 0, bad: 1 },
  'challenge-timeout': { good: 0, bad: 0.5 },
  'dispute-lost': { good: 0, bad: 10 },
  'challenge-failed': { good: 0, bad: 10 }
})
/** Most an attestation of another node counts (from an attester with score 1), as good or, failed, as bad × 10. */
export const ATTESTATION_WEIGHT = 0.5
/** Bad weight of a failed challenge attested by another node (before the attester's weight). */
export const ATTESTED_FAILURE_WEIGHT = 10
/** Own measurements kept per peer and workload (newest first). */
export const MAX_MEASUREMENTS = 8
/** `measured()` takes the fastest of this many newest own measurements (a busy moment makes one slow). */
export const MEASUREMENT_BEST_OF = 3
/** Workloads per peer with measurements or earned windows kept (the least recently updated go first). */
export const MAX_WORKLOADS_PER_PEER = 32
/** A change is written to the book's file within this long (ms): writes are coalesced. */
export const TRUST_WRITE_DELAY = 1000
/** Largest trust book file read at open (bytes); a larger one is treated as corrupt. */
export const MAX_TRUST_FILE_BYTES = 64 * 1024 * 1024
/** Attestations written to the book's file (the newest). */
export const MAX_PERSISTED_ATTESTATIONS = 10_000
/** The `version` of the trust book's file format. */
export const TRUST_FILE_VERSION = 1
/** The longest detail kept with a piece of evidence (e.g. 'wrong answer'). */
export const MAX_EVIDENCE_DETAIL_LENGTH = 64
