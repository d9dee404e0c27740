import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { plural } from '@shardmesh/protocol'
import { WorkloadRegistry, builtinWorkloads, parseWorkloadSpec } from '@shardmesh/workloads'
import { ControlClient } from '@shardmesh/control/client'
import { EXIT_OK, UsageError, parse, parseInteger } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { benchCharts, renderBench, scalingOf } from '../bench/report.js'
import { checkWellFormedXml } from '../bench/xml-check.js'
import { loadInputs } from '../job/inputs.js'
import type { BenchReport, BenchRun } from '../bench/report.js'
import type { JobResultJson } from '@shardmesh/control/client'
import type { Workload } from '@shardmesh/workloads'

export const BENCH_HELP = `Usage: shardmesh bench [--workload ID[@VER]] [--peers N,...] [--items N] [--shard-size S]
                       [--out DIR] [--json]

Measure the mesh from the running node, every figure beside a baseline measured in the same run:

  overhead    per-shard overhead: an echo job of N 1-item shards against the same N items in one
              shard, both on one peer (this node when it offers echo)
  scaling     the workload's job of N items on 1, 2, 4, ... of the peers offering it (the job's
              peers option; this node first): items/s, speedup and parallel efficiency against
              the run on the fewest peers (the baseline)
  inference   the workload's items/s on one peer against the most peers, and each peer's speed
              a slot as the job timed it

A warm-up job on every peer runs first (and is not measured): a peer's first shard of a job
waits for its challenge, and a workload loads its model once. The jobs are real jobs: they
leave receipts like any other.

Options:
  --workload ID[@VER]   the workload of scaling and inference: ocr-rec, embed, echo or sleep
                        (default embed)
  --peers N,...         peer counts of the scaling runs, ascending (default 1, 2, 4, ... up to
                        every peer offering the workload, and that count)
  --items N             items of each job (default 64)
  --shard-size S        items per shard of the scaling runs (default 8)
  --out DIR             write bench.json and one SVG chart per measure (overhead.svg,
                        throughput.svg, efficiency.svg, inference.svg) into DIR
  --data-dir DIR        the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json                print one JSON object: { bench, startedAt, elapsedMs, node, workload,
                        items, shardSize, available, overhead: { workload, peerId, baseline,
                        run, perShardMs }, scaling: { baselinePeers, runs: [{ peers, peerIds,
                        peersUsed, items, shards, elapsedMs, itemsPerSec, speedup, efficiency
                        }] }, inference: { workload, baselineItemsPerSec, meshItemsPerSec,
                        meshPeers, ratio, perPeer: [{ peerId, local, items, itemsPerSec }] },
                        charts? }
  -h, --help            this help
`

/** The most peer counts one bench runs. */
const MAX_PEER_COUNTS = 32

/** --workload as a workload this CLI can build items for. */
function workloadFlag (text: string): Workload<any, any> {
  let spec
  try {
    spec = parseWorkloadSpec(text)
  } catch (err: any) {
    throw new UsageError(`bench: --workload: ${err.message}`)
  }
  const workload = new WorkloadRegistry(builtinWorkloads()).get(spec.id, spec.version)
  if (workload == null) {
    throw new UsageError(`bench: --workload: unknown workload ${text} (ocr-rec, embed, echo or sleep)`)
  }
  return workload
}

/** --peers: ascending, distinct whole numbers from 1. */
export function peerCountsFlag (text: string | undefined): number[] | undefined {
  if (text == null) {
    return undefined
  }
  const counts = text.split(',').map(t => parseInteger(t.trim(), '--peers', 1, 10_000) as number)
  if (counts.length > MAX_PEER_COUNTS) {
    throw new UsageError(`--peers: at most ${MAX_PEER_COUNTS} counts, not ${counts.length}`)
  }
  if (counts.some((n, i) => i > 0 && n <= counts[i - 1])) {
    throw new UsageError(`--peers: "${text}" must be ascending counts without repeats, e.g. 1,2,4`)
  }
  return counts
}

/** 1, 2, 4, ... below `available`, and `available`. */
export function defaultPeerCounts (available: number): number[] {
  const counts: number[] = []
  for (let n = 1; n < available; n *= 2) {
    counts.push(n)
  }
  counts.push(available)
  return counts
}

/** The peers a job of `workload` would use now, this node first. */
async function availablePeers (client: ControlClient, workload: Workload<any, any>): Promise<Array<{ peerId: string, local: boolean }>> {
  const plan = await client.plan({ workload: workload.id, version: workload.version, verification: 'none' })
  return plan.peers.filter(p => p.used).sort((a, b) => Number(b.local) - Number(a.local)).map(p => ({ peerId: p.peerId, local: p.local }))
}

