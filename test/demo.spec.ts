import assert from 'node:assert/strict'
import { runCli } from './utils/run-cli.js'

describe('shardmesh demo (the main job, as a user runs it)', function () {
  this.timeout(240_000)

  it('shards a generated OCR batch across a local cluster, reads it, and anchors every receipt on the local chain', async () => {
    const { code, stdout, stderr } = await runCli(['demo', '--json'], { timeout: 230_000 })
    assert.equal(code, 0, stderr + stdout)
    const demo = JSON.parse(stdout)
    assert.equal(demo.ok, true)
    assert.equal(demo.nodes, 4)
    assert.equal(demo.items, 120)
    assert.ok(demo.accuracy.charAccuracyNoSpaces >= 0.95, JSON.stringify(demo.accuracy))
    // work spread over every node, and every item accounted for exactly once
    assert.equal(demo.peers.length, 4)
    for (const p of demo.peers) {
      assert.ok(p.shards > 0, `node ${p.node} did no work: ${JSON.stringify(demo.peers)}`)
    }
    assert.equal(demo.peers.reduce((sum: number, p: { items: number }) => sum + p.items, 0), 120)
    assert.equal(demo.localMatchesMesh, true)
    assert.ok(demo.throughput.meshItemsPerSec > 0 && demo.throughput.localItemsPerSec > 0)
    assert.equal(demo.throughput.ratio, demo.throughput.meshItemsPerSec / demo.throughput.localItemsPerSec)
    // every receipt (one per shard) anchored in batches, each paid by one 5,000-lamport signature
    const { receipts } = demo
    assert.equal(receipts.count, demo.job.shards)
    assert.equal(receipts.anchored, receipts.count)
    assert.ok(receipts.batches >= 1 && receipts.batches <= receipts.count)
    assert.equal(receipts.lamportsPerReceipt, 5_000 * receipts.batches / receipts.count)
    assert.equal(receipts.verified.ok, true, JSON.stringify(receipts.verified))
    assert.match(receipts.verified.signature, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/)
  })
})
