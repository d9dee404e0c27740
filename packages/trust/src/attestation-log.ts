import {
  ATTESTATION_RATE,
  MAX_ATTESTATION_AGE,
  MAX_ATTESTATIONS_PER_CHALLENGER,
  MAX_ATTESTATIONS_PER_SUBJECT,
  MAX_ATTESTATION_SUBJECTS,
  MAX_RATE_TRACKED_CHALLENGERS
} from './constants.js'
import { AttestationRejectedError } from './errors.js'
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
  /** attestations one challenger may hold about one subject @default MAX_ATTESTATIONS_PER_CHALLENGER */
  maxPerChallenger?: number
}

interface Held {
  attestation: VerifiedAttestation
  challenger: string
}

/**
 * The attestations a node holds, bounded in size and rate: a replay (an id already held, or a
 * challenger's attestation about a subject and workload no newer than one held) is refused
 * `replayed`, a challenger over its rate `rate-limited`.
 *
 * Per subject the newest are kept, newest first; a challenger's newer attestation about a
 * subject and workload@version replaces its older one, and one challenger holds at most
 * `maxPerChallenger` of a subject's places, so that nobody crowds out the others. Subjects are
 * dropped least recently attested first. The rate is a sliding window per challenger, counted
 * at `now` (the time of receipt).
 */
export class AttestationLog {
  private readonly maxPerSubject: number
  private readonly maxSubjects: number
  private readonly maxPerChallenger: number
  private readonly rate: { count: number, windowMs: number }
  private readonly maxAgeMs: number
  /** per subject, newest first; the Map's order is the LRU order (most recently attested last) */
  private readonly bySubject = new Map<string, Held[]>()
  private readonly ids = new Set<string>()
  /** per challenger, the times (of receipt) of its accepted attestations within the window */
  private readonly accepted = new Map<string, number[]>()

  constructor (init: AttestationLogInit = {}) {
    this.maxPerSubject = Math.max(1, init.maxPerSubject ?? MAX_ATTESTATIONS_PER_SUBJECT)
    this.maxSubjects = Math.max(1, init.maxSubjects ?? MAX_ATTESTATION_SUBJECTS)
    this.maxPerChallenger = Math.max(1, init.maxPerChallenger ?? MAX_ATTESTATIONS_PER_CHALLENGER)
    this.rate = init.rate ?? ATTESTATION_RATE
    this.maxAgeMs = init.maxAgeMs ?? MAX_ATTESTATION_AGE
  }

  /** Keep a verified attestation; throws `AttestationRejectedError` ('replayed' | 'rate-limited' | 'expired'). */
  accept (attestation: VerifiedAttestation, now = Date.now()): void {
    this.add(attestation, now, true)
  }

  /**
   * Keep an attestation read back from storage: checked for replay and age like `accept`, but
   * not counted against its challenger's rate (it was counted when it arrived).
   */
  restore (attestation: VerifiedAttestation, now = Date.now()): void {
    this.add(attestation, now, false)
  }

  /** True when an attestation with this id is held. */
  has (id: string): boolean {
    return this.ids.has(id)
  }

  /** Unexpired attestations about a subject, newest first. */
  about (subject: string, now = Date.now()): VerifiedAttestation[] {
    const held = this.bySubject.get(subject)
    if (held == null) {
      return []
    }
    return this.prune(subject, held, now).map(h => h.attestation)
  }

  /** Every held attestation (for persistence and for serving). */
  list (now = Date.now()): VerifiedAttestation[] {
    const all: VerifiedAttestation[] = []
    for (const [subject, held] of [...this.bySubject]) {
      for (const h of this.prune(subject, held, now)) {
        all.push(h.attestation)
      }
    }
    return all
  }

  /** Attestations held (expired ones included until a read drops them). */
  get size (): number {
    return this.ids.size
  }

  private add (attestation: VerifiedAttestation, now: number, limitRate: boolean): void {
    if (now - attestation.at > this.maxAgeMs) {
      throw new AttestationRejectedError('expired', `made ${now - attestation.at} ms ago, over the ${this.maxAgeMs} ms limit`)
    }
    if (this.ids.has(attestation.id)) {
      throw new AttestationRejectedError('replayed', `attestation ${attestation.id} is already held`)
    }
    const subject = attestation.subject.toString()
    const challenger = attestation.challenger.toString()
    const held = this.prune(subject, this.bySubject.get(subject) ?? [], now)
    const previous = held.find(h => h.challenger === challenger && h.attestation.workload === attestation.workload && h.attestation.version === attestation.version)
    if (previous != null && attestation.at <= previous.attestation.at) {
      throw new AttestationRejectedError('replayed', `${challenger} already attested ${attestation.workload}@${attestation.version} on ${subject} at ${previous.attestation.at}, no older than ${attestation.at}`)
    }
    if (limitRate) {
      this.count(challenger, now)
    }

    let list = held
    if (previous != null) {
      // superseded by the newer one
      list = list.filter(h => h !== previous)
      this.ids.delete(previous.attestation.id)
    }
    const entry: Held = { attestation, challenger }
    const index = list.findIndex(h => h.attestation.at < attestation.at)
    list.splice(index === -1 ? list.length : index, 0, entry)
    // one challenger holds at most maxPerChallenger places: its oldest go
    let mine = 0
    list = list.filter(h => {
      if (h.challenger !== challenger) {
        return true
      }
      mine++
      if (mine <= this.maxPerChallenger) {
        return true
      }
      this.ids.delete(h.attestation.id)
      return false
    })
    for (const dropped of list.splice(this.maxPerSubject)) {
      this.ids.delete(dropped.attestation.id)
    }
    for (const h of list) {
      this.ids.add(h.attestation.id)
    }
    // most recently attested last
    this.bySubject.delete(subject)
    this.bySubject.set(subject, list)
    while (this.bySubject.size > this.maxSubjects) {
      const [oldest, dropped] = this.bySubject.entries().next().value as [string, Held[]]
      this.bySubject.delete(oldest)
      for (const h of dropped) {
        this.ids.delete(h.attestation.id)
      }
    }
  }

  /** Count one attestation of `challenger` against its rate, or throw `rate-limited`. */
  private count (challenger: string, now: number): void {
    const since = now - this.rate.windowMs
    const times = (this.accepted.get(challenger) ?? []).filter(t => t > since && t <= now)
    if (times.length >= this.rate.count) {
      this.accepted.set(challenger, times)
      throw new AttestationRejectedError('rate-limited', `${challenger} sent over ${this.rate.count} attestations in ${this.rate.windowMs} ms`)
    }
    times.push(now)
    this.accepted.delete(challenger)
    this.accepted.set(challenger, times)
    while (this.accepted.size > MAX_RATE_TRACKED_CHALLENGERS) {
      this.accepted.delete(this.accepted.keys().next().value as string)
    }
  }

  /** Drop a subject's expired attestations; returns what is left. */
  private prune (subject: string, held: Held[], now: number): Held[] {
    const live = held.filter(h => now - h.attestation.at <= this.maxAgeMs)
    if (live.length === held.length) {
      return held
    }
    for (const h of held) {
      if (now - h.attestation.at > this.maxAgeMs) {
        this.ids.delete(h.attestation.id)
      }
    }
    if (live.length === 0) {
      this.bySubject.delete(subject)
    } else if (this.bySubject.has(subject)) {
      this.bySubject.set(subject, live)
    }
    return live
  }
}
