import { TypedEventEmitter, serviceCapabilities, setMaxListeners } from '@libp2p/interface'
import { CAPS_PROTOCOL, CAPS_TOPIC, linkSignals } from '@shardmesh/protocol'
import { CustomProgressEvent } from 'progress-events'
import { advertCapabilityKeys, peekAdvert, signAdvert, verifyAdvert } from './advert.js'
import { requestAdverts, serveAdverts } from './caps-protocol.js'
import * as C from './constants.js'
import { AdvertRejectedError, CapsRequestError } from './errors.js'
import { capabilityKeyToCid, parseCapabilityKey } from './keys.js'
import { matchesRequirement, requirementKeys } from './match.js'
import { PeerTable } from './peer-table.js'
import { ProviderRecords } from './provider-records.js'
import { TableSync } from './table-sync.js'
import { probeHardware, probeModels } from './probe.js'
import type { AdvertContent, VerifiedAdvert, WorkloadOfferInfo } from './advert.js'
import type { CapabilitiesComponents, CapabilitiesEvents, CapabilitiesInit, CapabilitiesPubSub, CapabilityRequirement, CapabilityUpdate, FindPeersOptions, PeerCapabilities, ProviderRecordStatus, FetchAdvertsOptions, Capabilities as CapabilitiesInterface } from './index.js'
import type { AdvertSource, PeerEntry } from './peer-table.js'
import type { HardwareInfo } from './probe.js'
import type { Connection, CounterGroup, Logger, PeerId, Stream, IdentifyResult, Counter } from '@libp2p/interface'
import type { LinkedSignal } from '@shardmesh/protocol'
import type { CID } from 'multiformats/cid'

const TOPIC_ACCEPT = 'accept'
const TOPIC_IGNORE = 'ignore'
const TOPIC_REJECT = 'reject'

/** Rejections that may be honest (a duplicate path, a slow relay): ignored, not punished. */
const BENIGN: ReadonlySet<string> = new Set(['not-newer', 'expired', 'table-full'])

export class Capabilities extends TypedEventEmitter<CapabilitiesEvents> implements CapabilitiesInterface {
  readonly [Symbol.toStringTag] = '@shardmesh/capabilities'
  readonly [serviceCapabilities] = ['@shardmesh/capabilities']

  private readonly components: CapabilitiesComponents
  private readonly log: Logger
  private readonly table: PeerTable
  private readonly topic: string
  private readonly protocol: string
  private readonly ttl: number
  private readonly refreshInterval: number
  private readonly sweepInterval: number
  private readonly timeout: number
  private readonly pubsubService: string
  private readonly init: CapabilitiesInit
  private readonly metrics: {
    accepted?: CounterGroup
    rejected?: CounterGroup
    published?: Counter
  }

  private started = false
  private shutdown?: AbortController
  private hardware?: HardwareInfo
  private workloads: WorkloadOfferInfo[]
  private models: CID[] = []
  private loadPermille = 0
  private freeSlots: number
  private totalSlots: number
  private priceHint: string
  private seq = 0
  private self?: VerifiedAdvert
  /** The last publish reached no topic peer. */
  private unheard = true
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private publishTimer?: ReturnType<typeof setTimeout>
  private publishing?: Promise<void>
  private readonly providers: ProviderRecords
  private readonly sync: TableSync
  private readonly syncInterval: number

