import { mkdir } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { startChainServer } from '@shardmesh/chain'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseDuration, parseInteger } from '../args.js'
import { fundAddresses } from '../chain/fund.js'
import { claimPidFile, stopDaemon } from '../daemon/files.js'
import { resolveDataDir } from '../data-dir.js'
import { watchParent } from '../parent.js'

export const CHAIN_HELP = `Usage: shardmesh chain [options]
       shardmesh chain stop [--data-dir DIR] [--timeout DURATION]
       shardmesh chain airdrop ADDRESS [--solana-rpc URL] [--sol N] [--json]

Run the embedded Solana chain (LiteSVM) as a JSON-RPC + WebSocket endpoint, on loopback unless
--host says otherwise, until SIGINT/SIGTERM. Every transaction advances the slot and the
blockhash; the whole history is kept in the data dir, so a restarted chain still serves every
transaction it took. Point any Solana client at it (solana CLI: --url http://127.0.0.1:PORT);
nodes use --solana-rpc.
While it runs, its pid is in <data dir>/chain.pid; 'chain stop' stops it (SIGTERM to that pid)
and waits until it exited.

'chain airdrop' funds an address (a node's Solana address, from 'node start' or 'key show')
through requestAirdrop and waits until it landed (default --solana-rpc http://127.0.0.1:8899,
--sol 1).

Options:
  --data-dir DIR    where the chain keeps its state (default <shardmesh data dir>/chain)
  --host ADDR       the address to serve on (default 127.0.0.1). Another than a loopback
                    one opens the chain to every host that reaches it, faucet included
                    (requestAirdrop): a test chain for a private network of your own
                    (e.g. hosts in network namespaces); said on stderr when it starts
  --port PORT       RPC port; the WebSocket is on the same port and on PORT+1, as on
                    solana-test-validator (default 8899; 0 = any free pair). A taken
                    PORT+1 is reported on stderr; the same-port WebSocket still works
  --parent-pid PID  exit if this process dies (used by 'shardmesh cluster' and 'demo')
  --json            print one JSON line when ready: { event, url, wsUrl, pubsubUrl, slot, dataDir, pid }
                    (pubsubUrl: the PORT+1 WebSocket, null when that port was taken)
  -h, --help        this help
`

export async function chainCommand (argv: string[]): Promise<number> {
  if (argv[0] === 'airdrop') {
    return airdrop(argv.slice(1))
  }
  if (argv[0] === 'stop') {
    return stop(argv.slice(1))
  }
  const { values } = parse('chain', argv, {
    'data-dir': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'parent-pid': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(CHAIN_HELP)
    return EXIT_OK
  }
  const port = parseInteger(values.port ?? '8899', '--port', 0, 65535) as number
  const host = values.host ?? '127.0.0.1'
  if (isIP(host) === 0) {
    throw new UsageError(`chain: --host must be an IP address, not "${host.slice(0, 100)}"`)
  }
  const parentPid = parseInteger(values['parent-pid'], '--parent-pid', 1, 2 ** 31)
  const dataDir = chainDataDir(values['data-dir'])
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const pidLock = await claimPidFile(dataDir, 'chain')
  let server
  try {
    server = await startChainServer({ dataDir, host, port, allowNonLoopback: true })
  } catch (err: any) {
    await pidLock.release()
    if (err.code === 'EADDRINUSE') {
      throw new Error(`port ${port} is in use (pick another with --port, or 0 for any)`, { cause: err })
    }
    if (err.code === 'EADDRNOTAVAIL') {
      throw new Error(`${host} is not an address of this host (--host)`, { cause: err })
    }
    throw err
  }
  if (!isLoopbackAddress(host)) {
    process.stderr.write(`shardmesh chain: serving on ${host}: every host that reaches it may call any method, airdrops included (a test chain for a private network)\n`)
  }
  let stopping: Promise<void> | undefined
  let stopped = (): void => {}
  const done = new Promise<void>(resolve => { stopped = resolve })
  const close = (): void => {
    stopping ??= server.close().finally(async () => {
      await pidLock.release()
      stopped()
    })
  }
  process.once('SIGINT', close)
  process.once('SIGTERM', close)
  const unwatch = watchParent(parentPid, close)
  if (server.pubsubPortError != null) {
    process.stderr.write(`shardmesh chain: the WebSocket is not served on the next port too (${server.pubsubPortError.message}); clients that look for it there (web3.js 1.x Connection) need wsEndpoint ${server.wsUrl}\n`)
  }
  const ready = { event: 'ready', url: server.url, wsUrl: server.wsUrl, pubsubUrl: server.pubsubUrl ?? null, slot: Number(server.chain.slot), dataDir, pid: process.pid }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(ready) + '\n')
  } else {
    process.stdout.write(`solana rpc   ${ready.url}\nwebsocket    ${ready.wsUrl}${ready.pubsubUrl == null ? '' : ` and ${ready.pubsubUrl}`}\nslot         ${ready.slot}\ndata dir     ${dataDir}\n`)
  }
  await done
  unwatch()
  return EXIT_OK
}

