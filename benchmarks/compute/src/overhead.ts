/**
 * Overhead: `echo` shards of one item over TCP loopback. What a shard costs the mesh when the
 * work itself costs nothing: a requester and 1, 2 or 4 workers in this process (one JS thread
 * carries both sides), then one worker in a child process (the requester's side alone).
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { machine as machineLimits } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import { echo } from '@shardmesh/workloads'
import { startWorker, stopWorker } from './child.js'
import { connectAll, stopAll, tcpComputeNode } from './nodes.js'
import { loadavg, progress, round, summary, withCpu } from './stats.js'
import { decodeSignedReceipt } from '@shardmesh/protocol'
import { streamRtt } from './stream-rtt.js'
import type { WorkerProcess } from './child.js'
import type { ComputeNode } from './nodes.js'
import type { Summary } from './stats.js'
import type { Machine } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import type { PeerId } from '@libp2p/interface'
import type { PlacementPolicy } from '@shardmesh/compute'

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
  /**
   * The same, side by side for shards of 1 and 64 items: on the reused stream, and on a new
   * stream opened for each shard (the round trip then includes the stream's opening)
   */
  streamPerShard: Array<{ items: number, reusedMs: Summary, newStreamMs: Summary }>
  /** `compute.run()` of a one-item job, one job after the other, on the reused channel */
  jobRttMs: Summary
}

/**
 * The requester with a deep pipeline: one worker process that runs 64 shards at once, and a
 * window of `DEEP_WINDOW` shards in flight. Its `cpuMsPerShard` is what one shard costs the
 * requester when the worker is never the wait; `perRequesterCore` the shards/s that makes on one
 * core (1000 / cpuMsPerShard).
 */
export interface DeepRun extends PipelinedRun {
  window: number
  perRequesterCore: number
  /** the worker process's CPU per shard (ms), from /proc; undefined off Linux */
  workerCpuMsPerShard?: number
  /** receipts per worker signature and per requester countersignature (group sizes), mean */
  receiptsPerWorkerSignature: number
  receiptsPerCountersignature: number
}

export interface OverheadResult {
  items: number
  /**
   * The machine's own limits, measured in this process just before the runs (one core), and what
   * they cap: a requester that verified one worker signature and made one countersignature per
   * shard would be held to `signVerifyCeiling` = 1 / (1/signs + 1/verifies) shards/s on one core
   * whatever else it did. Receipts are signed in groups (`receiptsPerWorkerSignature`), so the
   * deep run passes that ceiling. The raw stream's round trip (`streamRttMs`), the transport's own
   * limit for one request at a time, is measured beside the whole job's (`jobRttMs`).
   */
  limits: Machine['limits'] & { signVerifyCeiling: number }
  /** requester and workers in this process */
  inProcess: { pipelined: PipelinedRun[] } & Sequential
  /**
   * the requester here, one worker in a child process: `cpu*` is the requester's alone. `pipelined`
   * uses the default placement (an unadvertised peer gets a window of 3), `deep` a window of
   * `DEEP_WINDOW`
   */
  childProcess: { pipelined: PipelinedRun, deep: DeepRun } & Sequential
  loadavg: number[]
}

const encoder = new TextEncoder()

/** Shards in flight in the deep run, and the slots of the worker process. */
const DEEP_WINDOW = 128
const WORKER_SLOTS = 64

/** Every peer gets `window` shards in flight, whatever it advertised, and keeps it. */
function fixedWindow (window: number): PlacementPolicy {
  return {
    place: candidates => candidates.map(({ channel }) => ({ channel, window })),
    window: () => window
  }
}

/** A process's user + system CPU so far (ms), from /proc; undefined where there is none. */
function processCpuMs (pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    // utime and stime (fields 14 and 15 of stat), in clock ticks of 10 ms
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

function items (n: number, prefix: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => encoder.encode(`${prefix}-${i}`))
}

