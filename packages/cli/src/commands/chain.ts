import { join } from 'node:path'
import { startChainServer } from '@shardmesh/solana'
import { EXIT_OK, UsageError, parse, parseInteger } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { watchParent } from '../parent.js'

export const CHAIN_HELP = `Usage: shardmesh chain [options]

Run the embedded Solana chain (LiteSVM) as a JSON-RPC + WebSocket endpoint on loopback until
SIGINT/SIGTERM. Every transaction advances the slot and the blockhash; the whole history is
kept in the data dir, so a restarted chain still serves every transaction it took. Point any
Solana client at it (solana CLI: --url http://127.0.0.1:PORT); nodes use --solana-rpc.

Options:
  --data-dir DIR    where the chain keeps its state (default <shardmesh data dir>/chain)
  --port PORT       RPC port; the WebSocket is on the same port (default 8899; 0 = any free)
  --parent-pid PID  exit if this process dies (used by 'shardmesh cluster' and 'demo')
  --json            print one JSON line when ready: { event, url, wsUrl, slot, dataDir, pid }
  -h, --help        this help
`

export async function chainCommand (argv: string[]): Promise<number> {
  const { values } = parse('chain', argv, {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    'parent-pid': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(CHAIN_HELP)
    return EXIT_OK
  }
  const port = parseInteger(values.port ?? '8899', '--port', 0, 65535) as number
  const parentPid = parseInteger(values['parent-pid'], '--parent-pid', 1, 2 ** 31)
  const dataDir = values['data-dir'] != null ? resolveDataDir(values['data-dir']) : join(resolveDataDir(undefined), 'chain')
  let server
  try {
    server = await startChainServer({ dataDir, port })
  } catch (err: any) {
    if (err.code === 'EADDRINUSE') {
      throw new UsageError(`chain: port ${port} is in use (pick another with --port, or 0 for any)`)
    }
    throw err
  }
  let stopping: Promise<void> | undefined
  let stopped = (): void => {}
  const done = new Promise<void>(resolve => { stopped = resolve })
  const stop = (): void => {
    stopping ??= server.close().finally(stopped)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const unwatch = watchParent(parentPid, stop)
  const ready = { event: 'ready', url: server.url, wsUrl: server.wsUrl, slot: Number(server.chain.slot), dataDir, pid: process.pid }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(ready) + '\n')
  } else {
    process.stdout.write(`solana rpc   ${ready.url}\nwebsocket    ${ready.wsUrl}\nslot         ${ready.slot}\ndata dir     ${dataDir}\n`)
  }
  await done
  unwatch()
  return EXIT_OK
}
