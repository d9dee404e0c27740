/**
 * The soak run: long-lived `shardmesh node start` processes (node 0 the requester, the others
 * workers) and a `shardmesh chain` that anchors their receipts; churn nodes (workers too) join
 * and leave on a seeded schedule (SIGTERM, sometimes SIGKILL; a rejoin keeps its identity or
 * takes a new one); a steady stream of `sleep` jobs from node 0. Every `sampleSec` the long-lived
 * nodes are read: RSS and open fds from /proc, connections, streams and error counters from
 * their metrics, and the warn/error lines they logged.
 */
import { request } from 'node:http'
import { LocalCluster, exitOf } from '@shardmesh/cli/harness'
import { cpuSeconds } from '@shardmesh/benchmark-trust/dist/src/util.js'
import { alive, errorCounters, metricSum, openFds, parseMetrics, prng, progress, rssMiB, sleep } from './stats.js'
import type { ClusterNode } from '@shardmesh/cli/harness'

export interface SoakConfig {
  /** minutes of churn and jobs (the measured phase) */
  minutes: number
  /** seconds of jobs without churn before it, once the long-lived nodes converged */
  warmupSec: number
  sampleSec: number
  /** long-lived nodes: node 0 requests, the others serve */
  longLived: number
  /** churn nodes up at once (at most) */
  churnSlots: number
  /** how long a churn node stays up / down (s), drawn uniformly from each range */
  upSec: [number, number]
  downSec: [number, number]
  /** the share of leaves by SIGKILL (the rest SIGTERM: a graceful stop) */
  sigkillShare: number
  /** the share of rejoins under a new identity (new key and data dir; the rest restart the last one) */
  freshShare: number
  /** a failed job is put down to churn if a churn node left within this many seconds before it started, or while it ran */
  attributionSec: number
  /** after the churn, the most seconds to wait for the long-lived nodes' connections to the churn nodes to close */
  settleSec: number
  job: { items: number, shardSize: number, sleepMs: number, pauseMs: number, slots: number }
  seed: number
}

export interface LogLine { t: number, level: string, text: string }

export interface NodeSample {
  /** seconds since the churn phase started (negative in the warm-up) */
  t: number
  rssMiB: number
  fds: number
  cpuSec: number
  connections: number
  streams: number
  /** open streams by protocol and direction (libp2p's `libp2p_protocol_streams_total` gauge) */
  streamsBy: Record<string, number>
  /** cumulative error counters of the node's metrics, by name */
  errors: Record<string, number>
  /** warn/error (and unformatted) stderr lines so far */
  logLines: number
  receipts: { stored: number, anchored: number, unanchored: number }
}

export interface ChurnEvent {
  t: number
  kind: 'join' | 'leave' | 'join-failed'
  slot: number
  index: number
  peerId?: string
  signal?: NodeJS.Signals
  /** join: seconds from spawn to ready; leave: seconds from the signal to the exit */
  tookSec?: number
  /** a join under a new identity */
  fresh?: boolean
  /** the leave at the end of the churn phase */
  final?: boolean
  error?: string
}

export interface JobRecord {
  n: number
  t0: number
  t1: number
  ok: boolean
  items: number
  /** failed attempts (retries) on churn / long-lived peers */
  failuresChurn: number
  failuresLongLived: number
  outputsMatch?: boolean
  code?: string
  message?: string
  /** for a failed job: the peers that failed an attempt of it, from the requester's job list */
  failedPeers?: string[]
}

export interface SoakRun {
  config: SoakConfig
  /** epoch ms of the churn phase's start (t = 0) */
  t0: number
  phaseSec: number
  longLived: Array<{ index: number, peerId: string, pid: number, role: 'requester' | 'worker' }>
  chainPid?: number
  samples: NodeSample[][]
  /** the quiet samples: before the churn (jobs paused) and after it (churn nodes gone, jobs stopped, connections settled) */
  baseline: NodeSample[]
  afterChurn: NodeSample[]
  /** per long-lived node, the streams open at the after-churn sample and at 3 reads after it, 3 s apart (the least count of each) */
  streamsHeld?: Array<Record<string, number>>
  settledSec: number
  settled: boolean
  lines: LogLine[][]
  churnPeers: Record<string, number>
  events: ChurnEvent[]
  jobs: JobRecord[]
  pids: number[]
  orphans: number[]
  loadavg: number[][]
}

