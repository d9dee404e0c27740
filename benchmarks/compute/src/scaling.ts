/**
 * Scaling: one requester and 1..64 remote workers in this process over TCP loopback, each a
 * `sleep` worker (M ms per item, one slot) standing for a remote accelerator. Sleeping costs no
 * CPU, so the job's throughput against the ideal (every slot always busy) measures the
 * scheduler and the mesh, not the work. Every node shares this process's one JS thread, so the
 * shard time (M × shardSize) is chosen long enough that the mesh's own CPU per shard (requester
 * and worker together) stays well under one core at the largest size; a sweep of shorter shards
 * at the largest size then shows where that CPU becomes the limit.
 */
import { sleep } from '@shardmesh/workloads'
import { connectAll, stopAll, tcpComputeNode } from './nodes.js'
import { loadavg, progress, round, summary, withCpu } from './stats.js'
import type { ComputeNode } from './nodes.js'
import type { Summary } from './stats.js'

export interface ScalingOptions {
  peers: number[]
  /** sleep per item on every worker (ms) */
  msPerItem: number
  /** shards per peer in each job */
  shardsPerPeer: number
  shardSize: number
  /** shorter shards (smaller shard sizes) to run at the largest peer count */
  sweepShardSizes: number[]
}

export interface ScalingRun {
  peers: number
  shardSize: number
  /** M × shardSize */
  shardMs: number
  shards: number
  elapsedMs: number
  shardsPerSec: number
  idealShardsPerSec: number
  /** measured ÷ ideal throughput */
  efficiency: number
  /** the least time the job can take: ceil(shards / peers) shard times */
  idealElapsedMs: number
  /** the process's CPU over the job, in cores (requester and all workers share this process) */
  cpuCores: number
  /** shards accepted per worker */
  perPeer: { min: number, max: number }
  hedged: number
  attempts: number
  /** `shards[i].durationMs` of the report: includes waiting in the worker's queue */
  shardDurationMs: Summary
}

export interface ScalingResult {
  msPerItem: number
  shardSize: number
  slotsPerPeer: number
  shardsPerPeer: number
  runs: ScalingRun[]
  /** the largest peer count again with shorter shards */
  sweep: ScalingRun[]
  loadavg: number[]
}

const encoder = new TextEncoder()

async function measure (requester: ComputeNode, workers: ComputeNode[], options: ScalingOptions, shardSize: number): Promise<ScalingRun> {
  const peers = workers.length
  const shards = peers * options.shardsPerPeer
  const items = Array.from({ length: shards * shardSize }, (_, i) => encoder.encode(`s-${i}`))
  const { value: result, cpuCores } = await withCpu(async () => requester.services.compute.run(
    { workload: 'sleep', items, shardSize },
    { peers: workers.map(w => w.peerId) }
  ))
  const shardMs = options.msPerItem * shardSize
  const ideal = peers * 1000 / shardMs
  const measured = result.shards.length / result.elapsedMs * 1000
  const perPeer = workers.map(w => result.peers.find(p => p.peerId === w.peerId.toString())?.shards ?? 0)
  return {
    peers,
    shardSize,
    shardMs,
    shards: result.shards.length,
    elapsedMs: result.elapsedMs,
    shardsPerSec: round(measured),
    idealShardsPerSec: round(ideal),
    efficiency: round(measured / ideal, 3),
    idealElapsedMs: Math.ceil(shards / peers) * shardMs,
    cpuCores,
    perPeer: { min: Math.min(...perPeer), max: Math.max(...perPeer) },
    hedged: result.shards.filter(s => s.hedged).length,
    attempts: result.shards.reduce((n, s) => n + s.attempts, 0),
    shardDurationMs: summary(result.shards.map(s => s.durationMs), 1)
  }
}

export async function scaling (options: ScalingOptions): Promise<ScalingResult> {
  const most = Math.max(...options.peers)
  progress(`scaling: starting 1 requester and ${most} sleep workers (${options.msPerItem} ms/item, slots 1) on TCP loopback`)
  const workload = sleep({ msPerItem: options.msPerItem })
  const requester = await tcpComputeNode({ workloads: [workload], poolSize: 1 })
  const workers: ComputeNode[] = []
  try {
    for (let i = 0; i < most; i++) {
      workers.push(await tcpComputeNode({ workloads: [workload], poolSize: 1, slots: 1 }))
    }
    await connectAll(requester, workers)
    // warm: JIT and one shard stream per worker
    await requester.services.compute.run({ workload: 'sleep', items: Array.from({ length: 3 * most }, (_, i) => encoder.encode(`warm-${i}`)), shardSize: 1 }, { peers: workers.map(w => w.peerId), hedge: false })
    const runs: ScalingRun[] = []
    for (const n of options.peers) {
      progress(`scaling: ${n} peer(s) × ${options.shardsPerPeer} shards of ${options.msPerItem * options.shardSize} ms`)
      runs.push(await measure(requester, workers.slice(0, n), options, options.shardSize))
    }
    const sweep: ScalingRun[] = []
    for (const size of options.sweepShardSizes) {
      progress(`scaling: ${most} peers × ${options.shardsPerPeer} shards of ${options.msPerItem * size} ms`)
      sweep.push(await measure(requester, workers, options, size))
    }
    return {
      msPerItem: options.msPerItem,
      shardSize: options.shardSize,
      slotsPerPeer: 1,
      shardsPerPeer: options.shardsPerPeer,
      runs,
      sweep,
      loadavg: loadavg()
    }
  } finally {
    await stopAll([requester, ...workers])
  }
}
