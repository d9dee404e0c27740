/**
 * Hosts: the same 4-node mesh (1 requester, 3 echo workers, `shardmesh node start` processes)
 * on loopback and with each node on a host of its own (a Linux network namespace of the
 * `NetLab` harness, `@shardmesh/test-utils/netns`), measured one after the other in one run:
 * one-item echo shards pipelined over the 3 workers (shards/s) and one-item jobs one after the
 * other (round trip p50/p99). Then the namespace mesh again with a token bucket (`tc tbf`) on
 * every worker's link, to show what a bandwidth cap does. The ratios namespace/loopback are in
 * the result. Needs root and `ip`: without them the result is `{ skipped: <why> }` (an error
 * instead with `CI=true` as root, as for the tests, see `NetLab.required()`).
 *
 * Jobs go through each requester's control API (in the namespace run, a `lab.forward()` port
 * relays it out of the host); shards/s is the job's own `elapsedMs` (inside the requester, the
 * control path not in it), the round trip is measured both ways (`jobRttMs` inside the
 * requester, `clientRttMs` around the control API call).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_BIN, LocalCluster } from '@shardmesh/cli/harness'
import { ControlClient } from '@shardmesh/control/client'
import { NetLab } from '@shardmesh/test-utils/netns'
import { loadavg, progress, round, summary } from './stats.js'
import type { Summary } from './stats.js'
import type { LabProcess, LinkLimit } from '@shardmesh/test-utils/netns'

export interface HostsOptions {
  /** one-item shards of the pipelined job */
  shards: number
  /** one-item jobs one after the other */
  jobs: number
  /** the tbf rate of every worker link in the limited run, e.g. '100mbit' */
  rate: string
}

export interface MeshRun {
  /** pipelined: `shards` one-item echo shards over the 3 workers, default placement */
  shards: number
  elapsedMs: number
  shardsPerSec: number
  /** shards accepted per worker */
  perWorker: number[]
  /** one-item jobs one after the other: the job's `elapsedMs` inside the requester (whole ms) */
  jobRttMs: Summary
  /** the same jobs timed around the control API call (HTTP; in the namespace runs, through the forward) */
  clientRttMs: Summary
  loadavg: number[]
}

export interface HostsRun {
  workers: number
  shards: number
  jobs: number
  /** the 4 nodes on 127.0.0.1 (LocalCluster) */
  loopback: MeshRun
  /** each node on a host of its own (network namespaces on a bridge) */
  namespaces: MeshRun
  /** the namespace mesh with `limit` (tbf, both directions) on every worker's link */
  limited: MeshRun & { limit: LinkLimit }
  /**
   * namespaces / loopback and limited / loopback: shards/s, and the round trip's p50 and p99
   * inside the requester (`jobRtt*`, whole ms) and around the control call (`clientRtt*`);
   * null where the loopback figure is 0
   */
  ratios: { namespaces: Ratios, limited: Ratios }
  /** ms to start each mesh (4 nodes ready, the requester listing the 3 workers) */
  startMs: { loopback: number, namespaces: number }
  /** every node process this scenario started (each stopped by pid before it returned) */
  pids: number[]
  /** the prefix of the lab's namespaces (`nl<pid>x<n>`; every one deleted before it returned) */
  labPrefix: string
}

export interface Ratios {
  shardsPerSec: number | null
  jobRttP50: number | null
  jobRttP99: number | null
  clientRttP50: number | null
  clientRttP99: number | null
}

export type HostsResult = HostsRun | { skipped: string }

const WORKERS = 3
/** jobs before the measured ones (JIT, channels, the first-shard challenge of each worker) */
const WARM_JOBS = 5
const PORT = 4001

const COMMON = ['--workload', 'echo', '--pool-size', '1', '--challenge-interval', 'off', '--refresh', '2s', '--log-level', 'warn', '--shutdown-timeout', '2s']
/** workers run one shard at a time, as the overhead scenario's in-process workers do */
const WORKER_ARGS = [...COMMON, '--slots', '1']