/** 127.0.0.0/8 and ::1 (and ::ffff:127.x). */
function isLoopbackAddress (host: string): boolean {
  return isIP(host) === 4 ? host.startsWith('127.') : host === '::1' || host.startsWith('::ffff:127.')
}

/** The chain's data dir: --data-dir, else `<shardmesh data dir>/chain`. */
function chainDataDir (flag: string | undefined): string {
  return flag != null ? resolveDataDir(flag) : join(resolveDataDir(undefined), 'chain')
}

/** `chain stop`: SIGTERM the pid in the chain's pid file, and wait until that process is gone. */
async function stop (argv: string[]): Promise<number> {
  const { values } = parse('chain stop', argv, {
    'data-dir': { type: 'string' },
    timeout: { type: 'string' }
  })
  if (values.help === true) {
    process.stdout.write(CHAIN_HELP)
    return EXIT_OK
  }
  const timeout = parseDuration(values.timeout ?? '15s', '--timeout')
  const { ok, message } = await stopDaemon(chainDataDir(values['data-dir']), 'chain', timeout)
  if (!ok) {
    process.stderr.write(`shardmesh chain stop: ${message}\n`)
    return EXIT_FAILURE
  }
  process.stdout.write(`${message}\n`)
  return EXIT_OK
}

async function airdrop (argv: string[]): Promise<number> {
  const { values, positionals } = parse('chain airdrop', argv, {
    'solana-rpc': { type: 'string' },
    sol: { type: 'string' },
    json: { type: 'boolean' }
  }, true)
  if (values.help === true) {
    process.stdout.write(CHAIN_HELP)
    return EXIT_OK
  }
  if (positionals.length !== 1 || !/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(positionals[0])) {
    throw new UsageError('chain airdrop: give one base58 Solana address')
  }
  const sol = Number(values.sol ?? '1')
  if (!Number.isFinite(sol) || sol <= 0 || sol > 1_000) {
    throw new UsageError('chain airdrop: --sol must be a number of SOL from 0 to 1000')
  }
  const rpcUrl = values['solana-rpc'] ?? 'http://127.0.0.1:8899'
  if (!/^https?:\/\/\S+$/.test(rpcUrl)) {
    throw new UsageError('chain airdrop: --solana-rpc must be an http(s):// URL')
  }
  const lamports = BigInt(Math.round(sol * 1e9))
  await fundAddresses(rpcUrl, [positionals[0]], lamports)
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ address: positionals[0], lamports: lamports.toString(), rpcUrl }) + '\n')
  } else {
    process.stdout.write(`funded ${positionals[0]} with ${sol} SOL on ${rpcUrl}\n`)
  }
  return EXIT_OK
}
