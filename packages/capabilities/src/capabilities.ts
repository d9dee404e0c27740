import { TypedEventEmitter, serviceCapabilities, serviceDependencies, setMaxListeners } from '@libp2p/interface'
import { repeatingTask } from '@libp2p/utils'
import { CAPS_PROTOCOL, CAPS_TOPIC, linkSignals } from '@shardmesh/protocol'
import { advertCapabilityKeys } from './advert.js'
import { AdvertExchange } from './advert-exchange.js'
import { AdvertGate } from './advert-gate.js'
import { AdvertPublisher } from './advert-publisher.js'
import * as C from './constants.js'
import { Discovery } from './discovery.js'
import { CapsRequestError } from './errors.js'
import { parseCapabilityKey } from './keys.js'
import { PeerTable, withAge } from './peer-table.js'
import { ProviderRecords } from './provider-records.js'
import { TableSync } from './table-sync.js'
import { probeHardware, probeModels } from './probe.js'
import type { AdvertContent, VerifiedAdvert, WorkloadOfferInfo } from './advert.js'
import type { CapabilitiesComponents, CapabilitiesEvents, CapabilitiesInit, CapabilityRequirement, CapabilityUpdate, FindPeersOptions, PeerCapabilities, ProviderRecordStatus, FetchAdvertsOptions, Capabilities as CapabilitiesInterface } from './index.js'
import type { PeerEntry } from './peer-table.js'
import type { HardwareInfo } from './probe.js'
import type { Logger, PeerId, IdentifyResult } from '@libp2p/interface'
import type { RepeatingTask } from '@libp2p/utils'
import type { LinkedSignal } from '@shardmesh/protocol'
import type { CID } from 'multiformats/cid'

/**
 * The capabilities service: holds what this node offers and the peer table, and runs the
 * lifecycle. Publishing, the gate every advert passes, the caps protocol and discovery are
 * parts of their own that it wires together.
 */
export class Capabilities extends TypedEventEmitter<CapabilitiesEvents> implements CapabilitiesInterface {
  readonly [Symbol.toStringTag] = '@shardmesh/capabilities'
  readonly [serviceCapabilities] = ['@shardmesh/capabilities']
  readonly [serviceDependencies] = ['@libp2p/pubsub']

  private readonly components: CapabilitiesComponents
  private readonly log: Logger
  private readonly table: PeerTable
  private readonly topic: string
  private readonly protocol: string
  private readonly init: CapabilitiesInit

  private started = false
  private shutdown?: AbortController
  private hardware?: HardwareInfo
  private workloads: WorkloadOfferInfo[]
  private models: CID[] = []
  private loadPermille = 0
  private freeSlots: number
  private totalSlots: number
  private priceHint: string
  private readonly gate: AdvertGate
  private readonly publisher: AdvertPublisher
  private readonly exchange: AdvertExchange
  private readonly discovery: Discovery
  private readonly providers: ProviderRecords
  private readonly sync: TableSync
  private readonly tasks: RepeatingTask[]

