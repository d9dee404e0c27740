import type { VerifiedAttestation } from './types.js'

export interface AttestationLogInit {
  /** attestations kept per subject (newest first; the oldest go) @default MAX_ATTESTATIONS_PER_SUBJECT */
  maxPerSubject?: number
  /** subjects kept (least recently attested go first) @default MAX_ATTESTATION_SUBJECTS */
  maxSubjects?: number
  /** attestations accepted from one challenger per window @default ATTESTATION_RATE */
  rate?: { count: number, windowMs: number }
  /** @default MAX_ATTESTATION_AGE */
  maxAgeMs?: number
}

/**
 * The attestations a node holds, bounded in size and rate: a replay (an id already held, or a
 * challenger's attestation about a subject and workload no newer than one held) is refused
 * `replayed`, a challenger over its rate `rate-limited`.
 */
export class AttestationLog {
  constructor (init: AttestationLogInit = {}) {}

  /** Keep a verified attestation; throws `AttestationRejectedError` ('replayed' | 'rate-limited'). */
  accept (attestation: VerifiedAttestation, now = Date.now()): void {
    throw new Error('not implemented')
  }

  /** Unexpired attestations about a subject, newest first. */
  about (subject: string, now = Date.now()): VerifiedAttestation[] {
    return []
  }

  /** Every held attestation (for persistence and for serving). */
  list (now = Date.now()): VerifiedAttestation[] {
    return []
  }

  get size (): number {
    return 0
  }
}
