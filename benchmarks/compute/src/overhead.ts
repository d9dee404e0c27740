/**
 * Overhead: `echo` shards of one item over TCP loopback. What a shard costs the mesh when the
 * work itself costs nothing: a requester and 1, 2 or 4 workers in this process (one JS thread
 * carries both sides), then one worker in a child process (the requester's side alone).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { machine as machineLimits } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import { echo } from '@shardmesh/workloads'
import { startWorker, stopWorker } from './child.js'
import { connectAll, stopAll, tcpComputeNode } from './nodes.js'
import { loadavg, progress, round, summary, withCpu } from './stats.js'
import { streamRtt } from './stream-rtt.js'
import type { WorkerProcess } from './child.js'
import type { ComputeNode } from './nodes.js'
import type { Summary } from './stats.js'
import type { Machine } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import type { PeerId } from '@libp2p/interface'

export interface OverheadOptions {
  /** items (= shards) per pipelined job */
  items: number
  /** in-process worker counts to measure */
  workers: number[]
  /** one-at-a-time samples (raw stream and whole jobs) */
  sequential: number
  /** how long each of the machine's limits is measured (ms) */
  limitsMs: number
}

export interface PipelinedRun {
  workers: number
  shards: number
  elapsedMs: number
  shardsPerSec: number
  /** this process's CPU over the job, in cores */
  cpuCores: number
  /** this process's CPU per shard (ms) */
  cpuMsPerShard: number
  /** `shards[i].durationMs` of the job report: first attempt to acceptance, whole ms */
  shardDurationMs: Summary
  /** time between consecutive accepted shards, from `onProgress` (performance.now()) */
  completionIntervalMs: Summary
  /** shards accepted per worker */
  perWorker: number[]
}

export interface Sequential {
  /** one shard in flight on a reused stream, the protocol spoken directly (no scheduler) */
  streamRttMs: Summary & { progressFramesPerShard: number }
  /** `compute.run()` of a one-item job, one job after the other, on the reused channel */
  jobRttMs: Summary
}

export interface OverheadResult {
  items: number
  /**
   * The machine's own limits, measured in this process just before the runs (one core), and what
   * they cap: a requester verifies the worker's receipt signature and countersigns it, one of
   * each per shard, so `signVerifyCeiling` = 1 / (1/signs + 1/verifies) shards/s on one core
   * whatever else it does; `streamCeiling` = 1000 / the raw stream's p50 round trip, the rate of
   * one request at a time on one stream. Each run's shards/s reads as a fraction of those.
   */
  limits: Machine['limits'] & { signVerifyCeiling: number }
  /** requester and workers in this process */
  inProcess: { pipelined: PipelinedRun[] } & Sequential
  /** the requester here, one worker in a child process: `cpu*` is the requester's alone */
  childProcess: { pipelined: PipelinedRun } & Sequential
  loadavg: number[]
}

const encoder = new TextEncoder()

function items (n: number, prefix: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => encoder.encode(`${prefix}-${i}`))
}

async function pipelined (requester: ComputeNode, workers: PeerId[], count: number): Promise<PipelinedRun> {
  const completions: number[] = []
  const { value: result, cpuCores, wallMs } = await withCpu(async () => requester.services.compute.run(
    { workload: 'echo', items: items(count, `w${workers.length}`), shardSize: 1 },
    { peers: workers, onProgress: () => { completions.push(performance.now()) } }
  ))
  if (result.outputs.length !== count) {
    throw new Error(`echo job returned ${result.outputs.length} outputs for ${count} items`)
  }
  const intervals = completions.slice(1).map((t, i) => t - completions[i])
  return {
    workers: workers.length,
    shards: result.shards.length,
    elapsedMs: result.elapsedMs,
    shardsPerSec: round(result.shards.length / result.elapsedMs * 1000),
    cpuCores,
    cpuMsPerShard: round(cpuCores * wallMs / result.shards.length, 3),
    shardDurationMs: summary(result.shards.map(s => s.durationMs), 1),
    completionIntervalMs: summary(intervals),
    perWorker: workers.map(w => result.peers.find(p => p.peerId === w.toString())?.shards ?? 0)
  }
}

async function sequential (requester: ComputeNode, worker: PeerId, count: number): Promise<Sequential> {
  progress(`overhead: ${count} shards one at a time on a reused stream`)
  const rtt = await streamRtt(requester, worker, count, 100)
  progress(`overhead: ${count} one-item jobs one after the other`)
  const job: number[] = []
  for (let i = 0; i < count + 50; i++) {
    const start = performance.now()
    await requester.services.compute.run({ workload: 'echo', items: [encoder.encode(`job-${i}`)], shardSize: 1 }, { peers: [worker] })
    if (i >= 50) {
      job.push(performance.now() - start)
    }
  }
  return {
    streamRttMs: { ...summary(rtt.samples), progressFramesPerShard: round(rtt.progressFrames / Math.max(1, rtt.samples.length), 2) },
    jobRttMs: summary(job)
  }
}

async function warm (requester: ComputeNode, workers: PeerId[], count: number): Promise<void> {
  // JIT, the requester's channel (stream) to every worker, the echo kernels
  await requester.services.compute.run({ workload: 'echo', items: items(count, 'warm'), shardSize: 1 }, { peers: workers })
}

export async function overhead (options: OverheadOptions): Promise<OverheadResult> {
  const most = Math.max(...options.workers)
  progress('overhead: measuring the machine\'s limits (Ed25519 sign and verify, sha256), one core')
  const { limits } = machineLimits(options.limitsMs)
  const signVerifyCeiling = Math.round(1 / (1 / limits.ed25519SignPerSec + 1 / limits.ed25519VerifyPerSec))
  progress(`overhead: starting 1 requester and ${most} echo workers (slots 1) on TCP loopback`)
  const requester = await tcpComputeNode({ workloads: [echo()], poolSize: 1 })
  const workers = await Promise.all(Array.from({ length: most }, async () => tcpComputeNode({ workloads: [echo()], poolSize: 1, slots: 1 })))
  const cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-bench-overhead-'))
  let child: WorkerProcess | undefined
  try {
    await connectAll(requester, workers)
    const ids = workers.map(w => w.peerId)
    await warm(requester, ids, Math.min(500, options.items))
    const runs: PipelinedRun[] = []
    for (const n of options.workers) {
      progress(`overhead: ${options.items} one-item echo shards over ${n} in-process worker(s)`)
      runs.push(await pipelined(requester, ids.slice(0, n), options.items))
    }
    const inProcess = { pipelined: runs, ...await sequential(requester, ids[0], options.sequential) }
    await stopAll(workers)

    progress('overhead: starting a worker process (slots 1)')
    child = await startWorker(cacheDir, 1)
    const connection = await requester.dial(multiaddr(child.multiaddrs[0]))
    const remote = connection.remotePeer
    await warm(requester, [remote], Math.min(500, options.items))
    progress(`overhead: ${options.items} one-item echo shards over the worker process`)
    const childRun = await pipelined(requester, [remote], options.items)
    const childProcess = { pipelined: childRun, ...await sequential(requester, remote, options.sequential) }
    return { items: options.items, limits: { ...limits, signVerifyCeiling }, inProcess, childProcess, loadavg: loadavg() }
  } finally {
    if (child != null) {
      await stopWorker(child.child)
    }
    await stopAll([requester, ...workers])
    await rm(cacheDir, { recursive: true, force: true })
  }
}
