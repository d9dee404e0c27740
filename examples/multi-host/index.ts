/**
 * A shardmesh mesh across N "hosts" on one Linux machine, built with `NetLab` of
 * `@shardmesh/test-utils/netns`: each host is a network namespace with its own address on
 * 10.77.0.0/24, joined to the others by a veth pair into a bridge (the bridge lives in a
 * namespace of its own, so nothing is added to this machine's own network). Host 0 runs a
 * `shardmesh chain`; hosts 1..N each run a `shardmesh node start` listening on their own IP,
 * joined through host 1 and anchoring their receipts on host 0's chain. A job from host 1 runs
 * across them; one receipt's proof file, written on host 1, is verified on host N; then
 * everything is torn down (every process stopped by pid, the namespaces deleted, the work dir
 * removed), also on failure and on SIGINT/SIGTERM.
 *
 * Every step runs the `shardmesh` CLI inside a host (`ip netns exec`), as one would on real hosts.
 *
 * Usage: node examples/multi-host/dist/index.js [--hosts N] [--items N] [--json]
 *   (or examples/multi-host/run.sh with the same flags)
 *   --hosts N   node hosts (2-20, default 3), plus the chain's host
 *   --items N   items of the job (default 24; 'sleep' workload, 2 items a shard, spot-check:1)
 *   --json      print one JSON object at the end instead of the human summary
 * Needs root and `ip netns` (iproute2); exits 77 with "multi-host: SKIPPED: <why>" where
 * namespaces are not allowed. Build the repository first (npm run build).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NetLab } from '@shardmesh/test-utils/netns'
import type { LabProcess, NetHost } from '@shardmesh/test-utils/netns'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(ROOT, 'packages/cli/bin/shardmesh.js')
const SKIPPED = 77
const NODE_PORT = 4001
const RPC_PORT = 8899

const usage = (message: string): never => {
  process.stderr.write(`multi-host: ${message}\n`)
  process.exit(2)
}

let hosts = 3
let itemCount = 24
let json = false
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const flag = argv[i]
  const value = argv[i + 1]
  if (flag === '--hosts') {
    if (value == null || !/^[0-9]+$/.test(value) || Number(value) < 2 || Number(value) > 20) usage(`--hosts: expected 2..20, got '${value ?? ''}'`)
    hosts = Number(value)
    i++
  } else if (flag === '--items') {
    if (value == null || !/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 10_000) usage(`--items: expected 1..10000, got '${value ?? ''}'`)
    itemCount = Number(value)
    i++
  } else if (flag === '--json') {
    json = true
  } else {
    usage(`unknown flag '${flag}' (flags: --hosts N, --items N, --json)`)
  }
}
const say = (line: string): void => { if (!json) console.info(line) }

const why = await NetLab.unavailable()
if (why != null) {
  process.stderr.write(`multi-host: SKIPPED: ${why}\n`)
  process.exit(SKIPPED)
}
if (!existsSync(join(ROOT, 'packages/cli/dist/src/main.js'))) {
  process.stderr.write('multi-host: build first: npm run build\n')
  process.exit(1)
}

const work = await mkdtemp(join(tmpdir(), 'shardmesh-multi-host.'))
const lab = await NetLab.create({ hosts: hosts + 1 })
const daemons: Array<{ name: string, proc: LabProcess }> = []

let tornDown = false
async function tearDown (): Promise<void> {
  if (tornDown) return
  tornDown = true
  const processes = daemons.length
  const namespaces = lab.namespaceNames().length
  await lab.close(10_000)
  await rm(work, { recursive: true, force: true })
  say(`torn down: ${processes} processes stopped, ${namespaces} namespaces deleted`)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void tearDown().finally(() => process.exit(130)) })
}

/** Wait until `check` returns a value, polling every `interval` ms, at most `timeout` ms. */
async function until <T> (check: () => Promise<T | undefined>, what: string, timeout = 60_000, interval = 200): Promise<T> {
  const deadline = Date.now() + timeout
  while (true) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeout / 1000} s`)
    await new Promise(resolve => setTimeout(resolve, interval))
  }
}

/** `shardmesh <args>` inside `host`, to its end; its stdout parsed as JSON. */
async function cli (host: NetHost, args: string[]): Promise<any> {
  const res = await lab.exec(host, process.execPath, [CLI, ...args], { timeout: 120_000 })
  if (res.code !== 0) throw new Error(`shardmesh ${args.slice(0, 2).join(' ')} on ${host.name} exited ${res.code ?? res.signal}: ${res.stderr.trim()}`)
  return JSON.parse(res.stdout)
}

const readJson = async (path: string): Promise<any> => JSON.parse(await readFile(path, 'utf8'))

try {
  const [chainHost, ...nodeHosts] = lab.hosts
  say(`network: ${hosts + 1} hosts on 10.77.0.0/24 (namespaces ${lab.hosts[0].ns}..${lab.hosts[hosts].ns}, bridge in ${lab.switchNs})`)

  // 1. host 0: the chain, served on the host's own address (--host: a test chain for this
  // private network; --parent-pid: it exits if this process dies, even by SIGKILL)
  const chain = lab.spawn(chainHost, process.execPath, [CLI, 'chain', '--data-dir', join(work, 'chain'), '--host', chainHost.ip, '--port', String(RPC_PORT), '--json', '--parent-pid', String(process.pid)])
  daemons.push({ name: 'chain', proc: chain })
  await until(async () => chain.stdout().includes('\n') ? true : undefined, 'the chain to serve')
  const rpc = `http://${chainHost.ip}:${RPC_PORT}`
  say(`host 0 (${chainHost.ip}): shardmesh chain, RPC ${rpc}`)

  // 2. hosts 1..N: a node each, on its own IP; host 1 is the others' bootstrap peer
  let bootstrap: string[] = []
  const ready: any[] = []
  for (const host of nodeHosts) {
    const dataDir = join(work, `node-${host.index}`)
    const readyFile = join(work, `node-${host.index}.ready`)
    const proc = lab.spawn(host, process.execPath, [CLI, 'node', 'start', '--data-dir', dataDir, '--parent-pid', String(process.pid),
      '--listen', `/ip4/${host.ip}/tcp/${NODE_PORT}`, '--network', 'lan', '--workload', 'echo', '--workload', 'sleep', '--sleep-ms', '20',
      '--pool-size', '1', '--no-gpu', '--solana-rpc', rpc, '--receipt-batch-interval', '1s', '--challenge-interval', 'off',
      '--ready-file', readyFile, '--log-level', 'warn', ...bootstrap])
    daemons.push({ name: `node-${host.index}`, proc })
    const r = await until(async () => proc.running() ? readJson(readyFile) : Promise.reject(new Error('exited')), `node ${host.index} to be ready`)
    ready.push(r)
    // the node key signs (and by default pays for) its anchors: fund it on host 0's chain
    await cli(chainHost, ['chain', 'airdrop', r.solanaAddress, '--solana-rpc', rpc, '--json'])
    if (host.index === 1) bootstrap = ['--bootstrap', r.addrs[0]]
    say(`host ${host.index} (${host.ip}): node ${r.addrs[0]}`)
  }
  const first = nodeHosts[0]
  const last = nodeHosts[nodeHosts.length - 1]
  const dirOf = (host: NetHost): string => join(work, `node-${host.index}`)

  // 3. wait until host 1's node holds a verified advert of every other node
  const seen = await until(async () => {
    const n = (await cli(first, ['peers', '--data-dir', dirOf(first), '--json'])).peers.length as number
    return n >= hosts - 1 ? n : undefined
  }, `host 1 to see its ${hosts - 1} peers`, 60_000, 500)
  say(`host 1 sees its ${seen} peers`)

  // 4. the job, from host 1: sleep items, 2 a shard, every shard spot-checked on a second host
  const job = await cli(first, ['job', 'run', '--data-dir', dirOf(first), '--workload', 'sleep', '--generate', String(itemCount), '--shard-size', '2', '--verify', 'spot-check:1', '--json'])

  // 5. every receipt of the job anchored on host 0's chain (host 1 batches every second)
  const receipts = await until(async () => {
    const r = await cli(first, ['receipts', 'list', '--data-dir', dirOf(first), '--job', job.jobId, '--role', 'requester', '--limit', '10000', '--json'])
    return r.total > 0 && r.receipts.every((x: any) => x.anchor != null) ? r : undefined
  }, 'every receipt of the job to be anchored')

  // 6. anyone can check a receipt with nothing but its proof file and the chain: host 1 writes
  // one, host N (which did not request the job) verifies it against host 0's RPC
  const receiptId: string = receipts.receipts[0].id
  const proofFile = join(work, 'receipt.proof')
  await cli(first, ['receipts', 'show', receiptId, '--data-dir', dirOf(first), '--out', proofFile, '--json'])
  const verify = await cli(last, ['receipts', 'verify', proofFile, '--solana-rpc', rpc, '--json'])

  // 7. the summary: which host did which shards, the receipts and their anchors
  const hostOf = new Map<string, { host: number, ip: string }>(ready.map((r, i) => [r.peerId, { host: i + 1, ip: nodeHosts[i].ip }]))
  const shards: any[] = job.shards ?? []
  const perHost: Record<string, number> = {}
  for (const s of shards) {
    for (const peer of s.replicas ?? [s.peer]) {
      const h = hostOf.get(peer)?.ip ?? peer
      perHost[h] = (perHost[h] ?? 0) + 1
    }
  }
  const summary = {
    namespaces: `${lab.prefix}-*`,
    workDir: work,
    hosts: [...hostOf.values()],
    job: { jobId: job.jobId, items: job.items, shards: shards.length, outcomes: [...new Set(shards.map(s => s.outcome))], shardRunsPerHost: perHost },
    receipts: { total: receipts.total, anchored: receipts.receipts.filter((r: any) => r.anchor != null).length, anchorSignatures: [...new Set(receipts.receipts.map((r: any) => r.anchor?.signature).filter(Boolean))] },
    verifiedOnHost: { host: last.index, receipt: receiptId, result: verify }
  }
  if (json) {
    console.info(JSON.stringify(summary))
  } else {
    console.info(`job ${summary.job.jobId}: ${summary.job.items} items in ${summary.job.shards} shards, outcomes ${summary.job.outcomes.join(', ')}`)
    for (const [ip, n] of Object.entries(perHost)) console.info(`  ${ip}: ran ${n} shard(s)`)
    console.info(`receipts: ${summary.receipts.anchored}/${summary.receipts.total} anchored on the chain of host 0, in ${summary.receipts.anchorSignatures.length} transaction(s)`)
    console.info(`host ${last.index} verified receipt ${receiptId} from its proof file against ${verify.anchor.by}'s anchor ${String(verify.anchor.signature).slice(0, 16)}… at slot ${verify.anchor.slot}: ${verify.ok === true ? 'verified' : 'FAILED'} (worker signature, countersignature, Merkle path, memo)`)
  }
  await tearDown()
} catch (err: any) {
  process.stderr.write(`multi-host: failed: ${err.message}; the last lines of each log:\n`)
  for (const { name, proc } of daemons) {
    process.stderr.write(`--- ${name}\n${proc.stderr().trim().split('\n').slice(-5).join('\n')}\n`)
  }
  await tearDown()
  process.exit(1)
}
