/**
 * @packageDocumentation
 *
 * `@shardmesh/control/client`: what a program that only talks to a running node needs (the
 * client, its errors, the JSON types, the login URL), without the server and the node it
 * serves. A CLI command that asks the control API loads this in a few milliseconds; the
 * package's main entry also loads libp2p and the mesh services (about a second of CPU).
 */

export { ControlClient } from './client.js'
export { dashboardUrl } from './dashboard.js'
export { ControlPortInUseError, ControlRequestError, NodeNotRunningError, NoNodeToServeError } from './errors.js'
export type * from './types.js'
export * as constants from './constants.js'
