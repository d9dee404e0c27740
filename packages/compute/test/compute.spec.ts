import assert from 'node:assert/strict'
import { echo, sleep } from '@shardmesh/workloads'
import { verifyReceipt } from '@shardmesh/receipts'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'

describe('compute: jobs across in-memory peers', () => {
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('runs an echo job on three peers and returns every output in order', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }, { workloads: [echo()] }, { workloads: [echo()] }])
    const items = bytes(50)
    const result = await nodes[0].services.compute.run({ workload: 'echo', items, shardSize: 3 }, { peers: nodes.map(n => n.peerId) })
    assert.deepEqual(result.outputs.map(o => Buffer.from(o).toString()), items.map(i => Buffer.from(i).toString()))
    assert.equal(result.shards.length, 17)
    assert.equal(result.receipts.length, 17)
    const r = await verifyReceipt(result.receipts[0])
    assert.ok(r.requester.equals(nodes[0].peerId))
    assert.ok(result.peers.every(p => p.shards > 0), JSON.stringify(result.peers))
  })

  it('gives faster peers more shards', async () => {
    nodes = await computeNodes([{ workloads: [sleep({ msPerItem: 1 })] }, { workloads: [sleep({ msPerItem: 1 })] }, { workloads: [sleep({ msPerItem: 20 })] }])
    const result = await nodes[0].services.compute.run({ workload: 'sleep', items: bytes(60), shardSize: 2 }, { peers: nodes.slice(1).map(n => n.peerId), hedge: false })
    const fast = result.peers.find(p => p.peerId === nodes[1].peerId.toString())
    const slow = result.peers.find(p => p.peerId === nodes[2].peerId.toString())
    assert.ok(fast != null && slow != null)
    assert.ok(fast.shards > slow.shards * 2, `fast ${fast.shards} slow ${slow.shards}`)
  })
})
