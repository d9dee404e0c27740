// Node 20 lacks Promise.withResolvers, which libp2p and these commands use: installed first,
// whatever a command loads (a command that only asks a node loads no package that installs it)
import '@shardmesh/protocol/polyfill'
import { readFile } from 'node:fs/promises'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, parse } from './args.js'

export const HELP = `Usage: shardmesh <command> [options]

A peer-to-peer compute mesh on libp2p.

Commands:
  demo        start a local chain and cluster, shard an OCR job across it, anchor and verify
              its receipts, compare with one process
  node        start a mesh node (daemon) with a local control API; wait for it; stop it
  cluster     run N node processes on loopback until they converge (and --for a while)
  peers       the running node's peer table: liveness, score and each claim's status
  dashboard   the login URL of the running node's dashboard (a page its control API serves)
  job run     run a sharded job from the running node: a built-in workload (ocr-rec, embed,
              echo, sleep, onnx) or one of a --workload-module
  job plan    which peers such a job would use now, and why each other would not be used
  bench       measure the mesh from the running node: per-shard overhead, throughput and
              parallel efficiency as peers are added, inference items/s; SVG charts with --out
  receipts    list, show and verify work receipts (countersigned here, or earned as a worker);
              batches by root, and tallies anyone can recompute
  chain       run the embedded Solana chain (LiteSVM) as a local JSON-RPC endpoint
  key         show, export or import the node key (Solana keypair JSON form)

Run 'shardmesh <command> --help' for a command's options; 'shardmesh --version [--json]'
prints the version. Every command that prints results takes --json. Exit codes: 0 ok,
1 failure, 2 usage error.
`

type Command = (argv: string[]) => Promise<number>

/**
 * A reader that goes away (`shardmesh receipts list | head -2`) ends the command quietly, as a
 * closed pipe ends any Unix tool, instead of an EPIPE stack trace. A command that stops on
 * SIGTERM (a daemon, a cluster) stops that way, cleanly; any other exits 0. The `shardmesh`
 * entry script installs this once.
 */
export function endQuietlyOnClosedOutput (): void {
  let closed = false
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') {
        throw err
      }
      if (closed) {
        return
      }
      closed = true
      if (process.listenerCount('SIGTERM') > 0) {
        process.kill(process.pid, 'SIGTERM')
      } else {
        process.exit(0)
      }
    })
  }
}

// loaded on demand: `--help`, `peers` and `cluster` do not pay for loading libp2p
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./commands/demo.js')).demoCommand,
  node: async () => (await import('./commands/node.js')).nodeCommand,
  cluster: async () => (await import('./commands/cluster.js')).clusterCommand,
  peers: async () => (await import('./commands/peers.js')).peersCommand,
  dashboard: async () => (await import('./commands/dashboard.js')).dashboardCommand,
  key: async () => (await import('./commands/key.js')).keyCommand,
  job: async () => (await import('./commands/job.js')).jobCommand,
  receipts: async () => (await import('./commands/receipts.js')).receiptsCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  chain: async () => (await import('./commands/chain.js')).chainCommand
}

export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command == null || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP)
    return command == null ? EXIT_USAGE : 0
  }
  const load = COMMANDS[command]
  try {
    if (command === '--version' || command === '-v') {
      return await printVersion(rest)
    }
    if (load == null) {
      throw new UsageError(`unknown command "${command}" (try: shardmesh --help)`)
    }
    return await (await load())(rest)
  } catch (err: any) {
    if (err instanceof UsageError) {
      process.stderr.write(`shardmesh: ${err.message}\n`)
      return EXIT_USAGE
    }
    if (err?.name === 'ControlRequestError' && err.status === 400) {
      // the node refused a request built from the flags as given
      process.stderr.write(`shardmesh ${command}: ${err.message}\n`)
      return EXIT_USAGE
    }
    process.stderr.write(`shardmesh ${command}: ${err.message ?? err}\n`)
    return EXIT_FAILURE
  }
}

/** `shardmesh --version [--json]`: this package's version (and Node's, in JSON). */
async function printVersion (argv: string[]): Promise<number> {
  const { values } = parse('--version', argv, { json: { type: 'boolean' } })
  const { name, version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  process.stdout.write(values.json === true ? JSON.stringify({ name, version, node: process.versions.node }) + '\n' : `shardmesh ${version}\n`)
  return EXIT_OK
}
