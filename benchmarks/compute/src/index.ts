/**
 * Compute benchmark: what the compute service costs per shard (`overhead`), how close its
 * scheduler gets to ideal throughput over many peers (`scaling`), and real inference on a
 * 2-process mesh against one process (`inference`), and a 4-node mesh on loopback against the same
 * mesh with each node on a host of its own (`hosts`: network namespaces, needs root; not in
 * `all`). See README.md.
 *
 *   node benchmarks/compute/dist/src/index.js [--scenario overhead|scaling|inference|hosts|all] [--smoke] [--json]
 *
 * `--json` prints one JSON object with every result on stdout; progress goes to stderr.
 * `--smoke` runs tiny sizes (the tests run it).
 */
// @shardmesh/node installs the Node 20 Promise.withResolvers polyfill libp2p 3 needs
import '@shardmesh/node'
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { hosts } from './hosts.js'
import { inference } from './inference.js'
import { overhead } from './overhead.js'
import { scaling } from './scaling.js'
import { loadavg, machine, progress } from './stats.js'
import type { HostsResult } from './hosts.js'
import type { InferenceResult } from './inference.js'
import type { OverheadResult, PipelinedRun, Sequential } from './overhead.js'
import type { ScalingResult } from './scaling.js'

const SCENARIOS = ['overhead', 'scaling', 'inference', 'hosts'] as const
type Scenario = typeof SCENARIOS[number]
/** `all`: every scenario but `hosts`, which needs root (network namespaces) */
const ALL: Scenario[] = ['overhead', 'scaling', 'inference']

const USAGE = 'usage: node benchmarks/compute/dist/src/index.js [--scenario overhead|scaling|inference|hosts|all] [--smoke] [--json]\n' +
  '  scaling: [--peers 1,2,4] [--shards-per-peer N] [--shard-size N] [--sweep 20,10,5]; inference: [--ocr-shard-size N] [--embed-shard-size N]\n' +
  '  hosts (root; not in all): [--hosts-rate 100mbit]\n'

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        scenario: { type: 'string', default: 'all' },
        smoke: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        // scaling knobs, for exploring; the defaults are what the README reports
        peers: { type: 'string' },
        'shards-per-peer': { type: 'string' },
        'shard-size': { type: 'string' },
        sweep: { type: 'string' },
        // inference knobs
        'ocr-shard-size': { type: 'string' },
        'embed-shard-size': { type: 'string' },
        // hosts knob
        'hosts-rate': { type: 'string' }
      }
    })
  } catch (err: any) {
    process.stderr.write(`${err.message}\n${USAGE}`)
    process.exit(2)
  }
})()
if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const chosen: Scenario[] = values.scenario === 'all' ? [...ALL] : [values.scenario as Scenario]
if (chosen.some(s => !SCENARIOS.includes(s))) {
  process.stderr.write(`unknown scenario ${values.scenario}: use ${SCENARIOS.join(', ')} or all\n${USAGE}`)
  process.exit(2)
}
const smoke = values.smoke

const config = {
  overhead: smoke
    ? { items: 200, workers: [1, 2], sequential: 50, limitsMs: 100 }
    : { items: 4_000, workers: [1, 2, 4], sequential: 1_000, limitsMs: 500 },
  scaling: smoke
    ? { peers: [1, 2, 4], msPerItem: 10, shardsPerPeer: 10, shardSize: 2, sweepShardSizes: [1] }
    : {
        peers: (values.peers ?? '1,2,4,8,16,32,64').split(',').map(Number),
        msPerItem: 10,
        shardsPerPeer: Number(values['shards-per-peer'] ?? 20),
        shardSize: Number(values['shard-size'] ?? 50),
        sweepShardSizes: (values.sweep ?? '20,10,5').split(',').filter(s => s !== '').map(Number)
      },
  inference: smoke
    ? { ocrLines: 8, ocrShardSize: 2, embedTexts: 16, embedShardSize: 4, rounds: 1 }
    : {
        ocrLines: 120,
        ocrShardSize: Number(values['ocr-shard-size'] ?? 4),
        embedTexts: 400,
        embedShardSize: Number(values['embed-shard-size'] ?? 16),
        rounds: 3
      },
  hosts: smoke
    ? { shards: 200, jobs: 20, rate: values['hosts-rate'] ?? '100mbit', rounds: 1 }
    : { shards: 2_000, jobs: 200, rate: values['hosts-rate'] ?? '100mbit', rounds: 3 }
}

interface Output {
  benchmark: 'compute'
  smoke: boolean
  date: string
  /** the commit measured, `-dirty` when the working tree had changes */
  commit?: string
  machine: ReturnType<typeof machine>
  config: Partial<typeof config>
  overhead?: OverheadResult
  scaling?: ScalingResult
  inference?: InferenceResult
  hosts?: HostsResult
  loadavgAtEnd?: number[]
  wallSeconds?: number
}

const started = performance.now()
const out: Output = {
  benchmark: 'compute',
  smoke,
  date: new Date().toISOString(),
  commit: commit(),
  machine: machine(),
  config: Object.fromEntries(chosen.map(s => [s, config[s]]))
}

