import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { LocalCluster } from '@shardmesh/cli/harness'
import { constants } from '@shardmesh/capabilities'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { items } from './utils/items.js'

/** Preloaded into a node process: its wall clock reads SHARDMESH_TEST_CLOCK_SKEW_MS off. */
const SKEWED_CLOCK = fileURLToPath(new URL('../../test/fixtures/clock-skew.mjs', import.meta.url))
/** The skew tolerated between two peers (60 s): two nodes each within 30 s of true time. */
const TOLERATED = constants.MAX_CLOCK_SKEW
const SKEW = 30_000

/**
 * Node processes whose wall clocks disagree: node 0 is right, node 1 lags by 30 s, node 2 leads
 * by 30 s (so nodes 1 and 2 are 60 s apart), and node 3 leads by 60 s more than the tolerance.
 * Nodes 0-2 must interoperate as if their clocks agreed (adverts, jobs, receipts countersigned
 * and anchored on a chain whose clock is right, proofs pulled by the workers); node 3 is refused
 * by every other node, and it refuses them, each refusal counted under its reason.
 */
describe('clocks skewed by ±30 s: nodes interoperate; beyond the tolerance they are refused with a reason', function () {
  this.timeout(240_000)
  const OFFSETS = [0, -SKEW, SKEW, TOLERATED + 60_000]
  let cluster: LocalCluster

  before(async () => {
    cluster = new LocalCluster({
      nodes: OFFSETS.length,
      solana: 'local',
      advertTtl: '30s',
      refresh: '2s',
      nodeExecArgv: () => ['--import', SKEWED_CLOCK],
      nodeEnv: i => ({ SHARDMESH_TEST_CLOCK_SKEW_MS: String(OFFSETS[i]) }),
      nodeArgs: () => ['--workload', 'echo', '--pool-size', '1', '--receipt-batch-interval', '200ms', '--challenge-interval', 'off']
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 90_000, among: [0, 1, 2] })
  })

  after(async () => {
    await cluster?.stop()
    for (const child of [...(cluster?.nodes ?? []).map(n => n.process), cluster?.chain?.process]) {
      assert.ok(child == null || child.exitCode != null || child.signalCode != null, `pid ${child?.pid} still running`)
    }
  })

  it('each of the three holds the others, reads the lagging clock as lagging and the leading one as leading, and none of them holds the node 2 min ahead', async () => {
    const rows = await Promise.all([0, 1, 2].map(async i => cluster.peersOf(i)))
    const ids = cluster.nodes.map(n => n.peerId)
    for (const [i, peers] of rows.entries()) {
      const held = new Set(peers.map(p => p.peerId))
      for (const j of [0, 1, 2].filter(j => j !== i)) {
        assert.ok(held.has(ids[j]), `node ${i} does not hold node ${j}`)
      }
      assert.ok(!held.has(ids[3]), `node ${i} holds the node whose clock is 2 min ahead`)
    }
    const at0 = new Map(rows[0].map(p => [p.peerId, p]))
    // node 1's adverts arrive 30 s old by node 0's clock, plus the delivery delay
    assert.ok((at0.get(ids[1])?.clockOffset ?? 0) >= SKEW, JSON.stringify(at0.get(ids[1])))
    // node 2's arrive 30 s early, less the delivery delay
    const early = at0.get(ids[2])?.clockOffset ?? 0
    assert.ok(early >= -SKEW && early < 0, JSON.stringify(at0.get(ids[2])))
    for (const j of [1, 2]) {
      const row = at0.get(ids[j])
      assert.ok(row != null)
      // held for its TTL on node 0's clock, and its age is read on that clock too
      assert.ok(row.heldUntil - row.localIssuedAt === 30_000, JSON.stringify(row))
      assert.ok(row.ageMs < 30_000, JSON.stringify(row))
    }
  })

  it('jobs run each way between the three; every receipt verifies, is anchored once and reaches its worker with its proof', async () => {
    const ids = cluster.nodes.map(n => n.peerId)
    const accepted = new Map<string, string[]>()
    for (const requester of [0, 1, 2]) {
      const workers = [0, 1, 2].filter(i => i !== requester)
      const sent = items(8, `skew-${requester}`)
      const result = await cluster.nodes[requester].control.runJob({ workload: 'echo', items: sent, shardSize: 2, peers: workers.map(i => ids[i]), includeSelf: false })
      assert.deepEqual(result.outputs, sent, `node ${requester}'s job`)
      assert.equal(result.receipts.length, 4)
      for (const r of result.receipts) {
        const receipt = await verifyReceipt(Buffer.from(r, 'base64'), { requireCountersignature: true })
        assert.equal(receipt.requester.toString(), ids[requester])
        const worker = receipt.worker.toString()
        assert.ok(workers.some(w => ids[w] === worker), `a receipt names ${worker}`)
        accepted.set(worker, [...(accepted.get(worker) ?? []), Buffer.from(receipt.id).toString('hex')])
      }
    }
    for (const i of [0, 1, 2]) {
      await cluster.nodes[i].control.flushReceipts(60_000)
      const mine = await cluster.nodes[i].control.receipts({ role: 'requester', limit: 100 })
      assert.equal(mine.total, 4, `node ${i} as the requester`)
      assert.ok(mine.receipts.every(r => r.anchor?.by === 'requester'), JSON.stringify(mine.receipts))
    }
    // each worker ends with exactly the receipts of its accepted shards, each with its proof
    for (const i of [0, 1, 2]) {
      const want = [...(accepted.get(ids[i]) ?? [])].sort()
      const held = await waitFor(async () => {
        await cluster.nodes[i].control.pullReceiptProofs()
        const listed = await cluster.nodes[i].control.receipts({ role: 'worker', anchored: true, limit: 100 })
        return listed.total === want.length ? listed : undefined
      }, `node ${i} to hold the proofs of its ${want.length} receipts`, { timeout: 90_000, interval: 1000 })
      assert.deepEqual(held.receipts.map(r => r.id).sort(), want)
    }
  })

  it('the node 2 min ahead is refused by each of the others as clock-skew, and refuses their adverts as expired', async () => {
    const reject = (metrics: string, reason: string): number =>
      Number(new RegExp(`^shardmesh_capabilities_adverts_rejected_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0)
    for (const i of [0, 1, 2]) {
      await waitFor(async () => reject(await cluster.nodes[i].control.metrics(), 'clock-skew') > 0,
        `node ${i} to count node 3's adverts as clock-skew`, { timeout: 60_000, interval: 1000 })
    }
    await waitFor(async () => reject(await cluster.nodes[3].control.metrics(), 'expired') > 0,
      'node 3 to count the others\' adverts as expired', { timeout: 60_000, interval: 1000 })
    assert.deepEqual((await cluster.peersOf(3)).map(p => p.peerId).filter(id => id !== cluster.nodes[3].peerId), [])
  })
})