  constructor (components: CapabilitiesComponents, init: CapabilitiesInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('shardmesh:capabilities')
    this.table = new PeerTable({ maxSize: init.maxPeers ?? C.MAX_TABLE_SIZE })
    this.topic = init.topic ?? CAPS_TOPIC
    this.protocol = init.protocol ?? CAPS_PROTOCOL
    this.ttl = init.advertTtl ?? C.ADVERT_TTL
    this.refreshInterval = init.refreshInterval ?? Math.min(C.REFRESH_INTERVAL, Math.floor(this.ttl / 3))
    this.sweepInterval = init.sweepInterval ?? Math.min(C.SWEEP_INTERVAL, Math.floor(this.ttl / 4))
    this.timeout = init.timeout ?? C.CAPS_TIMEOUT
    this.syncInterval = init.syncInterval ?? this.refreshInterval
    this.pubsubService = init.pubsubService ?? 'pubsub'
    this.workloads = (init.workloads ?? []).map(w => ({ throughput: 0, ...w }))
    this.totalSlots = init.totalSlots ?? 0
    this.freeSlots = init.freeSlots ?? this.totalSlots
    this.priceHint = init.priceHint ?? ''
    for (const w of this.workloads) {
      parseCapabilityKey(`workload:${w.id}`)
    }
    if (this.refreshInterval >= this.ttl) {
      throw new RangeError(`refreshInterval (${this.refreshInterval} ms) must be shorter than advertTtl (${this.ttl} ms)`)
    }
    this.metrics = {
      accepted: components.metrics?.registerCounterGroup('shardmesh_capabilities_adverts_accepted_total', { label: 'source', help: 'Verified adverts accepted into the peer table, by source' }),
      rejected: components.metrics?.registerCounterGroup('shardmesh_capabilities_adverts_rejected_total', { label: 'reason', help: 'Adverts refused, by reason' }),
      published: components.metrics?.registerCounter('shardmesh_capabilities_adverts_published_total', { help: 'Adverts this node signed and published' })
    }
    components.metrics?.registerMetric('shardmesh_capabilities_peers', {
      help: 'Peers with a verified, unexpired advert in the table',
      calculate: () => this.table.list().length
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
    this.onIdentify = this.onIdentify.bind(this)
    this.onPeerConnect = this.onPeerConnect.bind(this)
    this.onSubscriptionChange = this.onSubscriptionChange.bind(this)
    this.validate = this.validate.bind(this)
    this.handleCaps = this.handleCaps.bind(this)
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
    // strictly increasing across restarts as long as the clock does not go back
    this.seq = Date.now()

    await this.components.registrar.handle(this.protocol, this.handleCaps, {
      maxInboundStreams: C.MAX_INBOUND_STREAMS,
      maxOutboundStreams: C.MAX_OUTBOUND_STREAMS
    })
    const pubsub = this.pubsub()
    pubsub.topicValidators.set(this.topic, this.validate)
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    pubsub.subscribe(this.topic)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:connect', this.onPeerConnect)
    this.providers.start()
    this.sync.start()

    this.every(this.sweepInterval, () => { this.sweep() })
    this.every(this.refreshInterval, () => { this.schedulePublish(0) })
    this.every(this.syncInterval, () => { this.sync.tick() })
    this.started = true
    await this.publish()
    this.log('started, %d workloads, %d models, %d gpus', this.workloads.length, this.models.length, this.hardware.gpus.length)
  }

  async stop (): Promise<void> {
    this.started = false
    this.shutdown?.abort()
    for (const t of this.timers) {
      clearInterval(t)
    }
    this.timers.clear()
    // forget the handle too: a stale one would make schedulePublish believe a run is pending
    // and do nothing for ever after a restart
    clearTimeout(this.publishTimer)
    this.publishTimer = undefined
    this.providers.stop()
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:connect', this.onPeerConnect)
    try {
      const pubsub = this.pubsub()
      pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
      pubsub.topicValidators.delete(this.topic)
      pubsub.unsubscribe(this.topic)
    } catch {}
    await this.publishing?.catch(() => {})
    await this.components.registrar.unhandle(this.protocol)
    this.sync.stop()
    this.table.clear()
  }

  getAdvert (): VerifiedAdvert | undefined {
    return this.self
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
    this.schedulePublish(C.PUBLISH_DEBOUNCE)
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
    // this advert carries every pending change: a scheduled publish would only repeat it
    clearTimeout(this.publishTimer)
    this.publishTimer = undefined
    this.seq = Math.max(this.seq + 1, Date.now())
    const advert = await signAdvert(this.components.privateKey, this.content(), { seq: this.seq, issuedAt: Date.now(), ttl: this.ttl })
    this.self = advert
    this.metrics.published?.increment()
    try {
      const result: any = await this.pubsub().publish(this.topic, advert.bytes)
      this.unheard = !(Array.isArray(result?.recipients) && result.recipients.length > 0)
    } catch (err: any) {
      this.unheard = true
      this.log('publish of seq %d failed: %s', advert.seq, err.message)
    }
    if (this.unheard) {
      // no subscribed peer yet: the first subscriber triggers a re-publish
      this.log.trace('advert seq %d reached no one yet', advert.seq)
    }
    return advert
  }

  async findPeers (requirement: CapabilityRequirement = {}, options: FindPeersOptions = {}): Promise<PeerCapabilities[]> {
    const sources = options.sources ?? ['table', 'dht']
    const found = new Map<string, PeerCapabilities>()
    const now = Date.now()
    if (sources.includes('table')) {
      for (const entry of this.table.list(now)) {
        if (matchesRequirement(entry, requirement)) {
          found.set(entry.peerId.toString(), withAge(entry, now))
        }
      }
    }
    const keys = requirementKeys(requirement)
    if (sources.includes('dht') && keys.length > 0) {
      for (const entry of await this.findProviders(keys[0], options)) {
        if (matchesRequirement(entry, requirement)) {
          found.set(entry.peerId.toString(), entry)
        }
      }
    }
    return [...found.values()].sort((a, b) => (b.freeSlots - a.freeSlots) || (a.ageMs - b.ageMs))
  }

  /**
   * Find the providers of one capability key through the DHT, dial each one we do not hold a
   * fresh advert for, fetch its advert over the caps protocol and verify it.
   */
  async findProviders (key: string, options: FindPeersOptions = {}): Promise<PeerCapabilities[]> {
    const cid = await capabilityKeyToCid(key)
    const linked = this.signal(options.signal, options.timeout ?? C.FIND_PROVIDERS_TIMEOUT)
    const signal = linked.signal
    const max = options.maxProviders ?? C.MAX_PROVIDERS
    const out: PeerCapabilities[] = []
    const seen = new Set<string>()
    const fetches: Array<Promise<void>> = []
    options.onProgress?.(new CustomProgressEvent('capabilities:find-providers', { key }))
    try {
      for await (const provider of this.components.contentRouting.findProviders(cid, { signal })) {
        const id = provider.id.toString()
        if (provider.id.equals(this.components.peerId) || seen.has(id)) {
          continue
        }
        seen.add(id)
        const held = this.getPeer(id)
        if (held != null) {
          out.push(held)
        } else {
          if (provider.multiaddrs.length > 0) {
            await this.components.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }, { signal })
          }
          fetches.push(this.fetchAdverts(provider.id, { signal }).then(([own]) => {
            if (own != null) {
              out.push(withAge(own, Date.now()))
            }
          }, (err: any) => {
            this.log('provider %s of %s did not answer: %s', id, key, err.message)
          }))
        }
        if (seen.size >= max) {
          break
        }
      }
    } catch (err: any) {
      if (!signal.aborted) {
        this.log('findProviders %s failed: %s', key, err.message)
      }
    }
    try {
      await Promise.all(fetches)
    } finally {
      linked.clear()
    }
    return out
  }

