import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { LocalCluster, checkWellFormedXml } from '@shardmesh/cli/harness'
import { runCli } from './utils/run-cli.js'

const REPORT = fileURLToPath(new URL('../../benchmarks/report/report.mjs', import.meta.url))
const CHARTS = ['efficiency.svg', 'inference.svg', 'overhead.svg', 'throughput.svg']

// behaviour only: the fields, the runs on the peer counts asked, the files; never a speed
describe('shardmesh bench', function () {
  this.timeout(180_000)
  let cluster: LocalCluster
  let out: string

  before(async () => {
    cluster = new LocalCluster({
      nodes: 3,
      advertTtl: '6s',
      refresh: '1s',
      nodeArgs: () => ['--workload', 'echo', '--workload', 'sleep', '--sleep-ms', '20', '--pool-size', '1', '--slots', '2', '--challenge-interval', 'off']
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
    out = await mkdtemp(join(tmpdir(), 'shardmesh-bench-'))
  })

  after(async () => {
    await cluster?.stop()
    if (out != null) {
      await rm(out, { recursive: true, force: true })
    }
  })

  it('--json measures overhead, scaling over 1, 2 and 3 peers and inference; --out writes bench.json and well-formed SVG charts', async () => {
    const node = cluster.nodes[0]
    const { code, stdout, stderr } = await runCli(['bench', '--data-dir', node.dataDir, '--workload', 'sleep', '--items', '12', '--shard-size', '2', '--out', out, '--json'])
    assert.equal(code, 0, stderr)
    const report = JSON.parse(stdout)
    assert.equal(report.bench, 'shardmesh')
    assert.equal(report.node, node.peerId)
    assert.match(report.workload, /^sleep@/)
    assert.equal(report.items, 12)
    assert.equal(report.shardSize, 2)
    assert.equal(report.available, 3)

    const { overhead } = report
    assert.match(overhead.workload, /^echo@/)
    assert.equal(overhead.peerId, node.peerId, 'this node offers echo: the overhead runs on it')
    assert.equal(overhead.baseline.shards, 1)
    assert.equal(overhead.run.shards, 12)
    assert.equal(overhead.baseline.items, 12)
    assert.equal(overhead.run.items, 12)
    assert.ok(Number.isFinite(overhead.perShardMs) && overhead.perShardMs >= 0)

    const { scaling } = report
    assert.equal(scaling.baselinePeers, 1)
    assert.deepEqual(scaling.runs.map((r: any) => r.peers), [1, 2, 3], 'default counts: 1, 2, then every peer')
    assert.deepEqual(scaling.runs[0].peerIds, [node.peerId], 'this node first')
    for (const r of scaling.runs) {
      assert.equal(r.peerIds.length, r.peers)
      assert.equal(new Set(r.peerIds).size, r.peers)
      assert.equal(r.items, 12)
      assert.equal(r.shards, 6)
      assert.ok(r.peersUsed >= 1 && r.peersUsed <= r.peers)
      assert.ok(r.itemsPerSec > 0 && r.speedup > 0 && r.efficiency > 0)
    }
    assert.equal(scaling.runs[0].speedup, 1)
    assert.equal(scaling.runs[0].efficiency, 1)

    const { inference } = report
    assert.equal(inference.workload, report.workload)
    assert.equal(inference.meshPeers, 3)
    assert.equal(inference.baselineItemsPerSec, scaling.runs[0].itemsPerSec)
    assert.equal(inference.meshItemsPerSec, scaling.runs[2].itemsPerSec)
    assert.equal(inference.perPeer.reduce((sum: number, p: any) => sum + p.items, 0), 12)

    assert.deepEqual(report.charts.slice().sort(), CHARTS)
    assert.deepEqual((await readdir(out)).sort(), ['bench.json', ...CHARTS])
    assert.deepEqual(JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')), report)
    for (const file of CHARTS) {
      const svg = await readFile(join(out, file), 'utf8')
      assert.equal(checkWellFormedXml(svg), 'svg', file)
      assert.match(svg, /class="x-axis"/, file)
      assert.match(svg, /class="y-axis"/, file)
    }
  })

  it('--peers picks the counts; the text summary has the table', async () => {
    const { code, stdout, stderr } = await runCli(['bench', '--data-dir', cluster.nodes[1].dataDir, '--workload', 'echo', '--items', '4', '--peers', '1,2'])
    assert.equal(code, 0, stderr)
    assert.match(stdout, /per-shard overhead \(echo@[^ ]+ on /)
    assert.match(stdout, /^peers\s+used\s+shards\s+time \(ms\)\s+items\/s\s+speedup\s+efficiency$/m)
    assert.match(stdout, /^1 \(baseline\)\s/m)
    assert.match(stdout, /^2\s/m)
    assert.match(stdout, /^inference: echo@/m)
  })

  it('bad flags exit 2 naming the flag; more peers than offer the workload is a failure', async () => {
    for (const [args, message] of [
      [['--peers', '2,1'], /--peers: "2,1" must be ascending/],
      [['--peers', '0'], /--peers: "0" must be a whole number/],
      [['--items', 'x'], /--items: "x" must be a whole number/],
      [['--workload', 'nope'], /--workload: unknown workload nope/],
      [['--frobnicate'], /bench: Unknown option '--frobnicate'/]
    ] as Array<[string[], RegExp]>) {
      const { code, stderr } = await runCli(['bench', '--data-dir', cluster.nodes[0].dataDir, ...args])
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`)
      assert.match(stderr, message)
      assert.equal(stderr.trim().split('\n').length, 1)
    }
    const { code, stderr } = await runCli(['bench', '--data-dir', cluster.nodes[0].dataDir, '--workload', 'echo', '--peers', '1,9'])
    assert.equal(code, 1)
    assert.match(stderr, /--peers 9: only 3 peers offer echo/)
  })
})

// the report of every benchmark, from the results they committed (the smoke runs are test/benchmarks.spec.ts's)
describe('benchmarks/report', function () {
  this.timeout(60_000)
  let out: string

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'shardmesh-report-'))
  })

  after(async () => {
    await rm(out, { recursive: true, force: true })
  })

  it('--results writes README.md and well-formed SVG charts the README links, and links each result', async () => {
    await promisify(execFile)(process.execPath, [REPORT, '--results', '--out', out])
    const files = await readdir(out)
    for (const name of ['discovery', 'compute', 'anchoring', 'trust']) {
      assert.ok(files.some(f => f.startsWith(`${name}-`) && f.endsWith('.svg')), `${name}: a chart`)
    }
    const readme = await readFile(join(out, 'README.md'), 'utf8')
    const linked = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map(m => m[1]).sort()
    assert.deepEqual(linked, files.filter(f => f.endsWith('.svg')).sort())
    assert.ok(!readme.includes('not measured'))
    for (const name of ['discovery', 'compute', 'anchoring', 'trust']) {
      assert.match(readme, new RegExp(`the whole result: \\[[^\\]]*benchmarks/${name}/results-[^\\]]+\\.json\\]`), name)
    }
    for (const file of linked) {
      assert.equal(checkWellFormedXml(await readFile(join(out, file), 'utf8')), 'svg', file)
    }
  })

  it('a bad flag exits 2 with one line naming it', async () => {
    const err: any = await promisify(execFile)(process.execPath, [REPORT, '--only', 'nope', '--out', out]).catch(e => e)
    assert.equal(err.code, 2)
    assert.match(err.stderr, /^bench:report: --only: unknown benchmark nope/)
    assert.equal(err.stderr.trim().split('\n').length, 1)
  })
})
