#!/usr/bin/env node
// The benchmarks' report: runs every benchmark (smoke or full mode) or reads the results each one
// committed, and writes README.md, one JSON file per benchmark and SVG charts into one directory
// (default: this one). The charts are `@shardmesh/cli/harness`'s SVG writer, as `shardmesh bench`
// draws them. Plain JavaScript (no build step); run after `npm run build`:
//
//   npm run bench:report                                   # smoke modes (a few minutes)
//   npm run bench:report -- --full                         # full modes (long: see each README)
//   npm run bench:report -- --results                      # the results-*.json files committed
//   node benchmarks/report/report.mjs --only compute,trust --out /tmp/report
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { barChart, checkWellFormedXml, lineChart } from '@shardmesh/cli/harness'

const run = promisify(execFile)
const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = join(HERE, '..', '..')

const USAGE = `Usage: node benchmarks/report/report.mjs [--smoke | --full | --results] [--only NAME,...] [--out DIR]

Runs every benchmark (discovery, compute, anchoring, trust) in its smoke mode (default) or full
mode, or reads the newest results-*.json each committed (--results), and writes README.md and
<name>-<measure>.svg charts into DIR (default benchmarks/report), with <name>.json, the output of
each benchmark run (--results links the committed file instead).
`

/** Each benchmark: its entry point, the flags of each mode, and its charts. */
const BENCHMARKS = {
  discovery: {
    entry: 'benchmarks/discovery/dist/index.js',
    smoke: ['--smoke'],
    full: [],
    charts: r => [
      ['convergence', () => lineChart({
        title: 'discovery: time to ready and converged',
        xLabel: 'node processes',
        yLabel: 'ms',
        series: [
          { name: 'converged', points: r.results.map(x => ({ x: x.nodes, y: x.convergedMs })) },
          { name: 'ready', dashed: true, points: r.results.map(x => ({ x: x.nodes, y: x.readyMs })) }
        ]
      })],
      ['propagation', () => lineChart({
        title: 'discovery: advert propagation and findProviders',
        xLabel: 'node processes',
        yLabel: 'ms',
        series: [
          { name: 'propagation p50', points: r.results.map(x => ({ x: x.nodes, y: x.propagationMs.p50 })) },
          { name: 'propagation p99', dashed: true, points: r.results.map(x => ({ x: x.nodes, y: x.propagationMs.p99 })) },
          { name: 'findProviders p50', points: r.results.map(x => ({ x: x.nodes, y: x.findProvidersMs.p50 })) }
        ]
      })],
      ['rss', () => lineChart({
        title: 'discovery: RSS of a node process',
        xLabel: 'node processes',
        yLabel: 'MiB',
        series: [{ name: 'max RSS', points: r.results.map(x => ({ x: x.nodes, y: x.rssMiB.max })) }]
      })]
    ],
    table: r => [['nodes', 'ready ms', 'converged ms', 'propagation p50/p99 ms', 'findProviders p50 ms', 'RSS max MiB'],
      ...r.results.map(x => [x.nodes, x.readyMs, x.convergedMs, `${x.propagationMs.p50} / ${x.propagationMs.p99}`, x.findProvidersMs.p50, x.rssMiB.max])]
  },
  compute: {
    entry: 'benchmarks/compute/dist/src/index.js',
    smoke: ['--smoke', '--json'],
    full: ['--scenario', 'all', '--json'],
    charts: r => [
      ['overhead', () => lineChart({
        title: 'compute: echo shards a second (in-process, pipelined)',
        xLabel: 'workers',
        yLabel: 'shards/s',
        series: [{ name: 'shards/s', points: r.overhead.inProcess.pipelined.map(x => ({ x: x.workers, y: x.shardsPerSec })) }]
      })],
      // results from before 2026-12-05 have no deep-pipeline run
      ...(r.overhead.childProcess.deep == null
        ? []
        : [['requester', () => barChart({
            title: 'compute: shards/s per requester core (same process: both sides)',
            xLabel: 'setup',
            yLabel: 'shards/s per requester core',
            bars: [
              ...r.overhead.inProcess.pipelined.map(x => ({ label: `same process ×${x.workers}`, value: Math.round(1000 / x.cpuMsPerShard) })),
              { label: 'process, window 3', value: Math.round(1000 / r.overhead.childProcess.pipelined.cpuMsPerShard) },
              { label: `process, window ${r.overhead.childProcess.deep.window}`, value: r.overhead.childProcess.deep.perRequesterCore }
            ]
          })]]),
      ['scaling', () => lineChart({
        title: 'compute: scheduling efficiency (sleep)',
        xLabel: 'peers',
        yLabel: 'efficiency',
        series: [
          { name: 'measured', points: r.scaling.runs.map(x => ({ x: x.peers, y: x.efficiency })) },
          { name: 'ideal', dashed: true, points: r.scaling.runs.map(x => ({ x: x.peers, y: 1 })) }
        ]
      })],
      ['inference', () => barChart({
        title: 'compute: inference items/s, one process against the mesh',
        xLabel: 'workload and where',
        yLabel: 'items/s (median)',
        bars: r.inference.runs.flatMap(x => [
          { label: `${x.workload} local`, value: median(x.localItemsPerSec) },
          { label: `${x.workload} mesh`, value: median(x.meshItemsPerSec) }
        ])
      })]
    ],
    table: r => [['workload', 'items', 'local items/s', 'mesh items/s', 'ratio', 'outputs agree'],
      ...r.inference.runs.map(x => [x.workload, x.items, median(x.localItemsPerSec), median(x.meshItemsPerSec), x.ratio, x.outputsAgree])]
  },
  anchoring: {
    entry: 'benchmarks/anchoring/dist/src/index.js',
    smoke: ['--smoke', '--json', '--scenario', 'receipts,merkle,store,anchoring'],
    full: ['--json'],
    charts: r => [
      ['cost', () => barChart({
        title: 'anchoring: lamports per receipt by batch size',
        xLabel: 'receipts a batch',
        yLabel: 'lamports/receipt',
        bars: r.scenarios.anchoring.cost.map(x => ({ label: String(x.receipts), value: median(x.lamportsPerReceipt) }))
      })],
      ['merkle', () => lineChart({
        title: 'anchoring: Merkle tree build rate',
        xLabel: 'leaves',
        yLabel: 'leaves/s',
        series: [{ name: 'leaves/s', points: r.scenarios.merkle.runs.map(x => ({ x: x.leaves, y: median(x.leavesPerSec) })) }]
      })]
    ],
    table: r => targetsTable(r)
  },
  trust: {
    entry: 'benchmarks/trust/dist/src/index.js',
    smoke: ['--smoke'],
    full: [],
    charts: r => [
      ['cost', () => barChart({
        title: 'trust: items/s without (A) and with (B) challenges and heartbeats',
        xLabel: 'configuration',
        yLabel: 'items/s',
        bars: Object.entries(r.cost.itemsPerSec).map(([k, v]) => ({ label: k, value: v }))
      })]
    ],
    table: r => targetsTable(r)
  }
}

