import { randomBytes } from 'node:crypto'
import { encodeItemList } from '@shardmesh/protocol'
import { signAttestation } from '@shardmesh/trust'
import { workloadKey } from '@shardmesh/workloads'
import { ShardTimeoutError } from '../errors.js'
import { checkResult } from '../requester/result-check.js'
import {
  CHALLENGE_CONCURRENCY,
  CHALLENGE_DEADLINE,
  CHALLENGE_FRESHNESS,
  CHALLENGE_INTERVAL,
  CHALLENGE_ITEMS,
  CHALLENGE_UNREACHABLE_RETRY,
  CPU_HEADROOM,
  MAX_REMEMBERED_CHALLENGES
} from './constants.js'
import type { AttemptHandle, PeerChannel } from '../requester/channel.js'
import type { ShardOutput } from '../worker/executor.js'
import type { AbortOptions, CounterGroup, Logger, Metrics, PeerId, PrivateKey } from '@libp2p/interface'
import type { TrustBook, VerifiedAttestation } from '@shardmesh/trust'
import type { Workload } from '@shardmesh/workloads'

/**
 * How a challenge ended:
 * - `passed`: the answer matched ours, with a valid receipt, in time;
 * - `wrong-answer`: a valid receipt over outputs that differ from ours;
 * - `bad-receipt`: the result does not decode, has the wrong count, or its receipt is not the
 *   peer's signature over this shard and output;
 * - `timeout`: no answer by the deadline (or the peer's heartbeat stopped);
 * - `unreachable`: no stream to the peer, or it refused the shard (busy, not served): no evidence;
 * - `skipped`: not run, or not judged, for a reason of ours (this node, a workload that needs a
 *   model, a calibration input or a recomputation that failed, a `compare` that threw, aborted).
 */
export type ChallengeVerdict = 'passed' | 'wrong-answer' | 'bad-receipt' | 'timeout' | 'unreachable' | 'skipped'

/** One challenge of one peer on one workload. */
export interface ChallengeOutcome {
  /** the challenged peer */
  peerId: string
  /** `id@version` */
  workload: string
  /** `verdict === 'passed'` */
  ok: boolean
  verdict: ChallengeVerdict
  /** items of the challenge input (0 when none was made) */
  items: number
  /** items per second, timed at this node from sending to the answer (answered challenges) */
  itemsPerSec?: number
  /** from sending the shard to its answer (ms), when one came */
  roundTripMs?: number
  /** the speed is beyond what the peer's claimed CPUs could reach (passed challenges) */
  beyondCpu?: boolean
  /** the attestation signed about it (`passed` and `wrong-answer`) */
  attestation?: VerifiedAttestation
  /** when it ended (ms since the epoch, from `now`) */
  at: number
  /** why, for humans: the error, the item that differed, what was skipped */
  detail?: string
}

export interface ChallengeRunOptions extends AbortOptions {
  /** @default the challenger's `deadlineMs` */
  deadlineMs?: number
}

/** A peer and a workload that random challenges may pick. */
export interface ActiveChallengeTarget {
  peer: PeerId
  workload: Workload<any, any>
}

export interface ChallengerInit {
  /** this node: never challenged */
  self: PeerId
  /** this node's key: attestations are signed with it */
  privateKey: PrivateKey
  /** where evidence and measurements are recorded */
  trust: TrustBook
  /** the channel to a peer: the same one real shards use, so a challenge looks like real work */
  channel(peer: PeerId): PeerChannel
  /** run encoded items of a workload on this node, returning the encoded outputs (the reference answer) */
  recompute(workload: Workload<any, any>, encodedItems: Uint8Array[], signal?: AbortSignal): Promise<Uint8Array[]>
  /** the hardware a peer claims, from its advert: the CPU bound of the GPU rule */
  hardware?(peer: string): { cpuCores: number } | undefined
  /** told of every answer a peer gave */
  liveness?: { heard(peerId: string, kind: 'challenge'): void }
  /** hands each signed attestation on (to gossip) */
  publish?(attestation: VerifiedAttestation): void
  log: Logger
  metrics?: Metrics
  /** @default CHALLENGE_DEADLINE */
  deadlineMs?: number
  /** items of a challenge input @default CHALLENGE_ITEMS */
  items?: number
  /** measured or challenged within this long: not challenged again by `ensureMeasured` @default CHALLENGE_FRESHNESS */
  freshMs?: number
  /** mean interval between random challenges of one active peer @default CHALLENGE_INTERVAL */
  meanIntervalMs?: number
  /** random bytes: challenge inputs, job ids, nonces, random intervals @default crypto.randomBytes */
  random?(bytes: number): Uint8Array
  /** wall clock of evidence and freshness @default Date.now */
  now?(): number
  /** the monotonic clock round trips are timed with @default performance.now */
  clock?(): number
  /** told every challenge's outcome (after it was recorded and attested) */
  onOutcome?(outcome: ChallengeOutcome): void
}