export async function soak (config: SoakConfig, loadavg: () => number[]): Promise<SoakRun> {
  const L = config.longLived
  const lines: LogLine[][] = Array.from({ length: L }, () => [])
  let t0 = Date.now() + 1e12 // until the phase starts, every t is negative
  const now = (): number => (Date.now() - t0) / 1000
  const cluster = new LocalCluster({
    nodes: L,
    solana: 'local',
    startTimeout: 120_000,
    nodeArgs: () => ['--workload', 'sleep', '--sleep-ms', String(config.job.sleepMs), '--slots', String(config.job.slots), '--log-level', 'warn'],
    onStderr: (index, line) => {
      if (index < L && lines[index].length < 100_000) {
        const m = /^\S+ (warn|error)\s+(.*)$/.exec(line)
        lines[index].push({ t: now(), level: m?.[1] ?? 'other', text: (m?.[2] ?? line).slice(0, 400) })
      }
    }
  })
  const pids = new Set<number>()
  const run: Partial<SoakRun> & { config: SoakConfig } = { config }
  try {
    progress(`starting ${L} long-lived nodes and a chain`)
    await cluster.start()
    cluster.nodes.forEach(n => pids.add(n.pid))
    if (cluster.chain?.process.pid != null) {
      pids.add(cluster.chain.process.pid)
    }
    const conv = await cluster.waitConverged({ timeout: 120_000, interval: 200 })
    if (conv.convergedMs == null) {
      throw new Error(`the ${L} long-lived nodes did not converge`)
    }
    const nodes = cluster.nodes.slice(0, L)
    const longLived = nodes.map(n => ({ index: n.index, peerId: n.peerId, pid: n.pid, role: n.index === 0 ? 'requester' as const : 'worker' as const }))
    const samples: NodeSample[][] = nodes.map(() => [])
    const loads: number[][] = []
    const churnPeers = new Map<string, number>()
    const events: ChurnEvent[] = []
    const jobs: JobRecord[] = []
    const longLivedIds = new Set(nodes.map(n => n.peerId))

    // warm-up: jobs on the long-lived workers alone (connections, windows, first challenges, calibration)
    progress(`converged; warm-up ${config.warmupSec} s of jobs`)
    const warm = new Stopper()
    const warmJobs = jobLoop(nodes[0], config, () => -1, warm, [], churnPeers, longLivedIds)
    await warm.sleep(config.warmupSec * 1000)
    warm.stop()
    await warmJobs
    await sleep(6_000) // the control API's keep-alive sockets close
    const baseline = await Promise.all(nodes.map(async n => sampleNode(n, () => -1, lines[n.index])))

    // the measured phase: churn + jobs, sampled
    t0 = Date.now()
    progress(`churn and jobs for ${config.minutes} min (seed ${config.seed})`)
    const phase = new Stopper()
    const sampler = (async () => {
      while (!phase.stopped) {
        loads.push(loadavg())
        const s = await Promise.all(nodes.map(async n => sampleNode(n, now, lines[n.index])))
        s.forEach((x, i) => samples[i].push(x))
        await phase.sleep(config.sampleSec * 1000)
      }
    })()
    const churn = new Stopper()
    const nextIndex = { value: L + config.churnSlots }
    const slots = Array.from({ length: config.churnSlots }, async (_, k) => churnSlot(k, cluster, nodes, config, now, churn, nextIndex, churnPeers, events, pids))
    const jobsDone = jobLoop(nodes[0], config, now, phase, jobs, churnPeers, longLivedIds)
    const ticker = setInterval(() => {
      const ok = jobs.filter(j => j.ok).length
      progress(`t=${Math.round(now())} s: ${ok}/${jobs.length} jobs ok, ${events.filter(e => e.kind === 'join').length} joins, ${events.filter(e => e.kind === 'leave').length} leaves, rss ${nodes.map((_, i) => Math.round(samples[i].at(-1)?.rssMiB ?? 0)).join('/')} MiB, fds ${nodes.map((_, i) => samples[i].at(-1)?.fds ?? 0).join('/')}`)
    }, Math.max(10_000, config.minutes * 60_000 / 20))
    await phase.sleep(config.minutes * 60_000)
    const phaseSec = now()
    // end of the phase: jobs stop (the one running finishes), then the churn nodes leave (SIGTERM)
    phase.stop()
    clearInterval(ticker)
    await jobsDone
    await sampler
    churn.stop()
    await Promise.all(slots)
    progress(`churn over after ${Math.round(now())} s; waiting for the long-lived nodes to settle`)

    // settle: every long-lived node holds no more connections than before the churn (to the
    // other long-lived nodes only; two nodes that dialled each other at once may hold two)
    const settleStart = Date.now()
    let settled = false
    while (Date.now() - settleStart < config.settleSec * 1000) {
      const conns = await Promise.all(nodes.map(async n => connectionsOf(n)))
      if (conns.every((c, i) => c <= baseline[i].connections)) {
        settled = true
        break
      }
      await sleep(1_000)
    }
    const settledSec = (Date.now() - settleStart) / 1000
    await sleep(6_000)
    const afterChurn = await Promise.all(nodes.map(async n => sampleNode(n, now, lines[n.index])))
    loads.push(loadavg())
    // the streams open at each of 3 more reads 3 s apart (the least of each protocol): a stream
    // open through all of them, in a quiet mesh, is held, not passing through
    const streamsHeld: Array<Record<string, number>> = afterChurn.map(s => ({ ...s.streamsBy }))
    for (let r = 0; r < 3; r++) {
      await sleep(3_000)
      const reads = await Promise.all(nodes.map(async n => streamsOf(n)))
      reads.forEach((read, i) => {
        for (const k of Object.keys(streamsHeld[i])) {
          streamsHeld[i][k] = Math.min(streamsHeld[i][k], read[k] ?? 0)
          if (streamsHeld[i][k] === 0) {
            delete streamsHeld[i][k]
          }
        }
      })
    }
    Object.assign(run, { t0, phaseSec, longLived, chainPid: cluster.chain?.process.pid, samples, baseline, afterChurn, streamsHeld, settled, settledSec, lines, churnPeers: Object.fromEntries(churnPeers), events, jobs, loadavg: loads })
  } finally {
    await cluster.stop()
    // a process still there after the stop (stopped by pid, awaited) is an orphan
    await sleep(500)
    run.pids = [...pids]
    run.orphans = [...pids].filter(alive)
  }
  return run as SoakRun
}

