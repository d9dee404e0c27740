import { mkdir, readFile, rename, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_TEXT_FIELD_LENGTH, writeFileAtomic } from '@shardmesh/protocol'
import { AttestationLog } from './attestation-log.js'
import { verifyAttestation } from './attestation.js'
import {
  ATTESTATION_WEIGHT,
  ATTESTED_FAILURE_WEIGHT,
  EVIDENCE_HALF_LIFE,
  EVIDENCE_WEIGHTS,
  MAX_ATTESTATION_AGE,
  MAX_EVIDENCE_DETAIL_LENGTH,
  MAX_MEASUREMENTS,
  MAX_PERSISTED_ATTESTATIONS,
  MAX_TRUST_FILE_BYTES,
  MAX_TRUST_PEERS,
  MAX_WORKLOADS_PER_PEER,
  MEASUREMENT_BEST_OF,
  PROBATION_CHALLENGES,
  TRUSTED_ATTESTER_SCORE,
  TRUST_FILE_VERSION,
  TRUST_WRITE_DELAY
} from './constants.js'
import type { AttestationLogInit } from './attestation-log.js'
import type { EvidenceCounts, EvidenceKind, Measurement, PeerScore, VerifiedAttestation } from './types.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'

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
  /** bounds of the attestation log (its `maxAgeMs` also bounds the attestations counted) */
  attestations?: AttestationLogInit
  /** where the book says what it did (a write that failed, a corrupt file set aside) */
  logger?: ComponentLogger
}

/** Every kind of evidence, in the order reasons list them when they weigh the same. */
const KINDS = Object.keys(EVIDENCE_WEIGHTS) as EvidenceKind[]

/** Kinds of evidence that put a peer on probation. */
type ProbationCause = 'dispute-lost' | 'challenge-failed'

interface Probation {
  /** when it began (ms) */
  since: number
  /** challenges passed since */
  passed: number
  cause: ProbationCause
}

interface WorkloadWindow {
  window: number
  at: number
}

interface PeerRecord {
  /** counts decayed to `decayedAt` */
  counts: EvidenceCounts
  decayedAt: number
  lastEvidenceAt?: number
  /** the last time anything was recorded about the peer */
  touched: number
  probation?: Probation
  /** the newest detail given with each kind of evidence (e.g. 'wrong answer') */
  details: Partial<Record<EvidenceKind, string>>
  /** own measurements per workload@version, newest first; Map order: least recently updated first */
  measurements: Map<string, Measurement[]>
  /** earned windows per workload; Map order: least recently updated first */
  windows: Map<string, WorkloadWindow>
}

/** The file format (version TRUST_FILE_VERSION). */
interface BookFile {
  version: number
  savedAt: number
  peers: Array<{
    id: string
    counts: Partial<EvidenceCounts>
    decayedAt: number
    lastEvidenceAt?: number
    touched: number
    probation?: Probation
    details?: Partial<Record<EvidenceKind, string>>
    measurements: Array<Omit<Measurement, 'by' | 'source'>>
    windows: Array<{ workload: string } & WorkloadWindow>
  }>
  /** base64 of each encoded SignedAttestation, verified again when read */
  attestations: string[]
}

class CorruptBookError extends Error {
  override readonly name = 'CorruptBookError'
}

function zeroCounts (): EvidenceCounts {
  const counts: Partial<EvidenceCounts> = {}
  for (const kind of KINDS) {
    counts[kind] = 0
  }
  return counts as EvidenceCounts
}

function workloadKey (workload: string, version: string): string {
  return `${workload}\u0000${version}`
}

