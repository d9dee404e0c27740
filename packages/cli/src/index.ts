/**
 * @packageDocumentation
 *
 * The `shardmesh` command line, and the pieces it is built from that scripts and tests use:
 * `LocalCluster` (node processes on loopback). A running node's control API (`ControlClient`)
 * is `@shardmesh/control`'s.
 *
 * @example
 *
 * ```TypeScript
 * import { LocalCluster } from '@shardmesh/cli'
 *
 * const cluster = new LocalCluster({ nodes: 8 })
 * await cluster.start()
 * const report = await cluster.waitConverged({ timeout: 30_000 })
 * await cluster.stop()
 * ```
 */

export { main, HELP } from './main.js'
export { LocalCluster, CLI_BIN } from './cluster/local-cluster.js'
export type { ChainProcess, ClusterNode, ConvergenceReport, LocalClusterOptions } from './cluster/local-cluster.js'
export { fundAddresses } from './chain/fund.js'
export { verifyProofOverRpc } from './chain/verify.js'
export type { VerifiedReport, VerifyOutcome } from './chain/verify.js'
