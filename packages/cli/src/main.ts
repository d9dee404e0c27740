import { EXIT_FAILURE, EXIT_USAGE, UsageError } from './args.js'
import { clusterCommand } from './commands/cluster.js'
import { demoCommand } from './commands/demo.js'
import { keyCommand } from './commands/key.js'
import { nodeCommand } from './commands/node.js'
import { peersCommand } from './commands/peers.js'

export const HELP = `Usage: shardmesh <command> [options]

A peer-to-peer compute mesh on libp2p.

Commands:
  demo        start a local cluster, show every node's verified capabilities, stop
  node start  run a mesh node (daemon) with a local control API
  cluster     run N node processes on loopback until they converge (and --for a while)
  peers       the running node's peer table
  key         show, export or import the node key (Solana keypair JSON form)

Run 'shardmesh <command> --help' for a command's options. Every command that prints
results takes --json. Exit codes: 0 ok, 1 failure, 2 usage error.
`

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  demo: demoCommand,
  node: nodeCommand,
  cluster: clusterCommand,
  peers: peersCommand,
  key: keyCommand
}

export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command == null || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP)
    return command == null ? EXIT_USAGE : 0
  }
  const run = COMMANDS[command]
  try {
    if (run == null) {
      throw new UsageError(`unknown command "${command}" (try: shardmesh --help)`)
    }
    return await run(rest)
  } catch (err: any) {
    if (err instanceof UsageError) {
      process.stderr.write(`shardmesh: ${err.message}\n`)
      return EXIT_USAGE
    }
    process.stderr.write(`shardmesh ${command}: ${err.message ?? err}\n`)
    return EXIT_FAILURE
  }
}
