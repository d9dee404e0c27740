/**
 * Both sides hold proof: what it costs per shard that the worker ends up holding its own
 * countersigned receipts. An `echo` job of one-item shards from a requester node (this process)
 * to one worker node (a child process, so each side's CPU is its own), both real libp2p nodes
 * over TCP on 127.0.0.1, each with a receipt store, in three configurations measured in turn
 * within every round:
 *
 * 1. `requester-only`: the requester stores its countersigned receipts and sends none back
 *    (`returnReceipts: false`); the worker has no receipt sink.
 * 2. `returned+kept`: the requester sends each worker its receipt on the shard stream, the
 *    worker checks it (`WorkerReceipts.keep`: both signatures) and stores it (role `worker`);
 *    its sink has no `signed()`, so nothing is noted as the worker signs.
 * 3. `default` (`meshServices()`): as 2, and every receipt the worker signs is noted durably
 *    (`noteSigned` → `ReceiptStore.recordSigned`, one write + fdatasync per tick).
 *
 * Each configuration has its own requester node, worker process and stores for the whole run
 * (warmed up first); the order of the three rotates from round to round. Per job: shards/s (the
 * job report's elapsed time), each side's CPU per shard and each store's fdatasyncs per shard,
 * over the job and until the worker has stored every receipt sent back.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { stopWorker } from '@shardmesh/benchmark-compute/dist/src/child.js'
import { machine as machineLimits } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import { multiaddr } from '@multiformats/multiaddr'
import { linkSignals } from '@shardmesh/protocol'
import { meshNode, storeFsyncs } from './mesh.js'
import { loadavg, progress, round, rounds } from './stats.js'
import type { WorkerStats } from './both-sides-worker.js'
import type { MeshNode, WorkerKeeps } from './mesh.js'
import type { Rounds } from './stats.js'
import type { Machine as TrustMachine } from '@shardmesh/benchmark-trust/dist/src/machine.js'
import type { PeerId } from '@libp2p/interface'
import type { ChildProcess } from 'node:child_process'

const WORKER = fileURLToPath(new URL('./both-sides-worker.js', import.meta.url))

export interface BothSidesOptions {
  /** one-item shards per measured job */
  shards: number
  /** shards of each configuration's warm-up job */
  warmShards: number
  rounds: number
  /** how long each machine limit is measured (ms) */
  limitsMs: number
  /** where the worker processes' stores go @default the OS temp dir, with the requesters' */
  workerDir?: string
}

export type SidesConfigName = 'requester-only' | 'returned+kept' | 'default'

const CONFIGS: ReadonlyArray<{ name: SidesConfigName, returnReceipts: boolean, workerKeeps: WorkerKeeps }> = [
  { name: 'requester-only', returnReceipts: false, workerKeeps: 'none' },
  { name: 'returned+kept', returnReceipts: true, workerKeeps: 'kept' },
  { name: 'default', returnReceipts: true, workerKeeps: 'kept+noted' }
]

/** One measured job. */
export interface SidesJob {
  round: number
  shards: number
  elapsedMs: number
  shardsPerSec: number
  /** this process (the requester node; the other configurations' nodes idle) over the job and the settle, per shard */
  requesterCpuMsPerShard: number
  /** the worker process, same window */
  workerCpuMsPerShard: number
  requesterFsyncsPerShard: number
  workerFsyncsPerShard: number
  /** countersigned receipts the worker stored during this job */
  workerReceiptsKept: number
  /** receipts the worker noted as signed during the job and does not hold countersigned after it (a challenge's: never returned) */
  signedPending: number
  /** from the end of the job until the worker held every receipt sent back */
  settleMs: number
}

export interface SidesConfig {
  name: SidesConfigName
  returnReceipts: boolean
  workerKeeps: WorkerKeeps
  jobs: SidesJob[]
  shardsPerSec: Rounds
  requesterCpuMsPerShard: Rounds
  workerCpuMsPerShard: Rounds
  requesterFsyncsPerShard: Rounds
  workerFsyncsPerShard: Rounds
  /**
   * At the end of the run, warm-up included: receipts in the requester's store, the worker's
   * own countersigned receipts in its store, and the receipts it noted as signed and never
   * received (the first-work challenge's: a challenge's receipt is signed, not countersigned)
   */
  held: { requesterReceipts: number, workerReceipts: number, signedPending: number }
}

/** Configuration 2 or 3 against 1, paired within each round. */
export interface SidesRatios {
  shardsPerSec: Rounds
  requesterCpuMsPerShard: Rounds
  workerCpuMsPerShard: Rounds
  /** CPU ms per shard added (this configuration minus `requester-only`) */
  extraRequesterCpuMsPerShard: Rounds
  extraWorkerCpuMsPerShard: Rounds
  extraWorkerFsyncsPerShard: Rounds
}

