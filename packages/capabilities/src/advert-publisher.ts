import { debounce } from '@libp2p/utils'
import { signAdvert } from './advert.js'
import type { AdvertContent, VerifiedAdvert } from './advert.js'
import type { CapabilitiesPubSub } from './index.js'
import type { SubscriptionChangeData } from '@libp2p/gossipsub'
import type { Counter, Logger, Metrics, PrivateKey } from '@libp2p/interface'
import type { DebouncedFunction } from '@libp2p/utils'

export interface AdvertPublisherInit {
  privateKey: PrivateKey
  /** The pubsub service, looked up when first used (services may be built in any order). */
  pubsub: () => CapabilitiesPubSub
  topic: string
  /** How long each advert is valid (ms). */
  ttl: number
  /** Coalesce bursts of changes into one publish this long after the first (ms). */
  debounce: number
  log: Logger
  metrics?: Metrics
  /** What the next advert says, read at each publish. */
  content: () => AdvertContent
}

/**
 * Signs and publishes this node's advert: each with a seq above the last (and above the clock,
 * so it stays increasing across restarts), at once on `publish()`, coalesced after a change
 * (`schedule()`), and on each refresh unless a coalesced publish is already pending.
 */
export class AdvertPublisher {
  private readonly init: AdvertPublisherInit
  private readonly published?: Counter
  private readonly debounced: DebouncedFunction
  private started = false
  /** A coalesced publish is waiting for its timer. */
  private pending = false
  private publishing?: Promise<void>
  private seq = 0
  private self?: VerifiedAdvert
  /** The last publish reached no topic peer. */
  private unheard = true

  constructor (init: AdvertPublisherInit) {
    this.init = init
    this.published = init.metrics?.registerCounter('shardmesh_capabilities_adverts_published_total', { help: 'Adverts this node signed and published' })
    this.debounced = debounce(() => {
      this.pending = false
      this.publishInBackground()
    }, init.debounce)
  }

  start (): void {
    // strictly increasing across restarts as long as the clock does not go back
    this.seq = Date.now()
    this.started = true
  }

  /** Drop a pending publish and wait for one in flight. */
  async stop (): Promise<void> {
    this.started = false
    void this.debounced.stop()
    // forget the pending flag too: a stale one would make schedule() believe a run is pending
    // and do nothing for ever after a restart
    this.pending = false
    await this.publishing?.catch(() => {})
  }

  /** This node's current signed advert. */
  get advert (): VerifiedAdvert | undefined {
    return this.self
  }

  /** Publish once, `debounce` ms after the first of a burst of changes. */
  schedule (): void {
    if (!this.started || this.pending) {
      return
    }
    this.pending = true
    this.debounced()
  }

  /** The periodic re-publish: now, unless a coalesced one is about to go out. */
  refresh (): void {
    if (this.started && !this.pending) {
      this.publishInBackground()
    }
  }

  /** Sign a fresh advert (next seq) and publish it on the topic now. */
  async publish (): Promise<VerifiedAdvert> {
    // this advert carries every pending change: a scheduled publish would only repeat it
    void this.debounced.stop()
    this.pending = false
    this.seq = Math.max(this.seq + 1, Date.now())
    const advert = await signAdvert(this.init.privateKey, this.init.content(), { seq: this.seq, issuedAt: Date.now(), ttl: this.init.ttl })
    this.self = advert
    this.published?.increment()
    try {
      const result = await this.init.pubsub().publish(this.init.topic, advert.bytes)
      this.unheard = !(Array.isArray(result?.recipients) && result.recipients.length > 0)
    } catch (err: any) {
      this.unheard = true
      this.init.log('publish of seq %d failed: %s', advert.seq, err.message)
    }
    if (this.unheard) {
      // no subscribed peer yet: the first subscriber triggers a re-publish
      this.init.log.trace('advert seq %d reached no one yet', advert.seq)
    }
    return advert
  }

  readonly onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    // Our last advert reached no one (we were alone on the topic): the first subscriber gets a
    // fresh one, coalesced over a burst. Otherwise a new subscriber already has our advert: it
    // synced our table over the caps protocol when the connection was identified, and the mesh
    // carried our last publish to everyone else. Re-publishing for every subscriber would cost
    // O(n²) adverts while a cluster starts.
    if (this.unheard && evt.detail.subscriptions.some(s => s.topic === this.init.topic && s.subscribe)) {
      this.schedule()
    }
  }

  private publishInBackground (): void {
    this.publishing = this.publish().then(() => {}, err => { this.init.log.error('publish failed: %e', err) })
  }
}
