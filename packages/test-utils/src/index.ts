/**
 * @packageDocumentation
 *
 * Helpers shared by the project's own tests (private: never published, only `devDependencies`
 * use it). It depends on libp2p packages and `@shardmesh/protocol` (whose polyfill it installs
 * before creating a node) only, never on a package whose tests use it: no cycle of project
 * references forms.
 *
 * - `waitFor(check, what, { timeout, interval })` polls a condition or a value until it holds;
 * - `memoryNode(services)` is a libp2p node on the in-memory transport running the services it
 *   is given; `memoryListen()` gives the transport and a fresh address to builders of their own;
 * - `NetLab` (also `@shardmesh/test-utils/netns`): hosts as Linux network namespaces on a private
 *   bridge, processes run inside them and stopped by pid, partitions, rate limits, and ports
 *   forwarded from this process into a host (root and iproute2; `NetLab.unavailable()` says why
 *   not).
 *
 * @example
 *
 * ```TypeScript
 * import { memoryNode, waitFor } from '@shardmesh/test-utils'
 * import { ping } from '@libp2p/ping'
 *
 * const a = await memoryNode({ ping: ping() })
 * const b = await memoryNode({ ping: ping() })
 * await a.dial(b.getMultiaddrs())
 * await waitFor(() => a.getConnections(b.peerId).length > 0, 'a connection to b', { timeout: 5_000 })
 * await Promise.all([a.stop(), b.stop()])
 * ```
 */

export { waitFor } from './wait.js'
export type { Check, WaitForOptions } from './wait.js'
export { memoryListen, memoryNode } from './memory-node.js'
export type { MemoryListen, MemoryNodeOptions } from './memory-node.js'
export { WaitTimeoutError } from './errors.js'
export { NetLab } from './netns.js'
export type { Forward, ForwardOptions, LabExecResult, LabProcess, LabSpawnOptions, LinkLimit, NetHost, NetLabOptions } from './netns.js'
