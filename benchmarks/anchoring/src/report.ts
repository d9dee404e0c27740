/** The benchmark's output: the JSON object's shape and its text rendering (without `--json`). */
import type { AnchoringResult } from './anchoring.js'
import type { BothSidesResult } from './both-sides.js'
import type { MerkleResult } from './merkle.js'
import type { ReceiptsResult } from './receipts.js'
import type { Machine, Rounds } from './stats.js'
import type { StoreResult } from './store.js'

export interface Target {
  name: string
  target: string
  measured: number
  unit: string
  /** what the measured figure is (smoke runs measure under other conditions than the target's) */
  conditions: string
  met: boolean
}

export interface Output {
  benchmark: 'anchoring'
  smoke: boolean
  date: string
  /** the commit measured, `-dirty` when tracked files had changes */
  commit?: string
  machine: Machine
  /** the sizes each scenario ran with */
  config: Record<string, unknown>
  scenarios: {
    receipts?: ReceiptsResult
    merkle?: MerkleResult
    store?: StoreResult
    anchoring?: AnchoringResult
    bothSides?: BothSidesResult
  }
  targets: Target[]
  loadavgAtEnd?: number[]
  wallSeconds?: number
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : n >= 1 ? 1 : 4 })

/** "median (min–max)" */
const med = (r: Rounds): string => `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})`

/** "median (min–max)" with `digits` decimals (CPU ms per shard, ratios) */
const fixed = (r: Rounds, digits = 2): string => `${r.median.toFixed(digits)} (${r.min.toFixed(digits)}–${r.max.toFixed(digits)})`

function table (header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => '  ' + cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join('  ')
  return [line(header), line(widths.map(w => '-'.repeat(w))), ...rows.map(line)]
}

