/**
 * @packageDocumentation
 *
 * The local control API of a shardmesh node: a loopback HTTP server (`ControlServer`), its
 * client (`ControlClient`) and the JSON shapes both speak. The `shardmesh` CLI serves it from
 * every daemon; a program that embeds `meshServices()` in its own libp2p node serves the same
 * API with it, and gets `shardmesh peers`, `shardmesh job run`, `shardmesh receipts` and a
 * Prometheus `/metrics` for that node.
 *
 * The server needs only the parts of a node listed in `ControlNode` (its peer id, addresses,
 * connections and the capabilities, compute and receipts services), so any libp2p node whose
 * services include `meshServices()` can be served. Every `/v1` route takes the bearer token the
 * server keeps in `<dataDir>/control.token`; while it serves, `<dataDir>/control.json` says
 * where, which is how `ControlClient.fromDataDir()` and the CLI find it.
 *
 * @example Serve the control API of your own libp2p node
 *
 * ```TypeScript
 * import { noise } from '@chainsafe/libp2p-noise'
 * import { yamux } from '@chainsafe/libp2p-yamux'
 * import { prometheusMetrics } from '@libp2p/prometheus-metrics'
 * import { tcp } from '@libp2p/tcp'
 * import { ControlClient, ControlServer } from '@shardmesh/control'
 * import { meshServices } from '@shardmesh/node'
 * import { createLibp2p } from 'libp2p'
 * import { Registry } from 'prom-client'
 *
 * const registry = new Registry()
 * const node = await createLibp2p({
 *   addresses: { listen: ['/ip4/0.0.0.0/tcp/7077'] },
 *   transports: [tcp()],
 *   connectionEncrypters: [noise()],
 *   streamMuxers: [yamux()],
 *   metrics: prometheusMetrics({ registry }),
 *   services: {
 *     ...meshServices()
 *     // ...and the services your node already had
 *   }
 * })
 *
 * const control = new ControlServer({ node, dataDir: './data', registry, onStop: () => { void node.stop() } })
 * await control.start() // http://127.0.0.1:<port>, token in ./data/control.token
 *
 * const client = await ControlClient.fromDataDir('./data')
 * const { peerId, connectedPeers } = await client.status()
 * const metrics = await client.metrics() // the Prometheus text of `registry`
 * ```
 *
 * @example With createMeshNode()
 *
 * ```TypeScript
 * import { ControlServer } from '@shardmesh/control'
 * import { createMeshNode } from '@shardmesh/node'
 * import { Registry } from 'prom-client'
 *
 * const registry = new Registry()
 * const node = await createMeshNode({ dataDir: './data', metricsRegistry: registry })
 * const control = new ControlServer({ node, dataDir: './data', registry, onStop: () => { void node.stop() } })
 * await control.start()
 * // shardmesh node wait --json --data-dir ./data; shardmesh peers --data-dir ./data
 * ```
 */

export { ControlServer } from './server.js'
export type { ControlServerOptions } from './server.js'
export { ControlClient } from './client.js'
export { dashboardUrl } from './dashboard.js'
export { ControlPortInUseError, ControlRequestError, NodeNotRunningError, NoNodeToServeError } from './errors.js'
export type { ControlNode, MetricsRegistry } from './node.js'
export type * from './types.js'
export * as constants from './constants.js'
