import type { Libp2p } from '@libp2p/interface'
import type { Capabilities } from '@shardmesh/capabilities'
import type { Compute } from '@shardmesh/compute'
import type { MeshServices } from '@shardmesh/node'

/**
 * The parts of a node the control API calls: exactly these, so any libp2p node whose services
 * include `meshServices()` can be served (a `MeshNode` from `createMeshNode()`, or an
 * embedder's own `createLibp2p({ services: { ...meshServices(), ... } })`).
 */
export interface ControlNode extends Pick<Libp2p, 'peerId' | 'getMultiaddrs' | 'getConnections'> {
  services: {
    capabilities: Pick<Capabilities, 'getAdvert' | 'getPeers' | 'getPeer' | 'findPeers' | 'update' | 'publish' | 'capabilityKeys' | 'providerRecords'>
    compute: Pick<Compute, 'run' | 'stats' | 'offered' | 'registry' | 'peerTrust' | 'plan' | 'jobs'>
    receipts: Pick<MeshServices['receipts'], 'stats' | 'list' | 'get' | 'matchPrefix' | 'summarize' | 'proof' | 'batches' | 'flush' | 'pullProofs' | 'fetchBatch'>
  }
}

/** Where `/metrics` reads from: a prom-client `Registry` (the one given to `createMeshNode({ metricsRegistry })`). */
export interface MetricsRegistry {
  /** the Content-Type of the exposition text */
  readonly contentType: string
  metrics(): Promise<string>
}
