import { decodeItemList, encodeItemList, plural, sha256, ShardmeshError } from '@shardmesh/protocol'
import { countersignReceipt, verifyReceipt } from '@shardmesh/receipts'
import { InvalidInputError, UnknownWorkloadError, callWorkload, workloadKey } from '@shardmesh/workloads'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import * as C from '../constants.js'
import {
  AllBusyError, AllExcludedError, BadResultError, ComputeErrorCode, DisputeUnresolvedError,
  JobAbortedError, ModelMismatchError, ModelTooLargeError, NoPeersError, NotEnoughPeersError, ShardFailedError, USER_ERROR_CODES
} from '../errors.js'
import { MAX_REPLICAS, formatVerification, initialReplicas, isSpotChecked, majority } from './verification.js'
import type { AttemptHandle, PeerChannel } from './channel.js'
import type { Dispute, JobProgress, JobResult, PeerReport, ReceiptSink, ShardReport } from './types.js'
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
  peers: Array<{ channel: PeerChannel, window: number }>
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

interface Peer {
  id: string
  channel: PeerChannel
  window: number
  inflight: number
  failures: number
  consecutiveFailures: number
  /** code and message of this peer's last failure, to explain why it was dropped */
  lastError?: { code: string, message: string }
  backoffUntil: number
  banned: boolean
  attempts: number
  /** shards whose accepted result includes this peer's (the one used or an agreeing replica) */
  accepted: number
  /** items of those shards */
  items: number
  /** results returned (accepted or not), and their summed round trip and run time */
  results: number
  roundTripMs: number
  runMs: number
}

interface Result { peer: Peer, output: Uint8Array, receipt: Uint8Array, outputs: unknown[] }

/** A result that passed its checks, with the run time its receipt states. */
interface Checked { outputs: unknown[], runMs: number }

interface Attempt { peer: Peer, handle: AttemptHandle, startedAt: number, hedge: boolean }

interface Shard {
  index: number
  input: Uint8Array
  items: number
  needed: number
  results: Result[]
  running: Set<Attempt>
  tried: Set<string>
  failures: number
  errors: string[]
  attempts: number
  hedged: boolean
  checked: boolean
  disputed: boolean
  firstStartedAt: number
  done?: { winner: Result, agreeing: Result[], outcome: ShardReport['outcome'], at: number }
}

/** The named error of a user error a worker reported, so callers can match it by name. */
function userError (code: string, message: string): Error {
  switch (code) {
    case ComputeErrorCode.MODEL_MISMATCH: return new ModelMismatchError(message)
    case ComputeErrorCode.MODEL_TOO_LARGE: return new ModelTooLargeError(message)
    case InvalidInputError.code: return new InvalidInputError(message)
    default: return new ShardmeshError(message, code)
  }
}

/**
 * One job on the requester: the only place that knows its shards. Peers pull work: whenever a
 * peer has room in its window (its slots plus one shard in the pipe) it gets the next shard,
 * so faster peers take more. Failures retry on a different peer with per-peer backoff,
 * stragglers are hedged, results are verified by the job's policy, and the outputs are
 * assembled in shard order.
 */
export class JobRun {
  private readonly shards: Shard[]
  private readonly peers: Peer[]
  private readonly needs: Shard[] = []
  private nextFresh = 0
  private doneCount = 0
  private ackedShards = 0
  private ackedItems = 0
  /** countersigning or storing a receipt failed: the job cannot succeed */
  private receiptError?: Error
  private itemsDone = 0
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
  private readonly receipts: Array<Uint8Array[]> = []

