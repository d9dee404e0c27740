import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { LocalCluster } from '@shardmesh/cli/harness'

const run = promisify(execFile)
const example = (path: string): string => fileURLToPath(new URL(`../../examples/${path}`, import.meta.url))
const EMBED = example('embed-libp2p/dist/index.js')
const BATCH_INFERENCE = example('batch-inference/dist/index.js')
const MULTI_HOST = example('multi-host/run.sh')
const DEPIN_NODE = example('depin-node/dist/index.js')
/** run.sh's exit code where network namespaces are not allowed */
const SKIPPED = 77

describe('examples', function () {
  this.timeout(60_000)

  it('embed-libp2p: meshServices() in a user\'s own libp2p node finds a peer\'s workload over TCP', async () => {
    const { stdout } = await run(process.execPath, [EMBED, '--json'], { timeout: 50_000 })
    const result = JSON.parse(stdout)
    assert.equal(result.found.length, 1)
    assert.equal(result.found[0].peerId, result.sensor)
    assert.deepEqual(result.found[0].workloads, ['sensor-fusion@1.0.0'])
  })

  it('depin-node: a user\'s libp2p node with meshServices() does a job for another node and ends with its receipts\' proofs verified on the chain', async () => {
    const { stdout } = await run(process.execPath, [DEPIN_NODE, '--items', '8', '--json'], { timeout: 50_000 })
    const result = JSON.parse(stdout)
    assert.equal(result.shards, 4)
    assert.equal(result.shardsByNode, 4, 'every shard ran on the DePIN node')
    assert.ok(result.earned >= 4, `earned ${result.earned}`)
    assert.equal(result.verified, result.earned, JSON.stringify(result.proofs))
    assert.equal(result.anchoredByControlApi, result.earned, 'the control API lists them anchored')
    assert.equal(result.dashboard, true, 'the control API serves the dashboard page')
    for (const p of result.proofs) {
      assert.equal(p.verified, true)
      assert.match(p.anchor, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/)
    }
  })

  it('depin-node: a bad flag exits 2 naming it', async () => {
    const err: any = await run(process.execPath, [DEPIN_NODE, '--items', '0']).then(() => null, e => e)
    assert.equal(err?.code, 2)
    assert.equal(err.stderr, 'depin-node: --items: expected 1..10000, got "0"\n')
  })

  describe('batch-inference: a verified onnx job through the control API of a running node', function () {
    this.timeout(120_000)
    let cluster: LocalCluster

    before(async () => {
      // node 0 only requests; nodes 1 and 2 serve onnx (named: it is never offered by default)
      cluster = new LocalCluster({
        nodes: 3,
        nodeArgs: i => [...(i === 0 ? ['--workload', 'none'] : ['--workload', 'onnx', '--pool-size', '1']), '--challenge-interval', 'off']
      })
      await cluster.start()
      await cluster.waitConverged({ timeout: 60_000 })
    })

    after(async () => {
      await cluster?.stop()
    })

    for (const verification of ['spot-check:1', 'replicate:2']) {
      it(`${verification}: every shard checked by the two peers, every output right`, async () => {
        const { stdout } = await run(process.execPath, [BATCH_INFERENCE, '--data-dir', cluster.nodes[0].dataDir, '--items', '12', '--shard-size', '3',
          '--verification', verification, '--json'], { timeout: 60_000 })
        const result = JSON.parse(stdout)
        assert.equal(result.items, 12)
        assert.equal(result.verification, verification)
        assert.deepEqual(result.outcomes, { checked: 4 })
        assert.equal(result.disputes, 0)
        assert.equal(result.receipts, 8, 'a countersigned receipt from each of the two peers per shard')
        assert.equal(result.wrongOutputs, 0)
        const workers = new Set([cluster.nodes[1].peerId, cluster.nodes[2].peerId])
        assert.ok(Object.keys(result.shardsPerPeer).every(p => workers.has(p)), 'only the onnx peers worked')
        assert.deepEqual(result.outputs, Array.from({ length: 12 }, (_, i) => [2 * i + 1, Math.fround(i / 4) * 2 + 1, -2 * i + 1]))
      })
    }

    it('a data dir with no node running: a clear error, exit 1', async () => {
      const err = await run(process.execPath, [BATCH_INFERENCE, '--data-dir', example('batch-inference'), '--json']).then(() => null, (e: any) => e)
      assert.notEqual(err, null)
      assert.equal(err.code, 1)
      assert.match(err.stderr, /^batch-inference: no running node in \S+ \(start one with: shardmesh node start/)
      assert.equal(err.stderr.split('\n').filter(Boolean).length, 1, 'one line, no stack')
    })
  })

  describe('multi-host: a chain and nodes on network namespaces with their own IPs', function () {
    this.timeout(240_000)

    it('a job across 3 hosts, every shard checked, its receipts anchored on host 0\'s chain, one verified on another host; all torn down', async function () {
      const result = await run('bash', [MULTI_HOST, '--hosts', '3', '--items', '12', '--json'], { timeout: 220_000 }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (err: any) => ({ code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string }))
      if (result.code === SKIPPED) {
        // loud: a skipped example is not a passing one
        console.warn(`\n  !!! examples/multi-host SKIPPED on this machine: ${result.stderr.trim()}\n`)
        this.skip()
      }
      assert.equal(result.code, 0, result.stderr)
      const summary = JSON.parse(result.stdout)
      assert.deepEqual(summary.hosts.map((h: any) => h.ip), ['10.77.0.11', '10.77.0.12', '10.77.0.13'])
      assert.equal(summary.job.items, 12)
      assert.equal(summary.job.shards, 6)
      assert.deepEqual(summary.job.outcomes, ['checked'])
      const runs = summary.job.shardRunsPerHost as Record<string, number>
      assert.equal(Object.values(runs).reduce((a, b) => a + b, 0), 12, 'two runs a shard')
      assert.ok(Object.keys(runs).every(ip => /^10\.77\.0\.1[1-3]$/.test(ip)), JSON.stringify(runs))
      assert.ok(Object.keys(runs).length >= 2, 'shards ran on at least two hosts')
      assert.equal(summary.receipts.total, 12)
      assert.equal(summary.receipts.anchored, 12)
      assert.equal(summary.verifiedOnHost.host, 3)
      assert.equal(summary.verifiedOnHost.result.ok, true)
      assert.ok(summary.receipts.anchorSignatures.includes(summary.verifiedOnHost.result.anchor.signature))
      // torn down: none of its namespaces is left
      const { stdout: left } = await run('ip', ['netns', 'list'])
      const prefix = String(summary.namespaces).replace('*', '')
      assert.match(prefix, /^nl\d+x\d+-$/)
      assert.ok(!left.split('\n').some(line => line.startsWith(prefix)), left)
      // and every process it started is gone (each one names the run's work dir in its arguments)
      assert.match(summary.workDir, /shardmesh-multi-host\./)
      const { stdout: ps } = await run('ps', ['-eo', 'pid,args'])
      assert.deepEqual(ps.split('\n').filter(line => line.includes(summary.workDir)), [])
    })

    it('a bad flag: exit 2 naming it', async () => {
      const err: any = await run('bash', [MULTI_HOST, '--hosts', '1']).then(() => null, e => e)
      assert.equal(err?.code, 2)
      assert.equal(err.stderr, "multi-host: --hosts: expected 2..20, got '1'\n")
    })
  })
})
