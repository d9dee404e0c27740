/**
 * Hosts: the same 4-node mesh (1 requester, 3 echo workers, `shardmesh node start` processes)
 * on loopback and with each node on a host of its own (a Linux network namespace of the
 * `NetLab` harness, `@shardmesh/test-utils/netns`), both up in one run: one-item echo shards
 * pipelined over the 3 workers (shards/s) and one-item jobs one after the other (round trip
 * p50/p99); then the namespace mesh with a token bucket (`tc tbf`, both directions) on every
 * worker's link, to show what a bandwidth cap does. The three are measured in rounds,
 * interleaved (loopback, namespaces, capped; again), so that each sees the same shared machine;
 * the result has each round and the ratios to loopback. Needs root and `ip`: without them the
 * result is `{ skipped: <why> }` (an error instead with `CI=true` as root, see `NetLab.required()`).
 *
 * Jobs go through the requester's control API on its own loopback, from a client process (this
 * module, run as `node hosts.js client <json>`) in the requester's network namespace: the
 * machine's own for the loopback mesh, the requester's host in the lab (`lab.spawn`). The same
 * client on the same path for both; nothing is relayed across namespaces (through a
 * `lab.forward()` the 2,000-shard job's result stream lost its tail: "the node closed the job
 * stream without a result"). shards/s is from the job's own `elapsedMs` (inside the requester);
 * the round trip is measured both ways (`jobRttMs` inside the requester, whole ms;
 * `clientRttMs` around the control API call).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
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
  /** the tbf rate of every worker link in the capped runs, e.g. '100mbit' */
  rate: string
  /** rounds of (loopback, namespaces, capped), interleaved */
  rounds: number
}

/** One client run: the pipelined job, then the one-item jobs. */
export interface ClientRun {
  shards: number
  elapsedMs: number
  shardsPerSec: number
  /** shards accepted per worker */
  perWorker: number[]
  /** each one-item job's `elapsedMs` inside the requester (whole ms) */
  jobMs: number[]
  /** the same jobs timed around the control API call (ms) */
  clientMs: number[]
}

export interface MeshRun {
  /** shards/s of each round's pipelined job (`shards` one-item echo shards, default placement) */
  shardsPerSecRounds: number[]
  /** their median */
  shardsPerSec: number
  /** shards accepted per worker, all rounds */
  perWorker: number[]
  /** one-item jobs one after the other, all rounds: `elapsedMs` inside the requester (whole ms) */
  jobRttMs: Summary
  /** the same jobs timed around the control API call */
  clientRttMs: Summary
}

export interface Ratios {
  shardsPerSec: number | null
  jobRttP50: number | null
  jobRttP99: number | null
  clientRttP50: number | null
  clientRttP99: number | null
}

