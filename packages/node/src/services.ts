import { createHash } from 'node:crypto'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { anchoring } from '@shardmesh/anchoring'
import { capabilities } from '@shardmesh/capabilities'
import { compute } from '@shardmesh/compute'
import { WorkloadRegistry, builtinWorkloads } from '@shardmesh/workloads'
import { DHT_PROTOCOL } from './constants.js'
import { inboundGuard } from './inbound-guard.js'
import type { InboundGuard, InboundGuardInit } from './inbound-guard.js'
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { KadDHT, KadDHTInit } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Capabilities, CapabilitiesInit } from '@shardmesh/capabilities'
import type { Anchoring, AnchoringInit } from '@shardmesh/anchoring'
import type { Compute, ComputeComponents, ComputeInit, ReceiptSink } from '@shardmesh/compute'

/**
 * Which addresses the DHT keeps for peers:
 * - `lan`: private and loopback only (a cluster on one host or one LAN),
 * - `public`: public only (the open internet),
 * - `mixed`: everything (a private mesh spanning LAN and internet hosts).
 */
export type MeshNetwork = 'lan' | 'public' | 'mixed'

export interface MeshServicesInit {
  /**
   * The `inbound` service: per-peer rate limits of every inbound protocol (a stream past its
   * peer's rate is reset before its handler runs) and the count of every refusal
   * (`shardmesh_inbound_refused_total{protocol,reason}` in `registry`).
   */
  inbound?: InboundGuardInit
  capabilities?: CapabilitiesInit
  /**
   * The compute service. By default every built-in workload is registered (so this node can
   * request any of them) and none is served to others: list the ones to serve in `offer`.
   */
  compute?: ComputeInit
  /**
   * The anchoring service (`@shardmesh/anchoring`), under the service key `receipts`: the
   * receipts this node countersigns as a requester are stored durably before a shard counts as
   * done, batched and anchored on Solana; those of its own work that its requesters send back
   * are stored in the same store with the role `worker` (not anchored by this node).
   */
  receipts?: AnchoringInit
  /** Extra kad-dht options (the protocol stays `/shardmesh/kad/1.0.0` unless set here). */
  dht?: Partial<KadDHTInit>
  /** Extra gossipsub options. */
  gossipsub?: Partial<GossipsubOpts>
  /** @default 'mixed' */
  network?: MeshNetwork
}

/** The services a mesh node runs, by the keys the shardmesh services look them up under. */
export type MeshServices = {
  inbound: InboundGuard
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  capabilities: Capabilities
  compute: Compute
  receipts: Anchoring
}

export type MeshServiceFactories = { [K in keyof MeshServices]: (components: any) => MeshServices[K] }

/**
 * De-duplicate gossip before its signature is checked. Without it gossipsub verifies the
 * signature of every copy of a message (one per mesh peer that forwards it) before noticing it
 * has seen it: profiled on a 16-node cluster, that was the largest idle cost of a node. The id
 * covers every field, so a forged copy never shadows the real message (and gossipsub caches the
 * id only once a message validated).
 */
function fastMsgIdFn (msg: { from?: Uint8Array, seqno?: Uint8Array, data?: Uint8Array, signature?: Uint8Array, topic: string }): string {
  const hash = createHash('sha256').update(msg.topic)
  for (const field of [msg.from, msg.seqno, msg.data, msg.signature]) {
    const bytes = field ?? new Uint8Array(0)
    hash.update(Uint8Array.of(bytes.byteLength >>> 24, bytes.byteLength >>> 16, bytes.byteLength >>> 8, bytes.byteLength))
    hash.update(bytes)
  }
  return hash.digest('base64')
}

/** The anchoring service as the compute service's worker receipt sink: it stores with the role `worker`. */
function workerSink (receipts: Anchoring): ReceiptSink {
  return {
    store: async (countersigned, options) => { await receipts.store(countersigned, { signal: options?.signal, role: 'worker' }) },
    signed: async (signed) => { await receipts.noteSigned(signed) }
  }
}

const MAPPERS = {
  lan: removePublicAddressesMapper,
  public: removePrivateAddressesMapper,
  mixed: passthroughMapper
}

/**
 * The libp2p services shardmesh needs, with defaults that hold with many peers per host:
 * identify, ping (kad-dht needs it under `ping`), kad-dht on the private `/shardmesh` protocol
 * in server mode, gossipsub without IP-colocation penalties, and the shardmesh services:
 * capabilities, compute, and anchoring under the key `receipts` (`@shardmesh/anchoring`: the
 * compute service's receipt sink). The first service, `inbound`, rate-limits the streams each
 * peer opens on every protocol the others handle (see `InboundGuard`).
 *
 * Spread it into the `services` of your own `createLibp2p()` to embed shardmesh in an
 * existing node; keep your own `identify`/`ping` by listing them after the spread.
 */
export function meshServices (init: MeshServicesInit = {}): MeshServiceFactories {
  const network = init.network ?? 'mixed'
  return {
    // first: it wraps the handlers every later service registers, and they count their
    // refusals in it (`components.inbound`)
    inbound: inboundGuard(init.inbound),
    identify: identify(),
    ping: ping({ maxOutboundStreams: 4 }),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: false,
      peerInfoMapper: MAPPERS[network],
      ...init.dht
    }),
    pubsub: gossipsub({
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      emitSelf: false,
      floodPublish: true,
      fallbackToFloodsub: false,
      // many nodes behind one IP is normal for a cluster or a NAT: no colocation penalty
      scoreParams: { IPColocationFactorWeight: 0 },
      maxInboundDataLength: 1024 * 1024,
      fastMsgIdFn,
      ...init.gossipsub
    }),
    capabilities: capabilities(init.capabilities),
    receipts: anchoring(init.receipts),
    compute: (components: ComputeComponents & { receipts: Anchoring }) => compute({
      ...init.compute,
      // receipts countersigned by this node are durable before a shard counts as done: the
      // sink is the anchoring service, which libp2p built first and lends by its service key
      receiptSink: init.compute?.receiptSink ?? components.receipts,
      // the receipts of this node's own work, sent back countersigned: the same store, role worker
      workerReceiptSink: init.compute?.workerReceiptSink ?? workerSink(components.receipts),
      registry: init.compute?.registry ?? (init.compute?.workloads == null ? new WorkloadRegistry(builtinWorkloads()) : undefined),
      offer: init.compute?.offer ?? (init.compute?.workloads == null && init.compute?.registry == null ? [] : undefined)
    })(components)
  }
}
