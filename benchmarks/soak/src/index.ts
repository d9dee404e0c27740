/**
 * Soak benchmark: a mesh under churn and a steady stream of jobs for `--minutes` (30 by
 * default), on `shardmesh node start` processes over loopback TCP with a local `shardmesh
 * chain` anchoring the receipts (see README.md). It reports, for each long-lived node, the
 * least-squares slope of its RSS (MiB/h) and open fds (per hour) over the second half of the
 * run, start and end values, the quiet fds before and after the churn, its error lines and
 * error counters per interval (and their growth), and the jobs done, failed and why.
 *
 *   node benchmarks/soak/dist/src/index.js [--minutes 30] [--seed 1] [--smoke] [--json]
 *
 * Progress goes to stderr. With `--json` stdout carries one JSON object; without it, a summary.
 * `--smoke` runs 2 minutes of churn on a smaller schedule (the tests run it and check
 * behaviour, never a speed or a slope).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { soak } from './soak.js'
import { mean, round, slope, sum } from './stats.js'
import type { JobRecord, LogLine, NodeSample, SoakConfig, SoakRun } from './soak.js'

/** What a warn line of a peer's liveness says (`peer <id> suspect (was alive) by its heartbeat`). */
const LIVENESS = /^peer (\S+) (suspect|dead|alive)\b.*by its heartbeat/
/** A worker's shard the requester cancelled: a hedge another peer won, or a job that ended. */
const CANCELLED = /ERR_ABORTED shard cancelled by the requester/

const USAGE = `usage: node benchmarks/soak/dist/src/index.js [options]

  --minutes N    minutes of churn and jobs, the measured phase (default 30; --smoke: 2)
  --seed N       seed of the churn schedule (default 1)
  --churn-slots N  churn nodes up at once (default 3; --smoke: 2); 0: a control run, jobs alone
  --smoke        a short run (1.5 minutes of churn, about 2 in all; samples every 5 s)
  --json         print one JSON object on stdout (default: a summary)
  --save FILE    also write the run's raw samples, log lines and events to FILE (JSON)
  --from FILE    report a run saved with --save instead of running one
  -h, --help     this help
`

function usage (message?: string): never {
  if (message != null) {
    process.stderr.write(`${message}\n`)
  }
  process.stderr.write(USAGE)
  process.exit(2)
}

let values: { minutes?: string, 'churn-slots'?: string, seed?: string, smoke?: boolean, json?: boolean, help?: boolean, save?: string, from?: string }
try {
  values = parseArgs({
    options: {
      minutes: { type: 'string' },
      seed: { type: 'string' },
      'churn-slots': { type: 'string' },
      smoke: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      save: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    },
    strict: true,
    allowPositionals: false
  }).values
} catch (err: any) {
  usage(err.message)
}
if (values.help === true) {
  process.stdout.write(USAGE)
  process.exit(0)
}
const minutes = Number(values.minutes ?? (values.smoke === true ? 1.5 : 30))
if (!(minutes > 0 && minutes <= 24 * 60)) {
  usage(`--minutes must be a number of minutes above 0, got ${values.minutes}`)
}
const seed = Number(values.seed ?? 1)
if (!Number.isSafeInteger(seed) || seed < 0) {
  usage(`--seed must be a non-negative integer, got ${values.seed}`)
}

const churnSlots = values['churn-slots'] == null ? undefined : Number(values['churn-slots'])
if (churnSlots != null && !(Number.isInteger(churnSlots) && churnSlots >= 0 && churnSlots <= 16)) {
  usage(`--churn-slots must be an integer from 0 to 16, got ${values['churn-slots']}`)
}
// what the smoke and the full run share; the smoke is shorter and churns faster
const common = { minutes, longLived: 3, freshShare: 0.5, attributionSec: 35, job: { items: 24, shardSize: 2, sleepMs: 20, pauseMs: 200, slots: 2 }, seed }
const config: SoakConfig = values.smoke === true
  ? { ...common, warmupSec: 8, sampleSec: 5, churnSlots: churnSlots ?? 2, upSec: [12, 30], downSec: [3, 10], sigkillShare: 0.4, settleSec: 60 }
  : { ...common, warmupSec: 60, sampleSec: 20, churnSlots: churnSlots ?? 3, upSec: [20, 90], downSec: [5, 30], sigkillShare: 0.3, settleSec: 90 }

