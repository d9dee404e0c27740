import { MAX_RECEIPT_GROUP } from '@shardmesh/protocol'
import { countersignReceipts } from '@shardmesh/receipts'
import { UnknownWorkloadError } from '@shardmesh/workloads'
import { BadResultError, BusyError, JobAbortedError, NotAllowedError, ShardTimeoutError, USER_ERROR_CODES } from '../errors.js'
import { FailurePolicy } from './failure-policy.js'
import { StragglerThreshold, hedgeStragglers } from './hedging.js'
import { defaultPlacement } from './placement.js'
import { jobProgress, jobResult, peerReport } from './report.js'
import { checkResult } from './result-check.js'
import { ShardQueue, pullShards } from './scheduler.js'
import { newPeer, splitJob } from './state.js'
import { reopenLost, whyStuck } from './stuck.js'
import { TickBatch } from '../tick-batch.js'
import { initialReplicas } from './verification.js'
import { countersign, decide, disputeOf, sameOutputs } from './voting.js'
import type { Exclusion, PeerPlacement, PlacementPolicy, WindowObservation } from './placement.js'
import type { Attempt, PeerState, ShardResult, ShardState } from './state.js'
import type { Dispute, JobEvidenceSink, JobPlacement, JobProgress, JobResult, JobSnapshot, ReceiptSink, ShardReport } from './types.js'
import type { VerificationPolicy } from './verification.js'
import type { Logger, PeerId, PrivateKey } from '@libp2p/interface'
import type { ToCountersign } from '@shardmesh/receipts'
import type { EvidenceKind } from '@shardmesh/trust'
import type { Workload } from '@shardmesh/workloads'

/** The time and timers a job runs on: the system's, or a simulated clock in tests. */
export interface JobClock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const systemClock: JobClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => { clearTimeout(handle as ReturnType<typeof setTimeout> | undefined) }
}

export interface JobRunInit {
  jobId: Uint8Array
  workload: Workload<any, any>
  /** encoded input items */
  items: Uint8Array[]
  shardSize: number
  model?: { digest: string, bytes: Uint8Array }
  /** the price asked of every worker (lamports per item): a receipt must state it @default unpaid */
  lamportsPerItem?: bigint
  /** the peers of the job, in pull order, with their first windows (see `PlacementPolicy.place`) */
  peers: Array<Pick<PeerPlacement, 'channel' | 'window' | 'mustVerify'>>
  /** candidates the placement did not use, and why (reported in `JobResult.placement`) */
  excluded?: Exclusion[]
  /** candidates the placement considered @default peers + excluded */
  considered?: number
  /** where what the job learns of its peers goes (the trust book) */
  evidence?: JobEvidenceSink
  /** adjusts the peers' windows as attempts end @default defaultPlacement() */
  placement?: PlacementPolicy
  self: PeerId
  privateKey: PrivateKey
  policy: VerificationPolicy
  maxRetries: number
  idleTimeout: number
  queueTimeout: number
  hedge: boolean
  signal?: AbortSignal
  onProgress?(progress: JobProgress): void
  /** where countersigned receipts go before their shard counts as done */
  receiptSink?: ReceiptSink
  /**
   * Once a shard's receipts are stored, send each agreeing worker its own countersigned receipt
   * (`PeerChannel.deliver`) @default true
   */
  returnReceipts?: boolean
  log: Logger
  /** @default the system clock */
  clock?: JobClock
}

/** What a `JobRun` knows of itself now: the parts of a `JobSnapshot` that come from its live state. */
export type JobRunSnapshot = Pick<JobSnapshot, 'progress' | 'shards' | 'peers' | 'disputes' | 'placement'>

/** How often stragglers are looked for (ms). */
const HEDGE_INTERVAL = 100

/** The code of `PeerUnresponsiveError`: the peer's heartbeat went silent with work in flight. */
const PEER_UNRESPONSIVE = 'ERR_PEER_UNRESPONSIVE'

