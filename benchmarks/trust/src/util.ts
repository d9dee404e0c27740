/** Helpers shared by the scenarios: clusters, jobs, metrics, numbers. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { LocalCluster } from '@shardmesh/cli/harness'
import type { ClusterNode, LocalClusterOptions } from '@shardmesh/cli/harness'
import type { JobEvent, JobRequest, JobResultJson, PeerRow } from '@shardmesh/control'

/** The trust layer's defaults this benchmark measures against, from `@shardmesh/compute`. */
export { HEARTBEAT_INTERVAL as HEARTBEAT_INTERVAL_MS, SUSPECT_AFTER as SUSPECT_AFTER_MS, DEAD_AFTER as DEAD_AFTER_MS, CHALLENGE_ITEMS, CHALLENGE_INTERVAL as DEFAULT_CHALLENGE_INTERVAL_MS } from '@shardmesh/compute'

/** Progress goes to stderr: stdout carries the one JSON object. */
export function progress (message: string): void {
  process.stderr.write(`[trust-bench] ${message}\n`)
}

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export function median (samples: number[]): number {
  if (samples.length === 0) {
    return NaN
  }
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** `n` distinct 8-byte items (what the `sleep` workload's calibration uses), base64 as the control API takes them. */
export function makeItems (n: number, salt = 0): string[] {
  return Array.from({ length: n }, (_, i) => {
    const item = Buffer.alloc(8)
    item.writeUInt32BE(salt >>> 0, 0)
    item.writeUInt32BE(i >>> 0, 4)
    return item.toString('base64')
  })
}

/** Flags every node of every cluster here gets: only the `sleep` workload, at `sleepMs` per item. */
export function sleepNode (sleepMs: number, ...more: string[]): string[] {
  return ['--workload', 'sleep', '--sleep-ms', String(sleepMs), ...more]
}

/**
 * Start a cluster, wait until every node holds every other's advert and node 0 sees every
 * other node's calibrated `sleep` claim, run `fn`, and stop every process whatever happens.
 */
export async function withCluster<T> (name: string, options: LocalClusterOptions, fn: (cluster: LocalCluster) => Promise<T>): Promise<T> {
  const cluster = new LocalCluster({ startTimeout: 120_000, ...options })
  const started = performance.now()
  try {
    await cluster.start()
    const conv = await cluster.waitConverged({ timeout: 60_000, interval: 100 })
    if (conv.convergedMs == null) {
      throw new Error(`${name}: the ${options.nodes} nodes did not converge`)
    }
    await waitCalibrated(cluster)
    progress(`${name}: ${options.nodes} nodes up in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return await fn(cluster)
  } finally {
    await cluster.stop()
  }
}

/** Wait (at most 15 s) until node 0 sees a non-zero `sleep` throughput claim from every other node. */
async function waitCalibrated (cluster: LocalCluster): Promise<void> {
  const others = new Set(cluster.nodes.slice(1).map(n => n.peerId))
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const rows = await cluster.peersOf(0)
    const ready = rows.filter(r => others.has(r.peerId) && r.workloads.some(w => w.id === 'sleep' && w.throughput > 0))
    if (ready.length === others.size) {
      return
    }
    await sleep(100)
  }
  progress('not every node advertised a calibrated sleep throughput within 15 s; going on')
}

export interface TimedJob {
  result: JobResultJson
  /** from the request to the result, at this process (placement, challenges and HTTP included) */
  wallMs: number
}

/** Run a `sleep` job on `node` through its control API. */
export async function runJob (node: ClusterNode, job: Omit<JobRequest, 'workload'>, onEvent?: (event: JobEvent) => void): Promise<TimedJob> {
  const started = performance.now()
  const result = await node.control.runJob({ workload: 'sleep', ...job }, { onEvent })
  return { result, wallMs: performance.now() - started }
}

/** Whether every output of a `sleep` job is its input (the workload returns items unchanged). */
export function outputsMatch (result: JobResultJson, items: string[]): boolean {
  return result.outputs.length === items.length && result.outputs.every((o, i) => o === items[i])
}

/** A peer's row in a job report, or zeros when the job did not use it. */
export function peerReport (result: JobResultJson, peerId: string): { shards: number, items: number, attempts: number, failures: number, results: number, window: number, itemsPerSec: number } {
  const p = result.peers.find(r => r.peerId === peerId)
  return {
    shards: p?.shards ?? 0,
    items: p?.items ?? 0,
    attempts: p?.attempts ?? 0,
    failures: p?.failures ?? 0,
    results: p?.results ?? 0,
    window: p?.window ?? 0,
    itemsPerSec: round(p?.itemsPerSec ?? 0, 1)
  }
}

/** Node 0's row of a peer (with its `trust`), if it lists one. */
export async function rowOf (node: ClusterNode, peerId: string): Promise<PeerRow | undefined> {
  return (await node.control.peers()).peers.find(p => p.peerId === peerId)
}

/**
 * The sum of a Prometheus metric's samples in `text` (every label set, or those whose label
 * text passes `match`); 0 when absent.
 */
export function metricSum (text: string, name: string, match?: (labels: string) => boolean): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) {
      continue
    }
    const rest = line.slice(name.length)
    let labels = ''
    let value: string
    if (rest.startsWith('{')) {
      const end = rest.indexOf('}')
      labels = rest.slice(1, end)
      value = rest.slice(end + 1)
    } else if (rest.startsWith(' ')) {
      value = rest
    } else {
      continue
    }
    if (match != null && !match(labels)) {
      continue
    }
    const n = Number(value.trim().split(' ')[0])
    if (Number.isFinite(n)) {
      sum += n
    }
  }
  return sum
}

/** The value of one label in a Prometheus label text (`a="x",b="y"`). */
export function label (labels: string, name: string): string | undefined {
  return new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1]
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s);
 * NaN where /proc is missing.
 */
export function cpuSeconds (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return NaN
  }
}

/** The commit measured, `-dirty` when the working tree had changes to tracked files. */
export function commit (): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${head}-dirty` : head
  } catch {
    return undefined
  }
}
