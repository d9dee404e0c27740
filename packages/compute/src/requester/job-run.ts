import { JobAbortedError } from '../errors.js'
import { FailurePolicy } from './failure-policy.js'
import { hedgeStragglers } from './hedging.js'
import { defaultPlacement } from './placement.js'
import { jobProgress, jobResult } from './report.js'
import { checkResult } from './result-check.js'
import { ShardQueue, pullShards } from './scheduler.js'
import { newPeer, splitJob } from './state.js'
import { whyStuck } from './stuck.js'
import { initialReplicas } from './verification.js'
import { countersign, decide, disputeOf, sameOutputs } from './voting.js'
import type { PeerChannel } from './channel.js'
import type { PlacementPolicy, WindowObservation } from './placement.js'
import type { Attempt, PeerState, ShardResult, ShardState } from './state.js'
import type { Dispute, JobProgress, JobResult, ReceiptSink, ShardReport } from './types.js'
import type { VerificationPolicy } from './verification.js'
import type { Logger, PeerId, PrivateKey } from '@libp2p/interface'
import type { Workload } from '@shardmesh/workloads'

export interface JobRunInit {
  jobId: Uint8Array
  workload: Workload<any, any>
  /** encoded input items */
  items: Uint8Array[]
  shardSize: number
  model?: { digest: string, bytes: Uint8Array }
  /** the peers of the job, in pull order, with their first windows (see `PlacementPolicy.place`) */
  peers: Array<{ channel: PeerChannel, window: number }>
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
  log: Logger
}

/** How often stragglers are looked for (ms). */
const HEDGE_INTERVAL = 100

