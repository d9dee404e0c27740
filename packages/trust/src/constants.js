"use strict";
/** Defaults of the trust layer. Every figure here is a policy choice, documented in the README. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.ATTESTATION_RATE = exports.MAX_ATTESTATION_SUBJECTS = exports.MAX_ATTESTATIONS_PER_SUBJECT = exports.MAX_ATTESTATION_SKEW = exports.MAX_ATTESTATION_AGE = exports.MAX_PLAUSIBLE_GPUS = exports.CONTRADICTION_FACTOR = exports.TRUSTED_ATTESTER_SCORE = exports.MAX_TRUST_PEERS = exports.PROBATION_CHALLENGES = exports.EVIDENCE_HALF_LIFE = void 0;
/** Evidence loses half its weight in this long (ms). */
exports.EVIDENCE_HALF_LIFE = 6 * 60 * 60 * 1000;
/** Challenges a peer on probation must pass to leave it. */
exports.PROBATION_CHALLENGES = 3;
/** Peers a trust book keeps. */
exports.MAX_TRUST_PEERS = 10000;
/** Attestations of a challenger count only when its own score is at least this. */
exports.TRUSTED_ATTESTER_SCORE = 0.6;
/** A claim per slot above this multiple of the measured speed is contradicted. */
exports.CONTRADICTION_FACTOR = 4;
/** More GPUs than this in one machine is implausible. */
exports.MAX_PLAUSIBLE_GPUS = 16;
/** Attestations older than this are neither accepted nor counted (ms). */
exports.MAX_ATTESTATION_AGE = 24 * 60 * 60 * 1000;
/** Clock skew tolerated on an attestation's `at` (ms). */
exports.MAX_ATTESTATION_SKEW = 60000;
/** Attestations kept per subject, and subjects kept. */
exports.MAX_ATTESTATIONS_PER_SUBJECT = 32;
exports.MAX_ATTESTATION_SUBJECTS = 4096;
/** Attestations accepted from one challenger per window. */
exports.ATTESTATION_RATE = { count: 60, windowMs: 60000 };
