/**
 * @packageDocumentation
 *
 * The `shardmesh` command line as a function (`main(argv)` returns the exit code), and the
 * pieces of it that scripts use: `fundAddresses` (airdrops on a local chain) and
 * `verifyProofOverRpc` (check a receipt's anchor on any Solana RPC). A running node's control
 * API (`ControlClient`) is `@shardmesh/control`'s. The project's own child-process harness
 * (`LocalCluster`, for tests and benchmarks) is `@shardmesh/cli/harness`, not this front door.
 *
 * @example
 *
 * ```TypeScript
 * import { main } from '@shardmesh/cli'
 *
 * // the same as `shardmesh key show --json`
 * process.exitCode = await main(['key', 'show', '--json'])
 * ```
 */

export { main, HELP } from './main.js'
export { fundAddresses } from './chain/fund.js'
export { verifyProofOverRpc } from './chain/verify.js'
export type { VerifiedReport, VerifyOutcome } from './chain/verify.js'