  constructor (private readonly init: JobRunInit) {
    const inputs = callWorkload(init.workload, 'split', () => {
      const shards = init.workload.split(init.items, init.shardSize)
      if (!Array.isArray(shards) || !shards.every(shard => Array.isArray(shard))) {
        throw new TypeError('split returned something other than an array of item arrays')
      }
      return shards
    })
    this.shards = inputs.map((items, index) => ({
      index,
      input: encodeItemList(items),
      items: items.length,
      needed: initialReplicas(init.policy),
      results: [],
      running: new Set(),
      tried: new Set(),
      failures: 0,
      errors: [],
      attempts: 0,
      hedged: false,
      checked: false,
      disputed: false,
      firstStartedAt: 0
    }))
    this.peers = init.peers.map(({ channel, window }) => ({
      id: channel.peerId.toString(),
      channel,
      window: Math.max(1, window),
      inflight: 0,
      failures: 0,
      consecutiveFailures: 0,
      backoffUntil: 0,
      banned: false,
      attempts: 0,
      accepted: 0,
      items: 0,
      results: 0,
      roundTripMs: 0,
      runMs: 0
    }))
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
        this.hedgeTimer = setInterval(() => { this.hedgeStragglers() }, 100)
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
    let waitUntil = Infinity
    for (const peer of this.peers) {
      if (peer.banned) {
        continue
      }
      if (peer.backoffUntil > now) {
        waitUntil = Math.min(waitUntil, peer.backoffUntil)
        continue
      }
      while (peer.inflight < peer.window) {
        const shard = this.pick(peer)
        if (shard == null) {
          break
        }
        this.launch(shard, peer, false)
      }
    }
    clearTimeout(this.timer)
    if (waitUntil !== Infinity) {
      this.timer = setTimeout(() => { this.pump() }, Math.max(1, waitUntil - now))
    }
    this.checkStuck(now)
  }

  /** The first shard that wants another attempt and that this peer has not tried yet. */
  private pick (peer: Peer): Shard | undefined {
    for (let i = 0; i < this.needs.length; i++) {
      const shard = this.needs[i]
      if (this.wants(shard) <= 0) {
        this.needs.splice(i--, 1)
        continue
      }
      if (!shard.tried.has(peer.id)) {
        return shard
      }
    }
    if (this.nextFresh < this.shards.length) {
      const shard = this.shards[this.nextFresh++]
      if (shard.needed > 1) {
        this.needs.push(shard)
      }
      return shard
    }
    return undefined
  }

  private wants (shard: Shard): number {
    return shard.done != null ? 0 : shard.needed - shard.results.length - shard.running.size
  }

