import { capabilityKeyToCid } from './keys.js'
import type { ProviderRecordStatus } from './index.js'
import type { ContentRouting, Logger } from '@libp2p/interface'

export interface ProviderRecordsInit {
  contentRouting: ContentRouting
  log: Logger
  /** The keys to announce, read at each run. */
  keys: () => string[]
  /** Re-announce period (ms). */
  interval: number
  /** Retry period after a failure (ms), e.g. before the routing table has peers. */
  retry: number
  /** a deadline for one round of provides; cleared when the round is over */
  signal: () => { signal: AbortSignal, clear: () => void }
}

/**
 * Announces this node as a DHT provider of each of its capability keys: once it has peers,
 * again every `interval`, sooner after a failure, and at once when the keys change. Keeps the
 * outcome per key so operators (and tests) can see whether discovery will find the node.
 */
export class ProviderRecords {
  private readonly records = new Map<string, ProviderRecordStatus>()
  private timer?: ReturnType<typeof setTimeout>
  private running = false

  constructor (private readonly init: ProviderRecordsInit) {}

  start (): void {
    this.running = true
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
    this.timer = undefined
  }

  status (): ProviderRecordStatus[] {
    return [...this.records.values()]
  }

  /** A peer connected: announce soon if any key was never announced. */
  onPeerConnect (): void {
    const keys = this.init.keys()
    if (keys.some(k => this.records.get(k)?.providedAt == null)) {
      this.schedule(1_000)
    }
  }

  /** Run an announcement after `delay` ms, unless one is already scheduled. */
  schedule (delay: number): void {
    if (!this.running || this.timer != null) {
      return
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.provideAll().catch(err => { this.init.log('provide failed: %s', err.message) })
    }, delay)
    this.timer.unref?.()
  }

  /** Re-schedule now (keys changed): cancels a pending far-off run. */
  reschedule (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.schedule(0)
  }

  private async provideAll (): Promise<void> {
    const deadline = this.init.signal()
    const failed = await this.provideKeys(deadline.signal).finally(deadline.clear)
    this.schedule(failed ? this.init.retry : this.init.interval)
  }

  /** Provide every key; whether any failed. */
  private async provideKeys (signal: AbortSignal): Promise<boolean> {
    let failed = false
    for (const key of this.init.keys()) {
      const cid = await capabilityKeyToCid(key)
      const status = this.records.get(key) ?? { key, cid: cid.toString() }
      this.records.set(key, status)
      try {
        await this.init.contentRouting.provide(cid, { signal })
        status.providedAt = Date.now()
        status.error = undefined
      } catch (err: any) {
        failed = true
        status.error = err.message
        this.init.log('could not provide %s yet: %s', key, err.message)
      }
    }
    return failed
  }
}
