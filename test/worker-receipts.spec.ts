import assert from 'node:assert/strict'
import { LocalCluster } from '@shardmesh/cli/harness'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import { items } from './utils/items.js'

/**
 * Both sides hold proof: node 0 requests a replicate:2 job of nodes 1 and 2 (three node
 * processes, TCP, no chain); each worker's own store then holds the receipts of exactly the
 * shards of its own that node 0 accepted, countersigned by node 0, listed with the role
 * `worker`, and node 0 holds them all with the role `requester`.
 */
describe('workers keep the countersigned receipts of their accepted work', function () {
  this.timeout(180_000)
  let cluster: LocalCluster

  before(async () => {
    cluster = new LocalCluster({ nodes: 3, nodeArgs: () => ['--workload', 'echo', '--pool-size', '1'] })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
  })

  after(async () => {
    await cluster?.stop()
    for (const n of cluster?.nodes ?? []) {
      assert.ok(n.process.exitCode != null || n.process.signalCode != null, `node ${n.index} (pid ${n.pid}) still running`)
    }
  })

  async function list (i: number, ...args: string[]): Promise<any> {
    const res = await runCli(['receipts', 'list', '--data-dir', cluster.nodes[i].dataDir, '--json', ...args])
    assert.equal(res.code, 0, res.stderr)
    return JSON.parse(res.stdout)
  }

  it('receipts list --role worker on each worker lists exactly its accepted shards, countersigned by the requester', async () => {
    const requester = cluster.nodes[0].peerId
    const result = await cluster.nodes[0].control.runJob({
      workload: 'echo', items: items(12, 'w'), shardSize: 3, verification: 'replicate:2', peers: [1, 2].map(i => cluster.nodes[i].peerId), hedge: false
    })
    assert.equal(result.receipts.length, 8)
    const byWorker = new Map<string, string[]>()
    for (const r of result.receipts) {
      const v = await verifyReceipt(Buffer.from(r, 'base64'), { requireCountersignature: true })
      assert.equal(v.requester.toString(), requester)
      byWorker.set(v.worker.toString(), [...byWorker.get(v.worker.toString()) ?? [], Buffer.from(v.id).toString('hex')])
    }
    for (const i of [1, 2]) {
      const expected = (byWorker.get(cluster.nodes[i].peerId) ?? []).sort()
      assert.equal(expected.length, 4)
      await waitFor(async () => (await list(i, '--role', 'worker')).total >= expected.length, `node ${i} kept its receipts`, { timeout: 30_000 })
      const worker = await list(i, '--role', 'worker')
      assert.deepEqual(worker.receipts.map((r: any) => r.id).sort(), expected)
      for (const row of worker.receipts) {
        assert.equal(row.role, 'worker')
        assert.equal(row.worker, cluster.nodes[i].peerId)
        assert.equal(row.requester, requester)
        assert.equal(row.jobId, result.jobId)
        assert.equal(row.batch, null, 'a worker does not batch its requester\'s receipts')
      }
      // the node checked both signatures before it kept it; show reads the countersignature back
      const shown = await runCli(['receipts', 'show', worker.receipts[0].id, '--data-dir', cluster.nodes[i].dataDir, '--json'])
      assert.equal(shown.code, 0, shown.stderr)
      assert.deepEqual(JSON.parse(shown.stdout).receipt.verification, { policy: 'replicate:2', outcome: 'checked' })
      assert.equal((await list(i, '--role', 'requester')).total, 0)
      // both roles by default, with a role column
      const text = await runCli(['receipts', 'list', '--data-dir', cluster.nodes[i].dataDir])
      assert.equal(text.code, 0, text.stderr)
      assert.match(text.stdout, /\brole\b/)
      assert.match(text.stdout, /\bworker\b/)
    }
    const own = await list(0, '--role', 'requester')
    assert.equal(own.total, 8)
    assert.ok(own.receipts.every((r: any) => r.role === 'requester'))
    assert.equal((await list(0, '--role', 'worker')).total, 0)
    assert.equal((await list(0)).total, 8)

    const bad = await runCli(['receipts', 'list', '--role', 'boss', '--data-dir', cluster.nodes[0].dataDir])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--role is worker or requester/)
  })
})