/** Codes of a peer that did not answer in time: its shard timed out, or its heartbeat stopped (liveness). */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([ShardTimeoutError.code, 'ERR_PEER_UNRESPONSIVE'])

type RemoteAnswer =
  | { kind: 'answer', output: ShardOutput }
  | { kind: 'error', error: any }
  | { kind: 'deadline' }
  | { kind: 'aborted' }

type LocalAnswer = { outputs: Uint8Array[] } | { error: any }

function message (err: any): string {
  return String(err?.message ?? err)
}

/**
 * Nothing believed that was not measured. Challenges a peer with fresh random input of a
 * workload's calibration shape, sent as one ordinary shard (random job id, shard 0) on the
 * channel real work uses, with a deadline, while this node computes the answer itself; the peer's
 * result must carry its valid receipt and match ours item by item. The round trip, timed here,
 * is the peer's measured speed. Records the outcome in the trust book, signs an attestation of
 * it for others, and never throws for anything a peer does.
 *
 * Challenges run before a peer's first work (`ensureMeasured`) and at random times after
 * (`start`): a peer cannot tell a challenge from a job, so it cannot serve challenges well and
 * jobs badly.
 */
export class Challenger {
  private readonly init: ChallengerInit
  private readonly log: Logger
  private readonly deadlineMs: number
  private readonly items: number
  private readonly freshMs: number
  private readonly meanIntervalMs: number
  private readonly random: (bytes: number) => Uint8Array
  private readonly now: () => number
  private readonly clock: () => number
  private readonly counter?: CounterGroup
  /** challenges in flight, by peer and workload: a second ask joins the first */
  private readonly inflight = new Map<string, Promise<ChallengeOutcome>>()
  /** challenges in flight per peer */
  private readonly busy = new Map<string, number>()
  /** recent outcomes (not `skipped`), by peer and workload, oldest first */
  private readonly remembered = new Map<string, ChallengeOutcome>()
  private timer?: ReturnType<typeof setTimeout>
  private active?: () => ActiveChallengeTarget[]
  private background?: AbortController

