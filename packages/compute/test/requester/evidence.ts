import type { CandidateEvidence } from '../../src/requester/placement.js'
import type { EvidenceCounts, PeerScore } from '@shardmesh/trust'

/** No evidence of any kind. */
export function noEvidence (): EvidenceCounts {
  return {
    'shard-accepted': 0,
    'shard-failed': 0,
    'shard-timeout': 0,
    unresponsive: 0,
    'dispute-won': 0,
    'dispute-lost': 0,
    'challenge-passed': 0,
    'challenge-failed': 0,
    'challenge-timeout': 0
  }
}

/** A score of `value`, with the reasons given. */
export function score (value: number, fields: Partial<PeerScore> = {}): PeerScore {
  return { value, probation: false, evidence: noEvidence(), attestations: { count: 0, weight: 0 }, reasons: [], ...fields }
}

/**
 * What the requester knows of a candidate: alive by a result 1 s ago, an advert 10 s old of
 * 60 s validity, score 0.5, and whatever `fields` add or replace.
 */
export function evidence (fields: Partial<CandidateEvidence> = {}): CandidateEvidence {
  return {
    liveness: { state: 'alive', evidence: 'result', ageMs: 1000, since: 0 },
    advertAgeMs: 10_000,
    advertTtlMs: 60_000,
    score: score(0.5),
    ...fields
  }
}

/** A measured speed of `itemsPerSec` on the echo workload. */
export function measured (itemsPerSec: number): CandidateEvidence['measured'] {
  return { workload: 'echo', version: '1.0.0', itemsPerSec, items: 8, by: 'me', at: 0, beyondCpu: false, source: 'self' }
}
