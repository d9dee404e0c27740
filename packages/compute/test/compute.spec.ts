import assert from 'node:assert/strict'
import { waitFor } from '@shardmesh/test-utils'
import { echo, sleep } from '@shardmesh/workloads'
import { verifyReceipt } from '@shardmesh/receipts'
import { closeGate, openGate } from './fixtures/test-kernel.js'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { JobProgress } from '../src/index.js'

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

  it('gives faster peers more shards: a peer gets another shard only when its window has room', async () => {
    // the slow peer answers nothing until the gate opens: whatever the machine's speed, the
    // fast peers can take every shard but the few in the slow peer's window
    closeGate()
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }, { workloads: [testWorkload()] }, { workloads: [testWorkload({ mode: 'gated' })] }])
    const slowWorker = nodes[2].services.compute
    const held = (): number => slowWorker.stats().active + slowWorker.stats().queued
    let done = 0
    const job = nodes[0].services.compute.run({ workload: 'test', items: bytes(60), shardSize: 2 }, {
      peers: nodes.slice(1).map(n => n.peerId),
      hedge: false,
      onProgress: (p) => { done = p.shardsDone }
    })
    await waitFor(() => held() > 0 && done + held() === 30, 'the fast peer done with all but the slow peer\'s shards')
    const window = held()
    openGate()
    const result = await job
    const fast = result.peers.find(p => p.peerId === nodes[1].peerId.toString())
    const slow = result.peers.find(p => p.peerId === nodes[2].peerId.toString())
    assert.ok(fast != null && slow != null)
    assert.equal(slow.shards, window)
    assert.equal(fast.shards, 30 - window)
    assert.ok(fast.shards > slow.shards * 2, `fast ${fast.shards} slow ${slow.shards}`)
  })
})

describe('compute: jobs side by side, locally, and across a stop', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('runs two jobs of one requester and one of another on the same workers at once, each output its own', async () => {
    nodes = await computeNodes([{ workloads: [sleep({ msPerItem: 5 })] }, { workloads: [sleep({ msPerItem: 5 })] }, { workloads: [sleep({ msPerItem: 5 })] }, { workloads: [sleep({ msPerItem: 5 })], offer: [] }])
    const workers = nodes.slice(1, 3)
    for (const w of workers) {
      await nodes[3].dial(w.getMultiaddrs())
    }
    const jobs = [
      nodes[0].services.compute.run({ workload: 'sleep', items: bytes(30).map(b => Buffer.concat([Buffer.from('a:'), b])), shardSize: 2 }, { peers: workers.map(n => n.peerId) }),
      nodes[0].services.compute.run({ workload: 'sleep', items: bytes(25).map(b => Buffer.concat([Buffer.from('b:'), b])), shardSize: 3 }, { peers: workers.map(n => n.peerId) }),
      nodes[3].services.compute.run({ workload: 'sleep', items: bytes(20).map(b => Buffer.concat([Buffer.from('c:'), b])), shardSize: 1 }, { peers: workers.map(n => n.peerId) })
    ]
    const [a, b, c] = await Promise.all(jobs)
    assert.deepEqual(a.outputs.map(o => Buffer.from(o).toString()), bytes(30).map(i => `a:${Buffer.from(i).toString()}`))
    assert.deepEqual(b.outputs.map(o => Buffer.from(o).toString()), bytes(25).map(i => `b:${Buffer.from(i).toString()}`))
    assert.deepEqual(c.outputs.map(o => Buffer.from(o).toString()), bytes(20).map(i => `c:${Buffer.from(i).toString()}`))
    assert.notEqual(a.jobId, b.jobId)
    // one reused stream per requester and worker, whatever the number of jobs
    for (const w of workers) {
      assert.ok(w.services.compute.stats().openStreams <= 2)
    }
  })

  it('reports progress after every accepted shard', async () => {
    nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
    const seen: JobProgress[] = []
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(10), shardSize: 3 }, { peers: [nodes[1].peerId], onProgress: (p) => seen.push(p) })
    assert.deepEqual(seen.map(p => p.shardsDone), [1, 2, 3, 4])
    assert.ok(seen.every(p => p.shardsTotal === 4 && p.itemsTotal === 10))
    assert.deepEqual(seen.map(p => p.itemsDone).at(-1), 10)
    assert.equal(result.items, 10)
  })

  it('counts a shard as done only after the receipt sink stored its receipts', async () => {
    nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
    const stored: Uint8Array[] = []
    const events: string[] = []
    const receiptSink = {
      async store (receipts: Uint8Array[]): Promise<void> {
        events.push('store-start')
        await new Promise(resolve => setTimeout(resolve, 5))
        stored.push(...receipts)
        events.push('store-end')
      }
    }
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(9), shardSize: 3 }, {
      peers: [nodes[1].peerId],
      receiptSink,
      onProgress: (p) => { events.push(`progress:${p.shardsDone}:${stored.length}`) }
    })
    assert.equal(stored.length, 3)
    assert.deepEqual(
      new Set(result.receipts.map(r => Buffer.from(r).toString('hex'))),
      new Set(stored.map(r => Buffer.from(r).toString('hex')))
    )
    // every progress event comes after a completed store that covers it
    for (const e of events.filter(e => e.startsWith('progress:'))) {
      const [, done, storedThen] = e.split(':').map(Number)
      assert.ok(storedThen >= done, e)
    }
  })

  it('fails the job when the receipt sink cannot store a receipt', async () => {
    nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
    const receiptSink = {
      async store (): Promise<void> {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
      }
    }
    await assert.rejects(
      nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 3 }, { peers: [nodes[1].peerId], receiptSink }),
      /disk full/
    )
  })

  it('without peers, a node that offers the workload runs the job itself', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }])
    const items = bytes(7)
    const result = await nodes[0].services.compute.run({ workload: 'echo', items, shardSize: 2 })
    assert.deepEqual(result.outputs.map(o => Buffer.from(o).toString()), items.map(i => Buffer.from(i).toString()))
    assert.deepEqual(result.peers.map(p => [p.peerId, p.local]), [[nodes[0].peerId.toString(), true]])
    const receipt = await verifyReceipt(result.receipts[0], { worker: nodes[0].peerId, requester: nodes[0].peerId })
    assert.equal(receipt.countersigned, true)
    assert.equal(nodes[0].services.compute.stats().shardsServed, 0, 'local shards are not served to others')
  })

  it('stopping the requester\'s node fails its running job with JobAbortedError', async () => {
    nodes = await computeNodes([{ workloads: [sleep()], offer: [] }, { workloads: [sleep({ msPerItem: 100 })] }])
    const job = nodes[0].services.compute.run({ workload: 'sleep', items: bytes(40), shardSize: 2 }, { peers: [nodes[1].peerId] })
    const outcome = job.then(() => undefined, (err: Error) => err)
    await waitFor(() => nodes[1].services.compute.stats().active === 1, 'a shard running')
    await nodes[0].stop()
    // the job did not run to its end: it failed for the stop, and its shard was let go
    const err = await outcome
    assert.equal(err?.name, 'JobAbortedError', `${err?.name}: ${err?.message}`)
    await waitFor(() => nodes[1].services.compute.stats().active === 0, 'worker idle')
  })
})
