import { CustomProgressEvent } from 'progress-events'
import { FIND_PROVIDERS_TIMEOUT, MAX_PROVIDERS } from './constants.js'
import { capabilityKeyToCid } from './keys.js'
import { matchesRequirement, requirementKeys } from './match.js'
import { withAge } from './peer-table.js'
import type { CapabilityRequirement, FetchAdvertsOptions, FindPeersOptions, PeerCapabilities } from './index.js'
import type { PeerEntry, PeerTable } from './peer-table.js'
import type { ContentRouting, Logger, PeerId, PeerStore } from '@libp2p/interface'
import type { LinkedSignal } from '@shardmesh/protocol'

export interface DiscoveryInit {
  peerId: PeerId
  contentRouting: ContentRouting
  peerStore: PeerStore
  table: PeerTable
  log: Logger
  /** Fetch and verify a peer's own advert over the caps protocol. */
  fetchAdverts: (peer: PeerId, options: FetchAdvertsOptions) => Promise<PeerEntry[]>
  /** A deadline that also follows `outer` and the service's shutdown; cleared by the caller. */
  signal: (outer: AbortSignal | undefined, timeout: number) => LinkedSignal
}

/** Finding peers by what they can do: the gossiped table first, then DHT providers, each verified. */
export class Discovery {
  private readonly init: DiscoveryInit

  constructor (init: DiscoveryInit) {
    this.init = init
  }

  async findPeers (requirement: CapabilityRequirement = {}, options: FindPeersOptions = {}): Promise<PeerCapabilities[]> {
    const sources = options.sources ?? ['table', 'dht']
    const found = new Map<string, PeerCapabilities>()
    const now = Date.now()
    if (sources.includes('table')) {
      for (const entry of this.init.table.list(now)) {
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
    const linked = this.init.signal(options.signal, options.timeout ?? FIND_PROVIDERS_TIMEOUT)
    const signal = linked.signal
    const max = options.maxProviders ?? MAX_PROVIDERS
    const out: PeerCapabilities[] = []
    const seen = new Set<string>()
    const fetches: Array<Promise<void>> = []
    options.onProgress?.(new CustomProgressEvent('capabilities:find-providers', { key }))
    try {
      for await (const provider of this.init.contentRouting.findProviders(cid, { signal })) {
        const id = provider.id.toString()
        if (provider.id.equals(this.init.peerId) || seen.has(id)) {
          continue
        }
        seen.add(id)
        const now = Date.now()
        const held = this.init.table.get(id, now)
        if (held != null) {
          out.push(withAge(held, now))
        } else {
          if (provider.multiaddrs.length > 0) {
            await this.init.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }, { signal })
          }
          fetches.push(this.init.fetchAdverts(provider.id, { signal }).then(([own]) => {
            if (own != null) {
              out.push(withAge(own, Date.now()))
            }
          }, (err: any) => {
            this.init.log('provider %s of %s did not answer: %s', id, key, err.message)
          }))
        }
        if (seen.size >= max) {
          break
        }
      }
    } catch (err: any) {
      if (!signal.aborted) {
        this.init.log('findProviders %s failed: %s', key, err.message)
      }
    }
    try {
      await Promise.all(fetches)
    } finally {
      linked.clear()
    }
    return out
  }
}