/** A run and what the report says of it beyond its samples, as --save writes it. */
interface Saved { run: SoakRun, smoke: boolean, date: string, commit: string, loadStart: number[], wallSeconds: number }

let saved: Saved
if (values.from != null) {
  saved = JSON.parse(readFileSync(values.from, 'utf8'))
} else {
  const started = performance.now()
  const date = new Date().toISOString()
  const loadStart = loadavg()
  const run = await soak(config, loadavg)
  saved = { run, smoke: values.smoke === true, date, commit: commit(), loadStart, wallSeconds: round((performance.now() - started) / 1000) }
  if (values.save != null) {
    writeFileSync(values.save, JSON.stringify(saved))
  }
}
const out = report(saved)
if (values.json === true) {
  process.stdout.write(JSON.stringify(out) + '\n')
} else {
  process.stdout.write(summary(out))
}
// every process is stopped; a handle left behind by a library must not keep the run alive
setTimeout(() => { process.exit(0) }, 2_000).unref()

function loadavg (): number[] {
  return os.loadavg().map(n => round(n, 2))
}

function commit (): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== ''
    return dirty ? `${head}-dirty` : head
  } catch {
    return 'unknown'
  }
}

/** Per hour, from a slope per second. */
function perHour (s: { slope: number, stderr: number, points: number }, digits = 1): { perHour: number, stderrPerHour: number, points: number } {
  return { perHour: round(s.slope * 3600, digits), stderrPerHour: round(s.stderr * 3600, digits), points: s.points }
}

function quiet (s: NodeSample): Record<string, unknown> {
  return { rssMiB: round(s.rssMiB), fds: s.fds, connections: s.connections, streams: s.streams, streamsBy: s.streamsBy }
}

