import assert from 'node:assert/strict'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { echo } from '@shardmesh/workloads'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'
import type { ComputeInit, JobResult, ReceiptSink } from '../src/index.js'

/** A worker receipt sink that keeps what it is given, in memory. */
function sink (): ReceiptSink & { kept: Uint8Array[] } {
  const kept: Uint8Array[] = []
  return { kept, store: async (receipts) => { kept.push(...receipts) } }
}

function hex (list: Uint8Array[]): string[] {
  return list.map(b => Buffer.from(b).toString('hex')).sort()
}

describe('compute: workers keep the countersigned receipts of their accepted work', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  /** The receipts of a job's result naming `worker`. */
  async function receiptsOf (result: JobResult, worker: ComputeNode): Promise<Uint8Array[]> {
    const mine: Uint8Array[] = []
    for (const r of result.receipts) {
      if ((await verifyReceipt(r)).worker.equals(worker.peerId)) {
        mine.push(r)
      }
    }
    return mine
  }

  it('replicate:2: each of both workers keeps exactly its own countersigned receipts; the requester keeps its own as usual', async () => {
    const sinks = [sink(), sink(), sink()]
    const requesterSink = sink()
    nodes = await computeNodes([
      { workloads: [echo()], offer: [], receiptSink: requesterSink, workerReceiptSink: sinks[0] },
      { workloads: [echo()], workerReceiptSink: sinks[1] },
      { workloads: [echo()], workerReceiptSink: sinks[2] }
    ])
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(12), shardSize: 3 }, { peers: [nodes[1].peerId, nodes[2].peerId], verification: 'replicate:2' })
    assert.equal(result.receipts.length, 8)
    assert.deepEqual(hex(requesterSink.kept), hex(result.receipts))
    for (const i of [1, 2]) {
      const mine = await receiptsOf(result, nodes[i])
      assert.equal(mine.length, 4)
      await waitFor(() => sinks[i].kept.length >= mine.length, `worker ${i} kept its receipts`, { timeout: 10_000 })
      assert.deepEqual(hex(sinks[i].kept), hex(mine))
      for (const r of sinks[i].kept) {
        const v = await verifyReceipt(r, { requireCountersignature: true, worker: nodes[i].peerId, requester: nodes[0].peerId })
        assert.equal(v.verification?.policy, 'replicate:2')
      }
    }
    assert.deepEqual(sinks[0].kept, [], 'the requester did no work of its own')
  })

  it('replicate:3 with a liar: the honest workers keep their own, the dispute loser keeps none', async () => {
    const sinks = [sink(), sink(), sink()]
    nodes = await computeNodes([
      { workloads: [echo()], offer: [] },
      ...[1, 2, 3].map((i): ComputeInit => ({ workloads: [echo()], workerReceiptSink: sinks[i - 1], faults: i === 1 ? { wrongAnswers: true } : undefined }))
    ])
    const peers = nodes.slice(1).map(n => n.peerId)
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 3 }, { peers, verification: 'replicate:3' })
    assert.equal(result.disputes.length, 2)
    for (const i of [2, 3]) {
      const mine = await receiptsOf(result, nodes[i])
      assert.equal(mine.length, 2)
      await waitFor(() => sinks[i - 1].kept.length >= mine.length, `worker ${i} kept its receipts`, { timeout: 10_000 })
      assert.deepEqual(hex(sinks[i - 1].kept), hex(mine))
    }
    assert.deepEqual(await receiptsOf(result, nodes[1]), [])
    assert.deepEqual(sinks[0].kept, [], 'the liar keeps nothing')
  })

  it('a requester with returnReceipts: false sends none back', async () => {
    const kept = sink()
    nodes = await computeNodes([
      { workloads: [echo()], offer: [], returnReceipts: false },
      { workloads: [echo()], workerReceiptSink: kept }
    ])
    await nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 3 }, { peers: [nodes[1].peerId] })
    // a second requester that sends receipts back: the worker keeps its receipt, and only it
    // (that the first sends none is proven without a network in return-receipts.spec)
    const other = (await computeNodes([{ workloads: [echo()], offer: [] }]))[0]
    nodes.push(other)
    await other.dial(nodes[1].getMultiaddrs())
    const second = await other.services.compute.run({ workload: 'echo', items: bytes(3), shardSize: 3 }, { peers: [nodes[1].peerId] })
    await waitFor(() => kept.kept.length >= 1, 'the second requester\'s receipt kept', { timeout: 10_000 })
    assert.deepEqual(hex(kept.kept), hex(second.receipts))
  })
})
