/**
 * @packageDocumentation
 *
 * A libp2p service that tells the mesh what this node can do, and keeps a table of what every
 * other node can do — as signed, measured, expiring facts.
 *
 * - **Probe**: CPU model and cores, memory, GPUs (from `nvidia-smi`; none → an empty list),
 *   installed workloads and held models (content hashes).
 * - **Signed advert**: a protobuf `CapabilityAdvert` signed by the node key, published on the
 *   gossipsub topic `/shardmesh/caps/1` at start, on change and every `refreshInterval`, and
 *   expiring after `advertTtl`.
 * - **DHT provider records**: one per capability key (`workload:<id>`, `model:<cid>`,
 *   `gpu:<vendor>`), CID = CIDv1(raw, sha256(key)), so stock kad-dht finds providers.
 * - **Peer table**: only verified, unexpired adverts, each with its age. Refused with a logged
 *   reason and a metric: bad signature, signer ≠ sender, expired, not newer, oversized,
 *   undecodable.
 * - **Caps protocol** `/shardmesh/caps/1.0.0`: ask a peer for its advert and the adverts it
 *   holds; used on every new connection (so a joining node learns the mesh at once), every
 *   `syncInterval` with one random peer (anti-entropy: gossip is best-effort), and to check DHT
 *   providers.
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { gossipsub } from '@libp2p/gossipsub'
 * import { kadDHT } from '@libp2p/kad-dht'
 * import { identify } from '@libp2p/identify'
 * import { ping } from '@libp2p/ping'
 * import { capabilities } from '@shardmesh/capabilities'
 *
 * const node = await createLibp2p({
 *   // ...transports, encrypters, muxers
 *   services: {
 *     identify: identify(),
 *     ping: ping(),
 *     dht: kadDHT({ protocol: '/shardmesh/kad/1.0.0' }),
 *     pubsub: gossipsub(),
 *     capabilities: capabilities({ workloads: [{ id: 'ocr-rec', version: '1.0.0' }] })
 *   }
 * })
 *
 * const peers = await node.services.capabilities.findPeers({ workload: 'ocr-rec', minFreeSlots: 1 })
 * // each: p.peerId, p.freeSlots, p.hardware, and p.ageMs (how old the signed fact is)
 * const freshest = peers.filter(p => p.ageMs < 15_000)
 * ```
 */

import { Capabilities as CapabilitiesClass } from './capabilities.js'
import type { VerifiedAdvert, WorkloadOfferInfo } from './advert.js'
import type { PeerEntry } from './peer-table.js'
import type { HardwareInfo } from './probe.js'
import type { GossipSubEvents, PublishResult, TopicValidatorFn } from '@libp2p/gossipsub'
import type {
  AbortOptions, ComponentLogger, ContentRouting, Metrics, PeerId, PeerStore, PrivateKey,
  TypedEventTarget, Libp2pEvents
} from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { CID } from 'multiformats/cid'
import type { ProgressOptions } from 'progress-events'

export interface CapabilitiesInit {
  /** Workloads this node runs for others. @default [] */
  workloads?: Array<Pick<WorkloadOfferInfo, 'id' | 'version'> & Partial<WorkloadOfferInfo>>
  /** Content hashes of models held, in addition to those found in `modelsDir`. @default [] */
  models?: CID[]
  /** A directory whose files are models this node holds (each is content-addressed). */
  modelsDir?: string
  /** Use this instead of probing the machine (tests, or an operator who wants to under-report). */
  hardware?: HardwareInfo
  /** The nvidia-smi binary, or `false` to skip the GPU probe. @default 'nvidia-smi' */
  nvidiaSmi?: string | false
  /** Shard slots this node offers. @default the number of CPU cores */
  totalSlots?: number
  /** Free slots at start. @default totalSlots */
  freeSlots?: number
  /** A price hint shown to requesters (free text, e.g. `0.0001 SOL/item`). @default '' */
  priceHint?: string
  /** How long an advert is valid (ms). @default 30000 */
  advertTtl?: number
  /** Re-publish period (ms); must be shorter than the TTL. @default min(10000, advertTtl / 3) */
  refreshInterval?: number
  /** Anti-entropy: pull one random connected peer's table this often (ms). @default refreshInterval */
  syncInterval?: number
  /** How often expired adverts are dropped (ms). @default min(500, advertTtl / 4) */
  sweepInterval?: number
  /** Re-announce DHT provider records this often (ms). @default 300000 */
  provideInterval?: number
  /** Deadline of one caps request (ms). @default 10000 */
  timeout?: number
  /** Most peers the table holds. @default 10000 */
  maxPeers?: number
  /** Gossipsub topic. @default '/shardmesh/caps/1' */
  topic?: string
  /** Caps protocol id. @default '/shardmesh/caps/1.0.0' */
  protocol?: string
}

/** The part of gossipsub this service uses (structural, so any compatible pubsub works). */
export interface CapabilitiesPubSub extends TypedEventTarget<Pick<GossipSubEvents, 'subscription-change'>> {
  topicValidators: Map<string, TopicValidatorFn>
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<PublishResult>
}

