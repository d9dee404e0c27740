/**
 * @packageDocumentation
 *
 * Assemble a shardmesh node: `createMeshNode()` builds and starts a libp2p node with every
 * shardmesh service and safe defaults; `meshServices()` gives the same services to add to a
 * libp2p node you already run (a DePIN node, say). The node key lives in the data dir; it is
 * both the libp2p PeerId and the node's Solana address, and it imports/exports in the Solana
 * CLI keypair form.
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
 */

import './polyfill.js'

export { createMeshNode } from './create-node.js'
export type { MeshNode, MeshNodeOptions } from './create-node.js'
export { meshServices } from './services.js'
export type { MeshNetwork, MeshServices, MeshServicesInit, MeshServiceFactories } from './services.js'
export { joinMesh } from './join.js'
export { ListenError } from './errors.js'
export type { JoinOptions, JoinResult } from './join.js'
export {
  InvalidKeyError, KeyNotFoundError, loadPrivateKey, loadOrCreatePrivateKey, writePrivateKey, exportSolanaKeypair, importSolanaKeypair, solanaAddress
} from './keys.js'
export { receipts, ReceiptsService } from './receipts/service.js'
export type { Receipts, ReceiptsEvents, ReceiptsInit, ReceiptsStats, ReceiptsComponents, LedgerConfig } from './receipts/service.js'
export type { AnchorerStats } from './receipts/anchorer.js'
export * as constants from './constants.js'