for (const scenario of chosen) {
  const t = performance.now()
  if (scenario === 'overhead') {
    out.overhead = await overhead(config.overhead)
  } else if (scenario === 'scaling') {
    out.scaling = await scaling(config.scaling)
  } else if (scenario === 'hosts') {
    out.hosts = await hosts(config.hosts)
  } else {
    out.inference = await inference(config.inference)
  }
  progress(`${scenario} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}
out.loadavgAtEnd = loadavg()
out.wallSeconds = Math.round((performance.now() - started) / 100) / 10

if (values.json) {
  process.stdout.write(JSON.stringify(out) + '\n')
} else {
  process.stdout.write(report(out))
}

// every node is stopped; a handle left behind by a library must not keep the run alive
setTimeout(() => { process.exit(0) }, 2_000).unref()

function commit (): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${head}-dirty` : head
  } catch {
    return undefined
  }
}

function report (o: Output): string {
  const lines: string[] = [`compute benchmark${o.smoke ? ' (smoke)' : ''}, ${o.machine.cpus} cores, Node ${o.machine.node}, load ${o.machine.loadavg.join(' ')}`]
  if (o.overhead != null) {
    const { inProcess, childProcess, limits } = o.overhead
    lines.push('overhead (echo, 1-item shards):')
    lines.push(`  machine limits, one core: Ed25519 ${limits.ed25519SignPerSec} signs/s, ${limits.ed25519VerifyPerSec} verifies/s; sha256 ${limits.sha256PerSec}/s of 1 KiB; one verify + one sign a shard caps a requester at ${limits.signVerifyCeiling} shards/s`)
    const pipe = (where: string, r: PipelinedRun): string =>
      `  ${where}: ${r.shardsPerSec} shards/s, shard duration p50/p99 ${r.shardDurationMs.p50}/${r.shardDurationMs.p99} ms, completion interval p50 ${r.completionIntervalMs.p50} ms, CPU ${r.cpuCores} cores = ${r.cpuMsPerShard} ms/shard`
    const seq = (where: string, r: Sequential): string =>
      `  ${where}, one at a time: raw stream p50/p99 ${r.streamRttMs.p50}/${r.streamRttMs.p99} ms; whole 1-item job p50/p99 ${r.jobRttMs.p50}/${r.jobRttMs.p99} ms`
    for (const r of inProcess.pipelined) {
      lines.push(pipe(`${r.workers} in-process worker(s)`, r))
    }
    lines.push(seq('in-process', inProcess))
    lines.push(pipe('1 worker process', childProcess.pipelined))
    const d = childProcess.deep
    lines.push(pipe(`1 worker process, ${d.window} in flight`, d))
    lines.push(`    = ${d.perRequesterCore} shards/s per requester core; worker ${d.workerCpuMsPerShard ?? '?'} ms CPU/shard; ${d.receiptsPerWorkerSignature} receipts per worker signature, ${d.receiptsPerCountersignature} per countersignature`)
    lines.push(seq('worker process', childProcess))
    for (const c of childProcess.streamPerShard) {
      lines.push(`  ${c.items}-item shard, one at a time: reused stream p50 ${c.reusedMs.p50} ms, a new stream each p50 ${c.newStreamMs.p50} ms`)
    }
    lines.push(`  as a fraction of the machine: one requester core does ${(100 * d.perRequesterCore / limits.signVerifyCeiling).toFixed(1)} % of what one verify + one sign a shard would allow; one shard at a time, a whole job takes ${(childProcess.jobRttMs.p50 / childProcess.streamRttMs.p50).toFixed(2)}x the raw stream's round trip (p50)`)
  }
  if (o.scaling != null) {
    lines.push(`scaling (sleep ${o.scaling.msPerItem} ms/item, slots 1, ${o.scaling.shardsPerPeer} shards per peer):`)
    for (const r of [...o.scaling.runs, ...o.scaling.sweep]) {
      lines.push(`  ${r.peers} peer(s), ${r.shardMs} ms shards: ${r.shardsPerSec}/${r.idealShardsPerSec} shards/s, efficiency ${(r.efficiency * 100).toFixed(1)} %, CPU ${r.cpuCores} cores`)
    }
  }
  if (o.inference != null) {
    lines.push('inference (2-process mesh vs 2-thread local runner):')
    for (const r of o.inference.runs) {
      lines.push(`  ${r.workload}: local ${r.localItemsPerSec.join(', ')} items/s; mesh ${r.meshItemsPerSec.join(', ')} items/s; ratio ${r.ratio}; outputs agree ${r.outputsAgree}`)
    }
  }
  if (o.hosts != null) {
    const h = o.hosts
    if ('skipped' in h) {
      lines.push(`hosts: skipped: ${h.skipped}`)
    } else {
      lines.push(`hosts (1 requester, ${h.workers} echo workers, node processes; ${h.shards} one-item shards, ${h.jobs} one-item jobs; ${h.rounds} round(s), interleaved):`)
      for (const [where, r] of [['loopback', h.loopback], ['namespaces', h.namespaces], [`namespaces, ${h.limited.limit.rate} a worker link`, h.limited]] as const) {
        lines.push(`  ${where}: ${r.shardsPerSec} shards/s (median of ${r.shardsPerSecRounds.join(', ')}); one-item job p50/p99 ${r.jobRttMs.p50}/${r.jobRttMs.p99} ms inside the requester, ${r.clientRttMs.p50}/${r.clientRttMs.p99} ms through the control API`)
      }
      for (const [where, r] of [['namespaces', h.ratios.namespaces], ['limited', h.ratios.limited]] as const) {
        lines.push(`  ${where} / loopback: shards/s ${r.shardsPerSec}, job p50 ${r.jobRttP50}, p99 ${r.jobRttP99} (control API p50 ${r.clientRttP50}, p99 ${r.clientRttP99})`)
      }
    }
  }
  return lines.join('\n') + '\n'
}
