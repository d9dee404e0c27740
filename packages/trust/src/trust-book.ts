import type { AttestationLog } from './attestation-log.js'
import type { EvidenceKind, Measurement, PeerScore, VerifiedAttestation } from './types.js'

export interface TrustBookInit {
  /** this node's peer id: evidence about itself is ignored */
  self: string
  /** JSON file the book is kept in (written atomically); none: in memory only */
  file?: string
  /** evidence loses half its weight in this long (ms) @default EVIDENCE_HALF_LIFE */
  halfLifeMs?: number
  /** challenges a peer on probation must pass to leave it @default PROBATION_CHALLENGES */
  probationChallenges?: number
  /** peers kept; those with the oldest evidence go first @default MAX_TRUST_PEERS */
  maxPeers?: number
  /** clock, for tests @default Date.now */
  now?(): number
}

/**
 * A node's own memory of its peers: evidence with decay, measured speeds, probation, and the
 * attestations of others weighted by their own score. Persisted in `file` so that a restart
 * forgets nothing (writes are coalesced; `flush()` forces one). No networking.
 */
export class TrustBook {
  /** Open the book, loading `init.file` when it exists. A corrupt file is kept aside as `<file>.corrupt` and the book starts empty. */
  static async open (init: TrustBookInit): Promise<TrustBook> {
    throw new Error('not implemented')
  }

  readonly attestations!: AttestationLog

  /** Add one piece of this node's own evidence about a peer. */
  record (peer: string, kind: EvidenceKind, weight = 1): void {}

  /** Add a speed this node measured (a challenge, or a real shard it timed). */
  measure (peer: string, measurement: Omit<Measurement, 'by' | 'source'>): void {}

  /** Add a verified attestation of another node (refused by the log: replay, rate; throws). */
  addAttestation (attestation: VerifiedAttestation): void {}

  /** The peer's score from this node's evidence and weighted attestations. */
  score (peer: string): PeerScore {
    throw new Error('not implemented')
  }

  /**
   * The best recent measurement of a workload on a peer: this node's own first, else one from an
   * attestation whose challenger's score is at least TRUSTED_ATTESTER_SCORE.
   */
  measured (peer: string, workload: string, version: string): Measurement | undefined {
    return undefined
  }

  /** Every measurement held about a peer (own and trusted attestations), newest first. */
  measurements (peer: string): Measurement[] {
    return []
  }

  /** The in-flight window a peer earned for a workload in earlier jobs, if any. */
  earnedWindow (peer: string, workload: string): number | undefined {
    return undefined
  }

  /** Remember the window a peer earned by the end of a job. */
  setEarnedWindow (peer: string, workload: string, window: number): void {}

  /** Peers the book holds anything about. */
  peers (): string[] {
    return []
  }

  /** Write the book to its file now (no-op without one). */
  async flush (): Promise<void> {}

  /** Flush and stop the write timer. */
  async close (): Promise<void> {}
}
