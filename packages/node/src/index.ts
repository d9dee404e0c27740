/**
 * @packageDocumentation
 *
 * Assemble a shardmesh node: `createMeshNode()` builds and starts a libp2p node with every
 * shardmesh service and safe defaults; `meshServices()` gives the same services to add to a
 * libp2p node you already run (a DePIN node, say). The node key lives in the data dir; it is
 * both the libp2p PeerId and the node's Solana address, and it imports/exports in the Solana
 * CLI keypair form.
 *
 * The services are those of their own packages: `@shardmesh/capabilities`, `@shardmesh/compute`
 * and `@shardmesh/anchoring` (the receipt store and anchoring loop, under the service key
 * `receipts`; its options are `receipts` here). With a `dataDir` the receipts this node
 * countersigns are stored in `<dataDir>/receipts`; with `receipts.ledger` they are anchored.
 *
 * Importing this package installs a guarded `Promise.withResolvers` polyfill for Node 20.
 *
 * @example
 *
 * ```TypeScript
 * import { createMeshNode, solanaAddress } from '@shardmesh/node'
 *
 * const node = await createMeshNode({
 *   dataDir: './data',
 *   listen: ['/ip4/0.0.0.0/tcp/7077'],
 *   bootstrap: ['/ip4/192.0.2.1/tcp/7077/p2p/12D3KooW...']
 * })
 * const account = solanaAddress(node.peerId) // the same key signs adverts and Solana transactions
 * const gpuPeers = await node.services.capabilities.findPeers({ gpu: 'nvidia' })
 * ```
 *
 * @example Store and anchor the receipts of the jobs this node requests
 *
 * ```TypeScript
 * import { createMeshNode } from '@shardmesh/node'
 *
 * const node = await createMeshNode({
 *   dataDir: './data',
 *   receipts: { ledger: { rpcUrl: 'https://api.devnet.solana.com' }, batchSize: 100 }
 * })
 * const result = await node.services.compute.run({ workload: 'echo', items, shardSize: 4 })
 * await node.services.receipts.flush()                   // every batch anchored
 * const proof = node.services.receipts.proof(node.services.receipts.list({ jobId: result.jobId })[0].id)
 * ```
 */

import '@shardmesh/protocol/polyfill'

export { createMeshNode } from './create-node.js'
export type { MeshNode, MeshNodeOptions } from './create-node.js'
export { meshServices } from './services.js'
export type { MeshNetwork, MeshServices, MeshServicesInit, MeshServiceFactories } from './services.js'
export { joinMesh } from './join.js'
export { InboundRefusedError, InvalidKeyError, InvalidSwarmKeyError, KeyNotFoundError, ListenError } from './errors.js'
export { INBOUND_REFUSED_METRIC, InboundGuard, TokenBucket, inboundGuard } from './inbound-guard.js'
export type { InboundGuardComponents, InboundGuardInit, InboundRefusals, RateLimits, RefusalCount, StreamRate } from './inbound-guard.js'
export { MAX_SWARM_KEY_FILE_BYTES, generateSwarmKey, loadSwarmKey, parseSwarmKey } from './swarm-key.js'
export { INBOUND_BYTES_METRIC, INBOUND_STREAMS_METRIC, INBOUND_WAITS_METRIC, DEFAULT_CONNECTIONS_PER_PEER, DEFAULT_PEER_INBOUND_STREAMS, DEFAULT_STREAM_WINDOW, DEFAULT_STREAMS_PER_CONNECTION, limitInboundStreams, resolveLimits, yamuxLimits } from './inbound-limits.js'
export type { InboundLimits, ResolvedLimits } from './inbound-limits.js'
export type { JoinOptions, JoinResult } from './join.js'
export {
  loadPrivateKey, loadOrCreatePrivateKey, writePrivateKey, exportSolanaKeypair, importSolanaKeypair, solanaAddress
} from './keys.js'
export * as constants from './constants.js'
