import type { PeerId } from '@libp2p/interface'

/**
 * What a node can learn about a peer by itself, each kind with its weight in the score.
 * `unresponsive` is a heartbeat that stopped with work in flight; `challenge-timeout` a challenge
 * that got no answer by its deadline (weak: a loaded or distant node is not a liar);
 * `challenge-failed` a wrong answer or a bad receipt (strong: the peer is on probation).
 */
export type EvidenceKind =
  | 'shard-accepted'
  | 'shard-failed'
  | 'shard-timeout'
  | 'unresponsive'
  | 'dispute-won'
  | 'dispute-lost'
  | 'challenge-passed'
  | 'challenge-failed'
  | 'challenge-timeout'

/** Decayed counts of each kind of evidence about one peer (fractional after decay). */
export type EvidenceCounts = Record<EvidenceKind, number>

/** A speed measured by running a workload on a peer (a challenge, or a real shard timed by its requester). */
export interface Measurement {
  workload: string
  version: string
  /** items per second of one shard on one slot, as the measurer saw it (round trip included) */
  itemsPerSec: number
  /** items of the run it was measured on */
  items: number
  /** peer id (string) of the node that measured it */
  by: string
  /** ms since the epoch */
  at: number
  /** the speed is above what any CPU the subject claims could reach (the GPU evidence) */
  beyondCpu: boolean
  /** 'self' when this node measured it, else the attestation it came from */
  source: 'self' | 'attestation'
}

/** The standing of a peer as this node sees it. */
export interface PeerScore {
  /** 0..1; 0.5 for a peer we know nothing about */
  value: number
  /** lost a dispute or failed a challenge, and has not passed enough challenges since */
  probation: boolean
  /** challenges passed since probation began, and how many it needs */
  probationProgress?: { passed: number, needed: number }
  /** decayed counts of this node's own evidence */
  evidence: EvidenceCounts
  /** attestations from others that counted, and their summed weight */
  attestations: { count: number, weight: number }
  /** one line per fact that moved the score, most important first, e.g. 'lost 3 disputes' */
  reasons: string[]
  /** ms since the epoch of the newest evidence, or undefined when there is none */
  lastEvidenceAt?: number
}

/** The content of an attestation: one challenge, as its challenger saw it. */
export interface AttestationContent {
  challenger: PeerId
  subject: PeerId
  workload: string
  version: string
  items: number
  itemsPerSec: number
  ok: boolean
  beyondCpu: boolean
  /** ms since the epoch */
  at: number
  /** 16 random bytes: with the challenger, the attestation's identity */
  nonce: Uint8Array
}

/** An attestation whose signature, signer and fields were checked. */
export interface VerifiedAttestation extends AttestationContent {
  /** the encoded SignedAttestation, as gossiped */
  bytes: Uint8Array
  /** hex sha256 of `bytes` */
  id: string
}

/** Why an attestation was refused (also the `reason` label of the rejection metric). */
export type AttestationRejectReason =
  | 'oversized'
  | 'malformed'
  | 'bad-signature'
  | 'signer-mismatch'
  | 'self-attestation'
  | 'future'
  | 'expired'
  | 'replayed'
  | 'rate-limited'
  | 'not-sender'

/** The status of one claim a peer made about itself. */
export type ClaimStatus =
  /** said by the peer, not measured by anyone we trust */
  | 'claimed'
  /** measured (by this node, or by a peer whose standing counts) and consistent with the claim */
  | 'measured'
  /** a measurement disagrees with the claim by more than the tolerance */
  | 'contradicted'
  /** impossible on its face (e.g. more GPUs than the machine can hold) */
  | 'implausible'

/** A workload's advertised throughput against what was measured. */
export interface ThroughputClaim {
  workload: string
  version: string
  /** items/s the peer advertised for the whole node (0 = none) */
  claimed: number
  /** items/s per slot the claim implies (claimed / its total slots) */
  claimedPerSlot: number
  status: ClaimStatus
  /** the measurement the status rests on */
  measured?: Measurement
  /** why, for humans */
  reason: string
}

/** A peer's GPU claim and what backs it. */
export interface GpuClaim {
  count: number
  models: string[]
  status: ClaimStatus
  /** the measurement that showed a speed beyond the peer's CPUs, when measured */
  measured?: Measurement
  reason: string
}