async function pipelined (requester: ComputeNode, workers: PeerId[], count: number, placement?: PlacementPolicy): Promise<PipelinedRun & { receipts: Uint8Array[] }> {
  const completions: number[] = []
  const { value: result, cpuCores, wallMs } = await withCpu(async () => requester.services.compute.run(
    { workload: 'echo', items: items(count, `w${workers.length}`), shardSize: 1 },
    { peers: workers, onProgress: () => { completions.push(performance.now()) }, placement }
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
    perWorker: workers.map(w => result.peers.find(p => p.peerId === w.toString())?.shards ?? 0),
    receipts: result.receipts
  }
}

/** Mean receipts per signature: each group of n receipts shares one signature. */
function perSignature (receipts: Uint8Array[], group: 'workerGroup' | 'requesterGroup'): number {
  if (receipts.length === 0) {
    return 0
  }
  const signatures = receipts.reduce((sum, bytes) => sum + 1 / (decodeSignedReceipt(bytes)[group]?.count ?? 1), 0)
  return round(receipts.length / signatures, 1)
}

async function deep (requester: ComputeNode, worker: PeerId, workerPid: number | undefined, count: number): Promise<DeepRun> {
  const before = processCpuMs(workerPid)
  const { receipts, ...run } = await pipelined(requester, [worker], count, fixedWindow(DEEP_WINDOW))
  const after = processCpuMs(workerPid)
  return {
    ...run,
    window: DEEP_WINDOW,
    perRequesterCore: Math.round(1000 / run.cpuMsPerShard),
    workerCpuMsPerShard: before != null && after != null ? round((after - before) / run.shards, 3) : undefined,
    receiptsPerWorkerSignature: perSignature(receipts, 'workerGroup'),
    receiptsPerCountersignature: perSignature(receipts, 'requesterGroup')
  }
}

async function sequential (requester: ComputeNode, worker: PeerId, count: number): Promise<Sequential> {
  progress(`overhead: ${count} shards one at a time on a reused stream`)
  const rtt = await streamRtt(requester, worker, count, 100)
  const streamPerShard: Sequential['streamPerShard'] = []
  for (const size of [1, 64]) {
    progress(`overhead: ${size}-item shards one at a time, a reused stream and a new stream each, interleaved`)
    const rounds = Math.max(10, Math.round(count / 10))
    const reused: number[] = []
    const fresh: number[] = []
    // interleaved in rounds, so that both see the same machine
    for (let r = 0; r < 5; r++) {
      reused.push(...(await streamRtt(requester, worker, rounds, r === 0 ? 20 : 0, { items: size })).samples)
      fresh.push(...(await streamRtt(requester, worker, rounds, r === 0 ? 20 : 0, { items: size, streamPerShard: true })).samples)
    }
    streamPerShard.push({ items: size, reusedMs: summary(reused), newStreamMs: summary(fresh) })
  }
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
    streamPerShard,
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
      const { receipts: _receipts, ...run } = await pipelined(requester, ids.slice(0, n), options.items)
      runs.push(run)
    }
    const inProcess = { pipelined: runs, ...await sequential(requester, ids[0], options.sequential) }
    await stopAll(workers)

    progress(`overhead: starting a worker process (slots ${WORKER_SLOTS})`)
    child = await startWorker(cacheDir, 1, undefined, WORKER_SLOTS)
    const connection = await requester.dial(multiaddr(child.multiaddrs[0]))
    const remote = connection.remotePeer
    await warm(requester, [remote], Math.min(500, options.items))
    progress(`overhead: ${options.items} one-item echo shards over the worker process`)
    const { receipts: _receipts, ...childRun } = await pipelined(requester, [remote], options.items)
    const deepItems = options.items * 4
    progress(`overhead: ${deepItems} one-item echo shards over the worker process, ${DEEP_WINDOW} in flight`)
    const deepRun = await deep(requester, remote, child.child.pid, deepItems)
    const childProcess = { pipelined: childRun, deep: deepRun, ...await sequential(requester, remote, options.sequential) }
    return { items: options.items, limits: { ...limits, signVerifyCeiling }, inProcess, childProcess, loadavg: loadavg() }
  } finally {
    if (child != null) {
      await stopWorker(child.child)
    }
    await stopAll([requester, ...workers])
    await rm(cacheDir, { recursive: true, force: true })
  }
}