  /**
   * Ask one peer for its advert (and, with `includeKnown`, the adverts it holds). Every advert
   * is verified; the peer's own must be signed by the peer. Returns the accepted entries.
   */
  async fetchAdverts (peer: PeerId, options: FetchAdvertsOptions = {}): Promise<PeerEntry[]> {
    const linked = this.signal(options.signal, options.timeout ?? this.timeout)
    const signal = linked.signal
    const accepted: PeerEntry[] = []
    let stream: Stream | undefined
    try {
      stream = await this.components.connectionManager.openStream(peer, this.protocol, { signal })
      const adverts = requestAdverts(stream, { includeKnown: options.includeKnown === true, maxAdverts: options.maxAdverts ?? C.MAX_SYNC_ADVERTS, signal })
      for await (const { bytes, own } of adverts) {
        const entry = own ? await this.ingest(bytes, 'direct', peer) : await this.ingest(bytes, 'sync')
        if (entry != null) {
          accepted.push(entry)
        }
      }
    } catch (err: any) {
      stream?.abort(err)
      throw err
    } finally {
      linked.clear()
    }
    return accepted
  }

  private async handleCaps (stream: Stream, connection: Connection): Promise<void> {
    const linked = this.signal(undefined, this.timeout)
    try {
      await serveAdverts(stream, {
        signal: linked.signal,
        own: async () => (this.self ?? await this.publish()).bytes,
        known: (max) => this.table.list().filter(e => !e.peerId.equals(connection.remotePeer)).slice(0, max).map(e => e.bytes)
      })
    } catch (err: any) {
      this.log('caps request from %p failed: %s', connection.remotePeer, err.message)
      stream.abort(err)
    } finally {
      linked.clear()
    }
  }

  /**
   * Verify and insert one advert; log and count a rejection. Returns the table entry (the one
   * we already held when this advert is not newer), or undefined. When the advert must come from
   * `expectedSigner` (the peer we asked), a bad one throws.
   */
  private async ingest (bytes: Uint8Array, source: AdvertSource, expectedSigner?: PeerId): Promise<PeerEntry | undefined> {
    let advert: VerifiedAdvert
    try {
      const stale = this.staleClaim(bytes)
      if (stale != null) {
        this.reject(stale, source)
        return this.table.get(stale.peerId)
      }
      advert = await verifyAdvert(bytes, { expectedSigner })
    } catch (err: any) {
      this.reject(err, source)
      if (expectedSigner != null) {
        throw err
      }
      return undefined
    }
    try {
      return this.accept(advert, source)
    } catch (err: any) {
      this.reject(err, source)
      if (err.reason === 'not-newer') {
        return this.table.get(advert.peerId.toString())
      }
      if (expectedSigner != null) {
        throw err
      }
      return undefined
    }
  }