export interface BothSidesResult {
  shards: number
  warmShards: number
  /** where the worker runs: its CPU is that process's own */
  worker: 'child process'
  /** the order the configurations ran in, per round */
  order: SidesConfigName[][]
  /** the machine's own limits, measured in this process just before (one core) */
  limits: TrustMachine['limits']
  /** where the requesters' stores were (the OS temp dir) */
  dir: string
  /** where the workers' stores were: the same disk as the requesters' unless `--worker-dir` said otherwise */
  workerDir: string
  configs: SidesConfig[]
  /** `returned+kept` ÷ `requester-only` and `default` ÷ `requester-only` */
  ratios: { 'returned+kept': SidesRatios, default: SidesRatios }
  loadavg: { start: number[], end: number[] }
}

interface Side {
  config: typeof CONFIGS[number]
  requester: MeshNode
  worker: ChildProcess
  remote: PeerId
  jobs: SidesJob[]
}

let statsId = 0

/** The worker process's CPU and store counts, over IPC. */
async function workerStats (child: ChildProcess, timeoutMs = 10_000): Promise<WorkerStats> {
  const id = ++statsId
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (message: any): void => {
      if (message?.type === 'stats' && message.id === id) {
        done()
        resolve(message)
      }
    }
    const onExit = (code: number | null): void => {
      done()
      reject(new Error(`the worker process exited with ${code}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`the worker process did not answer for its stats within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.once('exit', onExit)
    child.send({ type: 'stats', id })
  })
}

/** Fork the worker process and wait for its `{ peerId, multiaddrs }` line. */
async function startSidesWorker (dir: string, keeps: WorkerKeeps, timeoutMs = 60_000): Promise<{ child: ChildProcess, multiaddrs: string[] }> {
  const child = fork(WORKER, ['--dir', dir, '--keeps', keeps], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const ready = linkSignals([], timeoutMs)
    const onExit = (code: number | null): void => { ready.abort(new Error(`worker process exited with ${code} before it was ready`)) }
    child.once('exit', onExit)
    const [line] = await once(lines, 'line', { signal: ready.signal }).finally(ready.clear) as [string]
    child.off('exit', onExit)
    lines.close()
    return { child, multiaddrs: JSON.parse(line).multiaddrs }
  } catch (err) {
    await stopWorker(child)
    throw err
  }
}

const encoder = new TextEncoder()

async function job (side: Side, shards: number, prefix: string, roundIndex: number): Promise<SidesJob> {
  const items = Array.from({ length: shards }, (_, i) => encoder.encode(`${prefix}-${i}`))
  const expectKept = side.config.workerKeeps === 'none' ? 0 : shards
  const before = await workerStats(side.worker)
  const requesterFsyncs = storeFsyncs(side.requester)
  const cpu = process.cpuUsage()
  const result = await side.requester.services.compute.run({ workload: 'echo', items, shardSize: 1 }, { peers: [side.remote] })
  const ended = performance.now()
  if (result.outputs.length !== shards || result.shards.length !== shards || result.receipts.length !== shards) {
    throw new Error(`${side.config.name}: the echo job returned ${result.outputs.length} outputs, ${result.shards.length} shards and ${result.receipts.length} receipts for ${shards} items`)
  }
  // the receipts go back after each shard is stored: wait until the worker holds them all
  let after = await workerStats(side.worker)
  while (after.workerReceipts - before.workerReceipts < expectKept && performance.now() - ended < 30_000) {
    await new Promise(resolve => setTimeout(resolve, 5))
    after = await workerStats(side.worker)
  }
  const windowEnd = performance.now()
  const used = process.cpuUsage(cpu)
  const kept = after.workerReceipts - before.workerReceipts
  if (kept !== expectKept) {
    throw new Error(`${side.config.name}: the worker stored ${kept} countersigned receipts of ${shards} shards, expected ${expectKept}`)
  }
  return {
    round: roundIndex,
    shards,
    elapsedMs: result.elapsedMs,
    shardsPerSec: round(shards / result.elapsedMs * 1000, 1),
    requesterCpuMsPerShard: round((used.user + used.system) / 1000 / shards, 4),
    workerCpuMsPerShard: round((after.cpuMicros - before.cpuMicros) / 1000 / shards, 4),
    requesterFsyncsPerShard: round((storeFsyncs(side.requester) - requesterFsyncs) / shards, 4),
    workerFsyncsPerShard: round((after.fsyncs - before.fsyncs) / shards, 4),
    workerReceiptsKept: kept,
    signedPending: after.signedPending - before.signedPending,
    settleMs: round(windowEnd - ended, 1)
  }
}

function ratios (sides: Side[], name: SidesConfigName): SidesRatios {
  const base = sides[0].jobs
  const jobs = sides.find(s => s.config.name === name)!.jobs
  const paired = (f: (j: SidesJob, b: SidesJob) => number, digits: number): Rounds => rounds(jobs.map((j, i) => f(j, base[i])), digits)
  return {
    shardsPerSec: paired((j, b) => j.shardsPerSec / b.shardsPerSec, 3),
    requesterCpuMsPerShard: paired((j, b) => j.requesterCpuMsPerShard / b.requesterCpuMsPerShard, 3),
    workerCpuMsPerShard: paired((j, b) => j.workerCpuMsPerShard / b.workerCpuMsPerShard, 3),
    extraRequesterCpuMsPerShard: paired((j, b) => j.requesterCpuMsPerShard - b.requesterCpuMsPerShard, 4),
    extraWorkerCpuMsPerShard: paired((j, b) => j.workerCpuMsPerShard - b.workerCpuMsPerShard, 4),
    extraWorkerFsyncsPerShard: paired((j, b) => j.workerFsyncsPerShard - b.workerFsyncsPerShard, 4)
  }
}

export async function bothSides (options: BothSidesOptions): Promise<BothSidesResult> {
  const start = loadavg()
  progress('both-sides: measuring the machine\'s limits (Ed25519 sign/verify, sha256)')
  const { limits } = machineLimits(options.limitsMs)
  const root = await mkdtemp(join(tmpdir(), 'shardmesh-anchoring-bench-sides-'))
  const workerRoot = options.workerDir == null ? root : await mkdtemp(join(options.workerDir, 'shardmesh-anchoring-bench-sides-'))
  const sides: Side[] = []
  const order: SidesConfigName[][] = []
  try {
    for (const config of CONFIGS) {
      progress(`both-sides: starting the ${config.name} requester (this process) and worker (child process, keeps: ${config.workerKeeps})`)
      const { child, multiaddrs } = await startSidesWorker(join(workerRoot, config.name, 'worker'), config.workerKeeps)
      // pushed before anything else can fail, so that the finally stops it
      const side: Side = { config, worker: child, requester: undefined as unknown as MeshNode, remote: undefined as unknown as PeerId, jobs: [] }
      sides.push(side)
      side.requester = await meshNode({ dir: join(root, config.name, 'requester'), returnReceipts: config.returnReceipts, workerKeeps: 'none' })
      side.remote = (await side.requester.dial(multiaddr(multiaddrs[0]))).remotePeer
    }
    for (const side of sides) {
      // JIT, the channel (stream) to the worker, its first-work challenge
      await job(side, options.warmShards, `warm-${side.config.name}`, -1)
    }
    for (let r = 0; r < options.rounds; r++) {
      const turn = sides.map((_, i) => sides[(i + r) % sides.length])
      order.push(turn.map(s => s.config.name))
      for (const side of turn) {
        side.jobs.push(await job(side, options.shards, `r${r}`, r))
      }
      progress(`both-sides round ${r + 1}/${options.rounds}: ${sides.map(s => {
        const j = s.jobs[r]
        return `${s.config.name} ${round(j.shardsPerSec, 0)} shards/s, requester ${j.requesterCpuMsPerShard} + worker ${j.workerCpuMsPerShard} CPU ms/shard, worker ${j.workerFsyncsPerShard} fsyncs/shard`
      }).join('; ')}`)
    }
    const configs: SidesConfig[] = []
    for (const side of sides) {
      const w = await workerStats(side.worker)
      configs.push({
        name: side.config.name,
        returnReceipts: side.config.returnReceipts,
        workerKeeps: side.config.workerKeeps,
        jobs: side.jobs,
        shardsPerSec: rounds(side.jobs.map(j => j.shardsPerSec), 1),
        requesterCpuMsPerShard: rounds(side.jobs.map(j => j.requesterCpuMsPerShard), 4),
        workerCpuMsPerShard: rounds(side.jobs.map(j => j.workerCpuMsPerShard), 4),
        requesterFsyncsPerShard: rounds(side.jobs.map(j => j.requesterFsyncsPerShard), 4),
        workerFsyncsPerShard: rounds(side.jobs.map(j => j.workerFsyncsPerShard), 4),
        held: { requesterReceipts: side.requester.services.receipts.stats().receipts, workerReceipts: w.workerReceipts, signedPending: w.signedPending }
      })
    }
    return {
      shards: options.shards,
      warmShards: options.warmShards,
      worker: 'child process',
      order,
      limits,
      dir: tmpdir(),
      workerDir: options.workerDir ?? tmpdir(),
      configs,
      ratios: { 'returned+kept': ratios(sides, 'returned+kept'), default: ratios(sides, 'default') },
      loadavg: { start, end: loadavg() }
    }
  } finally {
    await Promise.all(sides.map(async side => {
      await stopWorker(side.worker)
      await side.requester?.stop()
    }))
    await rm(root, { recursive: true, force: true })
    await rm(workerRoot, { recursive: true, force: true })
  }
}