export interface HostsRun {
  workers: number
  shards: number
  jobs: number
  rounds: number
  /** the 4 nodes on 127.0.0.1 (LocalCluster) */
  loopback: MeshRun
  /** each node on a host of its own (network namespaces on a bridge) */
  namespaces: MeshRun
  /** the namespace mesh with `limit` (tbf, both directions) on every worker's link */
  limited: MeshRun & { limit: LinkLimit }
  /**
   * namespaces / loopback and limited / loopback: median shards/s, and the round trip's p50 and
   * p99 inside the requester (`jobRtt*`) and around the control call (`clientRtt*`); null where
   * the loopback figure is 0
   */
  ratios: { namespaces: Ratios, limited: Ratios }
  /** the load average after each round */
  loadavgRounds: number[][]
  /** ms to start each mesh (4 nodes ready; each client then waits for the requester to list the 3 workers) */
  startMs: { loopback: number, namespaces: number }
  /** every process this scenario started: 8 nodes and 3 clients a round (each gone before it returned) */
  pids: number[]
  /** the prefix of the lab's namespaces (`nl<pid>x<n>`; every one deleted before it returned) */
  labPrefix: string
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

/** What the client process is told: the requester's data dir (its control file and token), the workers, the sizes. */
interface ClientJob {
  dataDir: string
  workers: string[]
  options: HostsOptions
  where: string
}

const SELF = fileURLToPath(import.meta.url)

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

async function measure (mesh: Mesh, options: HostsOptions, where: string): Promise<ClientRun> {
  const job = { workload: 'echo', shardSize: 1, peers: mesh.workers, includeSelf: false }
  progress(`hosts (${where}): warming up`)
  await mesh.control.runJob({ ...job, items: items(Math.min(200, options.shards), 'warm') })
  progress(`hosts (${where}): ${options.shards} one-item echo shards over ${WORKERS} workers`)
  const pipelined = await mesh.control.runJob({ ...job, items: items(options.shards, 'pipe') })
  if (pipelined.outputs.length !== options.shards) {
    throw new Error(`${where}: the echo job returned ${pipelined.outputs.length} outputs for ${options.shards} items`)
  }
  progress(`hosts (${where}): ${options.jobs} one-item jobs one after the other`)
  const jobMs: number[] = []
  const clientMs: number[] = []
  for (let i = 0; i < options.jobs + WARM_JOBS; i++) {
    const start = performance.now()
    const result = await mesh.control.runJob({ ...job, items: items(1, `job-${i}`) })
    const wall = performance.now() - start
    if (i >= WARM_JOBS) {
      jobMs.push(result.elapsedMs)
      clientMs.push(round(wall, 3))
    }
  }
  return {
    shards: pipelined.shards.length,
    elapsedMs: pipelined.elapsedMs,
    shardsPerSec: round(pipelined.shards.length / Math.max(1, pipelined.elapsedMs) * 1000),
    perWorker: mesh.workers.map(w => pipelined.peers.find(p => p.peerId === w)?.shards ?? 0),
    jobMs,
    clientMs
  }
}

/** The client's result: the one JSON line it printed, or an error with its stderr's tail. */
function parseClient (code: number | null, signal: string | null, stdout: string, stderr: string, where: string): ClientRun {
  const line = stdout.trim().split('\n').pop() ?? ''
  if (code !== 0 || line === '') {
    throw new Error(`the ${where} client exited (${code ?? signal}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`)
  }
  return JSON.parse(line)
}

/** Progress lines of a client go to this process's stderr; anything else is kept for errors. */
function relayProgress (line: string): void {
  if (line.startsWith('[compute-bench]')) {
    process.stderr.write(`${line}\n`)
  }
}

/** Run the client in this process's network namespace; resolves with its figures. */
async function clientHere (job: ClientJob, pids: number[]): Promise<ClientRun> {
  const child = spawn(process.execPath, [SELF, 'client', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] })
  pids.push(child.pid ?? -1)
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-16_384)
    for (const line of s.split('\n')) relayProgress(line)
  })
  try {
    const [code, signal] = await new Promise<[number | null, string | null]>(resolve => {
      child.once('exit', (c, sig) => { resolve([c, sig]) })
      child.once('error', () => { resolve([child.exitCode, child.signalCode]) })
    })
    return parseClient(code, signal, out, err, job.where)
  } finally {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill('SIGKILL')
    }
  }
}

/** Start node `i` of the lab mesh on host `i`; resolves with its peer id once it is ready. */
async function startInLab (lab: NetLab, work: string, i: number, bootstrap: string[], pids: number[]): Promise<{ peerId: string, proc: LabProcess }> {
  const host = lab.hosts[i]
  let ready: { peerId: string } | undefined
  const proc = lab.spawn(host, process.execPath, ['--max-semi-space-size=2', CLI_BIN, 'node', 'start', '--json',
    '--data-dir', join(work, `node-${i}`), '--listen', `/ip4/${host.ip}/tcp/${PORT}`, '--network', 'lan', '--no-gpu',
    '--parent-pid', String(process.pid),
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
  }, `node ${i} on host ${host.ns} to be ready`, 120_000)
  return { peerId, proc }
}

