/**
 * Discovery benchmark: for clusters of node processes on loopback, measure
 * - convergence: time from the first spawn until every node holds every other's verified advert
 *   (and the part of it that is process start-up: all nodes ready),
 * - propagation of an advert change: receiver's `receivedAt` − sender's `issuedAt`, p50/p99,
 * - DHT findProviders latency for a capability one node alone provides (to the first provider),
 * - RSS per node process,
 * - the CPU one node process spends to start alone (no peers), median of three: × nodes ÷ cores,
 *   the least wall time any cluster of that size can start in here, joins aside.
 *
 * Prints one JSON object. `--smoke` runs a 3-node cluster with few samples (the tests run it).
 *
 *   node benchmarks/discovery/dist/index.js [--sizes 8,16,32] [--rounds 20] [--smoke]
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { LocalCluster } from '@shardmesh/cli/harness'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '8,16,32' },
    rounds: { type: 'string', default: '20' },
    finds: { type: 'string', default: '20' },
    smoke: { type: 'boolean', default: false }
  }
})
const smoke = values.smoke
const sizes = smoke ? [3] : values.sizes.split(',').map(Number)
const rounds = smoke ? 3 : Number(values.rounds)
const finds = smoke ? 3 : Number(values.finds)
// the one workload only the last node serves (the others serve echo only)
const RARE = 'embed'

function percentile (samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

function summary (samples: number[]): { samples: number, p50: number, p99: number, max: number } {
  return { samples: samples.length, p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), max: round(Math.max(...samples)) }
}

function round (n: number): number {
  return Math.round(n * 10) / 10
}

/** CPU seconds (user + system) a process has used so far; undefined where /proc is missing. */
function cpuSeconds (pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/**
 * CPU seconds one `node start --workload echo` uses until it is ready, alone on this host (its
 * module loading and start, no peer to join): the median of `runs` starts, one at a time.
 */
async function aloneStartCpu (runs: number): Promise<{ runs: number[], median: number } | null> {
  const samples: number[] = []
  for (let r = 0; r < runs; r++) {
    const cluster = new LocalCluster({ nodes: 1, startTimeout: 60_000, nodeArgs: () => ['--workload', 'echo@1.0.0'] })
    try {
      await cluster.start()
      const cpu = cpuSeconds(cluster.nodes[0].pid)
      if (cpu == null) return null
      samples.push(cpu)
    } finally {
      await cluster.stop()
    }
  }
  return { runs: samples, median: [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] }
}

async function measure (n: number, alone: number | null): Promise<Record<string, unknown>> {
  // this host is shared: the load when this size started and ended stands beside its figures
  const loadBefore = os.loadavg().map(round)
  const cluster = new LocalCluster({
    nodes: n,
    startTimeout: 180_000,
    nodeArgs: i => i === n - 1 ? ['--workload', `${RARE}@1.0.0`] : ['--workload', 'echo@1.0.0']
  })
  try {
    await cluster.start()
    // start-up cost: CPU each process used until the whole cluster was up. On a 2-core machine
    // n processes need at least n × this / 2 seconds of wall time to start, whatever the protocol.
    const startupCpu = cluster.nodes.map(x => cpuSeconds(x.pid)).filter((x): x is number => x != null)
    const conv = await cluster.waitConverged({ timeout: 180_000, interval: 200 })
    if (conv.convergedMs == null) {
      throw new Error(`${n} nodes did not converge: ${JSON.stringify(conv.nodes.map((x, i) => ({ seen: x.advertsSeen, join: cluster.nodes[i].join })))}`)
    }
    // let start-up CPU settle before timing the steady state
    await sleep(smoke ? 200 : 2_000)

    // propagation of an advert change, sender by sender
    const propagation: number[] = []
    let skipped = 0
    for (let r = 0; r < rounds; r++) {
      const sender = cluster.nodes[r % n]
      const { seq, issuedAt } = await sender.control.updateCapabilities({ loadPermille: (r * 37) % 1000 })
      const receivers = cluster.nodes.filter(x => x !== sender)
      const pending = new Set(receivers.map(x => x.index))
      const deadline = Date.now() + 30_000
      while (pending.size > 0 && Date.now() < deadline) {
        await Promise.all([...pending].map(async i => {
          const row = (await cluster.peersOf(i)).find(p => p.peerId === sender.peerId)
          if (row != null && row.seq >= seq) {
            pending.delete(i)
            if (row.seq === seq) propagation.push(row.receivedAt - issuedAt)
            else skipped++ // a newer (refresh) advert replaced it before we looked
          }
        }))
        if (pending.size > 0) await sleep(50)
      }
      if (pending.size > 0) throw new Error(`advert change of node ${sender.index} did not reach ${pending.size} nodes`)
    }

    // DHT findProviders of the capability only the last node provides, from the other nodes
    const provider = cluster.nodes[n - 1]
    const providedDeadline = Date.now() + 60_000
    while (!(await provider.control.status()).providerRecords.some(p => p.key === `workload:${RARE}` && p.providedAt != null)) {
      if (Date.now() > providedDeadline) throw new Error('provider record never announced')
      await sleep(200)
    }
    const findMs: number[] = []
    let found = 0
    for (let f = 0; f < finds; f++) {
      const asker = cluster.nodes[f % (n - 1)]
      const res = await asker.control.find({ workload: RARE, source: 'dht', max: 1 })
      if (res.peers.some(p => p.peerId === provider.peerId)) found++
      findMs.push(res.elapsedMs)
    }

    const statuses = await Promise.all(cluster.nodes.map(async x => x.control.status()))
    const rssMiB = statuses.map(s => s.rssBytes / 2 ** 20)
    return {
      nodes: n,
      readyMs: conv.readyMs,
      convergedMs: conv.convergedMs,
      convergedAfterReadyMs: conv.convergedMs - conv.readyMs,
      startupCpuSecondsPerNode: startupCpu.length === 0 ? null : round(startupCpu.reduce((a, b) => a + b, 0) / startupCpu.length),
      startupCpuBoundMs: startupCpu.length === 0 ? null : Math.round(startupCpu.reduce((a, b) => a + b, 0) / os.availableParallelism() * 1000),
      // the part of that floor no protocol change can lower: n lone starts (module loading, start)
      aloneStartCpuBoundMs: alone == null ? null : Math.round(alone * n / os.availableParallelism() * 1000),
      propagationMs: { ...summary(propagation), skipped },
      findProvidersMs: { ...summary(findMs), found, asked: finds },
      rssMiB: { mean: round(rssMiB.reduce((a, b) => a + b, 0) / rssMiB.length), max: round(Math.max(...rssMiB)) },
      loadavg: { before: loadBefore, after: os.loadavg().map(round) }
    }
  } finally {
    await cluster.stop()
  }
}

const alone = await aloneStartCpu(smoke ? 1 : 3)
const results = []
for (const n of sizes) {
  results.push(await measure(n, alone?.median ?? null))
}
console.info(JSON.stringify({
  benchmark: 'discovery',
  smoke,
  date: new Date().toISOString(),
  machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg().map(round) },
  aloneStartCpuSeconds: alone,
  results
}))
