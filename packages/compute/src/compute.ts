import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SHARD_PROTOCOL, linkSignals, plural, sha256Hex } from '@shardmesh/protocol'
import { AbortError, WorkloadRegistry, WorkloadRunner, checkInputItems, workloadKey } from '@shardmesh/workloads'
import { TypedEventEmitter, serviceDependencies } from '@libp2p/interface'
import { modelCidOfDigest } from '@shardmesh/capabilities'
import * as C from './constants.js'
import { NoPeersError, NotEnoughPeersError, NotStartedError } from './errors.js'
import { LocalChannel, RemoteChannel } from './requester/channel.js'
import { JobRun } from './requester/job-run.js'
import { defaultPlacement } from './requester/placement.js'
import { formatVerification, parseVerification, peersNeeded } from './requester/verification.js'
import { Admission } from './worker/admission.js'
import { ShardExecutor } from './worker/executor.js'
import { ModelStore } from './worker/model-store.js'
import { serveShards } from './worker/serve.js'
import type { ComputeComponents, ComputeEvents, ComputeInit, Compute as ComputeInterface, JobSpec, PeerTrust, PlacementReport, PlanRequest, WorkerStats } from './index.js'
import type { PeerChannel } from './requester/channel.js'
import type { PeerPlacement, PlacementCandidate, PlacementPolicy } from './requester/placement.js'
import type { JobResult, RunJobOptions } from './requester/types.js'
import type { VerificationPolicy } from './requester/verification.js'
import type { Capabilities } from '@shardmesh/capabilities'
import type { Connection, CounterGroup, Logger, PeerId, Startable, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { ModelFile, Workload } from '@shardmesh/workloads'

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
  private served = 0
  private failed = 0
  private readonly shardsCounter?: CounterGroup
  private readonly jobsCounter?: CounterGroup

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
    this.runner = new WorkloadRunner({ size: this.poolSize, cacheDir: this.cacheDir, maxQueue: this.maxQueue + this.slots })
    this.models = new ModelStore({
      dir: join(this.cacheDir, 'models'),
      maxModelBytes: this.init.maxModelBytes ?? C.MAX_MODEL_SIZE,
      maxBytes: this.init.modelCacheBytes ?? C.MODEL_CACHE_BYTES,
      share: this.init.modelCacheShare ?? C.MODEL_CACHE_SHARE
    })
    const admission = new Admission({ slots: this.slots, maxQueue: this.maxQueue, allow: this.init.allow, deny: this.init.deny })
    this.executor = new ShardExecutor({
      peerId: this.components.peerId,
      privateKey: this.components.privateKey,
      registry: this.registry,
      runner: this.runner,
      admission,
      models: this.models,
      faults: this.init.faults,
      offer: this.init.offer
    })
    await this.components.registrar.handle(SHARD_PROTOCOL, this.handleShards, {
      maxInboundStreams: C.MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: false
    })
    if (this.init.advertise !== false) {
      this.loadTimer = setInterval(() => { this.advertiseLoad() }, 1000)
    }
  }

  /** Tell the capabilities service what this node offers (its workloads, slots and models). */
  async afterStart (): Promise<void> {
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
    // keep what the operator advertised through the capabilities service, add what we serve
    const advertised = caps.getAdvert()?.workloads ?? []
    const offered = this.offered().map(w => ({ id: w.id, version: w.version }))
    caps.update({
      workloads: [...advertised.filter(a => !offered.some(o => o.id === a.id && o.version === a.version)), ...offered],
      totalSlots: this.slots,
      freeSlots: this.slots,
      models: [...current, ...models.filter(m => !current.some(c => c.equals(m)))]
    })
  }

  async stop (): Promise<void> {
    clearInterval(this.loadTimer)
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
  }

  /** The workloads this node serves to others. */
  offered (): Array<Workload<any, any>> {
    return this.registry.list().filter(w => this.executor?.offers(w.id, w.version) ?? true)
  }

  peerTrust (peer: PeerId | string): PeerTrust {
    throw new NotStartedError(`trust of ${peer.toString()}: not wired yet`)
  }

  async plan (request: PlanRequest): Promise<PlacementReport> {
    throw new NotStartedError(`plan of ${request.workload}: not wired yet`)
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

  private advertiseLoad (): void {
    const admission = this.executor?.admission
    const caps = this.capabilities()
    if (admission == null || caps == null || admission.free === this.lastFree || this.offered().length === 0) {
      return
    }
    this.lastFree = admission.free
    caps.update({
      freeSlots: admission.free,
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
    const policy = typeof options.verification === 'string' ? parseVerification(options.verification) : options.verification ?? { kind: 'none' }
    // the job ends with the service: its signal is the caller's combined with shutdown
    const linked = linkSignals([options.signal, this.shutdown.signal])
    const jobId = randomBytes(16)
    const finished = { jobId: Buffer.from(jobId).toString('hex'), workload: workloadKey(workload), verification: formatVerification(policy), items: job.items.length }
    const started = Date.now()
    try {
      const result = await this.runJob(jobId, workload, job, policy, { ...options, signal: linked.signal })
      const peers = result.peers.filter(p => p.shards > 0).length
      this.safeDispatchEvent('job:finished', { detail: { ...finished, outcome: 'ok', shards: result.shards.length, peers, elapsedMs: result.elapsedMs } })
      return result
    } catch (err: any) {
      this.safeDispatchEvent('job:finished', { detail: { ...finished, outcome: 'error', code: String(err.code ?? err.name), message: err.message, elapsedMs: Date.now() - started } })
      throw err
    } finally {
      linked.clear()
    }
  }

  private async runJob (jobId: Uint8Array, workload: Workload<any, any>, job: JobSpec, policy: VerificationPolicy, options: RunJobOptions & { signal: AbortSignal }): Promise<JobResult> {
    const shardSize = job.shardSize ?? C.SHARD_SIZE
    if (!Number.isSafeInteger(shardSize) || shardSize < 1) {
      throw new RangeError(`shardSize must be a positive integer, got ${shardSize}`)
    }
    const model = job.model != null ? { digest: sha256Hex(job.model), bytes: job.model } : undefined
    const placement = options.placement ?? this.init.placement ?? defaultPlacement()
    const peers = await this.placement(workload, placement, options)
    this.checkEnoughPeers(workload, policy, peers, options)
    const run = new JobRun({
      jobId,
      workload,
      items: job.items,
      shardSize,
      model,
      peers,
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
      log: this.log
    })
    try {
      const result = await run.run()
      this.jobsCounter?.increment({ ok: true })
      return result
    } catch (err: any) {
      this.jobsCounter?.increment({ [String(err.code ?? 'error')]: true })
      throw err
    }
  }

  /** The peers a job may use, each with its in-flight window: the candidates found, as the placement policy places them. */
  private async placement (workload: Workload, policy: PlacementPolicy, options: RunJobOptions): Promise<PeerPlacement[]> {
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
    const candidates: PlacementCandidate[] = []
    for (const id of ids) {
      const key = id.toString()
      if (seen.has(key)) {
        continue
      }
      seen.add(key)
      if (id.equals(self)) {
        if (this.executor?.offers(workload.id, workload.version) === true && this.models != null) {
          candidates.push({ channel: new LocalChannel(self, this.executor, this.models), slots: this.slots })
        }
        continue
      }
      candidates.push({ channel: this.channel(id), slots: caps?.getPeer(id)?.totalSlots ?? 0 })
    }
    const peers = policy.place(candidates, { workload })
    if (peers.length === 0) {
      const known = caps?.getPeers().length ?? 0
      throw new NoPeersError(`no peer offers workload ${workloadKey(workload)} (this node knows ${plural(known, 'peer')}${options.peers != null ? '; the job named its peers' : ''})`)
    }
    return peers
  }

  /**
   * Refuse, before any shard is sent, a job whose verification policy needs more distinct
   * peers than the placement found. This node counts as one when it runs shards of its own job
   * (it offers the workload and `includeSelf` is not false, or the job named it).
   */
  private checkEnoughPeers (workload: Workload, policy: VerificationPolicy, peers: Array<{ channel: PeerChannel }>, options: RunJobOptions): void {
    const needed = peersNeeded(policy)
    if (peers.length >= needed) {
      return
    }
    const ids = peers.map(p => `${p.channel.peerId.toString()}${p.channel.local ? ' (this node)' : ''}`).join(', ')
    const which = options.peers != null ? 'of the peers the job named, ' : ''
    const local = !peers.some(p => p.channel.local) && this.executor?.offers(workload.id, workload.version) === true
      ? '; this node offers it too and would count if the job included it'
      : ''
    throw new NotEnoughPeersError(`${formatVerification(policy)} needs ${needed} distinct peers offering ${workloadKey(workload)} and ${which}only ${peers.length} ${peers.length === 1 ? 'does' : 'do'}: ${ids}${local}`)
  }

  private channel (peer: PeerId): PeerChannel {
    const key = peer.toString()
    let channel = this.channels.get(key)
    if (channel == null) {
      channel = new RemoteChannel(peer, this.components.connectionManager, this.log)
      this.channels.set(key, channel)
    }
    return channel
  }
}
