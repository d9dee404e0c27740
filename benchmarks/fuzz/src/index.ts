/**
 * Fuzz benchmark: property-based fuzzing (fast-check) of every decoder and every inbound
 * stream handler (see README.md for the list). Prints one JSON object: per target the cases
 * run, cases/s, how they ended (returned, or which documented error), the check after them,
 * and any failure with fast-check's seed and path, the shrunk counterexample and the command
 * that replays it. Exits 1 when a target failed, 2 on a bad flag.
 *
 *   node benchmarks/fuzz/dist/src/index.js [--cases 1000000] [--seed S] [--target NAME]... [--path P] [--smoke] [--list] [--json]
 */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { allTargets } from './targets.js'
import { runTargets } from './run.js'

const USAGE = `usage: node benchmarks/fuzz/dist/src/index.js [options]

  --cases N      cases in all, split across the targets by weight (default 1000000; --smoke 2000)
  --seed S       the run's seed, a 32-bit integer (default 0x5eedf022); each target's own is derived from it and its name
  --target NAME  only this target (exact name, or a unique part of one); repeat for several
  --path P       with --target and --seed: replay the one case fast-check's path names
  --smoke        a quick run (2,000 cases)
  --list         list the targets and exit
  --json         print only the JSON object (the default also writes a summary to stderr)
  --help         this text
`

function fail (message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`)
  process.exit(2)
}

let values
try {
  ({ values } = parseArgs({
    options: {
      cases: { type: 'string' },
      seed: { type: 'string' },
      target: { type: 'string', multiple: true },
      path: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    },
    strict: true,
    allowPositionals: false
  }))
} catch (err: any) {
  fail(err.message)
}

if (values.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const cases = values.cases != null ? Number(values.cases) : values.smoke ? 2_000 : 1_000_000
if (!Number.isSafeInteger(cases) || cases < 1) {
  fail(`--cases must be a whole number of at least 1, not ${values.cases}`)
}
const seed = values.seed != null ? Number(values.seed) : 0x5eedf022
if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
  fail(`--seed must be a 32-bit integer, not ${values.seed}`)
}

let targets = allTargets()
if (values.list) {
  for (const t of targets) {
    process.stdout.write(`${t.name}\t${t.kind}\t${t.package}\t${t.allowed.map(a => typeof a === 'string' ? a : `${a.name} ${a.message}`).join(', ') || '(no error)'}\n`)
  }
  process.exit(0)
}
if (values.target != null) {
  const chosen = values.target.map(wanted => {
    const exact = targets.find(t => t.name === wanted)
    if (exact != null) return exact
    const parts = targets.filter(t => t.name.toLowerCase().includes(wanted.toLowerCase()))
    if (parts.length !== 1) {
      fail(`--target ${wanted} names ${parts.length === 0 ? 'no target' : `${parts.length} targets (${parts.map(t => t.name).join(', ')})`}; --list shows them`)
    }
    return parts[0]
  })
  targets = [...new Set(chosen)]
}
if (values.path != null && targets.length !== 1) {
  fail('--path replays one case of one target: give exactly one --target')
}

function commit (): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

const progress = (message: string): void => {
  if (!values.json) {
    process.stderr.write(`${message}\n`)
  }
}

const revision = commit() ?? 'unknown'
const before = loadavg()
const started = performance.now()
const results = await runTargets(targets, { cases, seed: seed | 0, path: values.path, onProgress: progress })
const elapsed = performance.now() - started
const failures = results.filter(r => r.failure != null || r.check.startsWith('failed'))
const total = results.reduce((n, r) => n + r.cases, 0)

const out = {
  benchmark: 'fuzz',
  smoke: values.smoke,
  date: new Date().toISOString(),
  commit: revision,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform, arch: process.arch },
  loadavg: { before: before.map(l => Math.round(l * 100) / 100), after: loadavg().map(l => Math.round(l * 100) / 100) },
  seed: seed | 0,
  cases: total,
  targets: results.length,
  seconds: Math.round(elapsed / 100) / 10,
  casesPerSec: Math.round(total / (elapsed / 1000)),
  failures: failures.length,
  results
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
if (!values.json) {
  for (const f of failures) {
    process.stderr.write(`\nFAILED ${f.name}: ${f.failure?.error ?? f.check}\n  counterexample: ${f.failure?.counterexample.slice(0, 400) ?? '-'}\n  replay: ${f.failure?.replay ?? '-'}\n`)
  }
}
process.exit(failures.length > 0 ? 1 : 0)