/** Sleeps that end early when the phase is stopped. */
class Stopper {
  stopped = false
  private readonly wakers = new Set<() => void>()

  stop (): void {
    this.stopped = true
    for (const wake of this.wakers) {
      wake()
    }
  }

  async sleep (ms: number): Promise<void> {
    if (this.stopped) {
      return
    }
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        this.wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(done)
    })
  }
}

/** `n` distinct 8-byte items (base64, as the control API takes them); `salt` makes each job's own. */
function makeItems (n: number, salt: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const item = Buffer.alloc(8)
    item.writeUInt32BE(salt >>> 0, 0)
    item.writeUInt32BE(i >>> 0, 4)
    return item.toString('base64')
  })
}

/** Jobs back to back from `requester` until stopped; a failed job's failing peers come from the requester's job list. */
async function jobLoop (requester: ClusterNode, config: SoakConfig, now: () => number, stopper: Stopper, jobs: JobRecord[], churnPeers: Map<string, number>, longLived: Set<string>): Promise<void> {
  let n = 0
  while (!stopper.stopped) {
    const items = makeItems(config.job.items, n + (now() < 0 ? 1_000_000 : 0))
    const rec: JobRecord = { n, t0: now(), t1: 0, ok: false, items: items.length, failuresChurn: 0, failuresLongLived: 0 }
    const startedAt = Date.now()
    try {
      const result = await requester.control.runJob({ workload: 'sleep', items, shardSize: config.job.shardSize, includeSelf: false })
      rec.ok = true
      for (const p of result.peers) {
        if (longLived.has(p.peerId)) {
          rec.failuresLongLived += p.failures
        } else {
          rec.failuresChurn += p.failures
        }
      }
      rec.outputsMatch = result.outputs.length === items.length && result.outputs.every((o, i) => o === items[i])
    } catch (err: any) {
      rec.code = String(err.code ?? err.name ?? 'error')
      rec.message = String(err.message).slice(0, 300)
      try {
        const { jobs: list } = await requester.control.jobs()
        const snap = list.find(j => j.state === 'error' && j.startedAt >= startedAt - 1_000)
        if (snap != null) {
          rec.failedPeers = snap.peers.filter(p => p.failures > 0 || p.banned).map(p => p.peerId)
          for (const p of snap.peers) {
            if (longLived.has(p.peerId)) {
              rec.failuresLongLived += p.failures
            } else {
              rec.failuresChurn += p.failures
            }
          }
        }
      } catch {}
    }
    rec.t1 = now()
    jobs.push(rec)
    n++
    await stopper.sleep(config.job.pauseMs)
  }
}

/**
 * One churn slot: a node joins (through two long-lived nodes), stays up, leaves by SIGTERM or
 * SIGKILL, stays down, and rejoins under its identity or a new one, until stopped; then the
 * node up leaves by SIGTERM. The slot's draws come from its own seeded PRNG, in a fixed order.
 */
