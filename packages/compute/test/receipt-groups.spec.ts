import assert from 'node:assert/strict'
import { decodeSignedReceipt } from '@shardmesh/protocol'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { closeGate, openGate } from './fixtures/test-kernel.js'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { PlacementPolicy } from '../src/index.js'

/** Every peer may hold `window` shards, and keeps it. */
function fixedWindow (window: number): PlacementPolicy {
  return { place: candidates => candidates.map(({ channel }) => ({ channel, window })), window: () => window }
}

/**
 * The wiring of group signatures: shards that finish in one turn on a worker come back with one
 * worker signature among them, and shards decided in one turn are countersigned with one; each
 * receipt still verifies alone and names its own shard.
 */
describe('compute: receipts of shards that finish together are signed as a group', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    openGate()
    await stopAll(nodes ?? [])
  })

  it('8 shards released at once: one worker signature and one countersignature cover all 8, each receipt verifies alone', async () => {
    closeGate()
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }, { workloads: [testWorkload({ mode: 'gated' })], slots: 8 }])
    const [requester, worker] = nodes
    const job = requester.services.compute.run({ workload: 'test', items: bytes(8), shardSize: 1 }, { peers: [worker.peerId], placement: fixedWindow(8), hedge: false })
    // every shard held by the worker's kernel: they can only finish together
    await waitFor(() => worker.services.compute.stats().active === 8, 'the worker runs all 8 shards')
    openGate()
    const result = await job
    assert.equal(result.receipts.length, 8)
    const decoded = result.receipts.map(r => decodeSignedReceipt(r))
    assert.equal(new Set(decoded.map(d => Buffer.from(d.workerSignature).toString('hex'))).size, 1, 'one worker signature')
    assert.equal(new Set(decoded.map(d => Buffer.from(d.requesterSignature).toString('hex'))).size, 1, 'one countersignature')
    const shards = new Set<number>()
    for (const [i, bytes] of result.receipts.entries()) {
      assert.equal(decoded[i].workerGroup?.count, 8)
      assert.equal(decoded[i].requesterGroup?.count, 8)
      const verified = await verifyReceipt(bytes, { worker: worker.peerId, requester: requester.peerId })
      shards.add(verified.shardIndex)
    }
    assert.deepEqual([...shards].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7])
  })

  it('a lone shard is signed alone, with no group', async () => {
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }, { workloads: [testWorkload()] }])
    const [requester, worker] = nodes
    const result = await requester.services.compute.run({ workload: 'test', items: bytes(1), shardSize: 1 }, { peers: [worker.peerId] })
    const [receipt] = result.receipts.map(r => decodeSignedReceipt(r))
    assert.equal(receipt.workerGroup, undefined)
    assert.equal(receipt.requesterGroup, undefined)
    await verifyReceipt(result.receipts[0])
  })
})
