/**
 * Anchoring benchmark: what a receipt costs from the worker's signature to the batch root on
 * chain. `receipts` (sign, countersign, verify, sign and batch), `merkle` (tree builds, audit
 * paths), `store` (durable adds at several group sizes against the disk's fdatasync rate) and
 * `anchoring` (anchors per second and lamports per receipt on the embedded chain over JSON-RPC)
 * and `both-sides` (what a shard costs each side so that the worker holds its own countersigned
 * receipts: a requester node here, a worker node in a child process). Every other measurement
 * loop runs in this process's one JS thread. See README.md.
 *
 *   node benchmarks/anchoring/dist/src/index.js [--scenario receipts,merkle,store,anchoring,both-sides|all] [--rounds N] [--smoke] [--json] [--worker-dir DIR]
 *
 * `--json` prints one JSON object on stdout; progress goes to stderr. `--smoke` runs tiny sizes
 * (the tests run it). `--worker-dir` puts the both-sides worker's stores under DIR (another disk,
 * or /dev/shm) instead of the OS temp dir that holds the requester's.
 */
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { anchoring } from './anchoring.js'
import { merkle } from './merkle.js'
import { receipts } from './receipts.js'
import { loadavg, machine, progress } from './stats.js'
import { store } from './store.js'
import { report } from './report.js'
import type { Output, Target } from './report.js'

const SCENARIOS = ['receipts', 'merkle', 'store', 'anchoring', 'both-sides'] as const
type Scenario = typeof SCENARIOS[number]

/** The targets. */
const TARGET_SIGNED_AND_BATCHED_PER_SEC = 10_000
const TARGET_BATCH = 10_000
const TARGET_LAMPORTS_PER_RECEIPT = 1

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    rounds: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'worker-dir': { type: 'string' }
  }
})

const chosen = (values.scenario === 'all' ? [...SCENARIOS] : values.scenario.split(',')) as Scenario[]
if (chosen.length === 0 || chosen.some(s => !SCENARIOS.includes(s))) {
  process.stderr.write(`unknown scenario ${values.scenario}: use ${SCENARIOS.join(', ')} (comma-separated) or all\n`)
  process.exit(2)
}
const smoke = values.smoke
const roundsOf = (full: number): number => values.rounds != null ? Number(values.rounds) : smoke ? 2 : full

const config = {
  receipts: smoke
    ? { receipts: 200, batch: 200, rounds: roundsOf(5) }
    : { receipts: 10_000, batch: TARGET_BATCH, rounds: roundsOf(5) },
  merkle: smoke
    ? { sizes: [100, 1_000], minBuildMs: 5, proofs: 100, rounds: roundsOf(5) }
    : { sizes: [100, 10_000, 100_000], minBuildMs: 300, proofs: 10_000, rounds: roundsOf(5) },
  store: smoke
    ? { groups: [{ size: 1, receipts: 16 }, { size: 16, receipts: 64 }, { size: 256, receipts: 256 }], concurrent: { inFlight: 256, receipts: 256 }, rawSyncs: 16, sealCount: 256, rounds: roundsOf(3) }
    : { groups: [{ size: 1, receipts: 500 }, { size: 16, receipts: 4_096 }, { size: 256, receipts: 16_384 }], concurrent: { inFlight: 256, receipts: 16_384 }, rawSyncs: 500, sealCount: 10_000, rounds: roundsOf(3) },
  anchoring: smoke
    ? { sequential: 2, concurrent: { anchors: 4, inFlight: 4 }, batchSizes: [1, 100], rounds: 1 }
    : { sequential: 50, concurrent: { anchors: 100, inFlight: 4 }, batchSizes: [1, 100, TARGET_BATCH], rounds: roundsOf(3) },
  'both-sides': smoke
    ? { shards: 100, warmShards: 50, rounds: roundsOf(5), limitsMs: 100, workerDir: values['worker-dir'] }
    : { shards: 3_000, warmShards: 500, rounds: roundsOf(5), limitsMs: 500, workerDir: values['worker-dir'] }
}

const started = performance.now()
const out: Output = {
  benchmark: 'anchoring',
  smoke,
  date: new Date().toISOString(),
  commit: commit(),
  machine: machine(),
  config: Object.fromEntries(chosen.map(s => [s, config[s]])),
  scenarios: {},
  targets: []
}

for (const scenario of SCENARIOS.filter(s => chosen.includes(s))) {
  const t = performance.now()
  switch (scenario) {
    case 'receipts': out.scenarios.receipts = await receipts(config.receipts); break
    case 'merkle': out.scenarios.merkle = await merkle(config.merkle); break
    case 'store': out.scenarios.store = await store(config.store); break
    case 'anchoring': out.scenarios.anchoring = await anchoring(config.anchoring); break
    // loaded only when run: libp2p, the node and the compute service are not the other scenarios' imports
    case 'both-sides': out.scenarios.bothSides = await (await import('./both-sides.js')).bothSides(config['both-sides']); break
  }
  progress(`${scenario} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}
out.targets = targets(out)
out.loadavgAtEnd = loadavg()
out.wallSeconds = Math.round((performance.now() - started) / 100) / 10

process.stdout.write(values.json ? JSON.stringify(out) + '\n' : report(out))

// the chain server, stores and nodes are closed; a handle left behind by a library must not keep the run alive
setTimeout(() => { process.exit(0) }, 2_000).unref()

function targets (o: Output): Target[] {
  const list: Target[] = []
  const r = o.scenarios.receipts
  if (r != null) {
    const measured = r.signedAndBatchedPerSec.median
    list.push({
      name: 'receipts signed and batched per second on one core',
      target: `>= ${TARGET_SIGNED_AND_BATCHED_PER_SEC} receipts/s (batch ${TARGET_BATCH})`,
      measured,
      unit: 'receipts/s',
      conditions: `batch ${r.batchSize}, median of ${r.signedAndBatchedPerSec.rounds.length} rounds${o.smoke ? ' (smoke)' : ''}`,
      met: measured >= TARGET_SIGNED_AND_BATCHED_PER_SEC
    })
  }
  const a = o.scenarios.anchoring
  if (a != null && a.cost.length > 0) {
    const cost = a.cost.find(c => c.receipts === TARGET_BATCH) ?? a.cost[a.cost.length - 1]
    const measured = cost.lamportsPerReceipt.median
    list.push({
      name: 'lamports per receipt',
      target: `<= ${TARGET_LAMPORTS_PER_RECEIPT} lamport/receipt at batch ${TARGET_BATCH}`,
      measured,
      unit: 'lamports/receipt',
      conditions: `batch ${cost.receipts}, fee read from the chain${o.smoke ? ' (smoke)' : ''}`,
      met: measured <= TARGET_LAMPORTS_PER_RECEIPT
    })
  }
  return list
}

function commit (): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${head}-dirty` : head
  } catch {
    return undefined
  }
}