/** Put `key` last in a Map's order (most recently updated) and drop the first ones over `max`. */
function touchKey <K, V> (map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  while (map.size > max) {
    map.delete(map.keys().next().value as K)
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

function cleanDetail (detail: string): string {
  return detail.replace(CONTROL, ' ').slice(0, MAX_EVIDENCE_DETAIL_LENGTH)
}

/** A decayed count for people: whole above 10, else one decimal at most. */
function amount (n: number): string {
  return n >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10)
}

function plural (n: string, one: string, many: string): string {
  return n === '1' ? one : many
}

/** One line about one kind of evidence. */
function describe (kind: EvidenceKind, count: number, detail: string | undefined): string {
  const n = amount(count)
  const why = detail != null && detail !== '' ? ` (${detail})` : ''
  switch (kind) {
    case 'shard-accepted': return `${n} ${plural(n, 'shard', 'shards')} accepted`
    case 'shard-failed': return `${n} ${plural(n, 'shard', 'shards')} failed${why}`
    case 'shard-timeout': return `${n} ${plural(n, 'shard', 'shards')} timed out`
    case 'unresponsive': return `unresponsive with work in flight ${n} ${plural(n, 'time', 'times')}`
    case 'dispute-won': return `won ${n} ${plural(n, 'dispute', 'disputes')}`
    case 'dispute-lost': return `lost ${n} ${plural(n, 'dispute', 'disputes')}${why}`
    case 'challenge-passed': return `passed ${n} ${plural(n, 'challenge', 'challenges')}`
    case 'challenge-failed': return `failed ${n} ${plural(n, 'challenge', 'challenges')}${why}`
    case 'challenge-timeout': return `${n} ${plural(n, 'challenge', 'challenges')} timed out`
  }
}

/** Counts below this (after decay) are no longer worth a line of reasons. */
const NEGLIGIBLE = 0.05

const silentLog: Logger = Object.assign((_formatter: any, ..._args: any[]): void => {}, {
  error: (_formatter: any, ..._args: any[]): void => {},
  trace: (_formatter: any, ..._args: any[]): void => {},
  enabled: false,
  newScope: (): Logger => silentLog
})

/**
 * A node's own memory of its peers: evidence with decay, measured speeds, probation, and the
 * attestations of others weighted by their own score. Persisted in `file` so that a restart
 * forgets nothing (writes are coalesced; `flush()` forces one). No networking.
 *
 * How the score is computed (also in the README):
 * - Each kind of evidence is a count that decays exponentially: it halves every `halfLifeMs`
 *   (decayed lazily, when the peer is read or written).
 * - The score is the mean of a Beta-reputation posterior, `(good + 1) / (good + bad + 2)`: 0.5
 *   with no evidence. Each count adds `EVIDENCE_WEIGHTS[kind]` to good or bad: shard-accepted
 *   +1, dispute-won +1, challenge-passed +3 good; shard-failed, shard-timeout, unresponsive +1,
 *   challenge-timeout +0.5, dispute-lost and challenge-failed +10 bad.
 * - An attestation of another node about the peer counts as good (ok) or as bad × 10 (not
 *   ok), times `w = max(0, (s - 0.5) × 2) × ATTESTATION_WEIGHT`, where `s` is the attester's
 *   score from this node's own evidence alone (no recursion through attestations; 0 for an
 *   attester on probation), decayed by the attestation's age. Unknown attesters (s = 0.5)
 *   weigh nothing. This node's own attestations are not counted again (its own evidence already
 *   holds them); attestations about this node are kept but change nothing.
 * - Probation begins with a lost dispute or a failed challenge and ends once the peer passed
 *   `probationChallenges` challenges recorded after it began; a new lost dispute or failed
 *   challenge starts it again. Probation does not decay.
 */
export class TrustBook {
  /** Open the book, loading `init.file` when it exists. A corrupt file is kept aside as `<file>.corrupt` and the book starts empty. */
  static async open (init: TrustBookInit): Promise<TrustBook> {
    const book = new TrustBook(init)
    if (init.file != null) {
      await book.load(init.file)
    }
    return book
  }

  readonly attestations: AttestationLog
  private readonly self: string
  private readonly file?: string
  private readonly halfLifeMs: number
  private readonly probationChallenges: number
  private readonly maxPeers: number
  private readonly maxAttestationAgeMs: number
  private readonly now: () => number
  private readonly log: Logger
  private readonly records = new Map<string, PeerRecord>()
  private timer?: ReturnType<typeof setTimeout>
  private dirty = false
  private closed = false
  private writing: Promise<void> = Promise.resolve()

  private constructor (init: TrustBookInit) {
    this.self = init.self
    this.file = init.file
    this.halfLifeMs = init.halfLifeMs ?? EVIDENCE_HALF_LIFE
    this.probationChallenges = Math.max(1, init.probationChallenges ?? PROBATION_CHALLENGES)
    this.maxPeers = Math.max(1, init.maxPeers ?? MAX_TRUST_PEERS)
    this.maxAttestationAgeMs = init.attestations?.maxAgeMs ?? MAX_ATTESTATION_AGE
    this.now = init.now ?? Date.now
    this.log = init.logger?.forComponent('shardmesh:trust:book') ?? silentLog
    this.attestations = new AttestationLog(init.attestations)
  }

  /**
   * Add one piece of this node's own evidence about a peer. `detail` says more, for people (e.g.
   * 'wrong answer' or 'bad receipt' with `challenge-failed`); the newest is kept per kind.
   */
  record (peer: string, kind: EvidenceKind, weight = 1, detail?: string): void {
    if (peer === this.self || EVIDENCE_WEIGHTS[kind] == null || !Number.isFinite(weight) || weight <= 0) {
      return
    }
    const now = this.now()
    const record = this.entry(peer, now)
    record.counts = this.decayed(record, now)
    record.decayedAt = Math.max(record.decayedAt, now)
    record.counts[kind] += weight
    record.lastEvidenceAt = Math.max(record.lastEvidenceAt ?? now, now)
    record.touched = now
    if (detail != null) {
      record.details[kind] = cleanDetail(String(detail))
    }
    if (kind === 'dispute-lost' || kind === 'challenge-failed') {
      record.probation = { since: now, passed: 0, cause: kind }
    } else if (kind === 'challenge-passed' && record.probation != null) {
      record.probation.passed++
      if (record.probation.passed >= this.probationChallenges) {
        record.probation = undefined
      }
    }
    this.changed()
  }

  /** Add a speed this node measured (a challenge, or a real shard it timed). */
  measure (peer: string, measurement: Omit<Measurement, 'by' | 'source'>): void {
    if (peer === this.self || !validMeasurement(measurement)) {
      return
    }
    const now = this.now()
    const record = this.entry(peer, now)
    const m: Measurement = {
      workload: measurement.workload,
      version: measurement.version,
      itemsPerSec: measurement.itemsPerSec,
      items: measurement.items,
      by: this.self,
      at: measurement.at,
      beyondCpu: measurement.beyondCpu === true,
      source: 'self'
    }
    const key = workloadKey(m.workload, m.version)
    const list = [...(record.measurements.get(key) ?? [])]
    const index = list.findIndex(held => held.at <= m.at)
    list.splice(index === -1 ? list.length : index, 0, m)
    touchKey(record.measurements, key, list.slice(0, MAX_MEASUREMENTS), MAX_WORKLOADS_PER_PEER)
    record.touched = now
    this.changed()
  }

  /** Add a verified attestation of another node (refused by the log: replay, rate; throws). */
  addAttestation (attestation: VerifiedAttestation): void {
    this.attestations.accept(attestation, this.now())
    this.changed()
  }

  /** The peer's score from this node's evidence and weighted attestations. */
  score (peer: string): PeerScore {
    const now = this.now()
    const record = this.records.get(peer)
    const evidence = record != null ? this.decayed(record, now) : zeroCounts()
    let good = 0
    let bad = 0
    const facts: Array<{ text: string, weight: number }> = []
    for (const kind of KINDS) {
      const count = evidence[kind]
      const w = EVIDENCE_WEIGHTS[kind]
      good += count * w.good
      bad += count * w.bad
      if (count >= NEGLIGIBLE) {
        facts.push({ text: describe(kind, count, record?.details[kind]), weight: count * (w.good + w.bad) })
      }
    }

    let lastEvidenceAt = record?.lastEvidenceAt
    const attestations = { count: 0, weight: 0 }
    if (peer !== this.self) {
      let passed = 0
      let failed = 0
      let ignored = 0
      let moved = 0
      const attesters = new Map<string, number>()
      for (const a of this.attestations.about(peer, now)) {
        const challenger = a.challenger.toString()
        if (challenger === this.self) {
          continue
        }
        let w = attesters.get(challenger)
        if (w == null) {
          const own = this.ownStanding(challenger, now)
          w = own.probation ? 0 : Math.max(0, (own.value - 0.5) * 2) * ATTESTATION_WEIGHT
          attesters.set(challenger, w)
        }
        const weight = w * this.decay(now - a.at)
        if (!(weight > 0)) {
          ignored++
          continue
        }
        attestations.count++
        attestations.weight += weight
        if (a.ok) {
          good += weight
          moved += weight
          passed++
        } else {
          bad += weight * ATTESTED_FAILURE_WEIGHT
          moved += weight * ATTESTED_FAILURE_WEIGHT
          failed++
        }
        lastEvidenceAt = Math.max(lastEvidenceAt ?? a.at, Math.min(a.at, now))
      }
      if (attestations.count > 0) {
        const n = attestations.count
        facts.push({
          text: `${n} ${n === 1 ? 'attestation' : 'attestations'} from trusted peers${failed > 0 ? ` (${failed} of a failed challenge)` : ''}`,
          weight: moved
        })
      }
      if (ignored > 0 && passed + failed === 0) {
        facts.push({ text: `${ignored} ${ignored === 1 ? 'attestation' : 'attestations'} from peers not trusted (not counted)`, weight: 0 })
      }
    }

    facts.sort((a, b) => b.weight - a.weight)
    const reasons = facts.map(f => f.text)
    const probation = record?.probation
    if (probation != null) {
      reasons.unshift(`on probation: ${probation.passed} of ${this.probationChallenges} ${this.probationChallenges === 1 ? 'challenge' : 'challenges'} passed`)
    }
    return {
      value: (good + 1) / (good + bad + 2),
      probation: probation != null,
      probationProgress: probation != null ? { passed: probation.passed, needed: this.probationChallenges } : undefined,
      evidence,
      attestations,
      reasons,
      lastEvidenceAt
    }
  }

  /**
   * The best recent measurement of a workload on a peer: this node's own first, else one from an
   * attestation whose challenger's score is at least TRUSTED_ATTESTER_SCORE.
   *
   * Of its own, the fastest of the MEASUREMENT_BEST_OF newest (a busy moment makes one slow);
   * of attestations, the newest passed challenge of a trusted attester.
   */
  measured (peer: string, workload: string, version: string): Measurement | undefined {
    const own = this.records.get(peer)?.measurements.get(workloadKey(workload, version))
    if (own != null && own.length > 0) {
      let best = own[0]
      for (const m of own.slice(1, MEASUREMENT_BEST_OF)) {
        if (m.itemsPerSec > best.itemsPerSec) {
          best = m
        }
      }
      return { ...best }
    }
    return this.attested(peer, this.now()).find(m => m.workload === workload && m.version === version)
  }

  /** Every measurement held about a peer (own and trusted attestations), newest first. */
  measurements (peer: string): Measurement[] {
    const all: Measurement[] = []
    for (const list of this.records.get(peer)?.measurements.values() ?? []) {
      all.push(...list.map(m => ({ ...m })))
    }
    all.push(...this.attested(peer, this.now()))
    return all.sort((a, b) => b.at - a.at)
  }

  /** The in-flight window a peer earned for a workload in earlier jobs, if any. */
  earnedWindow (peer: string, workload: string): number | undefined {
    return this.records.get(peer)?.windows.get(workload)?.window
  }

  /** Remember the window a peer earned by the end of a job. */
  setEarnedWindow (peer: string, workload: string, window: number): void {
    if (peer === this.self || typeof workload !== 'string' || workload === '' || workload.length > MAX_TEXT_FIELD_LENGTH || !Number.isFinite(window)) {
      return
    }
    const now = this.now()
    const record = this.entry(peer, now)
    touchKey(record.windows, workload, { window: Math.min(MAX_WINDOW, Math.max(1, Math.floor(window))), at: now }, MAX_WORKLOADS_PER_PEER)
    record.touched = now
    this.changed()
  }

  /** Peers the book holds anything about (evidence, measurements, windows, attestations). */
  peers (): string[] {
    const peers = new Set(this.records.keys())
    for (const a of this.attestations.list(this.now())) {
      peers.add(a.subject.toString())
    }
    peers.delete(this.self)
    return [...peers]
  }

  /** Write the book to its file now (no-op without one, or when nothing changed). */
  async flush (): Promise<void> {
    if (this.timer != null) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const file = this.file
    if (file == null) {
      return
    }
    // one write at a time (they share a temporary file), each of the state as it is then
    const run = this.writing.then(async () => {
      if (!this.dirty) {
        return
      }
      this.dirty = false
      try {
        await mkdir(dirname(file), { recursive: true })
        await writeFileAtomic(file, JSON.stringify(this.toFile()))
      } catch (err) {
        this.dirty = true
        throw err
      }
    })
    this.writing = run.catch(() => {})
    await run
  }

  /** Flush and stop the write timer. Changes after `close()` stay in memory. */
  async close (): Promise<void> {
    this.closed = true
    try {
      await this.flush()
    } finally {
      if (this.timer != null) {
        clearTimeout(this.timer)
        this.timer = undefined
      }
    }
  }

  /** The standing of a peer from this node's own evidence alone (how much its attestations weigh). */
  private ownStanding (peer: string, now: number): { value: number, probation: boolean } {
    if (peer === this.self) {
      return { value: 1, probation: false }
    }
    const record = this.records.get(peer)
    if (record == null) {
      return { value: 0.5, probation: false }
    }
    const counts = this.decayed(record, now)
    let good = 0
    let bad = 0
    for (const kind of KINDS) {
      good += counts[kind] * EVIDENCE_WEIGHTS[kind].good
      bad += counts[kind] * EVIDENCE_WEIGHTS[kind].bad
    }
    return { value: (good + 1) / (good + bad + 2), probation: record.probation != null }
  }

  /** Measurements from passed challenges attested by trusted peers, newest first. */
  private attested (peer: string, now: number): Measurement[] {
    const out: Measurement[] = []
    const trusted = new Map<string, boolean>()
    for (const a of this.attestations.about(peer, now)) {
      if (!a.ok) {
        continue
      }
      const by = a.challenger.toString()
      let ok = trusted.get(by)
      if (ok == null) {
        const standing = this.ownStanding(by, now)
        ok = !standing.probation && standing.value >= TRUSTED_ATTESTER_SCORE
        trusted.set(by, ok)
      }
      if (ok) {
        out.push({ workload: a.workload, version: a.version, itemsPerSec: a.itemsPerSec, items: a.items, by, at: a.at, beyondCpu: a.beyondCpu, source: 'attestation' })
      }
    }
    return out
  }

  private decay (elapsed: number): number {
    return elapsed <= 0 ? 1 : Math.pow(2, -elapsed / this.halfLifeMs)
  }

  private decayed (record: PeerRecord, now: number): EvidenceCounts {
    const factor = this.decay(now - record.decayedAt)
    const counts = zeroCounts()
    for (const kind of KINDS) {
      counts[kind] = record.counts[kind] * factor
    }
    return counts
  }

  /** The record of a peer, made when missing (dropping another when the book is full). */
  private entry (peer: string, now: number): PeerRecord {
    let record = this.records.get(peer)
    if (record == null) {
      record = { counts: zeroCounts(), decayedAt: now, touched: now, details: {}, measurements: new Map(), windows: new Map() }
      this.records.set(peer, record)
      this.evict()
    }
    return record
  }

  /**
   * Over `maxPeers`: drop the peers touched longest ago, those on probation last (so that a
   * flood of new peers does not make the book forget a liar).
   */
  private evict (): void {
    while (this.records.size > this.maxPeers) {
      let victim: string | undefined
      let victimKey = [Infinity, Infinity]
      for (const [id, record] of this.records) {
        const key = [record.probation != null ? 1 : 0, record.touched]
        if (key[0] < victimKey[0] || (key[0] === victimKey[0] && key[1] < victimKey[1])) {
          victim = id
          victimKey = key
        }
      }
      if (victim == null) {
        return
      }
      this.records.delete(victim)
    }
  }

  private changed (): void {
    this.dirty = true
    if (this.file == null || this.closed || this.timer != null) {
      return
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flush().catch(err => {
        this.log.error('writing the trust book to %s failed: %s', this.file, err?.message ?? err)
      })
    }, TRUST_WRITE_DELAY)
    this.timer.unref?.()
  }

  private toFile (): BookFile {
    const now = this.now()
    const attestations = this.attestations.list(now)
      .sort((a, b) => b.at - a.at)
      .slice(0, MAX_PERSISTED_ATTESTATIONS)
      .map(a => Buffer.from(a.bytes).toString('base64'))
    const peers: BookFile['peers'] = []
    for (const [id, record] of this.records) {
      peers.push({
        id,
        counts: { ...record.counts },
        decayedAt: record.decayedAt,
        lastEvidenceAt: record.lastEvidenceAt,
        touched: record.touched,
        probation: record.probation != null ? { ...record.probation } : undefined,
        details: { ...record.details },
        measurements: [...record.measurements.values()].flat().map(m => ({ workload: m.workload, version: m.version, itemsPerSec: m.itemsPerSec, items: m.items, at: m.at, beyondCpu: m.beyondCpu })),
        windows: [...record.windows].map(([workload, w]) => ({ workload, window: w.window, at: w.at }))
      })
    }
    return { version: TRUST_FILE_VERSION, savedAt: now, peers, attestations }
  }

  private async load (file: string): Promise<void> {
    let book: BookFile
    try {
      const info = await stat(file)
      if (!info.isFile() || info.size > MAX_TRUST_FILE_BYTES) {
        throw new CorruptBookError(info.isFile() ? `${info.size} bytes is over the ${MAX_TRUST_FILE_BYTES} byte limit` : 'not a file')
      }
      book = parseBook(await readFile(file, 'utf8'))
      this.restore(book)
    } catch (err: any) {
      if (err?.code === 'ENOENT') {
        return
      }
      this.records.clear()
      this.log.error('the trust book %s is unreadable (%s): kept aside as %s.corrupt, starting empty', file, err?.message ?? err, file)
      try {
        await rename(file, `${file}.corrupt`)
      } catch (renameErr: any) {
        this.log.error('could not set %s aside: %s', file, renameErr?.message ?? renameErr)
      }
      return
    }
    // the attestations: checked again as if they had just arrived (the expired and the bad are dropped)
    const now = this.now()
    const verified: VerifiedAttestation[] = []
    for (const text of book.attestations.slice(0, MAX_PERSISTED_ATTESTATIONS)) {
      const bytes = fromBase64(text)
      if (bytes == null) {
        continue
      }
      try {
        verified.push(await verifyAttestation(bytes, { now, maxAgeMs: this.maxAttestationAgeMs }))
      } catch {}
    }
    // oldest first, so that a newer attestation replaces an older one as it did when they arrived
    verified.sort((a, b) => a.at - b.at)
    for (const a of verified) {
      try {
        this.attestations.restore(a, now)
      } catch {}
    }
  }

  private restore (book: BookFile): void {
    for (const p of book.peers) {
      const counts = zeroCounts()
      for (const kind of KINDS) {
        counts[kind] = p.counts[kind] ?? 0
      }
      const measurements = new Map<string, Measurement[]>()
      for (const m of p.measurements) {
        const key = workloadKey(m.workload, m.version)
        const list = measurements.get(key) ?? []
        list.push({ ...m, by: this.self, source: 'self' })
        measurements.set(key, list)
      }
      for (const [key, list] of measurements) {
        measurements.set(key, list.sort((a, b) => b.at - a.at).slice(0, MAX_MEASUREMENTS))
      }
      while (measurements.size > MAX_WORKLOADS_PER_PEER) {
        measurements.delete(measurements.keys().next().value as string)
      }
      const windows = new Map<string, WorkloadWindow>()
      for (const w of p.windows) {
        touchKey(windows, w.workload, { window: w.window, at: w.at }, MAX_WORKLOADS_PER_PEER)
      }
      this.records.set(p.id, {
        counts,
        decayedAt: p.decayedAt,
        lastEvidenceAt: p.lastEvidenceAt,
        touched: p.touched,
        probation: p.probation != null ? { ...p.probation } : undefined,
        details: { ...p.details },
        measurements,
        windows
      })
    }
    this.evict()
  }
}

