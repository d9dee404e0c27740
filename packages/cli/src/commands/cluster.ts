import { plural } from '@shardmesh/protocol'
import { EXIT_FAILURE, EXIT_OK, parse, parseDuration, parseInteger } from '../args.js'
import { SOLANA_FLAGS, SOLANA_HELP, solanaOption } from '../chain/options.js'
import { LocalCluster } from '../cluster/local-cluster.js'
import { advertTiming } from '../daemon/start-options.js'
import { age, table } from '../format.js'
import type { ConvergenceReport } from '../cluster/convergence.js'

export const CLUSTER_HELP = `Usage: shardmesh cluster --nodes N [options]

Start N node processes on loopback (own data dir and key each), wait until every node holds a
verified advert of every other, print the table, and stop them all on exit or Ctrl-C. A local
Solana chain ('shardmesh chain') starts first and funds every node key, so the nodes anchor
their receipts on it over JSON-RPC, as they would on devnet.

Options:
  --nodes N             number of node processes (1-256, default 4)
  --for DURATION        keep the cluster up this long after it converged, then stop (e.g. 15s);
                        without it, run until Ctrl-C
  --data-dir DIR        root for the node data dirs (default: a temp dir, removed on exit)
  --timeout DURATION    give up if not converged within this (default 60s)
  --advert-ttl DURATION advert TTL of every node (default 30s)
  --refresh DURATION    advert refresh interval of every node (default 10s)
${SOLANA_HELP.trimEnd()}
  --json                print exactly one JSON object at the end:
                        { "nodes": [{ "peerId", "advertsSeen", "convergedMs" }], "convergedMs",
                          "readyMs", "solana": { "rpcUrl", "wsUrl", "local" } | null }
  -h, --help            this help
`

export async function clusterCommand (argv: string[]): Promise<number> {
  const { values } = parse('cluster', argv, {
    nodes: { type: 'string' },
    for: { type: 'string' },
    'data-dir': { type: 'string' },
    timeout: { type: 'string' },
    'advert-ttl': { type: 'string' },
    refresh: { type: 'string' },
    ...SOLANA_FLAGS,
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(CLUSTER_HELP)
    return EXIT_OK
  }
  const n = parseInteger(values.nodes ?? '4', '--nodes', 1, 256) as number
  const holdMs = values.for == null ? undefined : parseDuration(values.for, '--for')
  const timeout = parseDuration(values.timeout ?? '60s', '--timeout')
  const json = values.json === true
  const solana = solanaOption('cluster', values)
  // every node takes these: check them once, before any process starts
  advertTiming('cluster', values)
  const log = (line: string): void => { if (!json) process.stderr.write(line + '\n') }

  const cluster = new LocalCluster({ nodes: n, dataDir: values['data-dir'], advertTtl: values['advert-ttl'], refresh: values.refresh, solana })
  const interrupted = Promise.withResolvers<void>()
  const onSignal = (): void => { interrupted.resolve() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    log(`starting ${n} node processes...`)
    await cluster.start()
    const chain = solanaInfo(cluster)
    if (chain != null) {
      log(`receipts anchor on ${chain.rpcUrl}${chain.local ? ' (local chain, node keys funded)' : ''}`)
    }
    log(`all ${n} ready after ${age(Date.now() - cluster.startedAt)}; waiting for adverts...`)
    let report = await cluster.waitConverged({ timeout })
    if (report.convergedMs == null) {
      log(`not converged within ${age(timeout)}`)
    } else {
      log(`converged: every node holds ${plural(n - 1, 'verified advert')} (${age(report.convergedMs)} after start)`)
    }
    if (!json) {
      process.stdout.write(renderCluster(report, cluster) + '\n')
    }
    if (holdMs != null) {
      await Promise.race([new Promise(resolve => setTimeout(resolve, holdMs)), interrupted.promise])
      report = { ...await cluster.convergence(), convergedMs: report.convergedMs }
    } else if (report.convergedMs != null) {
      log('running; Ctrl-C stops every node')
      await interrupted.promise
    }
    if (json) {
      process.stdout.write(JSON.stringify({ ...report, solana: solanaInfo(cluster) }) + '\n')
    }
    return report.convergedMs == null ? EXIT_FAILURE : EXIT_OK
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    log('stopping nodes...')
    await cluster.stop()
  }
}

function solanaInfo (cluster: LocalCluster): { rpcUrl: string, wsUrl?: string, local: boolean } | null {
  const solana = cluster.options.solana
  if (solana == null) {
    return null
  }
  if (solana === 'local') {
    return cluster.chain == null ? null : { rpcUrl: cluster.chain.url, wsUrl: cluster.chain.wsUrl, local: true }
  }
  return { rpcUrl: solana.rpcUrl, wsUrl: solana.wsUrl, local: false }
}

export function renderCluster (report: ConvergenceReport, cluster: LocalCluster): string {
  return table(
    ['#', 'peer id', 'pid', 'adverts', 'converged'],
    report.nodes.map((r, i) => [String(i), r.peerId, String(cluster.nodes[i].pid), String(r.advertsSeen), r.convergedMs == null ? '-' : age(r.convergedMs)])
  )
}