export function report (o: Output): string {
  const m = o.machine
  const lines: string[] = [
    `anchoring benchmark${o.smoke ? ' (smoke)' : ''}, ${o.date}`,
    `${m.cpus} × ${m.model ?? 'unknown CPU'}, ${m.memoryGiB} GiB, Node ${m.node}, load ${m.loadavg.join(' ')} at the start, ${o.loadavgAtEnd?.join(' ')} at the end; ${o.wallSeconds} s`,
    `figures: median of the rounds (min–max); every loop runs in this one JS thread${o.scenarios.bothSides != null ? ' (both-sides: its worker node runs in a child process)' : ''}`,
    ''
  ]
  const { receipts, merkle, store, anchoring, bothSides } = o.scenarios
  if (receipts != null) {
    lines.push(`receipts (${fmt(receipts.receiptsPerRound)} per round, batch ${fmt(receipts.batchSize)}; ${receipts.receiptBytes.countersigned} bytes countersigned):`)
    lines.push(...table(['operation', 'per second'], [
      ['signReceipt', med(receipts.signPerSec)],
      ['countersignReceipt', med(receipts.countersignPerSec)],
      ['verifyReceipt (both signatures)', med(receipts.verifyPerSec)],
      ['signed and batched', med(receipts.signedAndBatchedPerSec)],
      ['signed, countersigned and batched', med(receipts.signedCountersignedAndBatchedPerSec)]
    ]))
    lines.push(`  the tree is ${receipts.treeSharePct.median} % of signed-and-batched time; CPU ${receipts.cpuCores.median.toFixed(2)} cores`, '')
  }
  if (merkle != null) {
    lines.push(`merkle (leaves of ${merkle.leafBytes} bytes):`)
    lines.push(...table(['leaves', 'build ms', 'leaves/s', 'path', 'proofs/s', 'verifies/s', 'proof + verify/s'], merkle.runs.map(r => [
      fmt(r.leaves), fmt(r.buildMs.median), med(r.leavesPerSec), String(r.pathLength), fmt(r.proofsPerSec.median), fmt(r.verifiesPerSec.median), med(r.proofAndVerifyPerSec)
    ])), '')
  }
  if (store != null) {
    lines.push(`store (fdatasync per call, in ${store.dir}; bare 1 KiB append + fdatasync: ${med(store.rawFdatasyncPerSec)}/s):`)
    lines.push(...table(['mode', 'group', 'receipts', 'receipts/s', 'fsyncs/s', 'fsyncs', 'call p50/p99 ms'], store.runs.map(r => [
      r.mode, String(r.group), fmt(r.receipts), med(r.receiptsPerSec), fmt(r.fsyncsPerSec.median), fmt(r.fsyncs), `${r.callMs.p50} / ${r.callMs.p99}`
    ])))
    lines.push(`  sealBatch of ${fmt(store.seal.receipts)}: ${fmt(store.seal.ms.median)} ms`, '')
  }
  if (anchoring != null) {
    lines.push(`anchoring (RpcLedger → embedded chain over HTTP/WebSocket, commitment ${anchoring.commitment}):`)
    lines.push(...table(['in flight', 'anchors', 'anchors/s', 'latency p50/p99 ms', 'CPU cores'], [anchoring.sequential, anchoring.concurrent].map(r => [
      String(r.inFlight), String(r.anchors), med(r.anchorsPerSec), `${r.latencyMs.p50} / ${r.latencyMs.p99}`, r.cpuCores.median.toFixed(2)
    ])))
    lines.push(...table(['batch', 'fee (lamports)', 'lamports/receipt', 'balance change', 'transactions', 'verified'], anchoring.cost.map(c => [
      fmt(c.receipts), fmt(c.feeLamports.median), fmt(c.lamportsPerReceipt.median), fmt(c.balanceDeltaLamports), c.transactions.join(', '), String(c.verified)
    ])), '')
  }
  if (bothSides != null) {
    const l = bothSides.limits
    lines.push(`both sides hold proof (echo, ${fmt(bothSides.shards)} one-item shards per job, requester here, worker in a ${bothSides.worker}; requester stores in ${bothSides.dir}, worker stores in ${bothSides.workerDir}):`)
    lines.push(`  machine limits, one core: Ed25519 ${fmt(l.ed25519SignPerSec)} signs/s, ${fmt(l.ed25519VerifyPerSec)} verifies/s; sha256 ${fmt(l.sha256PerSec)}/s of 1 KiB (${fmt(l.sha256MiBPerSec)} MiB/s)`)
    lines.push(...table(['config', 'shards/s', 'requester CPU ms/shard', 'worker CPU ms/shard', 'requester fsyncs/shard', 'worker fsyncs/shard', 'worker receipts kept per job'], bothSides.configs.map(c => [
      c.name, med(c.shardsPerSec), fixed(c.requesterCpuMsPerShard), fixed(c.workerCpuMsPerShard), c.requesterFsyncsPerShard.median.toFixed(2), c.workerFsyncsPerShard.median.toFixed(2), c.jobs.map(j => fmt(j.workerReceiptsKept)).join(', ')
    ])))
    lines.push(...table(['against requester-only, paired per round', 'shards/s', 'requester CPU', 'worker CPU', 'extra requester CPU ms/shard', 'extra worker CPU ms/shard', 'extra worker fsyncs/shard'], (['returned+kept', 'default'] as const).map(name => {
      const r = bothSides.ratios[name]
      return [name, `× ${fixed(r.shardsPerSec)}`, `× ${fixed(r.requesterCpuMsPerShard)}`, `× ${fixed(r.workerCpuMsPerShard)}`, fixed(r.extraRequesterCpuMsPerShard), fixed(r.extraWorkerCpuMsPerShard), r.extraWorkerFsyncsPerShard.median.toFixed(2)]
    })))
    lines.push(`  order per round: ${bothSides.order.map(o => o.join(' → ')).join('; ')}`, '')
  }
  if (o.targets.length > 0) {
    lines.push('targets:')
    lines.push(...table(['target', 'measured', 'met'], o.targets.map(t => [`${t.name}: ${t.target}`, `${fmt(t.measured)} ${t.unit} (${t.conditions})`, t.met ? 'yes' : 'no'])))
  }
  return lines.join('\n') + '\n'
}
