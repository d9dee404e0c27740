import assert from 'node:assert/strict'
import { verifyReceipt } from '@shardmesh/receipts'
import { echo } from '@shardmesh/workloads'
import { runs } from './fixtures/test-kernel.js'
import { allIdle, bytes, computeNodes, stopAll, texts } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { ComputeInit, JobResult } from '../src/index.js'

function id (node: ComputeNode): string {
  return node.peerId.toString()
}

describe('compute: verification', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  /** A requester that offers nothing and one worker per init; `liar` returns wrong answers. */
  async function mesh (...workers: Array<'honest' | 'liar'>): Promise<void> {
    nodes = await computeNodes([
      { workloads: [echo()], offer: [] },
      ...workers.map((w): ComputeInit => ({ workloads: [echo()], faults: w === 'liar' ? { wrongAnswers: true } : undefined }))
    ])
  }

  async function run (items: Uint8Array[], verification: string, shardSize = 3): Promise<JobResult> {
    return nodes[0].services.compute.run({ workload: 'echo', items, shardSize }, { peers: nodes.slice(1).map(n => n.peerId), verification })
  }

  async function checkReceipts (result: JobResult, liar?: string): Promise<void> {
    for (const bytes of result.receipts) {
      const r = await verifyReceipt(bytes, { requester: nodes[0].peerId })
      assert.equal(r.countersigned, true)
      assert.equal(r.verification?.policy, result.verification)
      assert.equal(r.verification?.outcome, result.shards[r.shardIndex].outcome)
      assert.notEqual(r.worker.toString(), liar, 'a losing result was countersigned')
      assert.ok(result.shards[r.shardIndex].replicas.includes(r.worker.toString()))
    }
  }

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('replicate:3 with one liar of three: correct output, the liar loses every dispute, only winners are countersigned', async () => {
    await mesh('liar', 'honest', 'honest')
    const liar = id(nodes[1])
    const items = bytes(12)
    const result = await run(items, 'replicate:3')
    assert.equal(result.verification, 'replicate:3')
    assert.deepEqual(texts(result.outputs), texts(items))
    assert.equal(result.disputes.length, 4)
    for (const dispute of result.disputes) {
      assert.deepEqual(dispute.losers, [liar])
      assert.deepEqual([...dispute.winners].sort(), [id(nodes[2]), id(nodes[3])].sort())
    }
    for (const shard of result.shards) {
      assert.equal(shard.outcome, 'disputed')
      assert.equal(shard.replicas.length, 3)
      assert.notEqual(shard.peer, liar)
    }
    // two agreeing results per shard, each countersigned
    assert.equal(result.receipts.length, 8)
    await checkReceipts(result, liar)
  })

  it('replicate:3 with three honest peers: every shard checked, three receipts each, no dispute', async () => {
    await mesh('honest', 'honest', 'honest')
    const result = await run(bytes(6), 'replicate:3')
    assert.deepEqual(result.disputes, [])
    assert.ok(result.shards.every(s => s.outcome === 'checked' && s.replicas.length === 3))
    assert.equal(result.receipts.length, 6)
    await checkReceipts(result)
    // every peer ran every shard with an accepted result: each counts both shards and their items
    for (const peer of result.peers) {
      assert.deepEqual([peer.shards, peer.items, peer.results, peer.failures], [2, 6, 2, 0], JSON.stringify(peer))
    }
  })

  it('a peer whose result lost a dispute counts it as a result, not as a shard it completed', async () => {
    await mesh('liar', 'honest', 'honest')
    const result = await run(bytes(6), 'replicate:3')
    const liar = result.peers.find(p => p.peerId === id(nodes[1]))
    assert.deepEqual([liar?.shards, liar?.items, liar?.results], [0, 0, 2])
    assert.ok(result.peers.filter(p => p !== liar).every(p => p.shards === 2 && p.items === 6))
  })

  it('spot-check:1 with a liar: every disputed shard is settled by a third peer against the liar', async () => {
    await mesh('liar', 'honest', 'honest')
    const liar = id(nodes[1])
    const items = bytes(18)
    const result = await run(items, 'spot-check:1')
    assert.deepEqual(texts(result.outputs), texts(items))
    assert.ok(result.disputes.length > 0, 'the liar was never caught')
    for (const dispute of result.disputes) {
      assert.deepEqual(dispute.losers, [liar])
      assert.equal(dispute.winners.length, 2)
      const shard = result.shards[dispute.shard]
      assert.equal(shard.outcome, 'disputed')
      assert.equal(shard.replicas.length, 3)
    }
    for (const shard of result.shards) {
      assert.notEqual(shard.peer, liar)
      assert.ok(shard.outcome === 'checked' || shard.outcome === 'disputed')
      assert.equal(shard.outcome === 'disputed', shard.replicas.includes(liar))
    }
    await checkReceipts(result, liar)
  })

  it('spot-check:1 with only two peers, one lying: DisputeUnresolvedError', async () => {
    await mesh('liar', 'honest')
    await assert.rejects(run(bytes(6), 'spot-check:1'), (err: any) => {
      assert.equal(err.name, 'DisputeUnresolvedError')
      assert.equal(err.code, 'ERR_DISPUTE_UNRESOLVED')
      assert.match(err.message, /needs results from 3 distinct peers to settle a dispute and has 2; no peer is left to ask \(2 peers left: /)
      assert.match(err.message, new RegExp(`${id(nodes[1])} \\(returned a result\\)`))
      return true
    })
    await allIdle(nodes.slice(1))
  })

  it('spot-check:0 checks nothing; none accepts every first answer, even a lie', async () => {
    await mesh('honest', 'honest')
    const result = await run(bytes(6), 'spot-check:0')
    assert.ok(result.shards.every(s => s.outcome === 'accepted' && s.replicas.length === 1))
    await stopAll(nodes)
    await mesh('liar')
    const lied = await run(bytes(3), 'none')
    assert.notDeepEqual(texts(lied.outputs), texts(bytes(3)))
    assert.equal(lied.shards[0].outcome, 'accepted')
  })

  describe('a policy that needs more distinct peers than offer the workload is refused before any work runs', () => {
    /** no worker ran or refused anything */
    function nothingSent (): void {
      for (const node of nodes) {
        const stats = node.services.compute.stats()
        assert.equal(stats.shardsServed + stats.shardsFailed + stats.active + stats.queued, 0)
      }
    }

    it('replicate:4 on 3 peers: NotEnoughPeersError naming the policy, the workload and the peers', async () => {
      await mesh('honest', 'honest', 'honest')
      await assert.rejects(run(bytes(6), 'replicate:4'), (err: any) => {
        assert.equal(err.name, 'NotEnoughPeersError')
        assert.equal(err.code, 'ERR_NOT_ENOUGH_PEERS')
        assert.match(err.message, /^replicate:4 needs 4 distinct peers offering echo@1\.0\.0 and of the peers the job named, only 3 do: /)
        for (const node of nodes.slice(1)) {
          assert.ok(err.message.includes(id(node)), err.message)
        }
        return true
      })
      nothingSent()
      // replicate:3 on the same peers runs
      assert.equal((await run(bytes(6), 'replicate:3')).outputs.length, 6)
    })

    it('spot-check on a lone node that serves the workload itself: it counts as one peer, a check needs two', async () => {
      nodes = await computeNodes([{ workloads: [testWorkload()] }])
      const alone = nodes[0].services.compute
      runs.clear()
      await assert.rejects(alone.run({ workload: 'test', items: bytes(200), shardSize: 8 }, { verification: 'spot-check:0.1' }), (err: any) => {
        assert.equal(err.name, 'NotEnoughPeersError')
        assert.equal(err.message, `spot-check:0.1 needs 2 distinct peers offering test@1.0.0 and only 1 does: ${id(nodes[0])} (this node)`)
        return true
      })
      assert.equal(runs.size, 0, 'the node ran shards of a job it refused')
      // spot-check:0 checks nothing, so one peer is enough
      const result = await alone.run({ workload: 'test', items: bytes(16), shardSize: 8 }, { verification: 'spot-check:0' })
      assert.equal(result.outputs.length, 16)
    })

    it('this node counts when the job includes it, and the refusal says so when it does not', async () => {
      nodes = await computeNodes([{ workloads: [echo()] }, { workloads: [echo()] }])
      const [self, worker] = nodes.map(n => n.peerId)
      const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 3 }, { verification: 'replicate:2', peers: [self, worker] })
      assert.deepEqual(result.peers.map(p => [p.local, p.shards]).sort(), [[false, 2], [true, 2]])
      await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(6), shardSize: 3 }, { verification: 'replicate:2', peers: [worker] }), (err: any) => {
        assert.equal(err.name, 'NotEnoughPeersError')
        assert.match(err.message, /only 1 does: \S+; this node offers it too and would count if the job included it$/)
        return true
      })
    })
  })

  it('refuses a malformed verification policy', async () => {
    await mesh('honest')
    for (const bad of ['replicate:0', 'replicate:8', 'spot-check:2', 'spot-check', 'all']) {
      await assert.rejects(run(bytes(1), bad), RangeError, bad)
    }
  })
})
