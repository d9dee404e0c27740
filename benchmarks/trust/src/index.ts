/**
 * Trust benchmark: what the trust layer costs and what it buys, side by side in one run, on
 * clusters of `shardmesh node start` processes over loopback TCP (see README.md):
 *
 * - `cost`: back-to-back `sleep` jobs with aggressive random challenges against none: items/s,
 *   challenge items as a share of all items run (and extrapolated to the default interval),
 *   heartbeat frames and bytes per busy peer against the shards' bytes;
 * - `detection`: a worker frozen (SIGSTOP) mid-job: ms until the requester finds it suspect and dead;
 * - `inflated`: a slow node claiming 500 slots: its share of the shards against its fair share,
 *   and the job's time with it against without it;
 * - `liar`: a node corrupting every output, in a `replicate:3` job then a `none` job.
 *
 * Beside them, the machine's own limits (Ed25519, SHA-256) and load, measured in the same run.
 *
 *   node benchmarks/trust/dist/src/index.js [--scenario cost,detection,inflated,liar|all] [--seconds 20]
 *     [--challenge-interval 1|off] [--smoke]
 *
 * Prints one JSON object on stdout; progress goes to stderr. `--smoke` runs tiny sizes (the tests
 * run it and check only the JSON's shape and that every figure is finite).
 */
import { parseArgs } from 'node:util'
import { cost } from './cost.js'
import { detection } from './detection.js'
import { inflated } from './inflated.js'
import { liar } from './liar.js'
import { loadavg, machine } from './machine.js'
import { commit, progress, round } from './util.js'

const SCENARIOS = ['cost', 'detection', 'inflated', 'liar'] as const
type Scenario = typeof SCENARIOS[number]

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'all' },
    seconds: { type: 'string' },
    // the mean interval of requester A's random challenges in the cost scenario (s); 'off' makes
    // an A/A run that shows the noise of the set-up alone
    'challenge-interval': { type: 'string', default: '1' },
    smoke: { type: 'boolean', default: false }
  }
})
const chosen = (values.scenario === 'all' ? [...SCENARIOS] : values.scenario.split(',')) as Scenario[]
if (chosen.some(s => !SCENARIOS.includes(s))) {
  process.stderr.write(`unknown scenario in ${values.scenario}: use ${SCENARIOS.join(', ')} or all\n`)
  process.exit(2)
}
const smoke = values.smoke
if (values['challenge-interval'] !== 'off' && !(Number(values['challenge-interval']) > 0)) {
  process.stderr.write(`--challenge-interval must be a number of seconds or off, got ${values['challenge-interval']}\n`)
  process.exit(2)
}

const config = {
  cost: {
    seconds: Number(values.seconds ?? (smoke ? 3 : 20)),
    workers: 3,
    jobItems: smoke ? 80 : 240,
    shardSize: 4,
    sleepMs: 5,
    slots: 2,
    challengeIntervalSec: values['challenge-interval'] === 'off' ? 0 : Number(values['challenge-interval'])
  },
  detection: { items: smoke ? 1_600 : 2_400, shardSize: 4, sleepMs: 10, slots: 2, pollMs: 50, freezeAfterShards: 6, waitMs: 10_000 },
  inflated: { shards: 100, shardSize: 2, honestSleepMs: 10, inflatedSleepMs: 100, claimedSlots: 500, rounds: smoke ? 1 : 3 },
  liar: { items: 40, shardSize: 4, sleepMs: 10 }
}

const started = performance.now()
const out: Record<string, any> = {
  benchmark: 'trust',
  smoke,
  date: new Date().toISOString(),
  commit: commit() ?? 'unknown',
  machine: machine(smoke ? 50 : 500),
  config: Object.fromEntries(chosen.map(s => [s, config[s]])),
  loadavg: {}
}

for (const scenario of chosen) {
  const t = performance.now()
  out.loadavg[`${scenario}Start`] = loadavg()
  if (scenario === 'cost') {
    out.cost = await cost(config.cost)
  } else if (scenario === 'detection') {
    out.detection = await detection(config.detection)
  } else if (scenario === 'inflated') {
    out.inflated = await inflated(config.inflated)
  } else {
    out.liar = await liar(config.liar)
  }
  progress(`${scenario} done in ${((performance.now() - t) / 1000).toFixed(1)} s`)
}
out.loadavg.end = loadavg()
out.targets = targets(out)
out.wallSeconds = round((performance.now() - started) / 1000)
process.stdout.write(JSON.stringify(out) + '\n')

// every cluster is stopped; a handle left behind by a library must not keep the run alive
setTimeout(() => { process.exit(0) }, 2_000).unref()

/** The targets, with what this run measured. */
function targets (o: Record<string, any>): Array<{ name: string, measured: number, target: string, met: boolean }> {
  const list: Array<{ name: string, measured: number, target: string, met: boolean }> = []
  if (o.cost != null) {
    list.push({ name: 'challenge items as a share of all items, at the default 60 s interval', measured: o.cost.challengeShareAtDefault, target: '< 0.01', met: o.cost.challengeShareAtDefault < 0.01 })
  }
  if (o.detection != null) {
    list.push({ name: 'frozen peer suspect (ms after SIGSTOP)', measured: o.detection.suspectMs, target: '<= 1000', met: o.detection.suspectMs <= 1000 })
    list.push({ name: 'frozen peer dead (ms after SIGSTOP)', measured: o.detection.deadMs, target: '<= 2000', met: o.detection.deadMs <= 2000 })
  }
  if (o.inflated != null) {
    list.push({ name: 'inflated node: share of shards / fair share', measured: o.inflated.shareRatio, target: '<= 1.5', met: o.inflated.shareRatio <= 1.5 })
    list.push({ name: 'job time with the inflated node / without', measured: o.inflated.timeRatio, target: '<= 1.15', met: o.inflated.timeRatio <= 1.15 })
  }
  if (o.liar != null) {
    list.push({ name: 'shards of the liars accepted in a none job after they were caught', measured: o.liar.shardsInNoneJob, target: '0', met: o.liar.shardsInNoneJob === 0 })
  }
  return list
}
