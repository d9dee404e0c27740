import { shortId, table } from '../format.js'
import { barChart, lineChart } from './svg-chart.js'

/** One timed job of a bench. */
export interface BenchRun {
  /** peers the job was allowed to use (`peers` option), this node first when it offers the workload */
  peers: number
  peerIds: string[]
  items: number
  shards: number
  elapsedMs: number
  itemsPerSec: number
}

/** One run of the scaling measure, beside the 1-peer baseline of the same bench. */
export interface ScalingRun extends BenchRun {
  /** itemsPerSec / the baseline's itemsPerSec */
  speedup: number
  /** speedup / peers (1: every peer added gave its full share) */
  efficiency: number
  /** peers that completed at least one shard */
  peersUsed: number
}

/** What `shardmesh bench` measured (also its `--json` and `bench.json`). */
export interface BenchReport {
  bench: 'shardmesh'
  /** ms since epoch */
  startedAt: number
  elapsedMs: number
  /** the node the jobs ran from */
  node: string
  /** `id@version` of the scaling and inference measures */
  workload: string
  items: number
  shardSize: number
  /** peers offering the workload (this node included when it does) */
  available: number
  /** an echo job of `items` 1-item shards against the same items in one shard, on one peer */
  overhead: {
    workload: string
    peerId: string
    baseline: BenchRun
    run: BenchRun
    /** (run - baseline) / (run shards - 1), ms */
    perShardMs: number
  }
  /** the workload's job on 1, 2, 4, ... peers; the 1-peer run is the baseline */
  scaling: {
    baselinePeers: number
    runs: ScalingRun[]
  }
  /** items/s of the workload: one peer (the baseline) against the most peers, and each peer's own speed */
  inference: {
    workload: string
    baselineItemsPerSec: number
    meshItemsPerSec: number
    meshPeers: number
    /** meshItemsPerSec / baselineItemsPerSec */
    ratio: number
    /** each peer of the largest run: its speed a slot as the job timed it */
    perPeer: Array<{ peerId: string, local: boolean, items: number, itemsPerSec: number }>
  }
  /** chart files written with --out (names inside that directory) */
  charts?: string[]
}

/** A chart file of a bench: its name and SVG text. */
export interface BenchChart {
  file: string
  svg: string
}

function round (n: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** The scaling figures of runs: speedup and efficiency against the run on the fewest peers. */
export function scalingOf (runs: Array<BenchRun & { peersUsed: number }>): ScalingRun[] {
  const base = runs[0]
  return runs.map(r => {
    const speedup = base == null || base.itemsPerSec <= 0 ? 0 : r.itemsPerSec / base.itemsPerSec
    return { ...r, speedup: round(speedup, 3), efficiency: round(speedup / (r.peers / base.peers), 3) }
  })
}

/** One SVG chart per measure: overhead, throughput, efficiency, inference. */
export function benchCharts (report: BenchReport): BenchChart[] {
  const { overhead, scaling, inference } = report
  const runs = scaling.runs
  const base = runs[0]
  return [
    {
      file: 'overhead.svg',
      svg: barChart({
        title: `per-shard overhead: ${round(overhead.perShardMs)} ms a shard (${overhead.workload}, one peer)`,
        xLabel: `${overhead.run.items} items`,
        yLabel: 'job time (ms)',
        bars: [
          { label: '1 shard (baseline)', value: round(overhead.baseline.elapsedMs) },
          { label: `${overhead.run.shards} shards of 1 item`, value: round(overhead.run.elapsedMs) }
        ]
      })
    },
    {
      file: 'throughput.svg',
      svg: lineChart({
        title: `throughput: ${report.workload}, ${report.items} items, shards of ${report.shardSize}`,
        xLabel: 'peers',
        yLabel: 'items/s',
        series: [
          { name: 'measured', points: runs.map(r => ({ x: r.peers, y: round(r.itemsPerSec) })) },
          { name: `ideal (${base.peers} peer baseline x peers)`, dashed: true, points: runs.map(r => ({ x: r.peers, y: round(base.itemsPerSec * r.peers / base.peers) })) }
        ]
      })
    },
    {
      file: 'efficiency.svg',
      svg: lineChart({
        title: `parallel efficiency: ${report.workload}`,
        xLabel: 'peers',
        yLabel: 'speedup / peers',
        series: [
          { name: 'measured', points: runs.map(r => ({ x: r.peers, y: r.efficiency })) },
          { name: 'ideal', dashed: true, points: runs.map(r => ({ x: r.peers, y: 1 })) }
        ]
      })
    },
    {
      file: 'inference.svg',
      svg: barChart({
        title: `inference: ${inference.workload} items/s`,
        xLabel: 'runs, then each peer of the largest run (a slot)',
        yLabel: 'items/s',
        bars: [
          { label: `${base.peers} peer (baseline)`, value: round(inference.baselineItemsPerSec) },
          { label: `${inference.meshPeers} peers`, value: round(inference.meshItemsPerSec) },
          ...inference.perPeer.map(p => ({ label: `${shortId(p.peerId).slice(-6)}${p.local ? ' (self)' : ''}`, value: round(p.itemsPerSec) }))
        ]
      })
    }
  ]
}

/** The summary a person reads: overhead, then one row per scaling run, then inference. */
export function renderBench (report: BenchReport): string {
  const { overhead, scaling, inference } = report
  const lines = [
    `bench from ${shortId(report.node)}: ${report.workload}, ${report.items} items, shards of ${report.shardSize}, ${report.available} peers offer it`,
    '',
    `per-shard overhead (${overhead.workload} on ${shortId(overhead.peerId)}): ${round(overhead.perShardMs)} ms a shard ` +
      `(${overhead.run.shards} shards of 1 item in ${round(overhead.run.elapsedMs)} ms; baseline: 1 shard of ${overhead.baseline.items} in ${round(overhead.baseline.elapsedMs)} ms)`,
    '',
    table(
      ['peers', 'used', 'shards', 'time (ms)', 'items/s', 'speedup', 'efficiency'],
      scaling.runs.map(r => [
        String(r.peers) + (r.peers === scaling.baselinePeers ? ' (baseline)' : ''),
        String(r.peersUsed),
        String(r.shards),
        String(round(r.elapsedMs, 0)),
        String(round(r.itemsPerSec, 1)),
        `${round(r.speedup)}x`,
        `${round(r.efficiency * 100, 0)} %`
      ])
    ),
    '',
    `inference: ${inference.workload} ${round(inference.meshItemsPerSec, 1)} items/s on ${inference.meshPeers} peers, ` +
      `${round(inference.baselineItemsPerSec, 1)} on ${scaling.baselinePeers} (x${round(inference.ratio)}); a slot: ` +
      inference.perPeer.map(p => `${shortId(p.peerId)}${p.local ? ' (self)' : ''} ${round(p.itemsPerSec, 1)}`).join(', ')
  ]
  if (report.charts != null) {
    lines.push('', `charts: ${report.charts.join(', ')}`)
  }
  return lines.join('\n')
}