  constructor (init: ChallengerInit) {
    this.init = init
    this.log = init.log
    this.deadlineMs = init.deadlineMs ?? CHALLENGE_DEADLINE
    this.items = init.items ?? CHALLENGE_ITEMS
    this.freshMs = init.freshMs ?? CHALLENGE_FRESHNESS
    this.meanIntervalMs = init.meanIntervalMs ?? CHALLENGE_INTERVAL
    this.random = init.random ?? ((n) => randomBytes(n))
    this.now = init.now ?? Date.now
    this.clock = init.clock ?? (() => performance.now())
    for (const [name, value] of [['deadlineMs', this.deadlineMs], ['freshMs', this.freshMs], ['meanIntervalMs', this.meanIntervalMs]] as const) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`${name} must be a positive number of ms, got ${value}`)
      }
    }
    if (!Number.isInteger(this.items) || this.items < 1) {
      throw new RangeError(`items must be a positive integer, got ${this.items}`)
    }
    this.counter = init.metrics?.registerCounterGroup('shardmesh_trust_challenges_total', { label: 'verdict', help: 'Challenges this node ran, by verdict' })
  }

  /**
   * Challenge `peer` on `workload` now (a challenge of the same peer and workload already in
   * flight is joined, not repeated). Resolves with the outcome; never rejects.
   */
  async challenge (peer: PeerId, workload: Workload<any, any>, options: ChallengeRunOptions = {}): Promise<ChallengeOutcome> {
    const peerKey = peer.toString()
    const key = `${peerKey}\n${workloadKey(workload)}`
    const running = this.inflight.get(key)
    if (running != null) {
      return running
    }
    this.busy.set(peerKey, (this.busy.get(peerKey) ?? 0) + 1)
    const outcome = this.run(peer, workload, options)
      .catch((err: any): ChallengeOutcome => {
        // a bug of ours, not the peer's doing: nothing is recorded against it
        this.log.error('challenge of %p on %s failed: %e', peer, workloadKey(workload), err)
        return { peerId: peerKey, workload: workloadKey(workload), ok: false, verdict: 'skipped', items: 0, at: this.now(), detail: `internal error: ${message(err)}` }
      })
      .then(async result => {
        this.settle(workload, result)
        const attestation = await this.attest(peer, workload, result)
        const final = attestation == null ? result : { ...result, attestation }
        if (final.verdict !== 'skipped') {
          this.remember(final)
        }
        try {
          this.init.onOutcome?.(final)
        } catch (err: any) {
          this.log.error('a challenge listener threw: %s', err.message)
        }
        return final
      })
      .finally(() => {
        this.inflight.delete(key)
        const left = (this.busy.get(peerKey) ?? 1) - 1
        if (left > 0) {
          this.busy.set(peerKey, left)
        } else {
          this.busy.delete(peerKey)
        }
      })
    this.inflight.set(key, outcome)
    return outcome
  }

  /**
   * Make sure this node has measured each of `peers` on `workload`: those without a measurement
   * of their own within `freshMs`, and not challenged within it either, are challenged (at most
   * CHALLENGE_CONCURRENCY at once). Returns the outcome per peer id: the new ones and those
   * remembered from the freshness window. Peers measured recently by other means (a timed real
   * shard) are absent, as are this node and every peer for a workload that needs a model.
   */
  async ensureMeasured (peers: PeerId[], workload: Workload<any, any>, options: ChallengeRunOptions = {}): Promise<Map<string, ChallengeOutcome>> {
    const outcomes = new Map<string, ChallengeOutcome>()
    if (workload.needsModel === true) {
      return outcomes
    }
    const now = this.now()
    const todo: PeerId[] = []
    const seen = new Set<string>()
    for (const peer of peers) {
      const key = peer.toString()
      if (seen.has(key) || peer.equals(this.init.self)) {
        continue
      }
      seen.add(key)
      const prior = this.recent(key, workload, now)
      if (prior != null) {
        outcomes.set(key, prior)
      } else if (!this.measuredSince(key, workload, now - this.freshMs)) {
        todo.push(peer)
      }
    }
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < todo.length) {
        const peer = todo[next++]
        outcomes.set(peer.toString(), await this.challenge(peer, workload, options))
      }
    }
    await Promise.all(Array.from({ length: Math.min(CHALLENGE_CONCURRENCY, todo.length) }, lane))
    return outcomes
  }

  /**
   * The outcome of the last challenge of a peer on a workload within the freshness window (not
   * `skipped`; `unreachable` only within CHALLENGE_UNREACHABLE_RETRY).
   */
  recent (peer: string, workload: Pick<Workload, 'id' | 'version'>, now = this.now()): ChallengeOutcome | undefined {
    const outcome = this.remembered.get(`${peer}\n${workloadKey(workload)}`)
    if (outcome == null) {
      return undefined
    }
    const window = outcome.verdict === 'unreachable' ? Math.min(this.freshMs, CHALLENGE_UNREACHABLE_RETRY) : this.freshMs
    return now - outcome.at < window && outcome.at <= now ? outcome : undefined
  }

  /**
   * Challenge active peers at random times: each distinct peer of `active()` is challenged on
   * one of its workloads at exponentially distributed intervals of mean `meanIntervalMs` (a
   * Poisson process per peer), never two at once on one peer. The timer does not keep the
   * process alive. Calling it again replaces the active set.
   */
  start (active: () => ActiveChallengeTarget[]): void {
    this.stop()
    this.active = active
    this.background = new AbortController()
    this.schedule()
  }

  /** Stop random challenges and abandon those in flight. */
  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.active = undefined
    this.background?.abort()
    this.background = undefined
  }

  private targets (): Map<string, ActiveChallengeTarget[]> {
    const byPeer = new Map<string, ActiveChallengeTarget[]>()
    let list: ActiveChallengeTarget[] = []
    try {
      list = this.active?.() ?? []
    } catch (err: any) {
      this.log.error('the active peers for random challenges could not be listed: %s', message(err))
    }
    for (const target of list) {
      if (target.peer.equals(this.init.self) || target.workload.needsModel === true) {
        continue
      }
      const key = target.peer.toString()
      byPeer.set(key, [...(byPeer.get(key) ?? []), target])
    }
    return byPeer
  }

  private schedule (): void {
    if (this.active == null) {
      return
    }
    // N peers each at rate 1/mean are one process at rate N/mean, each event on a random peer
    const mean = this.meanIntervalMs / Math.max(1, this.targets().size)
    const delay = Math.min(-mean * Math.log(this.uniform()), 10 * this.meanIntervalMs, 0x7fff_ffff)
    this.timer = setTimeout(() => { this.fire() }, delay)
    this.timer.unref?.()
  }

  private fire (): void {
    const signal = this.background?.signal
    if (this.active == null || signal == null) {
      return
    }
    const idle = [...this.targets()].filter(([peer]) => !this.busy.has(peer))
    if (idle.length > 0) {
      const [, targets] = idle[this.index(idle.length)]
      const { peer, workload } = targets[this.index(targets.length)]
      this.log('random challenge of %p on %s', peer, workloadKey(workload))
      void this.challenge(peer, workload, { signal })
    }
    this.schedule()
  }

  /** A uniform number in (0, 1]. */
  private uniform (): number {
    const b = this.random(4)
    return ((((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0) + 1) / 0x1_0000_0000
  }

  private index (n: number): number {
    return Math.min(n - 1, Math.floor((this.uniform() - Number.EPSILON) * n))
  }

  /** Whether this node itself measured the peer on the workload at or after `since`. */
  private measuredSince (peer: string, workload: Workload<any, any>, since: number): boolean {
    try {
      return this.init.trust.measurements(peer).some(m => m.source === 'self' && m.workload === workload.id && m.version === workload.version && m.at >= since)
    } catch (err: any) {
      this.log.error('the trust book could not list the measurements of %s: %s', peer, message(err))
      return false
    }
  }

  private async run (peer: PeerId, workload: Workload<any, any>, options: ChallengeRunOptions): Promise<ChallengeOutcome> {
    const key = workloadKey(workload)
    const skipped = (detail: string, items = 0): ChallengeOutcome => ({ peerId: peer.toString(), workload: key, ok: false, verdict: 'skipped', items, at: this.now(), detail })
    if (peer.equals(this.init.self)) {
      return skipped('this node is not challenged')
    }
    if (workload.needsModel === true) {
      return skipped('the workload needs a model')
    }
    const aborted = (): boolean => options.signal?.aborted === true
    if (aborted()) {
      return skipped('aborted')
    }
    const deadlineMs = options.deadlineMs ?? this.deadlineMs
    let encoded: Uint8Array[]
    let input: Uint8Array
    try {
      const items = await workload.calibration({ random: this.random, items: this.items })
      encoded = items.map(item => workload.input.encode(item))
      input = encodeItemList(encoded)
    } catch (err: any) {
      return skipped(`no challenge input: ${message(err)}`)
    }
    if (encoded.length === 0) {
      return skipped('the workload has no calibration input')
    }
    if (aborted()) {
      return skipped('aborted')
    }
    const items = encoded.length
    const jobId = this.random(16)
    const stopLocal = new AbortController()
    const local: Promise<LocalAnswer> = Promise.resolve()
      .then(async () => this.init.recompute(workload, encoded, stopLocal.signal))
      .then(outputs => ({ outputs }), error => ({ error }))
    try {
      const started = this.clock()
      const remote = await this.send(peer, {
        jobId,
        shardIndex: 0,
        workload: workload.id,
        version: workload.version,
        input,
        idleTimeout: deadlineMs
      }, deadlineMs, options.signal)
      const roundTripMs = this.clock() - started
      const base = { peerId: peer.toString(), workload: key, items }
      if (remote.kind === 'aborted') {
        return skipped('aborted', items)
      }
      if (remote.kind === 'deadline') {
        return { ...base, ok: false, verdict: 'timeout', at: this.now(), detail: `no answer within ${deadlineMs} ms` }
      }
      if (remote.kind === 'error') {
        const code = String(remote.error?.code ?? remote.error?.name ?? 'error')
        const verdict = TIMEOUT_CODES.has(code) ? 'timeout' : 'unreachable'
        return { ...base, ok: false, verdict, at: this.now(), detail: `${code}: ${message(remote.error)}` }
      }
      this.heard(peer)
      let theirs: unknown[]
      try {
        theirs = (await checkResult(workload, {
          jobId,
          requester: this.init.self,
          worker: peer,
          shardIndex: 0,
          input,
          items,
          output: remote.output.output,
          receipt: remote.output.receipt
        })).outputs
      } catch (err: any) {
        return { ...base, ok: false, verdict: 'bad-receipt', roundTripMs, at: this.now(), detail: message(err) }
      }
      const itemsPerSec = items / (Math.max(roundTripMs, 1e-3) / 1000)
      const ours = await this.within(local, deadlineMs, options.signal)
      if (ours == null) {
        return skipped('this node could not recompute the answer in time', items)
      }
      if ('error' in ours) {
        return skipped(`this node could not recompute the answer: ${message(ours.error)}`, items)
      }
      const verdict = this.compare(workload, theirs, ours.outputs)
      if (verdict.kind === 'skipped') {
        return skipped(verdict.detail, items)
      }
      if (verdict.kind === 'differs') {
        return { ...base, ok: false, verdict: 'wrong-answer', itemsPerSec, roundTripMs, at: this.now(), detail: verdict.detail }
      }
      return { ...base, ok: true, verdict: 'passed', itemsPerSec, roundTripMs, beyondCpu: this.beyondCpu(peer, workload, itemsPerSec), at: this.now() }
    } finally {
      stopLocal.abort()
    }
  }

  /** Send the challenge shard; settles with its answer, its error, the deadline or the caller's abort. */
  private async send (peer: PeerId, attempt: Parameters<PeerChannel['send']>[0], deadlineMs: number, signal?: AbortSignal): Promise<RemoteAnswer> {
    let handle: AttemptHandle
    try {
      handle = this.init.channel(peer).send(attempt)
    } catch (error: any) {
      return { kind: 'error', error }
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([
        handle.result.then((output): RemoteAnswer => ({ kind: 'answer', output }), (error): RemoteAnswer => ({ kind: 'error', error })),
        new Promise<RemoteAnswer>(resolve => {
          timer = setTimeout(() => { resolve({ kind: 'deadline' }) }, deadlineMs)
          onAbort = () => { resolve({ kind: 'aborted' }) }
          signal?.addEventListener('abort', onAbort, { once: true })
        })
      ]).then(answer => {
        if (answer.kind === 'deadline' || answer.kind === 'aborted') {
          handle.cancel()
        }
        return answer
      })
    } finally {
      clearTimeout(timer)
      if (onAbort != null) {
        signal?.removeEventListener('abort', onAbort)
      }
    }
  }

  /** Our own answer, or undefined when it takes longer than `ms` more (or the caller aborts). */
  private async within (local: Promise<LocalAnswer>, ms: number, signal?: AbortSignal): Promise<LocalAnswer | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([
        local,
        new Promise<undefined>(resolve => {
          timer = setTimeout(() => { resolve(undefined) }, ms)
          onAbort = () => { resolve(undefined) }
          signal?.addEventListener('abort', onAbort, { once: true })
        })
      ])
    } finally {
      clearTimeout(timer)
      if (onAbort != null) {
        signal?.removeEventListener('abort', onAbort)
      }
    }
  }

  /**
   * Compare the peer's outputs with ours, item by item. An item that differs is a wrong answer;
   * otherwise an output of ours that does not decode, or a `compare` that throws, is the
   * workload's fault, not the peer's: skipped.
   */
  private compare (workload: Workload<any, any>, theirs: unknown[], ours: Uint8Array[]): { kind: 'same' } | { kind: 'differs' | 'skipped', detail: string } {
    if (ours.length !== theirs.length) {
      return { kind: 'skipped', detail: `this node computed ${ours.length} outputs for ${theirs.length} items` }
    }
    let fault: string | undefined
    for (let i = 0; i < theirs.length; i++) {
      let same: boolean
      try {
        same = workload.compare(theirs[i], workload.output.decode(ours[i])) === true
      } catch (err: any) {
        fault ??= `comparing item ${i} failed: ${message(err)}`
        continue
      }
      if (!same) {
        return { kind: 'differs', detail: `item ${i} of ${theirs.length} differs from this node's answer (${workload.tolerance})` }
      }
    }
    return fault == null ? { kind: 'same' } : { kind: 'skipped', detail: fault }
  }

  /**
   * The GPU rule: a `gpu` workload measured faster than every CPU core the peer claims could
   * run it, with CPU_HEADROOM to spare. Without a claimed core count there is no bound: false.
   */
  private beyondCpu (peer: PeerId, workload: Workload<any, any>, itemsPerSec: number): boolean {
    const perCore = workload.cpuItemsPerSecPerCore
    if (workload.accelerator !== 'gpu' || perCore == null || !(perCore > 0)) {
      return false
    }
    let cores: number | undefined
    try {
      cores = this.init.hardware?.(peer.toString())?.cpuCores
    } catch {}
    if (cores == null || !Number.isFinite(cores) || cores < 1) {
      return false
    }
    return itemsPerSec > perCore * cores * CPU_HEADROOM
  }

  private heard (peer: PeerId): void {
    try {
      this.init.liveness?.heard(peer.toString(), 'challenge')
    } catch (err: any) {
      this.log.error('liveness could not take a challenge answer: %s', message(err))
    }
  }

  /** Count the outcome, log it, and record it in the trust book. */
  private settle (workload: Workload<any, any>, outcome: ChallengeOutcome): void {
    const { peerId, verdict } = outcome
    this.counter?.increment({ [verdict]: true })
    if (verdict === 'skipped') {
      this.log('challenge of %s on %s skipped: %s', peerId, outcome.workload, outcome.detail)
      return
    }
    if (verdict === 'unreachable') {
      this.log('challenge of %s on %s: unreachable (%s)', peerId, outcome.workload, outcome.detail)
      return
    }
    this.log('challenge of %s on %s: %s%s', peerId, outcome.workload, verdict, outcome.itemsPerSec != null ? ` at ${outcome.itemsPerSec.toFixed(1)} items/s` : '')
    try {
      if (verdict === 'passed') {
        this.init.trust.record(peerId, 'challenge-passed')
        this.init.trust.measure(peerId, { workload: workload.id, version: workload.version, itemsPerSec: outcome.itemsPerSec ?? 0, items: outcome.items, at: outcome.at, beyondCpu: outcome.beyondCpu === true })
      } else if (verdict === 'timeout') {
        this.init.trust.record(peerId, 'challenge-timeout')
      } else {
        this.init.trust.record(peerId, 'challenge-failed')
      }
    } catch (err: any) {
      this.log.error('the trust book could not record a challenge of %s: %s', peerId, message(err))
    }
  }

  /** Remember an outcome for the freshness window; the oldest go first beyond the bound. */
  private remember (outcome: ChallengeOutcome): void {
    const key = `${outcome.peerId}\n${outcome.workload}`
    this.remembered.delete(key)
    this.remembered.set(key, outcome)
    for (const [old, held] of this.remembered) {
      if (this.remembered.size <= MAX_REMEMBERED_CHALLENGES && outcome.at - held.at < this.freshMs) {
        break
      }
      this.remembered.delete(old)
    }
  }

  /**
   * Sign the attestation of an answered challenge (`passed` or `wrong-answer`: a wrong answer
   * states no speed) and hand it on, before the outcome is returned.
   */
  private async attest (subject: PeerId, workload: Workload<any, any>, outcome: ChallengeOutcome): Promise<VerifiedAttestation | undefined> {
    if (outcome.verdict !== 'passed' && outcome.verdict !== 'wrong-answer') {
      return undefined
    }
    try {
      const attestation = await signAttestation(this.init.privateKey, {
        subject,
        workload: workload.id,
        version: workload.version,
        items: outcome.items,
        itemsPerSec: outcome.ok ? outcome.itemsPerSec ?? 0 : 0,
        ok: outcome.ok,
        beyondCpu: outcome.ok && outcome.beyondCpu === true
      }, { at: outcome.at, nonce: this.random(16) })
      try {
        this.init.publish?.(attestation)
      } catch (err: any) {
        this.log.error('an attestation about %p could not be published: %s', subject, message(err))
      }
      return attestation
    } catch (err: any) {
      this.log.error('could not sign an attestation about %p: %s', subject, message(err))
      return undefined
    }
  }
}