/** A figure that is a number, a list of rounds (their median) or { median }. */
function median (v) {
  if (typeof v === 'number') {
    return v
  }
  if (Array.isArray(v)) {
    const s = [...v].sort((a, b) => a - b)
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  if (v != null && typeof v.median === 'number') {
    return v.median
  }
  throw new Error(`not a figure: ${JSON.stringify(v)}`)
}

function targetsTable (r) {
  if (!Array.isArray(r.targets)) {
    return undefined
  }
  return [['target', 'measured', 'met', 'conditions'], ...r.targets.map(t => [`${t.name}: ${t.target}`, `${t.measured} ${t.unit ?? ''}`.trim(), t.met ? 'yes' : 'NO', t.conditions ?? ''])]
}

function markdownTable (rows) {
  const cell = c => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const [head, ...body] = rows
  return [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...body.map(r => `| ${r.map(cell).join(' | ')} |`)].join('\n')
}

/** One JSON object from a benchmark's stdout (its last line that parses, when it logs before). */
function parseOutput (name, stdout) {
  try {
    return JSON.parse(stdout)
  } catch {
    for (const line of stdout.trim().split('\n').reverse()) {
      try {
        return JSON.parse(line)
      } catch {}
    }
  }
  throw new Error(`${name}: printed no JSON object`)
}

/** The newest results-YYYY-MM-DD.json a benchmark committed (or, failing that, any results-*.json). */
async function committedResults (name) {
  const dir = join(ROOT, 'benchmarks', name)
  const files = (await readdir(dir)).filter(f => /^results-.*\.json$/.test(f)).sort()
  const plain = files.filter(f => /^results-\d{4}-\d{2}-\d{2}\.json$/.test(f))
  const file = (plain.length > 0 ? plain : files).at(-1)
  if (file == null) {
    throw new Error(`${name}: no results-*.json in benchmarks/${name}`)
  }
  return { result: JSON.parse(await readFile(join(dir, file), 'utf8')), source: `benchmarks/${name}/${file}` }
}

async function main () {
  let values
  try {
    ({ values } = parseArgs({
      options: { smoke: { type: 'boolean' }, full: { type: 'boolean' }, results: { type: 'boolean' }, only: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true
    }))
  } catch (err) {
    process.stderr.write(`bench:report: ${err.message}\n`)
    return 2
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if ([values.smoke, values.full, values.results].filter(Boolean).length > 1) {
    process.stderr.write('bench:report: --smoke, --full and --results exclude each other\n')
    return 2
  }
  const mode = values.full ? 'full' : values.results ? 'results' : 'smoke'
  const names = values.only == null ? Object.keys(BENCHMARKS) : values.only.split(',').map(s => s.trim())
  const unknown = names.filter(n => BENCHMARKS[n] == null)
  if (unknown.length > 0 || names.length === 0) {
    process.stderr.write(`bench:report: --only: unknown benchmark ${unknown.join(',') || '(none)'} (${Object.keys(BENCHMARKS).join(', ')})\n`)
    return 2
  }
  const out = values.out ?? HERE
  await mkdir(out, { recursive: true })

  const sections = []
  let failed = 0
  for (const name of names) {
    const bench = BENCHMARKS[name]
    let result
    let source
    try {
      if (mode === 'results') {
        ({ result, source } = await committedResults(name))
      } else {
        process.stderr.write(`bench:report: running ${name} (${mode})\n`)
        const { stdout } = await run(process.execPath, [join(ROOT, bench.entry), ...bench[mode]], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })
        result = parseOutput(name, stdout)
        source = `node ${bench.entry} ${bench[mode].join(' ')}`.trim()
      }
    } catch (err) {
      failed++
      sections.push(`## ${name}\n\nnot measured: ${String(err.message).split('\n')[0]}\n`)
      continue
    }
    // a run's output is kept beside the report; a committed result is linked where it is
    let link = `${name}.json`
    if (mode === 'results') {
      link = relative(out, join(ROOT, source))
    } else {
      await writeFile(join(out, link), JSON.stringify(result, null, 2) + '\n')
    }
    const lines = [`## ${name}`, '', `From \`${source}\`${result.date != null ? `, ${result.date}` : ''}${result.smoke === true ? ' (smoke mode: small sizes, not the figures of the benchmark\'s README)' : ''}; the whole result: [${link}](${link}).`, '']
    let rows
    try {
      rows = bench.table(result)
    } catch {}
    if (rows != null && rows.length > 1) {
      lines.push(markdownTable(rows), '')
    }
    for (const [measure, draw] of bench.charts(result)) {
      let svg
      try {
        svg = draw()
        checkWellFormedXml(svg)
      } catch (err) {
        lines.push(`${measure}: no chart (${String(err.message).split('\n')[0]})`, '')
        continue
      }
      const file = `${name}-${measure}.svg`
      await writeFile(join(out, file), svg)
      lines.push(`![${name}: ${measure}](${file})`, '')
    }
    sections.push(lines.join('\n'))
  }
  const header = [
    '# Benchmark report',
    '',
    `Written by \`npm run bench:report${mode === 'smoke' ? '' : ` -- --${mode}`}\` (benchmarks/report/report.mjs) ` +
      (mode === 'results' ? 'from the results each benchmark committed' : `from the ${mode} mode of each benchmark, run in turn on this machine`) +
      '. Each benchmark\'s README says what it measures and how; the figures of a smoke run are small sizes on whatever machine ran it.',
    ''
  ]
  await writeFile(join(out, 'README.md'), [...header, ...sections].join('\n').replace(/\n+$/, '') + '\n')
  process.stdout.write(`bench:report: ${names.length - failed} of ${names.length} benchmarks in ${relative(process.cwd(), join(out, 'README.md')) || 'README.md'}\n`)
  return failed > 0 ? 1 : 0
}

process.exitCode = await main()
