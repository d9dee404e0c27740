/**
 * Inference: `ocr-rec` and `embed` on a 2-process mesh (this process as requester and worker
 * with a 1-thread pool, plus one child worker process with a 1-thread pool) against the same
 * shards in this process on a 2-thread `WorkloadRunner`: the best one process does here.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { Prng } from '@shardmesh/protocol/fuzz'
import { WorkloadRunner, embed, embedTextCodec, generateOcrLines, ocrRec } from '@shardmesh/workloads'
import { startWorker, stopWorker } from './child.js'
import { tcpComputeNode } from './nodes.js'
import { loadavg, percentile, progress, round } from './stats.js'
import type { WorkerProcess } from './child.js'
import type { ComputeNode } from './nodes.js'
import type { PeerId } from '@libp2p/interface'
import type { Workload } from '@shardmesh/workloads'

export interface InferenceOptions {
  ocrLines: number
  ocrShardSize: number
  embedTexts: number
  embedShardSize: number
  /** timed runs of each side, alternating local and mesh */
  rounds: number
}

export interface InferenceRun {
  workload: string
  items: number
  shardSize: number
  shards: number
  /** items/s of every local run (2-thread runner, one process) */
  localItemsPerSec: number[]
  /** items/s of every mesh run (wall time around `compute.run()`) */
  meshItemsPerSec: number[]
  /** median mesh ÷ median local */
  ratio: number
  /** shards the requester ran itself / the child ran, in the last mesh run */
  meshShards: { local: number, remote: number }
  hedged: number
  attempts: number
  /** every mesh output matched the local one by the workload's own comparison */
  outputsAgree: boolean
}

export interface InferenceResult {
  runs: InferenceRun[]
  loadavg: number[]
}

const WORDS = [
  'the', 'a', 'peer', 'network', 'shares', 'compute', 'between', 'many', 'small', 'machines', 'model',
  'every', 'job', 'is', 'split', 'into', 'shards', 'sent', 'to', 'workers', 'river', 'valley', 'market',
  'bread', 'morning', 'quickly', 'verification', 'compares', 'outputs', 'within', 'tolerance', 'library',
  'old', 'maps', 'letters', 'photographs', 'history', 'city', 'latency', 'throughput', 'matters', 'less'
]

/** Sentences of 8 to 32 words from a fixed seed. */
function sentences (count: number, seed: number): string[] {
  const prng = new Prng(seed)
  return Array.from({ length: count }, () => {
    const n = 8 + prng.int(25)
    const words = Array.from({ length: n }, () => prng.pick(WORDS))
    return `${words.join(' ')}.`
  })
}

function median (values: number[]): number {
  return percentile(values, 50)
}

async function localRun (runner: WorkloadRunner, workload: Workload<any, any>, items: Uint8Array[], shardSize: number): Promise<{ itemsPerSec: number, outputs: Uint8Array[] }> {
  const shards = workload.split(items, shardSize)
  const start = performance.now()
  const results = await Promise.all(shards.map(async shard => runner.run(workload, shard)))
  const ms = performance.now() - start
  return { itemsPerSec: items.length / ms * 1000, outputs: results.flatMap(r => r.outputs) }
}

async function measure (
  workload: Workload<any, any>, items: Uint8Array[], shardSize: number, rounds: number,
  runner: WorkloadRunner, node: ComputeNode, remote: PeerId
): Promise<InferenceRun> {
  const peers = [node.peerId, remote]
  progress(`inference: warming ${workload.id} (local runner, this node, the child)`)
  const warm = items.slice(0, 2)
  await runner.warm(workload)
  await localRun(runner, workload, warm, 1)
  await node.services.compute.run({ workload: workload.id, items: warm, shardSize: 1 }, { peers: [node.peerId] })
  await node.services.compute.run({ workload: workload.id, items: warm, shardSize: 1 }, { peers: [remote] })

  const local: number[] = []
  const mesh: number[] = []
  let agree = true
  let last
  for (let r = 0; r < rounds; r++) {
    progress(`inference: ${workload.id} round ${r + 1}/${rounds}: ${items.length} items in shards of ${shardSize}, local then mesh`)
    const base = await localRun(runner, workload, items, shardSize)
    local.push(base.itemsPerSec)
    const start = performance.now()
    last = await node.services.compute.run({ workload: workload.id, items, shardSize }, { peers })
    mesh.push(items.length / (performance.now() - start) * 1000)
    agree &&= last.outputs.length === base.outputs.length &&
      last.outputs.every((o, i) => workload.compare(workload.output.decode(o), workload.output.decode(base.outputs[i])))
  }
  const self = node.peerId.toString()
  return {
    workload: workload.id,
    items: items.length,
    shardSize,
    shards: Math.ceil(items.length / shardSize),
    localItemsPerSec: local.map(v => round(v)),
    meshItemsPerSec: mesh.map(v => round(v)),
    ratio: round(median(mesh) / median(local), 3),
    meshShards: {
      local: last?.peers.find(p => p.peerId === self)?.shards ?? 0,
      remote: last?.peers.find(p => p.peerId !== self)?.shards ?? 0
    },
    hedged: last?.shards.filter(s => s.hedged).length ?? 0,
    attempts: last?.shards.reduce((n, s) => n + s.attempts, 0) ?? 0,
    outputsAgree: agree
  }
}

export async function inference (options: InferenceOptions): Promise<InferenceResult> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-bench-inference-'))
  const ocr = ocrRec()
  const emb = embed()
  let runner: WorkloadRunner | undefined
  let node: ComputeNode | undefined
  let worker: WorkerProcess | undefined
  try {
    progress(`inference: rendering ${options.ocrLines} OCR lines, ${options.embedTexts} sentences`)
    const { images } = await generateOcrLines({ count: options.ocrLines, seed: 11 })
    const texts = sentences(options.embedTexts, 12).map(t => embedTextCodec.encode(t))

    // the embed model is generated on first use: once here, before the child shares the cache
    runner = new WorkloadRunner({ size: 2, cacheDir })
    await runner.warm(emb)
    node = await tcpComputeNode({ workloads: [ocr, emb], poolSize: 1, cacheDir })
    progress('inference: starting the worker process')
    worker = await startWorker(cacheDir, 1)
    await node.dial(multiaddr(worker.multiaddrs[0]))
    const remote = node.getConnections().map(c => c.remotePeer).find(p => p.toString() === worker?.peerId)
    if (remote == null) {
      throw new Error('not connected to the worker process')
    }
    const runs = [
      await measure(ocr, images, options.ocrShardSize, options.rounds, runner, node, remote),
      await measure(emb, texts, options.embedShardSize, options.rounds, runner, node, remote)
    ]
    return { runs, loadavg: loadavg() }
  } finally {
    if (worker != null) {
      await stopWorker(worker.child)
    }
    await node?.stop()
    await runner?.close()
    await rm(cacheDir, { recursive: true, force: true })
  }
}
