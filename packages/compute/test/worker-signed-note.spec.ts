import assert from 'node:assert/strict'
import { decodeSignedReceipt, sha256Hex } from '@shardmesh/protocol'
import { echo } from '@shardmesh/workloads'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'
import type { ReceiptSink } from '../src/index.js'

/**
 * A worker notes each receipt it signs durably (the sink's `signed`) before the shard's result
 * leaves. Were the result sent first, a worker SIGKILLed between the two would never learn of a
 * receipt its requester accepted and stored: the countersigned copy sent back on that stream
 * never arrives, and the worker has nothing to ask for (the hole test/crash-storm.spec.ts kills into).
 */
describe('compute: a worker notes a signed receipt before it sends the result', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('the requester stores no receipt whose note the worker has not written yet', async () => {
    const events: string[] = []
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const idOf = (r: Uint8Array): string => sha256Hex(decodeSignedReceipt(r).receipt)
    const requesterSink: ReceiptSink = {
      store: async (receipts) => {
        events.push(...receipts.map(r => `stored ${idOf(r)}`))
        // a result that left before its note: let the note finish, the order is recorded already
        release()
      }
    }
    const workerSink: ReceiptSink = {
      store: async () => {},
      signed: async (list) => {
        // the note is written when the gate opens: on a timer, or once the requester stored the receipt
        setTimeout(release, 300).unref()
        await gate
        events.push(...list.map(s => `noted ${s.id}`))
      }
    }
    nodes = await computeNodes([
      { workloads: [echo()], offer: [], receiptSink: requesterSink },
      { workloads: [echo()], workerReceiptSink: workerSink }
    ])
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(2), shardSize: 2 }, { peers: [nodes[1].peerId], includeSelf: false, hedge: false })
    assert.equal(result.receipts.length, 1)
    const id = idOf(result.receipts[0])
    assert.deepEqual(events, [`noted ${id}`, `stored ${id}`])
  })
})
