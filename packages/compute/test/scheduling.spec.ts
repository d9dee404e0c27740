import assert from 'node:assert/strict'
import { waitFor } from '@shardmesh/test-utils'
import { echo, sleep } from '@shardmesh/workloads'
import { allIdle, bytes, computeNodes, stopAll, texts } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'

function id (node: ComputeNode): string {
  return node.peerId.toString()
}

describe('compute: scheduling and placement', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  describe('hedging', () => {
    it('a straggler is hedged on an idle peer: the job does not wait for it', async () => {
      nodes = await computeNodes([
        { workloads: [sleep()], offer: [] },
        // ten minutes a shard, and no idle timeout that would give up on it first: the job can
        // finish only if its shards were hedged elsewhere
        { workloads: [sleep({ msPerItem: 600_000 })] },
        { workloads: [sleep({ msPerItem: 10 })] },
        { workloads: [sleep({ msPerItem: 10 })] }
      ])
      const slow = id(nodes[1])
      const items = bytes(20)
      const result = await nodes[0].services.compute.run({ workload: 'sleep', items, shardSize: 1 }, { peers: nodes.slice(1).map(n => n.peerId), idleTimeout: 3_600_000 })
      assert.deepEqual(texts(result.outputs), texts(items))
      const hedged = result.shards.filter(s => s.hedged)
      assert.ok(hedged.length > 0, 'nothing was hedged')
      for (const shard of hedged) {
        assert.notEqual(shard.peer, slow)
        assert.equal(shard.attempts, 2)
        assert.deepEqual(shard.errors, [], 'the cancelled straggler is not an error')
      }
      // every shard the slow peer held was hedged, and the slow peer won none
      assert.equal(result.peers.find(p => p.peerId === slow)?.shards, 0)
      assert.equal(hedged.length, result.peers.find(p => p.peerId === slow)?.attempts)
      // the straggler was cancelled on the slow worker
      await allIdle([nodes[1]])
    })

    it('hedge: false waits for the straggler', async () => {
      nodes = await computeNodes([
        { workloads: [sleep()], offer: [] },
        { workloads: [sleep({ msPerItem: 300 })] },
        { workloads: [sleep({ msPerItem: 1 })] }
      ])
      const result = await nodes[0].services.compute.run({ workload: 'sleep', items: bytes(12), shardSize: 1 }, { peers: nodes.slice(1).map(n => n.peerId), hedge: false })
      assert.ok(result.shards.every(s => !s.hedged))
      assert.ok(result.peers.find(p => p.peerId === id(nodes[1]))!.shards > 0)
      assert.ok(result.elapsedMs >= 300)
    })
  })

  describe('the per-peer report', () => {
    it('separates the time a shard waited in the worker\'s queue from the time it ran there', async () => {
      // one slot and several shards in flight: each waits for the ones before it
      nodes = await computeNodes([
        { workloads: [testWorkload()], offer: [] },
        { workloads: [testWorkload({ msPerItem: 100 })], slots: 1 }
      ])
      const result = await nodes[0].services.compute.run({ workload: 'test', items: bytes(4), shardSize: 1 }, { peers: [nodes[1].peerId], hedge: false })
      const [peer] = result.peers
      assert.equal(peer.results, 4)
      // each shard ran at least its 100 ms; the second one alone waited behind the first for as long
      assert.ok(peer.meanRunMs >= 95, JSON.stringify(peer))
      assert.ok(peer.meanQueueMs >= 95 / 4, JSON.stringify(peer))
      assert.ok(Math.abs(peer.meanShardMs - peer.meanRunMs - peer.meanQueueMs) <= 1, JSON.stringify(peer))
    })
  })

  describe('placement errors say why', () => {
    it('no peer offers the workload: NoPeersError', async () => {
      nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
      // no capabilities service, and this node does not offer echo
      await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(2) }), (err: any) => {
        assert.equal(err.name, 'NoPeersError')
        assert.equal(err.code, 'ERR_NO_PEERS')
        assert.match(err.message, /no peer offers workload echo@1\.0\.0/)
        return true
      })
      await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(2) }, { peers: [] }), (err: any) => err.name === 'NoPeersError' && /named its peers/.test(err.message))
    })

    it('the named peers do not have the workload: NoPeersError naming their answers', async () => {
      nodes = await computeNodes([{ workloads: [echo(), testWorkload()], offer: [] }, { workloads: [echo()] }, { workloads: [echo()] }])
      await assert.rejects(nodes[0].services.compute.run({ workload: 'test', items: bytes(4), shardSize: 1 }, { peers: nodes.slice(1).map(n => n.peerId) }), (err: any) => {
        assert.equal(err.name, 'NoPeersError')
        assert.match(err.message, /no peer offers workload test@1\.0\.0/)
        assert.match(err.message, /ERR_UNKNOWN_WORKLOAD/)
        return true
      })
    })

    it('a workload the requester does not know fails before anything is sent', async () => {
      nodes = await computeNodes([{ workloads: [echo()] }])
      await assert.rejects(nodes[0].services.compute.run({ workload: 'ocr-rec', items: bytes(1) }), (err: any) => {
        assert.equal(err.name, 'UnknownWorkloadError')
        assert.match(err.message, /installed: echo@1\.0\.0/)
        return true
      })
    })

    it('every peer refuses us (deny and allow lists): AllExcludedError with each peer\'s reason', async () => {
      nodes = await computeNodes([{ workloads: [echo()], offer: [] }])
      const me = nodes[0].peerId.toString()
      const workers = await computeNodes([{ workloads: [echo()], deny: [me] }, { workloads: [echo()], allow: ['12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'] }])
      nodes.push(...workers)
      for (const w of workers) {
        await nodes[0].dial(w.getMultiaddrs())
      }
      // refused, not busy: the job fails as soon as every peer has said no, long before a queue timeout
      await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 1 }, { peers: workers.map(n => n.peerId), queueTimeout: 3_600_000 }), (err: any) => {
        assert.equal(err.name, 'AllExcludedError')
        assert.equal(err.code, 'ERR_ALL_EXCLUDED')
        for (const w of workers) {
          assert.match(err.message, new RegExp(`${id(w)} \\(ERR_NOT_ALLOWED`))
        }
        assert.match(err.message, /does not accept shards from you/)
        return true
      })
    })

    it('all busy past queueTimeout: AllBusyError; with a longer queueTimeout the job runs once the peer frees up', async () => {
      // one slot, no queue: while another requester's shard runs (it hangs until that requester
      // cancels it), this worker refuses everything
      nodes = await computeNodes([
        { workloads: [testWorkload()], offer: [] },
        { workloads: [testWorkload()], slots: 1, maxQueue: 0 },
        { workloads: [testWorkload()], offer: [] }
      ])
      const worker = nodes[1]
      await nodes[2].dial(worker.getMultiaddrs())
      const blocker = new AbortController()
      const other = nodes[2].services.compute.run({ workload: 'test', items: [new TextEncoder().encode('hang')] }, { peers: [worker.peerId], signal: blocker.signal })
        .then(() => 'done', (err: Error) => err.name)
      await waitFor(() => worker.services.compute.stats().active === 1, 'a shard running')
      const job = { workload: 'test', items: bytes(1) }
      const started = Date.now()
      await assert.rejects(nodes[0].services.compute.run(job, { peers: [worker.peerId], queueTimeout: 300 }), (err: any) => {
        assert.equal(err.name, 'AllBusyError')
        assert.equal(err.code, 'ERR_ALL_BUSY')
        assert.match(err.message, /300 ms/)
        return true
      })
      assert.ok(Date.now() - started >= 300, 'gave up before queueTimeout')
      // the same job, willing to wait: refused while the worker is busy, it runs once it is free
      const events: string[] = []
      const refusedBefore = worker.services.compute.stats().shardsFailed
      const waiting = nodes[0].services.compute.run(job, { peers: [worker.peerId], queueTimeout: 3_600_000 })
        .then((result) => { events.push('ran'); return result })
      await waitFor(() => worker.services.compute.stats().shardsFailed > refusedBefore, 'the worker refused the waiting job')
      events.push('freed')
      blocker.abort()
      const result = await waiting
      assert.equal(result.outputs.length, 1)
      assert.deepEqual(events, ['freed', 'ran'])
      assert.equal(await other, 'JobAbortedError')
      await allIdle([worker])
    })
  })
})