export interface CapabilitiesComponents {
  peerId: PeerId
  privateKey: PrivateKey
  logger: ComponentLogger
  registrar: Registrar
  connectionManager: ConnectionManager
  addressManager: AddressManager
  peerStore: PeerStore
  contentRouting: ContentRouting
  events: TypedEventTarget<Libp2pEvents>
  metrics?: Metrics
  /**
   * Gossipsub, under the key `pubsub` in the node's services. The service declares that it
   * depends on `@libp2p/pubsub`, so libp2p refuses to build a node without it.
   */
  pubsub: CapabilitiesPubSub
}

/** What a requirement asks of a peer; every field stated must hold. */
export interface CapabilityRequirement {
  workload?: string
  workloadVersion?: string
  /** A model CID string. */
  model?: string
  /** A GPU vendor, e.g. `nvidia`. */
  gpu?: string
  minFreeSlots?: number
  minMemoryBytes?: number
}

export interface FindPeersOptions extends AbortOptions, ProgressOptions {
  /** Where to look. @default ['table', 'dht'] */
  sources?: Array<'table' | 'dht'>
  /** Deadline of the DHT lookup (ms). @default 10000 */
  timeout?: number
  /** Most providers dialled. @default 20 */
  maxProviders?: number
}

export interface FetchAdvertsOptions extends AbortOptions {
  /** Also fetch the adverts the peer holds. @default false */
  includeKnown?: boolean
  maxAdverts?: number
  /** @default 10000 */
  timeout?: number
}

export interface CapabilityUpdate {
  workloads?: Array<Pick<WorkloadOfferInfo, 'id' | 'version'> & Partial<WorkloadOfferInfo>>
  models?: CID[]
  loadPermille?: number
  freeSlots?: number
  totalSlots?: number
  priceHint?: string
}

/** A peer's verified capabilities and how old the fact is. */
export interface PeerCapabilities extends PeerEntry {
  /** ms since the advert was issued. */
  ageMs: number
}

export interface ProviderRecordStatus {
  key: string
  cid: string
  /** When the record was last provided to the DHT (ms since epoch); absent until it worked. */
  providedAt?: number
  error?: string
}

export interface CapabilitiesEvents {
  /** A verified advert entered the table (`added`: the peer was not in the table before). */
  'peer:advert': CustomEvent<PeerCapabilities & { added: boolean }>
  /** A peer's advert expired and left the table. */
  'peer:expired': CustomEvent<{ peerId: PeerId }>
}

export interface Capabilities extends TypedEventTarget<CapabilitiesEvents> {
  /** This node's current signed advert. */
  getAdvert(): VerifiedAdvert | undefined
  /** Every verified, unexpired advert in the table, with its age. */
  getPeers(): PeerCapabilities[]
  getPeer(peerId: PeerId | string): PeerCapabilities | undefined
  /** Peers that satisfy a requirement: the table merged with DHT providers (fetched and verified). */
  findPeers(requirement?: CapabilityRequirement, options?: FindPeersOptions): Promise<PeerCapabilities[]>
  /** DHT providers of one capability key, each fetched and verified. */
  findProviders(key: string, options?: FindPeersOptions): Promise<PeerCapabilities[]>
  /** Fetch a peer's advert (and optionally its table) over the caps protocol. */
  fetchAdverts(peer: PeerId, options?: FetchAdvertsOptions): Promise<PeerEntry[]>
  /** Change what this node offers; re-publishes (debounced) and re-provides if keys changed. */
  update(change: CapabilityUpdate): void
  /** Sign and publish a fresh advert now. */
  publish(): Promise<VerifiedAdvert>
  /** The capability keys this node provides. */
  capabilityKeys(): string[]
  /** The DHT provider records this node announced, and when. */
  providerRecords(): ProviderRecordStatus[]
}

export function capabilities (init: CapabilitiesInit = {}): (components: CapabilitiesComponents) => Capabilities {
  return (components) => new CapabilitiesClass(components, init)
}

export { signAdvert, verifyAdvert, peekAdvert, advertCapabilityKeys } from './advert.js'
export type { AdvertContent, VerifiedAdvert, WorkloadOfferInfo, SignAdvertOptions, VerifyAdvertOptions } from './advert.js'
export { PeerTable } from './peer-table.js'
export type { AdvertSource, PeerEntry, PeerTableInit } from './peer-table.js'
export { probeHardware, probeNvidiaGpus, parseNvidiaSmi, probeModels } from './probe.js'
export type { GpuInfo, HardwareInfo, ProbeOptions } from './probe.js'
export { capabilityKey, parseCapabilityKey, capabilityKeyToCid, modelCidOfBytes, modelCidOfDigest } from './keys.js'
export type { CapabilityKind } from './keys.js'
export { matchesRequirement, requirementKeys } from './match.js'
export { AdvertRejectedError, CapsRequestError, InvalidCapabilityKeyError, REJECT_REASONS } from './errors.js'
export type { RejectReason } from './errors.js'
export * as constants from './constants.js'