function report ({ run, smoke, date, commit, loadStart, wallSeconds }: Saved): Record<string, unknown> {
  const { config, jobs, events } = run
  // churn that may cause errors: a node leaving mid-run or failing to join (the leaves at the
  // end of the phase are not churn: the mesh is to come back to quiet after them)
  const leaves = events.filter(e => (e.kind === 'leave' && e.final !== true) || e.kind === 'join-failed')
  const churnIds = new Set(Object.keys(run.churnPeers))
  const longLivedIds = new Set(run.longLived.map(n => n.peerId))
  // a leave "touches" [t - 5 s, t + attributionSec]: the peer's advert may outlive it that long
  const churnNear = (a: number, b: number): boolean => leaves.some(e => e.t - 5 <= b && e.t + config.attributionSec >= a)
  /**
   * Why a long-lived node logged a warn/error line: it names a churn node; a shard of its the
   * requester cancelled (a hedge or an ended job: not a fault); a heartbeat's verdict on another
   * long-lived node (the load of the machine can delay a heartbeat); near a leave of a churn
   * node; or none of these (an error line that names no churn node is never put down to load).
   */
  const classify = (l: LogLine): string => {
    if ([...churnIds].some(id => l.text.includes(id))) {
      return 'names a churn node'
    }
    if (l.level !== 'warn') {
      return 'unattributed'
    }
    if (CANCELLED.test(l.text)) {
      return 'cancelled by the requester'
    }
    const live = LIVENESS.exec(l.text)
    if (live != null && longLivedIds.has(live[1])) {
      return 'heartbeat of a long-lived node'
    }
    return churnNear(l.t, l.t) ? 'during churn' : 'unattributed'
  }

  const nodes = run.longLived.map((n, i) => {
    const samples = run.samples[i]
    const second = samples.filter(s => s.t >= run.phaseSec / 2)
    const xs = second.map(s => s.t)
    const lines = run.lines[i].filter(l => l.t >= 0 && l.t <= run.phaseSec + config.settleSec + 60)
    const classified = lines.map(l => ({ ...l, why: classify(l) }))
    const unattributed = classified.filter(l => l.why === 'unattributed')
    // per sampling interval: error lines and error counters added in it
    const perInterval = samples.slice(1).map((s, k) => {
      const prev = samples[k]
      const counters = sum(Object.entries(s.errors).map(([name, v]) => v - (prev.errors[name] ?? 0)))
      return { t: round(s.t), lines: s.logLines - prev.logLines, counters }
    })
    const intervalXs = perInterval.map(p => p.t)
    const first = samples[0]
    const last = samples.at(-1) as NodeSample
    const counterDeltas: Record<string, number> = {}
    for (const [name, v] of Object.entries(run.afterChurn[i].errors)) {
      const d = v - (run.baseline[i].errors[name] ?? 0)
      if (d !== 0) {
        counterDeltas[name] = d
      }
    }
    return {
      index: n.index,
      role: n.role,
      peerId: n.peerId,
      pid: n.pid,
      slopes: {
        // the second half of the phase: after the warm-up of caches, tables and the heap
        rssMiB: perHour(slope(xs, second.map(s => s.rssMiB))),
        fds: perHour(slope(xs, second.map(s => s.fds))),
        connections: perHour(slope(xs, second.map(s => s.connections))),
        streams: perHour(slope(xs, second.map(s => s.streams))),
        // what the RSS grows by per 1,000 receipts the node stored (its store indexes every receipt in memory)
        rssMiBPerThousandReceipts: round(slope(second.map(s => s.receipts.stored / 1000), second.map(s => s.rssMiB)).slope, 2)
      },
      receiptsStoredPerHour: round(slope(xs, second.map(s => s.receipts.stored)).slope * 3600, 0),
      start: { rssMiB: round(first.rssMiB), fds: first.fds, connections: first.connections, streams: first.streams },
      end: { rssMiB: round(last.rssMiB), fds: last.fds, connections: last.connections, streams: last.streams },
      rssMiB: { min: round(Math.min(...samples.map(s => s.rssMiB))), max: round(Math.max(...samples.map(s => s.rssMiB))), meanSecondHalf: round(mean(second.map(s => s.rssMiB))) },
      fds: { min: Math.min(...samples.map(s => s.fds)), max: Math.max(...samples.map(s => s.fds)) },
      cpuSecPerMin: round((last.cpuSec - first.cpuSec) / ((last.t - first.t) / 60), 2),
      // quiet: jobs stopped, no churn node up, connections settled
      quiet: { before: quiet(run.baseline[i]), after: quiet(run.afterChurn[i]), fdsDelta: run.afterChurn[i].fds - run.baseline[i].fds, streamsHeldAfter: run.streamsHeld?.[i] },
      errors: {
        lines: lines.length,
        byLevel: countBy(lines.map(l => l.level)),
        byCause: countBy(classified.map(l => l.why)),
        unattributed: unattributed.length,
        unattributedExamples: unattributed.slice(0, 5).map(l => `t=${round(l.t)} ${l.level} ${l.text}`),
        examples: classified.slice(0, 3).map(l => `t=${round(l.t)} ${l.level} ${l.text}`),
        counters: counterDeltas,
        perInterval: { t: perInterval.map(p => p.t), lines: perInterval.map(p => p.lines), counters: perInterval.map(p => p.counters) },
        // growth: the slope of the errors per interval over the phase (per hour); 0 when flat
        growthPerHour: { lines: perHour(slope(intervalXs, perInterval.map(p => p.lines)), 2), counters: perHour(slope(intervalXs, perInterval.map(p => p.counters)), 2) }
      },
      receipts: run.afterChurn[i].receipts,
      samples: {
        t: samples.map(s => round(s.t)),
        rssMiB: samples.map(s => round(s.rssMiB)),
        fds: samples.map(s => s.fds),
        connections: samples.map(s => s.connections),
        streams: samples.map(s => s.streams)
      }
    }
  })

  const failed = jobs.filter(j => !j.ok)
  const attribution = (j: JobRecord): string => {
    if (j.failedPeers != null && j.failedPeers.length > 0) {
      return j.failedPeers.every(p => churnIds.has(p)) ? 'churn nodes failed it' : 'a long-lived node failed it'
    }
    return churnNear(j.t0, j.t1) ? 'during churn' : 'unattributed'
  }
  const failedWhy = failed.map(j => ({ t0: round(j.t0), t1: round(j.t1), code: j.code, message: j.message, failedPeers: j.failedPeers?.map(p => churnIds.has(p) ? `churn:${run.churnPeers[p]}` : `long-lived:${run.longLived.find(n => n.peerId === p)?.index ?? '?'}`), why: attribution(j) }))
  const ok = jobs.filter(j => j.ok)
  return {
    benchmark: 'soak',
    smoke,
    seed: config.seed,
    date,
    commit,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: round(os.totalmem() / 2 ** 30), node: process.version },
    loadavg: { start: loadStart, during: { mean1m: round(mean(run.loadavg.map(l => l[0])), 2), max1m: Math.max(...run.loadavg.map(l => l[0])) }, end: run.loadavg.at(-1) },
    config,
    durationSec: round(run.phaseSec),
    wallSeconds,
    samples: run.samples[0].length,
    nodes,
    churn: {
      joins: events.filter(e => e.kind === 'join').length,
      freshIdentities: events.filter(e => e.kind === 'join' && e.fresh === true).length,
      failedJoins: events.filter(e => e.kind === 'join-failed').length,
      // every leave by its signal, the final SIGTERMs at the end of the phase included
      leaves: countBy(events.filter(e => e.kind === 'leave').map(e => e.signal as string)),
      finalLeaves: events.filter(e => e.kind === 'leave' && e.final === true).length,
      identities: churnIds.size,
      joinSec: { mean: round(mean(events.filter(e => e.kind === 'join').map(e => e.tookSec as number))), max: round(Math.max(0, ...events.filter(e => e.kind === 'join').map(e => e.tookSec as number))) },
      events: events.map(e => ({ ...e, t: round(e.t), tookSec: e.tookSec == null ? undefined : round(e.tookSec) }))
    },
    jobs: {
      started: jobs.length,
      succeeded: ok.length,
      failed: failed.length,
      failedBy: countBy(failedWhy.map(f => f.why)),
      perSec: round(ok.length / run.phaseSec, 3),
      itemsPerSec: round(sum(ok.map(j => j.items)) / run.phaseSec, 1),
      wrongOutputs: ok.filter(j => j.outputsMatch !== true).length,
      retries: { onChurnNodes: sum(jobs.map(j => j.failuresChurn)), onLongLivedNodes: sum(jobs.map(j => j.failuresLongLived)) },
      failures: failedWhy
    },
    settle: { settled: run.settled, seconds: round(run.settledSec) },
    processes: { spawned: run.pids.length, pids: run.pids, orphans: run.orphans }
  }
}

