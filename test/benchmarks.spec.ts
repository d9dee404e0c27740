import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const DISCOVERY = fileURLToPath(new URL('../../benchmarks/discovery/dist/index.js', import.meta.url))
const COMPUTE = fileURLToPath(new URL('../../benchmarks/compute/dist/src/index.js', import.meta.url))

describe('benchmark smoke runs', function () {
  this.timeout(120_000)

  it('discovery --smoke measures a 3-node cluster and prints one JSON object', async () => {
    const { stdout } = await run(process.execPath, [DISCOVERY, '--smoke'], { timeout: 110_000 })
    const out = JSON.parse(stdout)
    assert.equal(out.benchmark, 'discovery')
    assert.equal(out.results.length, 1)
    const r = out.results[0]
    assert.equal(r.nodes, 3)
    assert.ok(r.convergedMs >= r.readyMs)
    assert.equal(r.propagationMs.samples + r.propagationMs.skipped, 3 * 2)
    assert.equal(r.findProvidersMs.found, 3)
    assert.ok(r.rssMiB.max > 0)
  })

  it('compute --smoke measures overhead, scaling and inference and prints one JSON object', async () => {
    const { stdout } = await run(process.execPath, [COMPUTE, '--smoke', '--json'], { timeout: 110_000 })
    const out = JSON.parse(stdout)
    assert.equal(out.benchmark, 'compute')
    assert.equal(out.smoke, true)
    assert.equal(out.machine.cpus > 0, true)

    const { inProcess, childProcess } = out.overhead
    assert.deepEqual(inProcess.pipelined.map((r: any) => r.workers), [1, 2])
    for (const r of [...inProcess.pipelined, childProcess.pipelined]) {
      assert.equal(r.shards, 200)
      assert.equal(r.perWorker.reduce((a: number, b: number) => a + b, 0), 200)
      assert.ok(r.shardsPerSec > 0 && r.cpuMsPerShard > 0)
      assert.ok(r.shardDurationMs.p50 <= r.shardDurationMs.p99)
      assert.equal(r.completionIntervalMs.samples, 199)
    }
    for (const seq of [inProcess, childProcess]) {
      assert.equal(seq.streamRttMs.samples, 50)
      assert.equal(seq.jobRttMs.samples, 50)
      assert.ok(seq.streamRttMs.p50 > 0 && seq.streamRttMs.p50 <= seq.streamRttMs.p99)
      assert.ok(seq.jobRttMs.p50 > 0 && seq.jobRttMs.p50 <= seq.jobRttMs.p99)
    }

    const { runs, sweep } = out.scaling
    assert.deepEqual(runs.map((r: any) => r.peers), [1, 2, 4])
    assert.equal(sweep.length, 1)
    for (const r of [...runs, ...sweep]) {
      assert.equal(r.shards, r.peers * out.scaling.shardsPerPeer)
      assert.ok(r.perPeer.min >= 1, 'every peer took shards')
      // sleeping cannot finish before every slot was busy the whole time
      assert.ok(r.efficiency > 0 && r.efficiency <= 1.05, `efficiency ${r.efficiency}`)
      assert.ok(r.elapsedMs >= r.idealElapsedMs * 0.95)
    }

    assert.deepEqual(out.inference.runs.map((r: any) => r.workload), ['ocr-rec', 'embed'])
    for (const r of out.inference.runs) {
      assert.equal(r.outputsAgree, true, `${r.workload}: mesh and local outputs agree`)
      assert.equal(r.meshShards.local + r.meshShards.remote, r.shards)
      assert.ok(r.localItemsPerSec[0] > 0 && r.meshItemsPerSec[0] > 0 && r.ratio > 0)
    }
  })
})