  constructor (components: CapabilitiesComponents, init: CapabilitiesInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('shardmesh:capabilities')
    this.table = new PeerTable({ maxSize: init.maxPeers ?? C.MAX_TABLE_SIZE })
    this.topic = init.topic ?? CAPS_TOPIC
    this.protocol = init.protocol ?? CAPS_PROTOCOL
    const ttl = init.advertTtl ?? C.ADVERT_TTL
    const refreshInterval = init.refreshInterval ?? Math.min(C.REFRESH_INTERVAL, Math.floor(ttl / 3))
    const sweepInterval = init.sweepInterval ?? Math.min(C.SWEEP_INTERVAL, Math.floor(ttl / 4))
    const syncInterval = init.syncInterval ?? refreshInterval
    this.workloads = (init.workloads ?? []).map(w => ({ throughput: 0, ...w }))
    this.totalSlots = init.totalSlots ?? 0
    this.freeSlots = init.freeSlots ?? this.totalSlots
    this.priceHint = init.priceHint ?? ''
    for (const w of this.workloads) {
      parseCapabilityKey(`workload:${w.id}`)
    }
    if (refreshInterval >= ttl) {
      throw new RangeError(`refreshInterval (${refreshInterval} ms) must be shorter than advertTtl (${ttl} ms)`)
    }
    const signal = (outer: AbortSignal | undefined, timeout: number): LinkedSignal => this.signal(outer, timeout)
    this.gate = new AdvertGate({
      peerId: components.peerId,
      table: this.table,
      log: this.log,
      metrics: components.metrics,
      onAccept: (entry, added) => { this.safeDispatch('peer:advert', { ...withAge(entry, entry.receivedAt), added }) }
    })
    this.publisher = new AdvertPublisher({
      privateKey: components.privateKey,
      pubsub: () => components.pubsub,
      topic: this.topic,
      ttl,
      debounce: C.PUBLISH_DEBOUNCE,
      log: this.log,
      metrics: components.metrics,
      content: () => this.content()
    })
    components.metrics?.registerMetric('shardmesh_capabilities_peers', {
      help: 'Peers with a verified, unexpired advert in the table',
      calculate: () => this.table.list().length
    })
    this.exchange = new AdvertExchange({
      connectionManager: components.connectionManager,
      protocol: this.protocol,
      timeout: init.timeout ?? C.CAPS_TIMEOUT,
      table: this.table,
      gate: this.gate,
      log: this.log,
      own: async () => (this.publisher.advert ?? await this.publish()).bytes,
      signal
    })
    this.discovery = new Discovery({
      peerId: components.peerId,
      contentRouting: components.contentRouting,
      peerStore: components.peerStore,
      table: this.table,
      log: this.log,
      fetchAdverts: async (peer, options) => this.fetchAdverts(peer, options),
      signal
    })
    this.providers = new ProviderRecords({
      contentRouting: components.contentRouting,
      log: this.log,
      keys: () => this.capabilityKeys(),
      interval: init.provideInterval ?? C.PROVIDE_INTERVAL,
      retry: C.PROVIDE_RETRY_INTERVAL,
      signal: () => this.signal(undefined, C.PROVIDE_TIMEOUT)
    })
    this.sync = new TableSync({
      connectionManager: components.connectionManager,
      log: this.log,
      fetch: async (peer, includeKnown) => this.fetchAdverts(peer, { includeKnown }),
      holds: (peer) => this.table.get(peer.toString()) != null
    })
    this.tasks = [
      repeatingTask(() => { this.sweep() }, sweepInterval),
      repeatingTask(() => { this.publisher.refresh() }, refreshInterval),
      repeatingTask(() => { this.sync.tick() }, syncInterval)
    ]
    this.onIdentify = this.onIdentify.bind(this)
    this.onPeerConnect = this.onPeerConnect.bind(this)
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    const signal = this.shutdown.signal
    this.hardware = this.init.hardware ?? await probeHardware({ nvidiaSmi: this.init.nvidiaSmi, signal })
    if (this.init.totalSlots == null) {
      this.totalSlots = this.hardware.cpuCores
      this.freeSlots = this.init.freeSlots ?? this.totalSlots
    }
    this.models = [...(this.init.models ?? [])]
    if (this.init.modelsDir != null) {
      this.models.push(...await probeModels(this.init.modelsDir, { signal }))
    }
    this.publisher.start()

    await this.components.registrar.handle(this.protocol, this.exchange.handle, {
      maxInboundStreams: C.MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.MAX_OUTBOUND_STREAMS
    })
    const pubsub = this.components.pubsub
    pubsub.topicValidators.set(this.topic, this.gate.validate)
    pubsub.addEventListener('subscription-change', this.publisher.onSubscriptionChange)
    pubsub.subscribe(this.topic)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:connect', this.onPeerConnect)
    this.providers.start()
    this.sync.start()
    for (const task of this.tasks) {
      task.start()
    }
    this.started = true
    await this.publish()
    this.log('started, %d workloads, %d models, %d gpus', this.workloads.length, this.models.length, this.hardware.gpus.length)
  }

  async stop (): Promise<void> {
    this.started = false
    this.shutdown?.abort()
    for (const task of this.tasks) {
      task.stop()
    }
    this.providers.stop()
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:connect', this.onPeerConnect)
    try {
      const pubsub = this.components.pubsub
      pubsub.removeEventListener('subscription-change', this.publisher.onSubscriptionChange)
      pubsub.topicValidators.delete(this.topic)
      pubsub.unsubscribe(this.topic)
    } catch {}
    await this.publisher.stop()
    await this.components.registrar.unhandle(this.protocol)
    this.sync.stop()
    this.table.clear()
  }