function countBy (keys: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of keys) {
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}

function summary (o: any): string {
  const rows = o.nodes.map((n: any) => `  node ${n.index} (${n.role}): RSS ${n.start.rssMiB} -> ${n.end.rssMiB} MiB, slope ${n.slopes.rssMiB.perHour} ± ${n.slopes.rssMiB.stderrPerHour} MiB/h; fds ${n.start.fds} -> ${n.end.fds}, slope ${n.slopes.fds.perHour}/h; quiet fds ${n.quiet.before.fds} -> ${n.quiet.after.fds}; error lines ${n.errors.lines} (${n.errors.unattributed} unattributed), growth ${n.errors.growthPerHour.lines.perHour}/interval/h`)
  return [
    `soak ${o.durationSec} s, ${o.samples} samples, load ${o.loadavg.during.mean1m} (1-min mean)`,
    ...rows,
    `  jobs: ${o.jobs.succeeded} ok, ${o.jobs.failed} failed ${JSON.stringify(o.jobs.failedBy)}, ${o.jobs.perSec}/s`,
    `  churn: ${o.churn.joins} joins, leaves ${JSON.stringify(o.churn.leaves)}, ${o.churn.failedJoins} failed joins`,
    `  orphans: ${o.processes.orphans.length}`,
    ''
  ].join('\n')
}