/**
 * One job on the requester: the only place that knows its shards, and the state of its peers
 * and shards. Peers pull work: whenever a healthy peer has room in its window it gets the next
 * shard (`pullShards`), so faster peers take more; a `suspect` or `dead` one gets none until it
 * recovers. A failed attempt goes to the `FailurePolicy` (retry elsewhere, backoff, bans), a
 * result is checked (`checkResult`) and decided by the verification policy (`decide`; a peer on
 * probation, or one that lost a dispute in this job, never decides a shard alone), stragglers
 * and, once the queue is drained, shards an idle peer would finish sooner are hedged
 * (`hedgeStragglers`), a job that can no longer finish says why (`whyStuck`), and the outputs
 * and reports are assembled in shard order (`jobResult`) once every accepted shard's receipts
 * are countersigned and stored. What it learns of remote peers goes to `evidence`.
 */
export class JobRun {
  private readonly shards: ShardState[]
  private readonly peers: PeerState[]
  private readonly queue: ShardQueue
  private readonly failures: FailurePolicy
  private readonly placement: PlacementPolicy
  private doneCount = 0
  private ackedShards = 0
  private ackedItems = 0
  /** countersigning or storing a receipt failed: the job cannot succeed */
  private receiptError?: Error
  private readonly durations: number[] = []
  private readonly disputes: Dispute[] = []
  private readonly clock: JobClock
  private readonly started: number
  private lastAccepted: number
  private finished = false
  /** when `run()` settled, on the job's clock */
  private finishedAt?: number
  private timer?: unknown
  private hedgeTimer?: unknown
  private resolve!: (result: JobResult) => void
  private reject!: (err: Error) => void
  /** shards with at least one attempt running: the only ones hedging looks at */
  private readonly running = new Set<ShardState>()
  private readonly stragglerThreshold = new StragglerThreshold()
  private readonly countersigning: Array<Promise<void>> = []
  private readonly receipts: Uint8Array[][] = []
  /**
   * Shards decided in the same turn of the event loop are countersigned together: one signature
   * over the group, each receipt with its path (docs/PROTOCOL.md §6). The results were verified
   * as they arrived.
   */
  private readonly countersigner: TickBatch<ToCountersign, Uint8Array>

  constructor (private readonly init: JobRunInit) {
    this.shards = splitJob(init.workload, init.items, init.shardSize, initialReplicas(init.policy))
    this.peers = init.peers.map(({ channel, window, mustVerify }) => newPeer(channel, window, mustVerify === true && !channel.local))
    this.queue = new ShardQueue(this.shards)
    this.failures = new FailurePolicy({ maxRetries: init.maxRetries })
    this.placement = init.placement ?? defaultPlacement()
    this.clock = init.clock ?? systemClock
    this.started = this.clock.now()
    this.lastAccepted = this.started
    this.countersigner = new TickBatch(async items => countersignReceipts(init.privateKey, items, { verified: true }), MAX_RECEIPT_GROUP)
  }

  private now (): number {
    return this.clock.now()
  }

  /**
   * The job as it stands: progress (shards whose receipts are stored), shard counts, each peer's
   * report with its attempts in flight, disputes and placement. Built from the live state each
   * time it is asked (nothing is kept per shard for it); once the job ended it is its final state.
   */
  snapshot (): JobRunSnapshot {
    const shards = { total: this.shards.length, done: 0, inFlight: 0, attempts: 0, retries: 0, hedged: 0, checked: 0, disputed: 0 }
    for (const shard of this.shards) {
      shards.done += shard.done != null ? 1 : 0
      shards.inFlight += shard.running.size
      shards.attempts += shard.attempts
      shards.retries += shard.failures
      shards.hedged += shard.hedged ? 1 : 0
      shards.checked += shard.checked ? 1 : 0
      shards.disputed += shard.disputed ? 1 : 0
    }
    const elapsedMs = (this.finishedAt ?? this.now()) - this.started
    return {
      progress: jobProgress({ shards: this.ackedShards, items: this.ackedItems }, { shards: this.shards.length, items: this.init.items.length }, this.peers, elapsedMs),
      shards,
      peers: this.peers.map(p => ({ ...peerReport(p), inFlight: p.inflight })),
      disputes: this.disputes.map(d => ({ shard: d.shard, winners: [...d.winners], losers: [...d.losers] })),
      placement: this.placementReport()
    }
  }