async function churnSlot (k: number, cluster: LocalCluster, longLived: ClusterNode[], config: SoakConfig, now: () => number, stopper: Stopper, nextIndex: { value: number }, churnPeers: Map<string, number>, events: ChurnEvent[], pids: Set<number>): Promise<void> {
  const rand = prng(config.seed * 1_000 + k)
  const between = ([a, b]: [number, number]): number => (a + rand() * (b - a)) * 1000
  let index = config.longLived + k
  let fresh = true
  // the slots start one after the other, not together
  await stopper.sleep(between([0, config.upSec[0]]))
  while (!stopper.stopped) {
    const upMs = between(config.upSec)
    const signal: NodeJS.Signals = rand() < config.sigkillShare ? 'SIGKILL' : 'SIGTERM'
    const downMs = between(config.downSec)
    const nextFresh = rand() < config.freshShare
    const bootstrap = [...longLived].sort(() => rand() - 0.5).slice(0, 2).map(n => n.addrs.find(a => a.includes('/127.0.0.1/')) ?? n.addrs[0])
    const spawnedAt = now()
    let node: ClusterNode
    try {
      node = await cluster.spawnNode(index, bootstrap)
    } catch (err: any) {
      events.push({ t: spawnedAt, kind: 'join-failed', slot: k, index, fresh, error: String(err.message).slice(0, 300) })
      await stopper.sleep(downMs)
      continue
    }
    pids.add(node.pid)
    churnPeers.set(node.peerId, index)
    events.push({ t: spawnedAt, kind: 'join', slot: k, index, peerId: node.peerId, fresh, tookSec: now() - spawnedAt })
    await stopper.sleep(upMs)
    const final = stopper.stopped
    const leaving = final ? 'SIGTERM' : signal
    const leftAt = now()
    const exited = exitOf(node.process)
    try {
      process.kill(node.pid, leaving)
    } catch {}
    const timer = setTimeout(() => { try { process.kill(node.pid, 'SIGKILL') } catch {} }, 30_000)
    await exited
    clearTimeout(timer)
    events.push({ t: leftAt, kind: 'leave', slot: k, index, peerId: node.peerId, signal: leaving, tookSec: now() - leftAt, ...(final ? { final } : {}) })
    if (final) {
      break
    }
    await stopper.sleep(downMs)
    fresh = nextFresh
    if (fresh) {
      index = nextIndex.value++
    }
  }
}

/** One node's reading: /proc first (before the metrics request opens a socket), then its metrics page. */
async function sampleNode (node: ClusterNode, now: () => number, lines: LogLine[]): Promise<NodeSample> {
  const t = now()
  const rss = rssMiB(node.pid)
  const fds = openFds(node.pid)
  const cpuSec = cpuSeconds(node.pid)
  const metrics = parseMetrics(await metricsText(node).catch(() => ''))
  return {
    t,
    rssMiB: rss,
    fds,
    cpuSec,
    connections: metricSum(metrics, 'libp2p_connection_manager_connections', k => !k.includes('pending')),
    streams: metricSum(metrics, 'libp2p_protocol_streams_total'),
    streamsBy: streamsByProtocol(metrics),
    errors: errorCounters(metrics),
    logLines: lines.length,
    receipts: {
      stored: metricSum(metrics, 'shardmesh_receipts_stored_total'),
      anchored: metricSum(metrics, 'shardmesh_receipts_anchored_total'),
      unanchored: metricSum(metrics, 'shardmesh_receipts_unanchored')
    }
  }
}

/** Open streams by `direction protocol` (libp2p counts them at each read of its page). */
function streamsByProtocol (metrics: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...metrics].filter(([k, v]) => k.startsWith('libp2p_protocol_streams_total{') && v !== 0).map(([k, v]) => [/protocol="([^"]*)"/.exec(k)?.[1] ?? k, v]))
}

async function streamsOf (node: ClusterNode): Promise<Record<string, number>> {
  return streamsByProtocol(parseMetrics(await metricsText(node).catch(() => '')))
}

async function connectionsOf (node: ClusterNode): Promise<number> {
  const metrics = parseMetrics(await metricsText(node).catch(() => ''))
  return metricSum(metrics, 'libp2p_connection_manager_connections', k => !k.includes('pending'))
}

/**
 * GET /metrics on a connection of its own, closed after the answer (no keep-alive socket left
 * open at the node to count among its fds at the next sample); at most 1 MiB, 10 s.
 */
async function metricsText (node: ClusterNode): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${node.control.url}/metrics`, { agent: false, timeout: 10_000 }, res => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size > 1 << 20) {
          req.destroy(new Error('metrics page over 1 MiB'))
          return
        }
        chunks.push(c)
      })
      res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(new Error('metrics request timed out')) })
    req.on('error', reject)
    req.end()
  })
}