/**
 * One job on the requester: the only place that knows its shards, and the state of its peers
 * and shards. Peers pull work: whenever a peer has room in its window it gets the next shard
 * (`pullShards`), so faster peers take more. A failed attempt goes to the `FailurePolicy`
 * (retry elsewhere, backoff, bans), a result is checked (`checkResult`) and decided by the
 * verification policy (`decide`), stragglers are hedged (`hedgeStragglers`), a job that can no
 * longer finish says why (`whyStuck`), and the outputs and reports are assembled in shard order
 * (`jobResult`) once every accepted shard's receipts are countersigned and stored.
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
  private readonly started = Date.now()
  private lastAccepted = Date.now()
  private finished = false
  private timer?: ReturnType<typeof setTimeout>
  private hedgeTimer?: ReturnType<typeof setInterval>
  private resolve!: (result: JobResult) => void
  private reject!: (err: Error) => void
  private readonly countersigning: Array<Promise<void>> = []
  private readonly receipts: Uint8Array[][] = []

  constructor (private readonly init: JobRunInit) {
    this.shards = splitJob(init.workload, init.items, init.shardSize, initialReplicas(init.policy))
    this.peers = init.peers.map(({ channel, window }) => newPeer(channel, window))
    this.queue = new ShardQueue(this.shards)
    this.failures = new FailurePolicy({ maxRetries: init.maxRetries })
    this.placement = init.placement ?? defaultPlacement()
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
        this.hedgeTimer = setInterval(() => { this.hedge() }, HEDGE_INTERVAL)
      }
      this.pump()
    }
    try {
      return await promise
    } finally {
      this.init.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Hand shards to every peer with room, then check the job can still finish. */
  private pump (): void {
    if (this.finished) {
      return
    }
    const now = Date.now()
    const waitUntil = pullShards(this.peers, this.queue, now, (shard, peer) => { this.launch(shard, peer, false) })
    clearTimeout(this.timer)
    if (waitUntil !== Infinity) {
      this.timer = setTimeout(() => { this.pump() }, Math.max(1, waitUntil - now))
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
    const startedAt = Date.now()
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
      idleTimeout: this.init.idleTimeout
    })
    const attempt: Attempt = { peer, handle, startedAt, hedge }
    shard.running.add(attempt)
    handle.result.then(
      (output) => { this.onResult(shard, attempt, output.output, output.receipt) },
      (err: Error) => { this.onError(shard, attempt, err) }
    )
  }

  private endAttempt (shard: ShardState, attempt: Attempt): boolean {
    if (!shard.running.delete(attempt)) {
      return false
    }
    attempt.peer.inflight--
    return !this.finished
  }

  /** Let the placement policy set a peer's window after an attempt ended. */
  private observe (attempt: Attempt, outcome: WindowObservation['outcome'], roundTripMs: number): void {
    const { peer } = attempt
    peer.window = Math.max(1, this.placement.window({ peerId: peer.id, window: peer.window, outcome, roundTripMs }))
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
      receipt
    }).then(({ outputs, runMs }) => {
      if (!this.endAttempt(shard, attempt)) {
        return
      }
      const roundTripMs = Date.now() - attempt.startedAt
      this.failures.onSuccess(peer)
      peer.results++
      peer.roundTripMs += roundTripMs
      // the worker's own clock, from admission to the end of the run: queueing is not in it
      peer.runMs += Math.max(0, Math.min(runMs, roundTripMs))
      this.durations.push(roundTripMs)
      this.observe(attempt, 'result', roundTripMs)
      if (shard.done == null) {
        shard.results.push({ peer, output, receipt, outputs })
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
    shard.done = { winner: agreeing[0], agreeing, outcome, at: Date.now() }
    for (const attempt of shard.running) {
      this.endAttempt(shard, attempt)
      attempt.handle.cancel()
    }
    const dispute = disputeOf(shard, agreeing)
    if (dispute != null) {
      this.disputes.push(dispute)
    }
    // every peer whose result agrees did the shard's work, the one whose output is used or not
    for (const peer of new Set(agreeing.map(r => r.peer))) {
      peer.accepted++
      peer.items += shard.items
    }
    this.doneCount++
    this.lastAccepted = Date.now()
    this.countersigning.push(this.acknowledge(shard, agreeing, outcome).catch((err: Error) => {
      this.receiptError ??= err
      this.fail(err)
    }))
    if (this.doneCount === this.shards.length) {
      this.complete()
    }
  }

  /** Countersign the agreeing receipts, store them, and only then count the shard as done. */
  private async acknowledge (shard: ShardState, agreeing: ShardResult[], outcome: ShardReport['outcome']): Promise<void> {
    const signed = await countersign(this.init.privateKey, agreeing, this.init.policy, outcome)
    await this.init.receiptSink?.store(signed, { signal: this.init.signal })
    this.receipts[shard.index] = signed
    this.ackedShards++
    this.ackedItems += shard.items
    this.init.onProgress?.(jobProgress(
      { shards: this.ackedShards, items: this.ackedItems },
      { shards: this.shards.length, items: this.init.items.length },
      this.peers,
      Date.now() - this.started
    ))
  }

  private onError (shard: ShardState, attempt: Attempt, err: Error): void {
    if (!this.endAttempt(shard, attempt)) {
      return
    }
    if (this.finished || shard.done != null) {
      return
    }
    const { peer } = attempt
    const now = Date.now()
    const wasBanned = peer.banned
    const verdict = this.failures.onFailure(shard, peer, err, now)
    if (!wasBanned && peer.banned) {
      this.init.log('peer %s dropped from the job after %s', peer.id, peer.lastError?.code)
    }
    if (verdict.kind === 'fail') {
      this.fail(verdict.error)
      return
    }
    this.observe(attempt, verdict.busy ? 'busy' : 'failure', now - attempt.startedAt)
    this.queue.retry(shard)
    this.pump()
  }

  /** Launch a second attempt of each shard that runs far longer than most, on an idle peer. */
  private hedge (): void {
    if (this.finished || !this.queue.drained()) {
      return
    }
    const now = Date.now()
    hedgeStragglers(this.shards, this.peers, this.durations, now, (shard, peer) => {
      this.init.log('hedging shard %d on %s after %d ms', shard.index, peer.id, now - shard.firstStartedAt)
      this.launch(shard, peer, true)
    })
  }

  private cleanup (): void {
    this.finished = true
    clearTimeout(this.timer)
    clearInterval(this.hedgeTimer)
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
        elapsedMs: Date.now() - this.started
      }))
    }).catch((err: Error) => { this.reject(err) })
  }
}