  /** The candidates the job considered, the peers it uses and those it excluded (copies). */
  private placementReport (): JobPlacement {
    const excluded = (this.init.excluded ?? []).map(e => ({ ...e }))
    return { considered: this.init.considered ?? this.peers.length + excluded.length, used: this.peers.map(p => p.id), excluded }
  }

  async run (): Promise<JobResult> {
    const promise = new Promise<JobResult>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    const onAbort = (): void => { this.fail(new JobAbortedError('the job was cancelled')) }
    this.init.signal?.addEventListener('abort', onAbort, { once: true })
    if (this.init.signal?.aborted === true) {
      onAbort()
    } else if (this.shards.length === 0) {
      this.complete()
    } else {
      if (this.init.hedge) {
        this.hedgeTick()
      }
      this.pump()
    }
    try {
      return await promise
    } finally {
      this.finishedAt = this.now()
      this.init.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Look for stragglers every `HEDGE_INTERVAL` while the job runs. */
  private hedgeTick (): void {
    this.hedgeTimer = this.clock.setTimeout(() => {
      if (!this.finished) {
        this.hedge()
        this.hedgeTick()
      }
    }, HEDGE_INTERVAL)
  }

  /**
   * Hand shards to every healthy peer with room, hedge once the queue is drained, then check
   * the job can still finish. Runs again by itself when a backoff ends, and while a peer is
   * suspect or dead (so that one that recovers gets work again).
   */
  private pump (): void {
    if (this.finished) {
      return
    }
    const now = this.now()
    if (reopenLost(this.shards, this.peers, this.init.maxRetries) > 0) {
      this.init.log('shards that every peer left had lost to the link go round again')
    }
    const waitUntil = pullShards(this.peers, this.queue, now, (shard, peer) => { this.launch(shard, peer, false) })
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
    if (waitUntil !== Infinity) {
      this.timer = this.clock.setTimeout(() => { this.pump() }, Math.max(1, waitUntil - now))
    }
    if (this.init.hedge) {
      this.hedge()
    }
    const stuck = whyStuck({
      shards: this.shards,
      peers: this.peers,
      workload: this.init.workload,
      policy: this.init.policy,
      now,
      lastAccepted: this.lastAccepted,
      queueTimeout: this.init.queueTimeout
    })
    if (stuck != null) {
      this.fail(stuck)
    }
  }

  private launch (shard: ShardState, peer: PeerState, hedge: boolean): void {
    const startedAt = this.now()
    if (shard.attempts === 0) {
      shard.firstStartedAt = startedAt
    }
    shard.attempts++
    shard.tried.add(peer.id)
    peer.inflight++
    peer.attempts++
    const handle = peer.channel.send({
      jobId: this.init.jobId,
      shardIndex: shard.index,
      workload: this.init.workload.id,
      version: this.init.workload.version,
      input: shard.input,
      model: this.init.model,
      lamportsPerItem: this.init.lamportsPerItem,
      idleTimeout: this.init.idleTimeout
    })
    const attempt: Attempt = { peer, handle, startedAt, hedge }
    shard.running.add(attempt)
    this.running.add(shard)
    handle.result.then(
      (output) => { this.onResult(shard, attempt, output.output, output.receipt) },
      (err: Error) => { this.onError(shard, attempt, err) }
    )
  }

  private endAttempt (shard: ShardState, attempt: Attempt): boolean {
    if (!shard.running.delete(attempt)) {
      return false
    }
    if (shard.running.size === 0) {
      this.running.delete(shard)
    }
    attempt.peer.inflight--
    return !this.finished
  }

  /** Let the placement policy set a peer's window after an attempt ended. */
  private observe (shard: ShardState, attempt: Attempt, outcome: WindowObservation['outcome'], roundTripMs: number, queuedMs?: number): void {
    const { peer } = attempt
    const observation: WindowObservation = { peerId: peer.id, window: peer.window, outcome, roundTripMs, items: shard.items }
    if (queuedMs != null) {
      observation.queuedMs = queuedMs
    }
    peer.window = Math.max(1, this.placement.window(observation))
  }

  /** Tell the evidence sink about a remote peer; a sink that throws does not stop the job. */
  private record (peer: PeerState, kind: EvidenceKind): void {
    if (peer.channel.local || this.init.evidence == null) {
      return
    }
    try {
      this.init.evidence.record(peer.id, kind)
    } catch (err: any) {
      this.init.log.error('could not record %s about %s: %s', kind, peer.id, err.message)
    }
  }

  /** Whether a result of this peer must be confirmed by another: it is on probation, or lost a dispute in this job. */
  private mustVerify (peer: PeerState): boolean {
    if (peer.channel.local) {
      return false
    }
    if (peer.mustVerify) {
      return true
    }
    try {
      return this.init.evidence?.mustVerify?.(peer.id) === true
    } catch (err: any) {
      this.init.log.error('could not ask whether %s must be verified: %s', peer.id, err.message)
      // not knowing, check it
      return true
    }
  }

  /** The evidence a failed attempt is, by its error; none for a busy peer, a refusal, or the input's fault. */
  private evidenceOf (err: Error): EvidenceKind | undefined {
    const code = (err as Error & { code?: string }).code ?? 'ERR_INTERNAL'
    if (code === BusyError.code || code === NotAllowedError.code || code === UnknownWorkloadError.code || USER_ERROR_CODES.has(code)) {
      return undefined
    }
    if (code === ShardTimeoutError.code) {
      return 'shard-timeout'
    }
    if (code === PEER_UNRESPONSIVE) {
      return 'unresponsive'
    }
    if (code === BadResultError.code) {
      return 'shard-failed'
    }
    // any other provider error: a crash, a broken stream, an internal error of the worker
    return 'shard-failed'
  }

  private onResult (shard: ShardState, attempt: Attempt, output: Uint8Array, receipt: Uint8Array): void {
    if (this.finished || !shard.running.has(attempt)) {
      return
    }
    const { peer } = attempt
    // the attempt stays in flight until its result is checked: a shard being checked is
    // neither free to place again nor stuck
    void checkResult(this.init.workload, {
      jobId: this.init.jobId,
      requester: this.init.self,
      worker: peer.channel.peerId,
      shardIndex: shard.index,
      input: shard.input,
      items: shard.items,
      output,
      receipt,
      lamportsPerItem: this.init.lamportsPerItem ?? 0n
    }).then(({ outputs, runMs }) => {
      if (!this.endAttempt(shard, attempt)) {
        return
      }
      const roundTripMs = this.now() - attempt.startedAt
      this.failures.onSuccess(peer)
      peer.results++
      peer.roundTripMs += roundTripMs
      // the worker's own clock, from admission to the end of the run: queueing is not in it
      const ranMs = Math.max(0, Math.min(runMs, roundTripMs))
      peer.runMs += ranMs
      this.durations.push(roundTripMs)
      this.observe(shard, attempt, 'result', roundTripMs, roundTripMs - ranMs)
      if (shard.done == null) {
        const result: ShardResult = { peer, output, receipt, outputs, roundTripMs }
        if (this.mustVerify(peer)) {
          result.mustVerify = true
        }
        shard.results.push(result)
        this.decide(shard)
      }
      this.pump()
    }, (err: Error) => {
      this.onError(shard, attempt, err)
    }).catch((err: Error) => {
      // the workload's compare threw (a WorkloadCodeError): the job fails, the node goes on
      this.fail(err)
    })
  }

  /** Enough results? Then accept, ask for a check, or settle a dispute. */
  private decide (shard: ShardState): void {
    const decision = decide(shard, this.init.policy, this.init.jobId, sameOutputs(this.init.workload))
    switch (decision.kind) {
      case 'wait':
        return
      case 'more':
        if (decision.reason === 'dispute') {
          this.init.log('shard %d disputed by %d results; asking one more peer', shard.index, shard.results.length)
        } else if (decision.reason === 'probation') {
          this.init.log('shard %d: its results come only from peers that must be verified; asking one more peer', shard.index)
        }
        this.queue.push(shard)
        return
      case 'accept':
        this.accept(shard, decision.agreeing, decision.outcome)
        return
      case 'fail':
        this.fail(decision.error)
    }
  }

  private accept (shard: ShardState, agreeing: ShardResult[], outcome: ShardReport['outcome']): void {
    const now = this.now()
    // a result of a peer in good standing is the one used, when there is one
    const winner = agreeing.find(r => r.mustVerify !== true) ?? agreeing[0]
    shard.done = { winner, agreeing, outcome, at: now }
    for (const attempt of shard.running) {
      this.endAttempt(shard, attempt)
      attempt.handle.cancel()
    }
    const dispute = disputeOf(shard, agreeing)
    if (dispute != null) {
      this.disputes.push(dispute)
      for (const result of shard.results) {
        if (dispute.losers.includes(result.peer.id)) {
          // it lost a dispute: for the rest of the job no result of its own is accepted alone
          result.peer.mustVerify = !result.peer.channel.local
        }
      }
      for (const id of new Set(dispute.losers)) {
        const peer = this.peers.find(p => p.id === id)
        if (peer != null) {
          this.record(peer, 'dispute-lost')
        }
      }
      for (const id of new Set(dispute.winners)) {
        const peer = this.peers.find(p => p.id === id)
        if (peer != null) {
          this.record(peer, 'dispute-won')
        }
      }
    }
    // every peer whose result agrees did the shard's work, the one whose output is used or not
    const counted = new Set<PeerState>()
    for (const result of agreeing) {
      if (counted.has(result.peer)) {
        continue
      }
      counted.add(result.peer)
      result.peer.accepted++
      result.peer.items += shard.items
      result.peer.acceptedRoundTripMs += result.roundTripMs
      this.record(result.peer, 'shard-accepted')
    }
    if (!winner.peer.channel.local && this.init.evidence != null) {
      try {
        this.init.evidence.measure(winner.peer.id, {
          workload: this.init.workload.id,
          version: this.init.workload.version,
          itemsPerSec: shard.items / Math.max(1, winner.roundTripMs) * 1000,
          items: shard.items,
          at: now,
          beyondCpu: false
        })
      } catch (err: any) {
        this.init.log.error('could not record the speed of %s: %s', winner.peer.id, err.message)
      }
    }
    this.doneCount++
    this.lastAccepted = now
    this.countersigning.push(this.acknowledge(shard, agreeing, outcome).catch((err: Error) => {
      this.receiptError ??= err
      this.fail(err)
    }))
    if (this.doneCount === this.shards.length) {
      this.complete()
    }
  }

  /**
   * Countersign the agreeing receipts, store them, and only then count the shard as done; then
   * send each agreeing worker its own.
   */
  private async acknowledge (shard: ShardState, agreeing: ShardResult[], outcome: ShardReport['outcome']): Promise<void> {
    const signed = await countersign(async item => this.countersigner.add(item), agreeing, this.init.policy, outcome)
    await this.init.receiptSink?.store(signed, { signal: this.init.signal })
    if (this.init.returnReceipts !== false) {
      this.returnReceipts(shard, agreeing, signed)
    }
    this.receipts[shard.index] = signed
    this.ackedShards++
    this.ackedItems += shard.items
    this.init.onProgress?.(jobProgress(
      { shards: this.ackedShards, items: this.ackedItems },
      { shards: this.shards.length, items: this.init.items.length },
      this.peers,
      this.now() - this.started
    ))
  }

  /**
   * Send every agreeing worker its own countersigned receipts of a shard (stored already, so a
   * worker never holds a receipt its requester could lose). Best effort: a channel that cannot
   * send is logged, never a failure of the job. Peers whose results lost get nothing.
   */
  private returnReceipts (shard: ShardState, agreeing: ShardResult[], signed: Uint8Array[]): void {
    const byPeer = new Map<PeerState, Uint8Array[]>()
    agreeing.forEach((result, i) => {
      const list = byPeer.get(result.peer)
      if (list == null) {
        byPeer.set(result.peer, [signed[i]])
      } else {
        list.push(signed[i])
      }
    })
    for (const [peer, receipts] of byPeer) {
      try {
        peer.channel.deliver?.({ jobId: this.init.jobId, shardIndex: shard.index, receipts })
      } catch (err: any) {
        this.init.log('could not send the receipts of shard %d to %s: %s', shard.index, peer.id, err.message)
      }
    }
  }

  private onError (shard: ShardState, attempt: Attempt, err: Error): void {
    if (!this.endAttempt(shard, attempt)) {
      return
    }
    if (this.finished || shard.done != null) {
      return
    }
    const { peer } = attempt
    const now = this.now()
    const wasBanned = peer.banned
    const verdict = this.failures.onFailure(shard, peer, err, now)
    if (!wasBanned && peer.banned) {
      if (peer.lastError?.code === NotAllowedError.code) {
        this.init.log('refused by peer %s: %s', peer.id, peer.lastError.message)
      } else {
        this.init.log('peer %s dropped from the job after %s', peer.id, peer.lastError?.code)
      }
    }
    if (verdict.kind === 'fail') {
      this.fail(verdict.error)
      return
    }
    const kind = this.evidenceOf(err)
    if (kind != null) {
      this.record(peer, kind)
    }
    this.observe(shard, attempt, verdict.busy ? 'busy' : 'failure', now - attempt.startedAt)
    this.queue.retry(shard)
    this.pump()
  }

  /**
   * Once the queue is drained, launch a second attempt of each shard that an idle peer would
   * finish sooner than the peers running it, or that runs far longer than most.
   */
  private hedge (): void {
    if (this.finished || !this.queue.drained()) {
      return
    }
    const now = this.now()
    hedgeStragglers(this.running, this.peers, this.stragglerThreshold.of(this.durations), now, (shard, peer) => {
      this.launch(shard, peer, true)
    }).forEach(({ shard, peer, reason }) => {
      this.init.log('hedging shard %d on %s after %d ms (%s)', shard.index, peer.id, now - shard.firstStartedAt, reason)
    })
  }

  private cleanup (): void {
    this.finished = true
    this.clock.clearTimeout(this.timer)
    this.clock.clearTimeout(this.hedgeTimer)
    this.saveWindows()
  }

  /** Tell the evidence sink the window each remote peer that answered ended the job with. */
  private saveWindows (): void {
    const sink = this.init.evidence
    if (sink == null) {
      return
    }
    for (const peer of this.peers) {
      if (peer.channel.local || (peer.results === 0 && peer.failures === 0)) {
        continue
      }
      try {
        sink.setEarnedWindow(peer.id, this.init.workload.id, peer.window)
      } catch (err: any) {
        this.init.log.error('could not save the window of %s: %s', peer.id, err.message)
      }
    }
  }

  private fail (err: Error): void {
    if (this.finished) {
      return
    }
    this.cleanup()
    for (const shard of this.shards) {
      for (const attempt of shard.running) {
        shard.running.delete(attempt)
        attempt.peer.inflight--
        attempt.handle.cancel()
      }
      this.running.delete(shard)
    }
    this.reject(err)
  }

  private complete (): void {
    this.cleanup()
    void Promise.all(this.countersigning).then(() => {
      if (this.receiptError != null) {
        this.reject(this.receiptError)
        return
      }
      this.resolve(jobResult({
        jobId: this.init.jobId,
        workload: this.init.workload,
        policy: this.init.policy,
        shards: this.shards,
        peers: this.peers,
        disputes: this.disputes,
        receipts: this.receipts,
        items: this.init.items.length,
        elapsedMs: this.now() - this.started,
        placement: this.placementReport()
      }))
    }).catch((err: Error) => { this.reject(err) })
  }
}