export async function benchCommand (argv: string[]): Promise<number> {
  const { values } = parse('bench', argv, {
    workload: { type: 'string' },
    peers: { type: 'string' },
    items: { type: 'string' },
    'shard-size': { type: 'string' },
    out: { type: 'string' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(BENCH_HELP)
    return EXIT_OK
  }
  const workload = workloadFlag(values.workload ?? 'embed')
  const counts = peerCountsFlag(values.peers)
  const items = parseInteger(values.items ?? '64', '--items', 2, 100_000) as number
  const shardSize = parseInteger(values['shard-size'] ?? '8', '--shard-size', 1, 100_000) as number
  if (values.out === '') {
    throw new UsageError('--out: give a directory')
  }
  const json = values.json === true
  const say = (line: string): void => { if (!json) { process.stderr.write(`bench: ${line}\n`) } }

  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const startedAt = Date.now()
  const { peerId: node } = await client.status()
  const echo = workloadFlag('echo')
  const [echoPeers, peers] = await Promise.all([availablePeers(client, echo), availablePeers(client, workload)])
  if (echoPeers.length === 0) {
    throw new Error('no peer offers echo (this node included): the overhead measure needs one')
  }
  if (peers.length === 0) {
    throw new Error(`no peer offers ${workload.id}@${workload.version} (this node included): see shardmesh job plan --workload ${workload.id}`)
  }
  const peerCounts = counts ?? defaultPeerCounts(peers.length)
  const over = peerCounts.filter(n => n > peers.length)
  if (over.length > 0) {
    throw new Error(`--peers ${over.join(',')}: only ${plural(peers.length, 'peer')} offer ${workload.id} now (shardmesh job plan --workload ${workload.id} says why others are not used)`)
  }

  const echoItems = (await loadInputs(echo, { generate: items, seed: 1 })).items.map(i => Buffer.from(i).toString('base64'))
  const workItems = (await loadInputs(workload, { generate: items, seed: 1 })).items.map(i => Buffer.from(i).toString('base64'))
  const job = async (w: Workload<any, any>, jobItems: string[], size: number, peerIds: string[]): Promise<JobResultJson> => {
    return client.runJob({ workload: w.id, version: w.version, items: jobItems, shardSize: size, peers: peerIds, includeSelf: peerIds.includes(node), verification: 'none' })
  }
  const timed = (result: JobResultJson, peerIds: string[]): BenchRun => ({
    peers: peerIds.length,
    peerIds,
    items: result.items,
    shards: result.shards.length,
    elapsedMs: result.elapsedMs,
    itemsPerSec: result.itemsPerSec
  })

  // warm-up, not measured: challenges of peers not measured yet, models loaded
  say(`warm-up on ${plural(peers.length, 'peer')}`)
  await job(workload, workItems.slice(0, Math.min(items, peers.length * shardSize)), shardSize, peers.map(p => p.peerId))
  await job(echo, echoItems.slice(0, 2), 1, [echoPeers[0].peerId])

  say(`overhead: ${items} echo items in 1 shard, then in ${items} shards`)
  const overheadPeer = [echoPeers[0].peerId]
  const baseline = timed(await job(echo, echoItems, items, overheadPeer), overheadPeer)
  const many = timed(await job(echo, echoItems, 1, overheadPeer), overheadPeer)

  const runs: Array<BenchRun & { peersUsed: number }> = []
  let largest: JobResultJson | undefined
  for (const n of peerCounts) {
    say(`scaling: ${workload.id} on ${plural(n, 'peer')}`)
    const peerIds = peers.slice(0, n).map(p => p.peerId)
    const result = await job(workload, workItems, shardSize, peerIds)
    runs.push({ ...timed(result, peerIds), peersUsed: result.peers.filter(p => p.shards > 0).length })
    largest = result
  }
  const scaling = scalingOf(runs)
  const first = scaling[0]
  const last = scaling[scaling.length - 1]
  const report: BenchReport = {
    bench: 'shardmesh',
    startedAt,
    elapsedMs: Date.now() - startedAt,
    node,
    workload: `${workload.id}@${workload.version}`,
    items,
    shardSize,
    available: peers.length,
    overhead: {
      workload: `${echo.id}@${echo.version}`,
      peerId: overheadPeer[0],
      baseline,
      run: many,
      perShardMs: Math.max(0, many.elapsedMs - baseline.elapsedMs) / Math.max(1, many.shards - 1)
    },
    scaling: { baselinePeers: first.peers, runs: scaling },
    inference: {
      workload: `${workload.id}@${workload.version}`,
      baselineItemsPerSec: first.itemsPerSec,
      meshItemsPerSec: last.itemsPerSec,
      meshPeers: last.peers,
      ratio: first.itemsPerSec > 0 ? last.itemsPerSec / first.itemsPerSec : 0,
      perPeer: (largest?.peers ?? []).filter(p => p.items > 0).map(p => ({ peerId: p.peerId, local: p.local, items: p.items, itemsPerSec: p.itemsPerSec }))
    }
  }
  if (values.out != null) {
    const charts = benchCharts(report)
    await mkdir(values.out, { recursive: true })
    for (const chart of charts) {
      checkWellFormedXml(chart.svg)
      await writeFile(join(values.out, chart.file), chart.svg)
    }
    report.charts = charts.map(c => c.file)
    await writeFile(join(values.out, 'bench.json'), JSON.stringify(report, null, 2) + '\n')
  }
  process.stdout.write((json ? JSON.stringify(report) : renderBench(report) + (values.out == null ? '' : ` and bench.json in ${values.out}`)) + '\n')
  return EXIT_OK
}