interface Mesh {
  control: ControlClient
  workers: string[]
}

function items (n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`).toString('base64'))
}

async function until <T> (check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value != null) {
        return value
      }
    } catch (err: any) {
      if (err?.fatal === true) {
        throw err
      }
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}${last != null ? `: ${String((last as Error).message ?? last)}` : ''}`)
}

/** The requester lists every worker's advert (a job may name only peers in its table). */
async function listsWorkers (mesh: Mesh): Promise<void> {
  await until(async () => {
    const listed = new Set((await mesh.control.peers()).peers.map(p => p.peerId))
    return mesh.workers.every(w => listed.has(w)) ? true : undefined
  }, 'the requester to list the 3 workers', 120_000)
}

async function measure (mesh: Mesh, options: HostsOptions, where: string): Promise<MeshRun> {
  const job = { workload: 'echo', shardSize: 1, peers: mesh.workers, includeSelf: false }
  progress(`hosts (${where}): warming up`)
  await mesh.control.runJob({ ...job, items: items(Math.min(200, options.shards), 'warm') })
  progress(`hosts (${where}): ${options.shards} one-item echo shards over ${WORKERS} workers`)
  const pipelined = await mesh.control.runJob({ ...job, items: items(options.shards, 'pipe') })
  if (pipelined.outputs.length !== options.shards) {
    throw new Error(`${where}: the echo job returned ${pipelined.outputs.length} outputs for ${options.shards} items`)
  }
  progress(`hosts (${where}): ${options.jobs} one-item jobs one after the other`)
  const inside: number[] = []
  const client: number[] = []
  for (let i = 0; i < options.jobs + WARM_JOBS; i++) {
    const start = performance.now()
    const result = await mesh.control.runJob({ ...job, items: items(1, `job-${i}`) })
    const wall = performance.now() - start
    if (i >= WARM_JOBS) {
      inside.push(result.elapsedMs)
      client.push(wall)
    }
  }
  return {
    shards: pipelined.shards.length,
    elapsedMs: pipelined.elapsedMs,
    shardsPerSec: round(pipelined.shards.length / Math.max(1, pipelined.elapsedMs) * 1000),
    perWorker: mesh.workers.map(w => pipelined.peers.find(p => p.peerId === w)?.shards ?? 0),
    jobRttMs: summary(inside, 1),
    clientRttMs: summary(client, 2),
    loadavg: loadavg()
  }
}

async function onLoopback (options: HostsOptions, pids: number[]): Promise<{ run: MeshRun, startMs: number }> {
  const started = performance.now()
  progress('hosts: starting 4 nodes on loopback')
  const cluster = new LocalCluster({ nodes: 1 + WORKERS, nodeArgs: i => i === 0 ? COMMON : WORKER_ARGS })
  try {
    await cluster.start()
    pids.push(...cluster.nodes.map(n => n.pid))
    const mesh = { control: cluster.nodes[0].control, workers: cluster.nodes.slice(1).map(n => n.peerId) }
    await listsWorkers(mesh)
    const startMs = Math.round(performance.now() - started)
    return { run: await measure(mesh, options, 'loopback'), startMs }
  } finally {
    await cluster.stop()
  }
}