  /**
   * An advert whose claimed seq is not above the one we hold for its claimed peer is dropped
   * before its signature is checked: most adverts a table sync hands us are ones we have.
   */
  private staleClaim (bytes: Uint8Array): (AdvertRejectedError & { peerId: string }) | undefined {
    const claim = peekAdvert(bytes)
    if (claim == null) {
      return undefined
    }
    const held = claim.peerId === this.components.peerId.toString() ? Number.MAX_SAFE_INTEGER : this.table.seqOf(claim.peerId)
    if (held == null || claim.seq > held) {
      return undefined
    }
    return Object.assign(new AdvertRejectedError('not-newer', `seq ${claim.seq} is not above ${held}`), { peerId: claim.peerId })
  }

  private accept (advert: VerifiedAdvert, source: AdvertSource): PeerEntry {
    if (advert.peerId.equals(this.components.peerId)) {
      // our own advert relayed back to us: nothing to learn
      throw new AdvertRejectedError('not-newer', 'own advert')
    }
    const { entry, added } = this.table.accept(advert, source)
    this.metrics.accepted?.increment({ [source]: true })
    this.safeDispatch('peer:advert', { ...withAge(entry, entry.receivedAt), added })
    return entry
  }

  private reject (err: any, source: string): void {
    const reason: string = err?.reason ?? 'undecodable'
    this.metrics.rejected?.increment({ [reason]: true })
    if (reason === 'not-newer') {
      this.log.trace('%s advert ignored: %s', source, err.message)
    } else {
      this.log('%s advert rejected: %s', source, err?.message ?? err)
    }
  }

  private async validate (from: PeerId, message: any): Promise<any> {
    try {
      if (message.type !== 'signed') {
        throw new AdvertRejectedError('sender-mismatch', 'unsigned gossip message')
      }
      const stale = this.staleClaim(message.data)
      if (stale != null) {
        throw stale
      }
      this.accept(await verifyAdvert(message.data, { expectedSigner: message.from }), 'gossip')
      return TOPIC_ACCEPT
    } catch (err: any) {
      this.reject(err, 'gossip')
      return BENIGN.has(err?.reason) ? TOPIC_IGNORE : TOPIC_REJECT
    }
  }

  private onSubscriptionChange (evt: CustomEvent<{ peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void {
    // Our last advert reached no one (we were alone on the topic): the first subscriber gets a
    // fresh one, coalesced over a burst. Otherwise a new subscriber already has our advert: it
    // synced our table over the caps protocol when the connection was identified, and the mesh
    // carried our last publish to everyone else. Re-publishing for every subscriber would cost
    // O(n²) adverts while a cluster starts.
    if (this.unheard && evt.detail.subscriptions.some(s => s.topic === this.topic && s.subscribe)) {
      this.schedulePublish(C.PUBLISH_DEBOUNCE)
    }
  }

  private onIdentify (evt: CustomEvent<IdentifyResult>): void {
    if (this.started && evt.detail.protocols.includes(this.protocol)) {
      this.sync.onPeer(evt.detail.peerId)
    }
  }

  private onPeerConnect (): void {
    this.providers.onPeerConnect()
  }

  private schedulePublish (delay: number): void {
    if (!this.started || this.publishTimer != null) {
      return
    }
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined
      this.publishing = this.publish().then(() => {}, err => { this.log.error('publish failed: %e', err) })
    }, delay)
    this.publishTimer.unref?.()
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

  private pubsub (): CapabilitiesPubSub {
    const pubsub = (this.components as any)[this.pubsubService] as CapabilitiesPubSub | undefined
    if (pubsub == null) {
      throw new CapsRequestError(`no pubsub service under "${this.pubsubService}": add gossipsub() to the node's services`, 'ERR_NO_PUBSUB')
    }
    return pubsub
  }

  /**
   * A deadline that also follows the caller's signal and our shutdown; the caller clears it when
   * done. (Not `AbortSignal.any([AbortSignal.timeout()])`: on Node 20 that timer can be garbage
   * collected and the request then never times out.)
   */
  private signal (outer: AbortSignal | undefined, timeout: number): LinkedSignal {
    return linkSignals([outer, this.shutdown?.signal], timeout)
  }

  private every (ms: number, fn: () => void): void {
    const t = setInterval(fn, ms)
    t.unref?.()
    this.timers.add(t)
  }

  private safeDispatch <K extends keyof CapabilitiesEvents> (type: K, detail: any): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err: any) {
      this.log.error('listener for %s threw: %e', type, err)
    }
  }
}

function withAge (entry: PeerEntry, now: number): PeerCapabilities {
  return { ...entry, ageMs: Math.max(0, now - entry.issuedAt) }
}
