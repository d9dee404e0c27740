import { EXIT_FAILURE, EXIT_OK, parse, parseDuration, parseInteger } from '../args.js'
import { LocalCluster } from '../cluster/local-cluster.js'
import { age } from '../format.js'
import { renderPeers } from './peers.js'

export const DEMO_HELP = `Usage: shardmesh demo [options]

The main job on embedded defaults: start a local cluster of node processes on loopback, wait
until every node holds every other's signed capability advert, print the capability table
as node 0 sees it, and stop the cluster.

Options:
  --nodes N            node processes (default 4)
  --timeout DURATION   give up if not converged within this (default 60s)
  --json               print one JSON object: { nodes, convergedMs, readyMs, peers }
  -h, --help           this help
`

export async function demoCommand (argv: string[]): Promise<number> {
  const { values } = parse('demo', argv, { nodes: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } })
  if (values.help === true) {
    process.stdout.write(DEMO_HELP)
    return EXIT_OK
  }
  const n = parseInteger(values.nodes ?? '4', '--nodes', 2, 64) as number
  const timeout = parseDuration(values.timeout ?? '60s', '--timeout')
  const json = values.json === true
  const say = (line: string): void => { if (!json) process.stdout.write(line + '\n') }

  const cluster = new LocalCluster({ nodes: n, gpu: true })
  const stop = (): void => { void cluster.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  try {
    say(`shardmesh demo: starting a local cluster of ${n} node processes on loopback`)
    await cluster.start()
    for (const node of cluster.nodes) {
      say(`  node ${node.index}  pid ${node.pid}  ${node.peerId}`)
    }
    say('waiting until every node holds a verified advert of every other...')
    const report = await cluster.waitConverged({ timeout })
    const peers = await cluster.peersOf(0)
    if (json) {
      process.stdout.write(JSON.stringify({ ...report, peers }) + '\n')
    } else {
      say(report.convergedMs == null
        ? `not converged within ${age(timeout)}`
        : `converged ${age(report.convergedMs)} after start (all processes ready after ${age(report.readyMs)})`)
      say('\ncapability table of node 0:')
      say(renderPeers(peers))
    }
    return report.convergedMs == null ? EXIT_FAILURE : EXIT_OK
  } finally {
    process.off('SIGINT', stop)
    await cluster.stop()
  }
}