  private launch (shard: Shard, peer: Peer, hedge: boolean): void {
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

  private endAttempt (shard: Shard, attempt: Attempt): boolean {
    if (!shard.running.delete(attempt)) {
      return false
    }
    attempt.peer.inflight--
    return !this.finished
  }

  private onResult (shard: Shard, attempt: Attempt, output: Uint8Array, receipt: Uint8Array): void {
    if (this.finished || !shard.running.has(attempt)) {
      return
    }
    const { peer } = attempt
    // the attempt stays in flight until its result is checked: a shard being checked is
    // neither free to place again nor stuck
    void this.check(shard, peer, output, receipt).then(({ outputs, runMs }) => {
      if (!this.endAttempt(shard, attempt)) {
        return
      }
      const roundTripMs = Date.now() - attempt.startedAt
      peer.consecutiveFailures = 0
      peer.results++
      peer.roundTripMs += roundTripMs
      // the worker's own clock, from admission to the end of the run: queueing is not in it
      peer.runMs += Math.max(0, Math.min(runMs, roundTripMs))
      this.durations.push(roundTripMs)
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

  /** A result is usable only if its receipt is the worker's, for this input and this output. */
  private async check (shard: Shard, peer: Peer, output: Uint8Array, receipt: Uint8Array): Promise<Checked> {
    let items: Uint8Array[]
    try {
      items = decodeItemList(output).items
    } catch (err: any) {
      throw new BadResultError(`undecodable output: ${err.message}`)
    }
    if (items.length !== shard.items) {
      throw new BadResultError(`${plural(items.length, 'output')} for ${plural(shard.items, 'item')}`)
    }
    let outputs: unknown[]
    try {
      outputs = items.map(item => this.init.workload.output.decode(item))
    } catch (err: any) {
      throw new BadResultError(`an output does not decode: ${err.message}`)
    }
    let verified
    try {
      verified = await verifyReceipt(receipt, { requireCountersignature: false, worker: peer.channel.peerId, requester: this.init.self })
    } catch (err: any) {
      throw new BadResultError(`bad receipt: ${err.message}`)
    }
    if (!uint8ArrayEquals(verified.jobId, this.init.jobId) || verified.shardIndex !== shard.index ||
        !uint8ArrayEquals(verified.inputDigest, sha256(shard.input)) || !uint8ArrayEquals(verified.outputDigest, sha256(output))) {
      throw new BadResultError('the receipt does not match this shard and its output')
    }
    return { outputs, runMs: verified.finishedAt - verified.startedAt }
  }

  private sameOutputs (a: Result, b: Result): boolean {
    return a.outputs.every((x, i) => callWorkload(this.init.workload, 'compare', () => this.init.workload.compare(x, b.outputs[i])))
  }

  /** Enough results? Then accept, ask for a check, or settle a dispute. */
  private decide (shard: Shard): void {
    const { policy } = this.init
    const n = shard.results.length
    if (n < shard.needed) {
      return
    }
    if (policy.kind === 'spot-check' && n === 1 && !shard.checked && isSpotChecked(this.init.jobId, shard.index, policy.p)) {
      shard.checked = true
      shard.needed = 2
      this.needs.push(shard)
      return
    }
    if (n === 1) {
      this.accept(shard, [shard.results[0]], 'accepted')
      return
    }
    const winners = majority(n, (i, j) => this.sameOutputs(shard.results[i], shard.results[j]))
    if (winners != null && winners.length * 2 > n && (n >= 2)) {
      if (winners.length < n) {
        shard.disputed = true
      }
      this.accept(shard, winners.map(i => shard.results[i]), shard.disputed ? 'disputed' : 'checked')
      return
    }
    shard.disputed = true
    if (shard.needed >= MAX_REPLICAS) {
      this.fail(new DisputeUnresolvedError(`shard ${shard.index}: ${n} peers returned results and no majority agrees`))
      return
    }
    shard.needed++
    this.init.log('shard %d disputed by %d results; asking one more peer', shard.index, n)
    this.needs.push(shard)
  }

  private accept (shard: Shard, agreeing: Result[], outcome: ShardReport['outcome']): void {
    const winner = agreeing[0]
    shard.done = { winner, agreeing, outcome, at: Date.now() }
    for (const attempt of shard.running) {
      this.endAttempt(shard, attempt)
      attempt.handle.cancel()
    }
    if (shard.disputed) {
      const won = new Set(agreeing.map(r => r.peer.id))
      this.disputes.push({
        shard: shard.index,
        winners: [...won],
        losers: shard.results.filter(r => !won.has(r.peer.id)).map(r => r.peer.id)
      })
    }
    // every peer whose result agrees did the shard's work, the one whose output is used or not
    for (const peer of new Set(agreeing.map(r => r.peer))) {
      peer.accepted++
      peer.items += shard.items
    }
    this.doneCount++
    this.itemsDone += shard.items
    this.lastAccepted = Date.now()
    const policy = formatVerification(this.init.policy)
    const shardItems = shard.items
    this.countersigning.push(Promise.all(agreeing.map(async r => countersignReceipt(this.init.privateKey, r.receipt, { policy, outcome }, { verified: true }))).then(
      async (signed) => {
        // the shard is acknowledged (progress, result) only once its receipts are durable
        await this.init.receiptSink?.store(signed, { signal: this.init.signal })
        this.receipts[shard.index] = signed
        this.ackedShards++
        this.ackedItems += shardItems
        const elapsedMs = Date.now() - this.started
        this.init.onProgress?.({
          shardsDone: this.ackedShards,
          shardsTotal: this.shards.length,
          itemsDone: this.ackedItems,
          itemsTotal: this.init.items.length,
          peersInUse: this.peers.filter(p => p.inflight > 0).length,
          elapsedMs,
          itemsPerSec: this.ackedItems / Math.max(elapsedMs, 1) * 1000
        })
      }
    ).catch((err: Error) => {
      this.receiptError ??= err
      this.fail(err)
    }))
    if (this.doneCount === this.shards.length) {
      this.complete()
    }
  }

  private onError (shard: Shard, attempt: Attempt, err: Error): void {
    if (!this.endAttempt(shard, attempt)) {
      return
    }
    if (this.finished || shard.done != null) {
      return
    }
    const { peer } = attempt
    const code = (err as ShardmeshError).code ?? 'ERR_INTERNAL'
    shard.errors.push(`${peer.id}: ${code} ${err.message}`)
    if (USER_ERROR_CODES.has(code)) {
      this.fail(userError(code, `shard ${shard.index} was rejected by ${peer.id}: ${err.message}`))
      return
    }
    if (code === ComputeErrorCode.BUSY) {
      // not a fault: the peer may take it later, after a short pause and with a smaller window
      shard.tried.delete(peer.id)
      peer.backoffUntil = Date.now() + C.BUSY_BACKOFF
      peer.window = Math.max(1, peer.window - 1)
    } else {
      peer.failures++
      peer.lastError = { code, message: err.message }
      peer.consecutiveFailures++
      peer.backoffUntil = Date.now() + Math.min(C.PEER_BACKOFF_MAX, C.PEER_BACKOFF_BASE * 2 ** (peer.consecutiveFailures - 1))
      if (peer.consecutiveFailures >= C.MAX_PEER_FAILURES || code === UnknownWorkloadError.code || code === ComputeErrorCode.NOT_ALLOWED) {
        peer.banned = true
        this.init.log('peer %s dropped from the job after %s', peer.id, code)
      }
      shard.failures++
      if (shard.failures > this.init.maxRetries) {
        this.fail(new ShardFailedError(`shard ${shard.index} failed ${plural(shard.failures, 'time')}: ${shard.errors.join('; ')}`))
        return
      }
    }
    if (!this.needs.includes(shard)) {
      this.needs.unshift(shard)
    }
    this.pump()
  }

  /** Launch a second attempt of a shard that runs far longer than most, on an idle peer. */
  private hedgeStragglers (): void {
    if (this.finished || this.durations.length < C.HEDGE_MIN_SAMPLES || this.nextFresh < this.shards.length || this.needs.some(s => this.wants(s) > 0)) {
      return
    }
    const sorted = [...this.durations].sort((a, b) => a - b)
    const threshold = Math.max(C.HEDGE_MIN_DELAY, C.HEDGE_FACTOR * sorted[Math.floor((sorted.length - 1) * C.HEDGE_PERCENTILE)])
    const now = Date.now()
    for (const shard of this.shards) {
      if (shard.done != null || shard.hedged || shard.running.size === 0) {
        continue
      }
      const slowest = [...shard.running].every(a => now - a.startedAt > threshold)
      if (!slowest) {
        continue
      }
      const peer = this.peers.find(p => !p.banned && p.backoffUntil <= now && p.inflight < p.window && !shard.tried.has(p.id))
      if (peer == null) {
        return
      }
      shard.hedged = true
      shard.needed++
      this.init.log('hedging shard %d on %s after %d ms', shard.index, peer.id, now - shard.firstStartedAt)
      this.launch(shard, peer, true)
      // a hedge answers for the straggler: whichever comes first counts, the other is cancelled
      shard.needed--
    }
  }

  /** Fail the job when no shard can make progress any more, and say why. */
  private checkStuck (now: number): void {
    if (this.finished) {
      return
    }
    const running = this.peers.some(p => p.inflight > 0)
    if (running) {
      return
    }
    const live = this.peers.filter(p => !p.banned)
    if (live.length === 0) {
      const why = this.peers.map(p => `${p.id} (${p.lastError != null ? `${p.lastError.code} ${p.lastError.message}; ` : ''}${plural(p.failures, 'failure')})`).join(', ')
      if (this.peers.every(p => p.lastError?.code === UnknownWorkloadError.code)) {
        // the job named its peers, and none of them has the workload
        this.fail(new NoPeersError(`no peer offers workload ${workloadKey(this.init.workload)}: ${why}`))
      } else {
        this.fail(new AllExcludedError(`every peer was dropped from the job: ${why}`))
      }
      return
    }
    const waiting = this.shards.find(s => s.done == null && this.wants(s) > 0 && live.every(p => s.tried.has(p.id)))
    if (waiting != null) {
      this.fail(this.cannotFinish(waiting, live))
      return
    }
    if (now - this.lastAccepted > this.init.queueTimeout) {
      this.fail(new AllBusyError(`no peer accepted work for ${this.init.queueTimeout} ms`))
    }
  }

  /**
   * Why a shard that wants another attempt cannot have one: every peer left has already
   * returned a result for it or failed it. Names what the shard needs, what it has, which
   * peers are left and which were dropped.
   */
  private cannotFinish (shard: Shard, live: Peer[]): Error {
    const returned = new Set(shard.results.map(r => r.peer.id))
    const left = live.map(p => `${p.id} (${returned.has(p.id) ? 'returned a result' : 'failed it'})`).join(', ')
    const failures = shard.errors.length > 0 ? `; failed attempts: ${shard.errors.join('; ')}` : ''
    const dropped = this.peers.filter(p => p.banned)
    const droppedText = dropped.length > 0
      ? `; dropped from the job: ${dropped.map(p => `${p.id}${p.lastError != null ? ` (${p.lastError.code})` : ''}`).join(', ')}`
      : ''
    const remain = `${plural(live.length, 'peer')} left: ${left}`
    if (shard.needed > 1) {
      const why = shard.disputed ? 'to settle a dispute' : shard.checked ? 'for its spot check' : `for ${formatVerification(this.init.policy)}`
      const message = `shard ${shard.index} needs results from ${shard.needed} distinct peers ${why} and has ${shard.results.length}; no peer is left to ask (${remain})${failures}${droppedText}`
      return shard.disputed || shard.checked ? new DisputeUnresolvedError(message) : new NotEnoughPeersError(message)
    }
    return new AllExcludedError(`shard ${shard.index}: every peer left has failed it (${remain})${failures}${droppedText}`)
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
      const elapsedMs = Date.now() - this.started
      const outputs = callWorkload(this.init.workload, 'merge', () => this.init.workload.merge(this.shards.map(s => decodeItemList(s.done?.winner.output ?? new Uint8Array(0)).items)))
      const peers: PeerReport[] = this.peers.map(p => ({
        peerId: p.id,
        local: p.channel.local,
        shards: p.accepted,
        items: p.items,
        attempts: p.attempts,
        failures: p.failures,
        results: p.results,
        meanShardMs: p.results > 0 ? Math.round(p.roundTripMs / p.results) : 0,
        meanRunMs: p.results > 0 ? Math.round(p.runMs / p.results) : 0,
        meanQueueMs: p.results > 0 ? Math.round((p.roundTripMs - p.runMs) / p.results) : 0,
        banned: p.banned
      }))
      const shards: ShardReport[] = this.shards.map(s => ({
        index: s.index,
        items: s.items,
        peer: s.done?.winner.peer.id ?? '',
        attempts: s.attempts,
        replicas: s.results.map(r => r.peer.id),
        hedged: s.hedged,
        outcome: s.done?.outcome ?? 'accepted',
        durationMs: (s.done?.at ?? 0) - s.firstStartedAt,
        errors: s.errors
      }))
      this.resolve({
        jobId: Buffer.from(this.init.jobId).toString('hex'),
        workload: this.init.workload.id,
        version: this.init.workload.version,
        verification: formatVerification(this.init.policy),
        outputs,
        shards,
        peers,
        disputes: this.disputes,
        receipts: this.receipts.flat(),
        items: this.init.items.length,
        elapsedMs,
        itemsPerSec: this.init.items.length / Math.max(elapsedMs, 1) * 1000
      })
    }).catch((err: Error) => { this.reject(err) })
  }
}