function meshRun (runs: ClientRun[]): MeshRun {
  const rates = runs.map(r => r.shardsPerSec)
  const sorted = [...rates].sort((a, b) => a - b)
  return {
    shardsPerSecRounds: rates,
    shardsPerSec: sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2] : round((sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2),
    perWorker: runs[0].perWorker.map((_, w) => runs.reduce((sum, r) => sum + r.perWorker[w], 0)),
    jobRttMs: summary(runs.flatMap(r => r.jobMs), 1),
    clientRttMs: summary(runs.flatMap(r => r.clientMs), 2)
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
  const work = await mkdtemp(join(tmpdir(), 'shardmesh-bench-hosts-'))
  const cluster = new LocalCluster({ nodes: 1 + WORKERS, nodeArgs: i => i === 0 ? COMMON : WORKER_ARGS })
  let lab: NetLab | undefined
  try {
    progress('hosts: starting 4 nodes on loopback')
    let t = performance.now()
    await cluster.start()
    pids.push(...cluster.nodes.map(n => n.pid))
    const loopbackStartMs = Math.round(performance.now() - t)
    const loopbackJob = { dataDir: cluster.nodes[0].dataDir, workers: cluster.nodes.slice(1).map(n => n.peerId), options }

    progress('hosts: starting 4 nodes, each on a network namespace of its own')
    t = performance.now()
    lab = await NetLab.create({ hosts: 1 + WORKERS })
    const l = lab
    const requester = await startInLab(l, work, 0, [], pids)
    const bootstrap = `/ip4/${l.hosts[0].ip}/tcp/${PORT}/p2p/${requester.peerId}`
    const workers = await Promise.all(Array.from({ length: WORKERS }, async (_, k) => startInLab(l, work, 1 + k, [bootstrap], pids)))
    const labStartMs = Math.round(performance.now() - t)
    const labJob = { dataDir: join(work, 'node-0'), workers: workers.map(w => w.peerId), options }
    /** the client in the requester's host */
    const clientInLab = async (where: string): Promise<ClientRun> => {
      const proc = l.spawn(l.hosts[0], process.execPath, [SELF, 'client', JSON.stringify({ ...labJob, where })], { onStderr: relayProgress })
      pids.push(proc.pid)
      const { code, signal } = await proc.exited
      // let the pipes drain
      await new Promise(resolve => setImmediate(resolve))
      return parseClient(code, signal, proc.stdout(), proc.stderr(), where)
    }

    const limit: LinkLimit = { rate: options.rate }
    const runs = { loopback: [] as ClientRun[], namespaces: [] as ClientRun[], limited: [] as ClientRun[] }
    const loadavgRounds: number[][] = []
    for (let r = 0; r < options.rounds; r++) {
      runs.loopback.push(await clientHere({ ...loopbackJob, where: `round ${r + 1}, loopback` }, pids))
      runs.namespaces.push(await clientInLab(`round ${r + 1}, namespaces`))
      for (const host of l.hosts.slice(1)) {
        await l.limit(host, limit)
      }
      runs.limited.push(await clientInLab(`round ${r + 1}, namespaces, ${options.rate} a worker link`))
      for (const host of l.hosts.slice(1)) {
        await l.limit(host, null)
      }
      loadavgRounds.push(loadavg())
    }

    const loopback = meshRun(runs.loopback)
    const namespaces = meshRun(runs.namespaces)
    const limited = meshRun(runs.limited)
    const ratio = (a: number, b: number): number | null => b > 0 ? round(a / b, 2) : null
    const ratios = (m: MeshRun): Ratios => ({
      shardsPerSec: ratio(m.shardsPerSec, loopback.shardsPerSec),
      jobRttP50: ratio(m.jobRttMs.p50, loopback.jobRttMs.p50),
      jobRttP99: ratio(m.jobRttMs.p99, loopback.jobRttMs.p99),
      clientRttP50: ratio(m.clientRttMs.p50, loopback.clientRttMs.p50),
      clientRttP99: ratio(m.clientRttMs.p99, loopback.clientRttMs.p99)
    })
    return {
      workers: WORKERS,
      shards: options.shards,
      jobs: options.jobs,
      rounds: options.rounds,
      loopback,
      namespaces,
      limited: { ...limited, limit },
      ratios: { namespaces: ratios(namespaces), limited: ratios(limited) },
      loadavgRounds,
      startMs: { loopback: loopbackStartMs, namespaces: labStartMs },
      pids,
      labPrefix: l.prefix
    }
  } finally {
    await lab?.close()
    await cluster.stop()
    await rm(work, { recursive: true, force: true })
  }
}

/** `node hosts.js client <json>`: wait for the requester to list the workers, measure, print one JSON line. */
if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'client') {
  try {
    const job: ClientJob = JSON.parse(process.argv[3] ?? '')
    const mesh = { control: await ControlClient.fromDataDir(job.dataDir), workers: job.workers }
    await listsWorkers(mesh)
    process.stdout.write(JSON.stringify(await measure(mesh, job.options, job.where)) + '\n')
    process.exit(0)
  } catch (err: any) {
    process.stderr.write(`hosts client: ${err.stack ?? err.message}\n`)
    process.exit(1)
  }
}
