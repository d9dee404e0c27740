import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SHARD_PROTOCOL, linkSignals, plural, sha256Hex } from '@shardmesh/protocol'
import { AbortError, WorkloadRegistry, WorkloadRunner, checkInputItems, workloadKey } from '@shardmesh/workloads'
import { TypedEventEmitter, serviceDependencies } from '@libp2p/interface'
import { modelCidOfDigest } from '@shardmesh/capabilities'
import { TrustBook, gpuClaim, throughputClaim } from '@shardmesh/trust'
import * as C from './constants.js'
import { NoPeersError, NotEnoughPeersError, NotStartedError } from './errors.js'
import { LocalChannel, RemoteChannel } from './requester/channel.js'
import { JobRun } from './requester/job-run.js'
import { LivenessBook } from './requester/liveness.js'
import { MIN_SCORE, earnedPlacement, planOf } from './requester/placement.js'
import { AttestationGossip } from './trust/attestation-gossip.js'
import { CALIBRATION_JITTER, CALIBRATION_MAX_WAIT, CALIBRATION_PAUSE, CALIBRATION_QUIET, calibrate, waitForIdleCpu } from './trust/calibrate.js'
import { Challenger } from './trust/challenger.js'
import { formatVerification, parseVerification, peersNeeded } from './requester/verification.js'
import { Admission } from './worker/admission.js'
import { ShardExecutor } from './worker/executor.js'
import { ModelStore } from './worker/model-store.js'
import { WorkerReceipts } from './worker/receipts.js'
import { serveShards } from './worker/serve.js'
import type { ComputeComponents, ComputeEvents, ComputeInit, Compute as ComputeInterface, DrainOptions, DrainResult, JobSpec, PeerTrust, PlacementReport, PlanRequest, PlannedPeer, WorkerStats } from './index.js'
import type { PeerChannel } from './requester/channel.js'
import type { CandidateEvidence, Exclusion, PlacementCandidate, PlacementPlan, PlacementPolicy } from './requester/placement.js'
import type { LivenessChange } from './requester/liveness.js'
import type { AttestationPubSub } from './trust/attestation-gossip.js'
import type { ChallengeOutcome } from './trust/challenger.js'
import type { JobPlacement, JobResult, JobSnapshot, RunJobOptions } from './requester/types.js'
import type { VerificationPolicy } from './requester/verification.js'
import type { Capabilities, PeerCapabilities } from '@shardmesh/capabilities'
import type { AbortOptions, Connection, CounterGroup, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { ModelFile, Workload } from '@shardmesh/workloads'

/** A job this node requested, from `run()` until it ends: what is known before its `JobRun` exists, then the run. */
interface LiveJob {
  jobId: string
  workload: string
  verification: string
  items: number
  startedAt: number
  /** once the peers were found (also when none could be used) */
  placement?: JobPlacement
  /** once shards go out */
  run?: JobRun
}

export class Compute extends TypedEventEmitter<ComputeEvents> implements ComputeInterface, Startable {
  public readonly registry: WorkloadRegistry
  private readonly log: Logger
  private readonly components: ComputeComponents
  private readonly poolSize: number
  private readonly slots: number
  private readonly maxQueue: number
  private readonly cacheDir: string
  private readonly init: ComputeInit
  private runner?: WorkloadRunner
  private executor?: ShardExecutor
  private models?: ModelStore
  private shutdown = new AbortController()
  private readonly channels = new Map<string, PeerChannel>()
  private readonly inflightModels = new Map<string, Promise<ModelFile>>()
  private readonly streams = new Set<Stream>()
  private loadTimer?: ReturnType<typeof setInterval>
  private lastFree = -1
  private draining?: Promise<DrainResult>
  private served = 0
  private failed = 0
  private readonly shardsCounter?: CounterGroup
  /** liveness of the peers this node gives work to, from their heartbeats and results */
  public readonly liveness = new LivenessBook()
  private trustBook?: TrustBook
  private challenger?: Challenger
  private gossip?: AttestationGossip
  /** (peer, workload) pairs this node gave work to lately: the targets of random challenges */
  private readonly active = new Map<string, { peer: PeerId, workload: Workload<any, any>, at: number }>()
  /** this node's own items/s per slot, per offered workload (`id@version`), once calibrated */
  private readonly calibration = new Map<string, number>()
  private readonly jobsCounter?: CounterGroup
  /** jobs this node requested that have not ended, oldest first (a Map keeps insertion order) */
  private readonly liveJobs = new Map<string, LiveJob>()
  /** the last snapshots of the newest jobs that ended, newest first, at most `FINISHED_JOBS_KEPT` */
  private finishedJobs: JobSnapshot[] = []

  constructor (components: ComputeComponents, init: ComputeInit = {}) {
    super()
    this.components = components
    this.init = init
    this[serviceDependencies] = init.advertise === false ? [] : ['@shardmesh/capabilities']
    this.log = components.logger.forComponent('shardmesh:compute')
    this.registry = init.registry ?? new WorkloadRegistry(init.workloads ?? [])
    this.poolSize = init.poolSize ?? availableParallelism()
    this.slots = init.slots ?? this.poolSize
    this.maxQueue = init.maxQueue ?? this.slots * C.DEFAULT_QUEUE_PER_SLOT
    this.cacheDir = init.cacheDir ?? join(tmpdir(), 'shardmesh-cache')
    this.shardsCounter = components.metrics?.registerCounterGroup('shardmesh_compute_shards_served_total', { help: 'Shards this node ran for requesters, by outcome', label: 'outcome' })
    this.jobsCounter = components.metrics?.registerCounterGroup('shardmesh_compute_jobs_total', { help: 'Jobs this node requested, by outcome', label: 'outcome' })
  }

  readonly [Symbol.toStringTag] = '@shardmesh/compute'
  /** Advertising needs the capabilities service; a node that does not advertise may lack it. */
  readonly [serviceDependencies]: string[]

  async start (): Promise<void> {
    this.shutdown = new AbortController()
    // every shard stream listens for shutdown: many requesters at once are not a leak
    setMaxListeners(Infinity, this.shutdown.signal)
    // first: a started service (its executor set) always has its trust book
    const trust = this.trustBook = await TrustBook.open({ self: this.components.peerId.toString(), file: this.init.trustFile, logger: this.components.logger })
    this.runner = new WorkloadRunner({ size: this.poolSize, cacheDir: this.cacheDir, maxQueue: this.maxQueue + this.slots })
    this.models = new ModelStore({
      dir: join(this.cacheDir, 'models'),
      maxModelBytes: this.init.maxModelBytes ?? C.MAX_MODEL_SIZE,
      maxBytes: this.init.modelCacheBytes ?? C.MODEL_CACHE_BYTES,
      share: this.init.modelCacheShare ?? C.MODEL_CACHE_SHARE
    })
    const admission = new Admission({
      slots: this.slots,
      maxQueue: this.maxQueue,
      allow: this.init.allow,
      deny: this.init.deny,
      onRefused: reason => { this.components.inbound?.refused(SHARD_PROTOCOL, reason) }
    })
    this.executor = new ShardExecutor({
      peerId: this.components.peerId,
      privateKey: this.components.privateKey,
      registry: this.registry,
      runner: this.runner,
      admission,
      models: this.models,
      faults: this.init.faults,
      offer: this.init.offer,
      receipts: new WorkerReceipts({ self: this.components.peerId, sink: this.init.workerReceiptSink, log: this.log.newScope('receipts') })
    })
    const challenges = this.init.challenges
    if (challenges !== false) {
      const runner = this.runner
      this.challenger = new Challenger({
        self: this.components.peerId,
        privateKey: this.components.privateKey,
        trust,
        channel: peer => this.channel(peer),
        recompute: async (workload, items, signal) => (await runner.run(workload, items, { signal })).outputs,
        hardware: peer => this.capabilities()?.getPeer(peer)?.hardware,
        liveness: this.liveness,
        publish: attestation => { this.gossip?.publish(attestation) },
        log: this.log,
        metrics: this.components.metrics,
        deadlineMs: challenges?.deadline,
        meanIntervalMs: challenges?.meanInterval === 0 ? undefined : challenges?.meanInterval,
        onOutcome: outcome => { this.safeDispatchEvent('trust:challenge', { detail: outcome }) }
      })
    }
    await this.components.registrar.handle(SHARD_PROTOCOL, this.handleShards, {
      maxInboundStreams: C.MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: false
    })
    if (this.init.advertise !== false) {
      this.loadTimer = setInterval(() => { this.advertiseLoad() }, 1000)
    }
  }

  /**
   * Join the attestation gossip, start the random challenges of the peers in use, and tell the
   * capabilities service what this node offers (its workloads, slots and models); then measure
   * this node's own speed per offered workload, in the background, and advertise it.
   */
  async afterStart (): Promise<void> {
    const pubsub = this.pubsub()
    if (pubsub != null && this.trustBook != null) {
      this.gossip = new AttestationGossip({
        pubsub,
        trust: this.trustBook,
        self: this.components.peerId,
        log: this.log,
        metrics: this.components.metrics,
        onRejected: refusal => { this.safeDispatchEvent('trust:attestation-rejected', { detail: refusal }) }
      })
      this.gossip.start()
    }
    this.liveness.addEventListener('liveness', this.onLiveness)
    // a fresh advert is evidence too: a peer found dead recovers on it (as 'advert only')
    this.capabilities()?.addEventListener('peer:advert', this.onAdvert)
    const challenges = this.init.challenges
    if (challenges !== false && challenges?.meanInterval !== 0) {
      this.challenger?.start(() => this.activeTargets())
    }
    if (this.init.warm === true) {
      for (const w of this.offered()) {
        this.runner?.warm(w).catch((err: Error) => { this.log.error('could not warm %s: %s', workloadKey(w), err.message) })
      }
    }
    if (this.init.advertise === false) {
      return
    }
    const caps = this.capabilities()
    if (caps == null) {
      return
    }
    const models: CID[] = []
    for (const w of this.offered()) {
      try {
        for (const digest of await w.models?.(this.cacheDir) ?? []) {
          models.push(modelCidOfDigest(digest))
        }
      } catch (err: any) {
        this.log.error('could not list the models of %s: %s', workloadKey(w), err.message)
      }
    }
    if (this.offered().length === 0) {
      // serving nothing: what this node advertises is the operator's business alone
      return
    }
    const current = caps.getAdvert()?.models ?? []
    const slots = this.advertisedSlots()
    caps.update({
      workloads: this.advertisedWorkloads(caps),
      totalSlots: slots,
      freeSlots: slots,
      models: [...current, ...models.filter(m => !current.some(c => c.equals(m)))]
    })
    if (this.init.calibrate !== false && this.runner != null) {
      void this.calibrateSelf(caps)
    }
  }

  /** The slots this node advertises: its own, unless a test fault makes it claim more. */
  private advertisedSlots (): number {
    return this.init.faults?.advertiseSlots ?? this.slots
  }

  /**
   * The workloads to advertise: those the operator advertised through the capabilities service,
   * and those served here, each with the items/s of the whole node measured at start (0 until
   * then: a claim of nothing rather than a guess).
   */
  private advertisedWorkloads (caps: Capabilities): Array<{ id: string, version: string, throughput: number }> {
    const advertised = caps.getAdvert()?.workloads ?? []
    const offered = this.offered().map(w => ({ id: w.id, version: w.version, throughput: (this.calibration.get(workloadKey(w)) ?? 0) * this.advertisedSlots() }))
    return [...advertised.filter(a => !offered.some(o => o.id === a.id && o.version === a.version)), ...offered]
  }

  /**
   * Measure this node's own items/s per slot of each offered workload, then advertise it. Paced
   * behind the join (see `CalibrationSchedule`): the node has advertised its workloads
   * unmeasured already, and the CPU calibration takes (about 2 s for the built-ins) would
   * otherwise compete with its own join and, on a shared host, with every other node's.
   */
  private async calibrateSelf (caps: Capabilities): Promise<void> {
    const runner = this.runner
    if (runner == null) {
      return
    }
    const schedule = typeof this.init.calibrate === 'object' ? this.init.calibrate : {}
    const signal = this.shutdown.signal
    try {
      if (schedule.after != null && !signal.aborted) {
        const stopped = new Promise<void>(resolve => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
        await Promise.race([schedule.after.catch(() => {}), stopped])
      }
      const deadline = Date.now() + (schedule.maxWait ?? CALIBRATION_MAX_WAIT)
      await quietMesh(caps, schedule.quiet ?? CALIBRATION_QUIET, deadline - Date.now(), signal)
      const jitter = schedule.jitter ?? CALIBRATION_JITTER
      if (schedule.idleCpu !== false) {
        // half the host idle, at most one core's worth: a 2-core host with one node calibrating
        // already is busy enough that the next one waits
        await waitForIdleCpu(Math.min(1, availableParallelism() / 2), deadline, jitter, signal)
      } else if (jitter > 0) {
        await delay(Math.random() * jitter, undefined, { signal })
      }
      const { speeds } = await calibrate(this.offered(), runner, { signal, log: this.log, pause: schedule.pause ?? CALIBRATION_PAUSE })
      for (const [key, speed] of speeds) {
        this.calibration.set(key, speed.itemsPerSec)
      }
      if (speeds.size > 0 && !this.shutdown.signal.aborted) {
        caps.update({ workloads: this.advertisedWorkloads(caps) })
        this.log('calibrated %s', [...speeds].map(([k, v]) => `${k} ${v.itemsPerSec.toFixed(1)} items/s per slot`).join(', '))
      }
    } catch (err: any) {
      if (!this.shutdown.signal.aborted) {
        this.log.error('could not calibrate: %s', err.message)
      }
    }
  }

  /** This node's own items/s per slot per offered workload (`id@version`), once measured. */
  ownSpeeds (): Map<string, number> {
    return new Map(this.calibration)
  }

  /** The targets of random challenges: the (peer, workload) pairs given work in the last 10 minutes. */
  private activeTargets (): Array<{ peer: PeerId, workload: Workload<any, any> }> {
    const since = Date.now() - C.ACTIVE_PEER_WINDOW
    for (const [key, entry] of this.active) {
      if (entry.at < since) {
        this.active.delete(key)
      }
    }
    return [...this.active.values()]
  }

  private readonly onLiveness = (event: CustomEvent<LivenessChange>): void => {
    this.safeDispatchEvent('peer:liveness', { detail: event.detail })
  }

  private readonly onAdvert = (event: CustomEvent<PeerCapabilities>): void => {
    this.liveness.advertised(event.detail.peerId.toString(), event.detail)
  }

  private pubsub (): AttestationPubSub | undefined {
    try {
      // libp2p's components proxy throws for a service that is not there
      return (this.components as ComputeComponents & { pubsub?: AttestationPubSub }).pubsub
    } catch {
      return undefined
    }
  }

  /** Leave the attestation gossip and stop challenging while gossipsub still runs (libp2p stops every service at once). */
  beforeStop (): void {
    this.capabilities()?.removeEventListener('peer:advert', this.onAdvert)
    this.liveness.removeEventListener('liveness', this.onLiveness)
    this.challenger?.stop()
    this.gossip?.stop()
  }

  async stop (): Promise<void> {
    clearInterval(this.loadTimer)
    this.challenger?.stop()
    this.gossip?.stop()
    this.shutdown.abort(new AbortError('compute service stopping'))
    await this.components.registrar.unhandle(SHARD_PROTOCOL)
    for (const channel of this.channels.values()) {
      channel.close()
    }
    this.channels.clear()
    for (const stream of this.streams) {
      stream.abort(new AbortError('compute service stopping'))
    }
    await this.runner?.close()
    this.runner = undefined
    await this.trustBook?.close()
  }

  /** The workloads this node serves to others. */
  offered (): Array<Workload<any, any>> {
    return this.registry.list().filter(w => this.executor?.offers(w.id, w.version) ?? true)
  }

  stats (): WorkerStats {
    const admission = this.executor?.admission
    return {
      slots: this.slots,
      active: admission?.active ?? 0,
      queued: admission?.queued ?? 0,
      poolThreads: this.poolSize,
      shardsServed: this.served,
      shardsFailed: this.failed,
      openStreams: this.streams.size
    }
  }

  private readonly handleShards = (stream: Stream, connection: Connection): void => {
    if (this.executor == null || this.models == null) {
      stream.abort(new NotStartedError('not started'))
      return
    }
    this.streams.add(stream)
    void serveShards(stream, {
      executor: this.executor,
      models: this.models,
      requester: connection.remotePeer,
      log: this.log,
      signal: this.shutdown.signal,
      progressInterval: this.init.progressInterval ?? C.PROGRESS_INTERVAL,
      modelTimeout: this.init.modelTimeout ?? C.MODEL_TIMEOUT,
      idleTimeout: C.INBOUND_IDLE_TIMEOUT,
      budget: this.init.inboundBudget != null ? { budget: this.init.inboundBudget, peer: connection.remotePeer.toString(), protocol: SHARD_PROTOCOL } : undefined,
      inflightModels: this.inflightModels,
      onShard: (outcome, detail) => {
        const code = detail.code
        this.safeDispatchEvent('shard:served', { detail: { ...detail, requester: connection.remotePeer, outcome } })
        if (outcome === 'ok') {
          this.served++
        } else {
          this.failed++
        }
        this.shardsCounter?.increment({ [outcome === 'ok' ? 'ok' : (code ?? 'error')]: true })
      }
    }).catch((err: Error) => {
      this.log('shard stream from %p ended: %s', connection.remotePeer, err.message)
    }).finally(() => {
      this.streams.delete(stream)
    })
  }

  private capabilities (): Capabilities | undefined {
    try {
      // libp2p's components proxy throws for a service that is not there
      return this.components.capabilities
    } catch {
      return undefined
    }
  }

  /**
   * Stop taking shards and wait for those in flight: new shards are answered ERR_BUSY (the
   * requester places them elsewhere, no fault recorded), the advert offers no workload and no
   * free slot, and the shards already accepted run to their answer; then the countersigned
   * receipts of the shards answered meanwhile are waited for, so the worker keeps its proof.
   * Resolves once nothing is in flight or awaited, or at `timeout`: what is still in flight
   * then is cut by `stop()`, and its requesters retry it elsewhere. Called twice, the first
   * drain is returned.
   */
  async drain (options: DrainOptions = {}): Promise<DrainResult> {
    this.draining ??= this.drainNow(options)
    return this.draining
  }

  private async drainNow (options: DrainOptions): Promise<DrainResult> {
    const executor = this.executor
    if (executor == null) {
      return { inFlight: 0, handedBack: 0, receiptsAwaited: 0, receiptsMissing: 0, timedOut: false, elapsedMs: 0 }
    }
    const started = Date.now()
    const inFlight = executor.inFlight
    executor.admission.close()
    executor.receipts?.watch()
    clearInterval(this.loadTimer)
    const caps = this.capabilities()
    if (caps != null && this.init.advertise !== false && this.offered().length > 0) {
      caps.update({ workloads: [], freeSlots: 0, loadPermille: 1000 })
    }
    this.log('draining: %d shard(s) in flight, no new shards taken', inFlight)
    const timeout = options.timeout ?? C.DRAIN_TIMEOUT
    const grace = options.receiptGrace ?? C.DRAIN_RECEIPT_GRACE
    let receiptsAwaited = 0
    let timedOut = false
    /** when the last shard in flight was answered */
    let idleSince: number | undefined
    while (true) {
      const awaiting = executor.receipts?.awaiting ?? 0
      receiptsAwaited = Math.max(receiptsAwaited, awaiting)
      const now = Date.now()
      if (executor.inFlight > 0) {
        idleSince = undefined
      } else {
        idleSince ??= now
        // a receipt no requester countersigns (a challenge's, a rejected result's) is not waited for past the grace
        if (awaiting === 0 || now - idleSince >= grace) {
          break
        }
      }
      if (now - started >= timeout || options.signal?.aborted === true || this.shutdown.signal.aborted) {
        timedOut = true
        break
      }
      await new Promise(resolve => setTimeout(resolve, C.DRAIN_POLL_INTERVAL))
    }
    const result: DrainResult = {
      inFlight,
      handedBack: executor.inFlight,
      receiptsAwaited,
      receiptsMissing: executor.receipts?.awaiting ?? 0,
      timedOut,
      elapsedMs: Date.now() - started
    }
    this.log('drained in %d ms: %d shard(s) left to hand back, %d countersigned receipt(s) missing', result.elapsedMs, result.handedBack, result.receiptsMissing)
    return result
  }

  private advertiseLoad (): void {
    const admission = this.executor?.admission
    const caps = this.capabilities()
    if (admission == null || caps == null || admission.closing || admission.free === this.lastFree || this.offered().length === 0) {
      return
    }
    this.lastFree = admission.free
    caps.update({
      freeSlots: Math.max(0, admission.free + this.advertisedSlots() - this.slots),
      loadPermille: Math.round(1000 * Math.min(1, (admission.active + admission.queued) / this.slots))
    })
  }

  async run (job: JobSpec, options: RunJobOptions = {}): Promise<JobResult> {
    if (this.executor == null || this.models == null) {
      throw new NotStartedError('the compute service is not started')
    }
    const workload: Workload<any, any> = typeof job.workload === 'string'
      ? this.registry.require(job.workload, job.version)
      : job.workload
    // catch bad input here, before any peer spends work on it
    await checkInputItems(workload, job.items)
    checkPayment(options.pay)
    const policy = typeof options.verification === 'string' ? parseVerification(options.verification) : options.verification ?? { kind: 'none' }
    // the job ends with the service: its signal is the caller's combined with shutdown
    const linked = linkSignals([options.signal, this.shutdown.signal])
    const jobId = randomBytes(16)
    const finished = { jobId: Buffer.from(jobId).toString('hex'), workload: workloadKey(workload), verification: formatVerification(policy), items: job.items.length }
    const started = Date.now()
    const live: LiveJob = { ...finished, startedAt: started }
    this.liveJobs.set(live.jobId, live)
    try {
      const result = await this.runJob(jobId, workload, job, policy, { ...options, signal: linked.signal }, live)
      this.endJob(live)
      const peers = result.peers.filter(p => p.shards > 0).length
      const refusedBy = result.peers.flatMap(p => p.refused != null ? [{ peerId: p.peerId, message: p.refused }] : [])
      this.safeDispatchEvent('job:finished', { detail: { ...finished, outcome: 'ok', shards: result.shards.length, peers, ...(refusedBy.length > 0 ? { refusedBy } : {}), elapsedMs: result.elapsedMs } })
      return result
    } catch (err: any) {
      this.endJob(live, { code: String(err.code ?? err.name), message: String(err.message) })
      this.safeDispatchEvent('job:finished', { detail: { ...finished, outcome: 'error', code: String(err.code ?? err.name), message: err.message, elapsedMs: Date.now() - started } })
      throw err
    } finally {
      linked.clear()
    }
  }

  /**
   * The jobs this node requested: those running now (oldest first), then the last
   * `FINISHED_JOBS_KEPT` that ended (newest first), each as it stands (see `JobSnapshot`).
   */
  jobs (): JobSnapshot[] {
    const now = Date.now()
    return [
      ...[...this.liveJobs.values()].map(live => this.snapshotOf(live, now)),
      ...this.finishedJobs.map(snapshot => structuredClone(snapshot))
    ]
  }

  /** A job as it stands now: from its run once shards go out, from what placement found before. */
  private snapshotOf (live: LiveJob, now: number, end?: { at: number, error?: { code: string, message: string } }): JobSnapshot {
    const base = {
      jobId: live.jobId,
      workload: live.workload,
      verification: live.verification,
      state: end == null ? (live.run == null ? 'placing' as const : 'running' as const) : end.error == null ? 'ok' as const : 'error' as const,
      startedAt: live.startedAt,
      finishedAt: end?.at ?? null,
      items: live.items
    }
    const withError = end?.error == null ? base : { ...base, error: { ...end.error } }
    if (live.run != null) {
      return { ...withError, ...live.run.snapshot() }
    }
    return {
      ...withError,
      progress: { shardsDone: 0, shardsTotal: 0, itemsDone: 0, itemsTotal: live.items, peersInUse: 0, elapsedMs: (end?.at ?? now) - live.startedAt, itemsPerSec: 0 },
      shards: { total: 0, done: 0, inFlight: 0, attempts: 0, retries: 0, hedged: 0, checked: 0, disputed: 0 },
      peers: [],
      disputes: [],
      placement: live.placement == null ? { considered: 0, used: [], excluded: [] } : structuredClone(live.placement)
    }
  }

  /** A job ended: keep its last snapshot (and let go of its run: its items, outputs and receipts). */
  private endJob (live: LiveJob, error?: { code: string, message: string }): void {
    if (!this.liveJobs.delete(live.jobId)) {
      return
    }
    const snapshot = this.snapshotOf(live, Date.now(), { at: Date.now(), error })
    live.run = undefined
    this.finishedJobs = [snapshot, ...this.finishedJobs.slice(0, C.FINISHED_JOBS_KEPT - 1)]
  }

  private async runJob (jobId: Uint8Array, workload: Workload<any, any>, job: JobSpec, policy: VerificationPolicy, options: RunJobOptions & { signal: AbortSignal }, live: LiveJob): Promise<JobResult> {
    const shardSize = job.shardSize ?? C.SHARD_SIZE
    if (!Number.isSafeInteger(shardSize) || shardSize < 1) {
      throw new RangeError(`shardSize must be a positive integer, got ${shardSize}`)
    }
    const model = job.model != null ? { digest: sha256Hex(job.model), bytes: job.model } : undefined
    const placement = options.placement ?? this.init.placement ?? earnedPlacement({ minScore: this.init.minScore })
    const { plan, considered, noWorkload } = await this.placement(workload, placement, policy, options, this.challenger != null && this.init.challenges !== false && this.init.challenges?.beforeFirstWork !== false)
    live.placement = { considered: considered + noWorkload.length, used: plan.peers.map(p => p.channel.peerId.toString()), excluded: [...plan.excluded, ...noWorkload] }
    if (plan.peers.length === 0) {
      throw new NoPeersError(this.noPeersMessage(workload, plan.excluded, options))
    }
    this.checkEnoughPeers(workload, policy, plan.peers, options, plan.excluded)
    const trust = this.startedTrust()
    const run = new JobRun({
      jobId,
      workload,
      items: job.items,
      shardSize,
      model,
      lamportsPerItem: options.pay?.lamportsPerItem,
      peers: plan.peers,
      excluded: [...plan.excluded, ...noWorkload],
      considered: considered + noWorkload.length,
      evidence: {
        record: (peer, kind) => { trust.record(peer, kind) },
        measure: (peer, measurement) => { trust.measure(peer, measurement) },
        setEarnedWindow: (peer, id, window) => { trust.setEarnedWindow(peer, id, window) },
        mustVerify: peer => trust.score(peer).probation
      },
      placement,
      self: this.components.peerId,
      privateKey: this.components.privateKey,
      policy,
      maxRetries: options.maxRetries ?? C.MAX_RETRIES,
      idleTimeout: options.idleTimeout ?? C.IDLE_TIMEOUT,
      queueTimeout: options.queueTimeout ?? C.QUEUE_TIMEOUT,
      hedge: options.hedge ?? true,
      signal: options.signal,
      onProgress: options.onProgress,
      receiptSink: options.receiptSink ?? this.init.receiptSink,
      returnReceipts: this.init.returnReceipts,
      log: this.log
    })
    live.run = run
    try {
      const result = await run.run()
      this.jobsCounter?.increment({ ok: true })
      return result
    } catch (err: any) {
      this.jobsCounter?.increment({ [String(err.code ?? 'error')]: true })
      throw err
    } finally {
      const now = Date.now()
      for (const { channel } of plan.peers) {
        if (!channel.local) {
          this.active.set(`${channel.peerId.toString()} ${workloadKey(workload)}`, { peer: channel.peerId, workload, at: now })
        }
      }
    }
  }

  /** Why a job found no peer to use: none offers the workload, or every one was excluded (and why). */
  private noPeersMessage (workload: Workload, excluded: Exclusion[], options: RunJobOptions): string {
    if (excluded.length > 0) {
      const why = excluded.slice(0, 8).map(e => `${e.peerId} ${e.reason}: ${e.detail}`).join('; ')
      return `no peer may run ${workloadKey(workload)}: ${plural(excluded.length, 'peer')} offering it ${excluded.length === 1 ? 'was' : 'were'} excluded (${why}${excluded.length > 8 ? '; ...' : ''})`
    }
    const known = this.capabilities()?.getPeers().length ?? 0
    return `no peer offers workload ${workloadKey(workload)} (this node knows ${plural(known, 'peer')}${options.peers != null ? '; the job named its peers' : ''})`
  }

  /**
   * The peers a job may use and why the others may not: the candidates found (this node first
   * when it offers the workload), each with what this node knows of it (liveness, score, measured
   * speed, earned window, last challenge), placed by the policy. When `challenge` is set, peers
   * not yet measured on the workload are challenged first. `noWorkload` lists the peers of the
   * table that do not offer the workload (for reports; never candidates).
   */
  private async placement (workload: Workload, policy: PlacementPolicy, verification: VerificationPolicy, options: RunJobOptions & { minScore?: number }, challenge: boolean, precheck = true): Promise<{ plan: PlacementPlan, considered: number, noWorkload: Exclusion[] }> {
    const self = this.components.peerId
    const caps = this.capabilities()
    const includeSelf = options.includeSelf ?? true
    let ids: PeerId[]
    if (options.peers != null) {
      ids = options.peers
    } else {
      // the gossiped table first; the DHT only when the table knows no provider and we have
      // peers to ask (a lone node would otherwise wait out the lookup's deadline)
      const requirement = { workload: workload.id, workloadVersion: workload.version }
      let found = await caps?.findPeers(requirement, { sources: ['table'], signal: options.signal }) ?? []
      if (found.length === 0 && caps != null && this.components.connectionManager.getConnections().length > 0) {
        found = await caps.findPeers(requirement, { sources: ['dht'], signal: options.signal })
      }
      ids = found.map(p => p.peerId)
      if (includeSelf && this.executor?.offers(workload.id, workload.version) === true) {
        ids.unshift(self)
      }
    }
    const seen = new Set<string>()
    const unique = ids.filter(id => {
      const key = id.toString()
      if (seen.has(key)) {
        return false
      }
      seen.add(key)
      return true
    })
    const candidates: PlacementCandidate[] = []
    for (const id of unique) {
      if (id.equals(self)) {
        if (this.executor?.offers(workload.id, workload.version) === true && this.models != null) {
          candidates.push({ channel: new LocalChannel(self, this.executor, this.models), slots: this.slots })
        }
        continue
      }
      candidates.push({ channel: this.channel(id), slots: caps?.getPeer(id)?.totalSlots ?? 0 })
    }
    // too few peers for the verification policy, whatever a challenge would say: refuse before any shard
    if (precheck && candidates.length > 0) {
      this.checkEnoughPeers(workload, verification, candidates, options)
    }
    const outcomes = challenge && this.challenger != null
      ? await this.challenger.ensureMeasured(candidates.filter(c => !c.channel.local).map(c => c.channel.peerId), workload, { signal: options.signal })
      : new Map<string, ChallengeOutcome>()
    for (const candidate of candidates) {
      if (candidate.channel.local) {
        continue
      }
      const key = candidate.channel.peerId.toString()
      const entry = caps?.getPeer(key)
      candidate.evidence = this.evidence(key, workload, entry, outcomes.get(key) ?? this.challenger?.recent(key, workload))
    }
    const plan = planOf(policy.place(candidates, { workload, verification: verification.kind, minScore: options.minScore ?? this.init.minScore }))
    const noWorkload: Exclusion[] = options.peers != null || caps == null
      ? []
      : caps.getPeers()
        .filter(p => !seen.has(p.peerId.toString()) && !p.workloads.some(w => w.id === workload.id && w.version === workload.version))
        .map(p => ({ peerId: p.peerId.toString(), reason: 'no-workload' as const, detail: `offers ${p.workloads.length === 0 ? 'no workload' : p.workloads.map(w => `${w.id}@${w.version}`).join(', ')}` }))
    return { plan, considered: candidates.length, noWorkload }
  }

  /** What this node knows of a remote candidate, for the placement policy. */
  private evidence (peer: string, workload: Workload, entry: PeerCapabilities | undefined, outcome: ChallengeOutcome | undefined): CandidateEvidence {
    const trust = this.startedTrust()
    const now = Date.now()
    return {
      liveness: this.liveness.view(peer, entry),
      // on this node's clock: a peer whose clock lags is not taken for stale
      advertAgeMs: entry == null ? undefined : Math.max(0, now - (entry.localIssuedAt ?? entry.issuedAt)),
      advertTtlMs: entry == null ? undefined : entry.expiresAt - entry.issuedAt,
      score: trust.score(peer),
      measured: trust.measured(peer, workload.id, workload.version),
      earnedWindow: trust.earnedWindow(peer, workload.id),
      challenge: outcome == null ? undefined : { verdict: outcome.verdict, detail: outcome.detail }
    }
  }

  /** The trust book of a started service. */
  private startedTrust (): TrustBook {
    if (this.trustBook == null) {
      throw new NotStartedError('the compute service is not started')
    }
    return this.trustBook
  }

  peerTrust (peer: PeerId | string): PeerTrust {
    const trust = this.startedTrust()
    const key = peer.toString()
    const entry = this.capabilities()?.getPeer(key)
    const earned = (entry?.workloads ?? [])
      .map(w => ({ workload: w.id, window: trust.earnedWindow(key, w.id) }))
      .filter((e): e is { workload: string, window: number } => e.window != null)
    return {
      peerId: key,
      liveness: this.liveness.view(key, entry),
      score: trust.score(key),
      workloads: (entry?.workloads ?? []).map(w => throughputClaim(w, entry?.totalSlots ?? 0, trust.measured(key, w.id, w.version))),
      gpus: gpuClaim(entry?.hardware ?? { cpuCores: 0, gpus: [] }, trust.measurements(key)),
      slots: { claimed: entry?.totalSlots ?? 0, earned: [...new Map(earned.map(e => [e.workload, e])).values()] }
    }
  }

  async plan (request: PlanRequest, options: AbortOptions = {}): Promise<PlacementReport> {
    if (this.executor == null || this.models == null) {
      throw new NotStartedError('the compute service is not started')
    }
    const workload = this.registry.require(request.workload, request.version)
    const policy = parseVerification(request.verification ?? 'none')
    const placement = this.init.placement ?? earnedPlacement({ minScore: this.init.minScore })
    const minScore = request.minScore ?? this.init.minScore ?? MIN_SCORE
    const { plan, noWorkload } = await this.placement(workload, placement, policy, { peers: request.peers, includeSelf: request.includeSelf, minScore, signal: options.signal }, request.challenge === true && this.challenger != null, false)
    const trustOf = (peerId: string): PeerTrust | undefined => peerId === this.components.peerId.toString() ? undefined : this.peerTrust(peerId)
    const peers: PlannedPeer[] = [
      ...plan.peers.map(p => ({ peerId: p.channel.peerId.toString(), local: p.channel.local, used: true, window: p.window, trust: trustOf(p.channel.peerId.toString()) })),
      ...[...plan.excluded, ...noWorkload].map(e => ({ peerId: e.peerId, local: false, used: false, reason: e.reason, detail: e.detail, trust: trustOf(e.peerId) }))
    ]
    return { workload: workloadKey(workload), verification: formatVerification(policy), minScore, peers }
  }

  /**
   * Refuse, before any shard is sent, a job whose verification policy needs more distinct
   * peers than the placement found. This node counts as one when it runs shards of its own job
   * (it offers the workload and `includeSelf` is not false, or the job named it).
   */
  private checkEnoughPeers (workload: Workload, policy: VerificationPolicy, peers: Array<{ channel: PeerChannel }>, options: RunJobOptions, excluded: Exclusion[] = []): void {
    const needed = peersNeeded(policy)
    if (peers.length >= needed) {
      return
    }
    const ids = peers.map(p => `${p.channel.peerId.toString()}${p.channel.local ? ' (this node)' : ''}`).join(', ')
    const which = options.peers != null ? 'of the peers the job named, ' : ''
    const local = !peers.some(p => p.channel.local) && this.executor?.offers(workload.id, workload.version) === true
      ? '; this node offers it too and would count if the job included it'
      : ''
    const out = excluded.length === 0 ? '' : `; excluded: ${excluded.map(e => `${e.peerId} (${e.reason}: ${e.detail})`).join(', ')}`
    throw new NotEnoughPeersError(`${formatVerification(policy)} needs ${needed} distinct peers offering ${workloadKey(workload)} and ${which}only ${peers.length} ${peers.length === 1 ? 'does' : 'do'}${excluded.length > 0 ? ' that may be used' : ''}: ${ids}${local}${out}`)
  }

  private channel (peer: PeerId): PeerChannel {
    const key = peer.toString()
    let channel = this.channels.get(key)
    if (channel == null) {
      channel = new RemoteChannel(peer, this.components.connectionManager, this.log, { liveness: this.liveness })
      this.channels.set(key, channel)
    }
    return channel
  }
}

/** A job's price must be a whole, positive, safe number of lamports per item. */
function checkPayment (pay: RunJobOptions['pay']): void {
  if (pay == null) {
    return
  }
  const price = pay.lamportsPerItem
  if (typeof price !== 'bigint' || price < 1n || price > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`pay.lamportsPerItem must be a bigint from 1 to ${Number.MAX_SAFE_INTEGER}, got ${String(price)}`)
  }
}

/**
 * Resolves once no peer new to this node's table has advertised itself for `quiet` ms, or
 * `max` ms from now, or when `signal` aborts: the moment the peers that started beside this node
 * have joined (their handshakes and lookups are CPU this node should not compete with).
 */
async function quietMesh (caps: Capabilities, quiet: number, max: number, signal: AbortSignal): Promise<void> {
  if (quiet <= 0 || max <= 0 || signal.aborted) {
    return
  }
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      clearTimeout(deadline)
      caps.removeEventListener('peer:advert', onAdvert)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const onAdvert = (evt: CustomEvent<{ added: boolean }>): void => {
      if (evt.detail.added) {
        clearTimeout(timer)
        timer = setTimeout(done, quiet)
      }
    }
    let timer = setTimeout(done, quiet)
    const deadline = setTimeout(done, max)
    caps.addEventListener('peer:advert', onAdvert)
    signal.addEventListener('abort', done, { once: true })
  })
}