  getAdvert (): VerifiedAdvert | undefined {
    return this.publisher.advert
  }

  getPeers (): PeerCapabilities[] {
    const now = Date.now()
    return this.table.list(now).map(e => withAge(e, now))
  }

  getPeer (peerId: PeerId | string): PeerCapabilities | undefined {
    const now = Date.now()
    const entry = this.table.get(peerId.toString(), now)
    return entry == null ? undefined : withAge(entry, now)
  }

  update (change: CapabilityUpdate): void {
    if (change.workloads != null) {
      for (const w of change.workloads) {
        parseCapabilityKey(`workload:${w.id}`)
      }
      this.workloads = change.workloads.map(w => ({ throughput: 0, ...w }))
    }
    if (change.models != null) {
      this.models = [...change.models]
    }
    if (change.loadPermille != null) {
      this.loadPermille = Math.max(0, Math.min(1000, Math.round(change.loadPermille)))
    }
    if (change.totalSlots != null) {
      this.totalSlots = change.totalSlots
    }
    if (change.freeSlots != null) {
      this.freeSlots = change.freeSlots
    }
    if (change.priceHint != null) {
      this.priceHint = change.priceHint
    }
    this.publisher.schedule()
    if (change.workloads != null || change.models != null) {
      this.providers.reschedule()
    }
  }

  capabilityKeys (): string[] {
    return this.hardware == null ? [] : advertCapabilityKeys({ workloads: this.workloads, models: this.models, hardware: this.hardware })
  }

  providerRecords (): ProviderRecordStatus[] {
    return this.providers.status()
  }

  /** Sign a fresh advert (next seq) and publish it on the topic now. */
  async publish (): Promise<VerifiedAdvert> {
    if (this.hardware == null) {
      throw new CapsRequestError('capabilities service is not started', 'ERR_NOT_STARTED')
    }
    return this.publisher.publish()
  }

  async findPeers (requirement: CapabilityRequirement = {}, options: FindPeersOptions = {}): Promise<PeerCapabilities[]> {
    return this.discovery.findPeers(requirement, options)
  }

  async findProviders (key: string, options: FindPeersOptions = {}): Promise<PeerCapabilities[]> {
    return this.discovery.findProviders(key, options)
  }

  async fetchAdverts (peer: PeerId, options: FetchAdvertsOptions = {}): Promise<PeerEntry[]> {
    return this.exchange.fetch(peer, options)
  }

  private onIdentify (evt: CustomEvent<IdentifyResult>): void {
    if (this.started && evt.detail.protocols.includes(this.protocol)) {
      this.sync.onPeer(evt.detail.peerId)
    }
  }

  private onPeerConnect (): void {
    this.providers.onPeerConnect()
  }

  private sweep (): void {
    for (const entry of this.table.sweep()) {
      this.log('advert of %p expired (seen %d ms ago)', entry.peerId, Date.now() - entry.receivedAt)
      this.safeDispatch('peer:expired', { peerId: entry.peerId })
    }
  }

  private content (): AdvertContent {
    return {
      hardware: this.hardware as HardwareInfo,
      workloads: this.workloads,
      models: this.models,
      loadPermille: this.loadPermille,
      freeSlots: this.freeSlots,
      totalSlots: this.totalSlots,
      priceHint: this.priceHint,
      addrs: this.components.addressManager.getAddresses().slice(0, 16).map(a => a.decapsulateCode(421))
    }
  }

  /**
   * A deadline that also follows the caller's signal and our shutdown; the caller clears it when
   * done. (Not `AbortSignal.any([AbortSignal.timeout()])`: on Node 20 that timer can be garbage
   * collected and the request then never times out.)
   */
  private signal (outer: AbortSignal | undefined, timeout: number): LinkedSignal {
    return linkSignals([outer, this.shutdown?.signal], timeout)
  }

  private safeDispatch <K extends keyof CapabilitiesEvents> (type: K, detail: any): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err: any) {
      this.log.error('listener for %s threw: %e', type, err)
    }
  }
}