async function onHosts (options: HostsOptions, pids: number[]): Promise<{ run: MeshRun, limited: MeshRun & { limit: LinkLimit }, startMs: number, prefix: string }> {
  const started = performance.now()
  progress('hosts: starting 4 nodes, each on a network namespace of its own')
  const work = await mkdtemp(join(tmpdir(), 'shardmesh-bench-hosts-'))
  let lab: NetLab | undefined
  try {
    lab = await NetLab.create({ hosts: 1 + WORKERS })
    const l = lab
    const start = async (i: number, bootstrap: string[]): Promise<{ peerId: string, control: ControlClient, proc: LabProcess }> => {
      const host = l.hosts[i]
      const dataDir = join(work, `node-${i}`)
      const forward = await l.forward(host)
      let ready: { peerId: string } | undefined
      const proc = l.spawn(host, process.execPath, ['--max-semi-space-size=2', CLI_BIN, 'node', 'start', '--json',
        '--data-dir', dataDir, '--listen', `/ip4/${host.ip}/tcp/${PORT}`, '--network', 'lan', '--no-gpu',
        '--control-port', String(forward.port), '--parent-pid', String(process.pid),
        ...bootstrap.flatMap(b => ['--bootstrap', b]), ...(i === 0 ? COMMON : WORKER_ARGS)], {
        onStdout: line => {
          try {
            const event = JSON.parse(line)
            if (event.event === 'ready') ready = event
          } catch {}
        }
      })
      pids.push(proc.pid)
      const { peerId } = await until(() => {
        if (!proc.running()) {
          throw Object.assign(new Error(`node ${i} exited: ${proc.stderr().trim().split('\n').slice(-3).join(' | ')}`), { fatal: true })
        }
        return ready
      }, `node ${i} on host ${host.ns} to be ready`, 120_000).catch(err => { throw new Error(`${err.message}; stderr: ${proc.stderr().trim().split('\n').slice(-3).join(' | ')}`) })
      const token = (await readFile(join(dataDir, 'control.token'), 'utf8')).trim()
      return { peerId, control: new ControlClient(forward.url, token), proc }
    }
    const requester = await start(0, [])
    const bootstrap = `/ip4/${lab.hosts[0].ip}/tcp/${PORT}/p2p/${requester.peerId}`
    const workers = await Promise.all(Array.from({ length: WORKERS }, async (_, k) => start(1 + k, [bootstrap])))
    const mesh = { control: requester.control, workers: workers.map(w => w.peerId) }
    await listsWorkers(mesh)
    const startMs = Math.round(performance.now() - started)
    const run = await measure(mesh, options, 'namespaces')
    const limit: LinkLimit = { rate: options.rate }
    for (const host of lab.hosts.slice(1)) {
      await lab.limit(host, limit)
    }
    progress(`hosts: every worker link limited to ${options.rate} (tbf, both directions)`)
    const limited = { ...await measure(mesh, options, `namespaces, ${options.rate}`), limit }
    return { run, limited, startMs, prefix: lab.prefix }
  } finally {
    await lab?.close()
    await rm(work, { recursive: true, force: true })
  }
}

export async function hosts (options: HostsOptions): Promise<HostsResult> {
  const why = await NetLab.unavailable()
  if (why != null) {
    if (NetLab.required()) {
      throw new Error(`the hosts scenario needs network namespaces, and CI runs as root: ${why}`)
    }
    progress(`hosts: SKIPPED: ${why}`)
    return { skipped: why }
  }
  const pids: number[] = []
  const loopback = await onLoopback(options, pids)
  const ns = await onHosts(options, pids)
  const ratio = (a: number, b: number): number | null => b > 0 ? round(a / b, 2) : null
  const base = loopback.run
  const ratios = (r: MeshRun): Ratios => ({
    shardsPerSec: ratio(r.shardsPerSec, base.shardsPerSec),
    jobRttP50: ratio(r.jobRttMs.p50, base.jobRttMs.p50),
    jobRttP99: ratio(r.jobRttMs.p99, base.jobRttMs.p99),
    clientRttP50: ratio(r.clientRttMs.p50, base.clientRttMs.p50),
    clientRttP99: ratio(r.clientRttMs.p99, base.clientRttMs.p99)
  })
  return {
    workers: WORKERS,
    shards: options.shards,
    jobs: options.jobs,
    loopback: loopback.run,
    namespaces: ns.run,
    limited: ns.limited,
    ratios: { namespaces: ratios(ns.run), limited: ratios(ns.limited) },
    startMs: { loopback: loopback.startMs, namespaces: ns.startMs },
    pids,
    labPrefix: ns.prefix
  }
}