/** The largest earned window remembered. */
const MAX_WINDOW = 1_000_000

/** Largest count of one kind in a file (anything above is not a count this book wrote). */
const MAX_COUNT = 1e12

function validMeasurement (m: any): m is Omit<Measurement, 'by' | 'source'> {
  return m != null && typeof m === 'object' &&
    isText(m.workload) && isText(m.version) &&
    isNumber(m.itemsPerSec) && m.itemsPerSec >= 0 &&
    isNumber(m.items) && m.items >= 0 &&
    isTime(m.at) &&
    (m.beyondCpu === undefined || typeof m.beyondCpu === 'boolean')
}

function isText (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_TEXT_FIELD_LENGTH
}

function isNumber (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function isTime (value: unknown): value is number {
  return isNumber(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value)
}

function check (condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new CorruptBookError(what)
  }
}

/** Parse and check the shape of a book file; throws `CorruptBookError`. */
function parseBook (text: string): BookFile {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err: any) {
    throw new CorruptBookError(`not JSON (${err.message})`)
  }
  check(isObject(data), 'not an object')
  check(data.version === TRUST_FILE_VERSION, `version ${String(data.version)} is not ${TRUST_FILE_VERSION}`)
  check(Array.isArray(data.peers), 'peers is not a list')
  check(Array.isArray(data.attestations) && data.attestations.every(a => typeof a === 'string'), 'attestations is not a list of strings')
  const seen = new Set<string>()
  for (const p of data.peers as unknown[]) {
    check(isObject(p), 'a peer is not an object')
    check(typeof p.id === 'string' && p.id.length > 0 && p.id.length <= 128 && !seen.has(p.id), 'a peer id is missing, too long or repeated')
    seen.add(p.id)
    try {
      peerIdFromString(p.id)
    } catch {
      throw new CorruptBookError(`${p.id.slice(0, 64)} is not a peer id`)
    }
    check(isObject(p.counts), 'counts is not an object')
    for (const [kind, count] of Object.entries(p.counts)) {
      check(Object.hasOwn(EVIDENCE_WEIGHTS, kind), `unknown evidence kind ${kind.slice(0, 64)}`)
      check(isNumber(count) && count >= 0 && count <= MAX_COUNT, `count of ${kind} is out of range`)
    }
    check(isTime(p.decayedAt) && isTime(p.touched), 'decayedAt or touched is not a time')
    check(p.lastEvidenceAt === undefined || isTime(p.lastEvidenceAt), 'lastEvidenceAt is not a time')
    if (p.probation !== undefined) {
      const pr = p.probation
      check(isObject(pr) && isTime(pr.since) && Number.isSafeInteger(pr.passed) && (pr.passed as number) >= 0 &&
        (pr.cause === 'dispute-lost' || pr.cause === 'challenge-failed'), 'probation is malformed')
    }
    if (p.details !== undefined) {
      check(isObject(p.details), 'details is not an object')
      for (const [kind, detail] of Object.entries(p.details)) {
        check(Object.hasOwn(EVIDENCE_WEIGHTS, kind) && typeof detail === 'string' && detail.length <= MAX_EVIDENCE_DETAIL_LENGTH, 'a detail is malformed')
      }
    }
    check(Array.isArray(p.measurements) && p.measurements.length <= MAX_WORKLOADS_PER_PEER * MAX_MEASUREMENTS, 'measurements is not a list (or too long)')
    for (const m of p.measurements as unknown[]) {
      check(validMeasurement(m) && typeof (m as any).beyondCpu === 'boolean', 'a measurement is malformed')
    }
    check(Array.isArray(p.windows) && p.windows.length <= MAX_WORKLOADS_PER_PEER, 'windows is not a list (or too long)')
    for (const w of p.windows as unknown[]) {
      check(isObject(w) && isText(w.workload) && isNumber(w.window) && w.window >= 1 && w.window <= MAX_WINDOW && isTime(w.at), 'a window is malformed')
    }
  }
  return data as unknown as BookFile
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

function fromBase64 (text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) {
    return undefined
  }
  const bytes = Buffer.from(text, 'base64')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
