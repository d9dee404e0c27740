/**
 * @packageDocumentation
 *
 * `@shardmesh/cli/harness`: the project's own child-process harness, used by the `cluster` and
 * `demo` commands, the repository's multi-process tests and its benchmarks. It is not the CLI's
 * front door and makes no promise to other users.
 *
 * - `LocalCluster`: `shardmesh node start` processes on loopback (paced start, bootstrap
 *   through random peers, restart, kill by pid), optionally with a `shardmesh chain` process;
 * - process supervision (`Supervisor`, `CLI_BIN`): every child is stopped by pid and watches
 *   this process, so none outlives it;
 * - convergence measurement (`measureConvergence`, `waitConverged`) from each node's table;
 * - report charts: a dependency-free SVG line/bar chart writer (`lineChart`, `barChart`) and a
 *   well-formedness check of XML (`checkWellFormedXml`), as `shardmesh bench` writes and checks them.
 *
 * @example
 *
 * ```TypeScript
 * import { LocalCluster } from '@shardmesh/cli/harness'
 *
 * const cluster = new LocalCluster({ nodes: 8 })
 * await cluster.start()
 * const report = await cluster.waitConverged({ timeout: 30_000 })
 * await cluster.stop()
 * ```
 */

export { LocalCluster } from './cluster/local-cluster.js'
export type { ClusterNode, LocalClusterOptions } from './cluster/local-cluster.js'
export { startChainProcess, killChainProcess } from './cluster/chain-process.js'
export type { ChainProcess, StartChainOptions } from './cluster/chain-process.js'
export { measureConvergence, waitConverged } from './cluster/convergence.js'
export type { ConvergenceMember, ConvergenceReport, WaitConvergedOptions } from './cluster/convergence.js'
export { CLI_BIN, Supervisor, exitOf, readyLine } from './cluster/supervisor.js'
export type { SuperviseOptions, Supervised } from './cluster/supervisor.js'
export { lineChart, barChart, escapeXml, niceTicks, formatTick, InvalidChartError, MAX_CHART_POINTS } from './bench/svg-chart.js'
export type { ChartSeries, ChartBar, ChartOptions, LineChartOptions, BarChartOptions } from './bench/svg-chart.js'
export { checkWellFormedXml, MalformedXmlError, MAX_XML_CHARS } from './bench/xml-check.js'
