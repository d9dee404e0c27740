import assert from 'node:assert/strict'
import { MAX_PEER_FAILURES } from '../src/constants.js'
import { defaultPlacement } from '../src/requester/placement.js'
import { runs } from './fixtures/test-kernel.js'
import { waitFor } from '@shardmesh/test-utils'
import { echo } from '@shardmesh/workloads'
import { allIdle, bytes, computeNodes, shardStreams, stopAll, texts } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { TestWorkloadParams } from './utils/workloads.js'
import type { ComputeInit, RunJobOptions } from '../src/index.js'

/** A requester that offers nothing, then one worker per behaviour. */
async function mesh (...workers: Array<TestWorkloadParams & { init?: ComputeInit }>): Promise<ComputeNode[]> {
  return computeNodes([
    { workloads: [testWorkload()], offer: [] },
    ...workers.map(({ init, ...params }) => ({ workloads: [testWorkload(params)], ...init }))
  ])
}

function id (node: ComputeNode): string {
  return node.peerId.toString()
}

describe('compute: failures', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  async function run (items: Uint8Array[], shardSize: number, options: RunJobOptions = {}): ReturnType<ComputeNode['services']['compute']['run']> {
    return nodes[0].services.compute.run({ workload: 'test', items, shardSize }, { peers: nodes.slice(1).map(n => n.peerId), ...options })
  }

  beforeEach(() => {
    runs.clear()
  })

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('a provider error retries the shard on a different peer; a peer that keeps failing is dropped after MAX_PEER_FAILURES', async () => {
    nodes = await mesh({ mode: 'fail' }, {}, {})
    const bad = id(nodes[1])
    const items = bytes(12)
    // the placement that trusts adverts gives the failing peer 3 shards at once: the ban is what
    // stops it (an earned window gives it one at a time, and the job may end before a ban)
    const result = await run(items, 2, { placement: defaultPlacement() })
    assert.deepEqual(texts(result.outputs), texts(items))
    const failed = result.shards.filter(s => s.errors.length > 0)
    assert.ok(failed.length > 0)
    for (const shard of failed) {
      assert.equal(shard.errors.length, 1)
      assert.ok(shard.errors[0].startsWith(`${bad}: ERR_WORKLOAD_FAILED`), shard.errors[0])
      assert.match(shard.errors[0], /this worker is broken/)
      assert.notEqual(shard.peer, bad, 'the retry went to the same peer')
      assert.equal(shard.attempts, 2)
    }
    const report = result.peers.find(p => p.peerId === bad)
    assert.ok(report != null)
    assert.equal(report.banned, true)
    assert.equal(report.shards, 0)
    assert.equal(report.failures, MAX_PEER_FAILURES)
    assert.equal(report.attempts, MAX_PEER_FAILURES, 'a dropped peer got more shards')
    assert.ok(result.peers.filter(p => p.peerId !== bad).every(p => !p.banned && p.failures === 0))
  })

  it('a peer that fails once and then works is not dropped', async () => {
    nodes = await mesh({ mode: 'fail-first', msPerItem: 5 }, { msPerItem: 5 })
    const items = bytes(30)
    const result = await run(items, 1)
    assert.deepEqual(texts(result.outputs), texts(items))
    const flaky = result.peers.find(p => p.peerId === id(nodes[1]))
    assert.equal(flaky?.failures, 1)
    assert.equal(flaky?.banned, false)
    assert.ok((flaky?.shards ?? 0) > 0, 'the peer got no shard after its failure')
  })

  it('a kernel that returns the wrong number of outputs is a provider error: retried elsewhere', async () => {
    nodes = await mesh({ mode: 'short' }, {})
    const items = bytes(8)
    const result = await run(items, 2)
    assert.deepEqual(texts(result.outputs), texts(items))
    assert.ok(result.shards.some(s => s.errors.some(e => e.startsWith(id(nodes[1])))))
    assert.ok(result.shards.every(s => s.peer === id(nodes[2])))
  })

  it('a shard that fails on more peers than maxRetries allows fails the job with ShardFailedError', async () => {
    nodes = await mesh({ mode: 'fail' }, { mode: 'fail' }, { mode: 'fail' })
    await assert.rejects(run(bytes(2), 2, { maxRetries: 1 }), (err: any) => {
      assert.equal(err.name, 'ShardFailedError')
      assert.equal(err.code, 'ERR_SHARD_FAILED')
      assert.match(err.message, /shard 0 failed 2 times/)
      assert.match(err.message, /this worker is broken/)
      return true
    })
    await allIdle(nodes.slice(1))
  })

  it('a shard that every peer failed fails the job with AllExcludedError naming the errors', async () => {
    nodes = await mesh({ mode: 'fail' }, { mode: 'fail' })
    await assert.rejects(run(bytes(1), 1), (err: any) => {
      assert.equal(err.name, 'AllExcludedError')
      assert.equal(err.code, 'ERR_ALL_EXCLUDED')
      assert.match(err.message, /ERR_WORKLOAD_FAILED this worker is broken/)
      return true
    })
  })

  it('replicate:3 when a peer drops out mid-job: NotEnoughPeersError saying what the shard needs, has, and who is left', async () => {
    // the third named peer does not have the workload: it is dropped at its first shard
    nodes = await computeNodes([
      { workloads: [testWorkload()], offer: [] },
      { workloads: [testWorkload()] },
      { workloads: [testWorkload()] },
      { workloads: [echo()] }
    ])
    const [, a, b, gone] = nodes.map(id)
    await assert.rejects(run(bytes(4), 1, { verification: 'replicate:3' }), (err: any) => {
      assert.equal(err.name, 'NotEnoughPeersError')
      assert.equal(err.code, 'ERR_NOT_ENOUGH_PEERS')
      assert.match(err.message, /^shard 0 needs results from 3 distinct peers for replicate:3 and has 2; no peer is left to ask \(2 peers left: /)
      assert.ok(err.message.includes(`${a} (returned a result)`) && err.message.includes(`${b} (returned a result)`), err.message)
      assert.ok(err.message.includes(`dropped from the job: ${gone} (ERR_UNKNOWN_WORKLOAD)`), err.message)
      assert.doesNotMatch(err.message, /\(\)/)
      return true
    })
  })

  it('replicate:3 with a peer that fails every shard: NotEnoughPeersError naming its failures, not "every peer failed it"', async () => {
    nodes = await mesh({ mode: 'fail' }, {}, {})
    const bad = id(nodes[1])
    await assert.rejects(run(bytes(4), 1, { verification: 'replicate:3' }), (err: any) => {
      assert.equal(err.name, 'NotEnoughPeersError')
      assert.match(err.message, /^shard 0 needs results from 3 distinct peers for replicate:3 and has 2; no peer is left to ask \(/)
      assert.ok(err.message.includes(`failed attempts: ${bad}: ERR_WORKLOAD_FAILED this worker is broken`), err.message)
      return true
    })
  })

  it('a user error (InvalidInputError on a poison item) fails the job at once with the worker\'s message, without retry', async () => {
    // every other shard hangs until cancelled: the job can only end by failing at once
    nodes = await mesh({}, {}, {})
    const items = Array.from({ length: 20 }, () => new TextEncoder().encode('hang'))
    items[0] = new TextEncoder().encode('poison')
    await assert.rejects(run(items, 2), (err: any) => {
      assert.equal(err.code, 'ERR_INVALID_INPUT')
      assert.equal(err.name, 'InvalidInputError')
      assert.match(err.message, /shard 0 was rejected by 12D3\w+: poison item: the kernel cannot read it/)
      return true
    })
    assert.equal(runs.get('poison'), 1, 'the poison shard was retried')
    // the job's other shards were cancelled on every worker
    await allIdle(nodes.slice(1))
  })

  it('bad input is caught before any shard is sent', async () => {
    nodes = await mesh({}, {})
    const items = bytes(6)
    items[3] = new Uint8Array(2048)
    await assert.rejects(run(items, 2), (err: any) => {
      assert.equal(err.name, 'InvalidInputError')
      assert.equal(err.code, 'ERR_INVALID_INPUT')
      assert.match(err.message, /^item 3: item of 2048 bytes is over the 1024 byte limit/)
      return true
    })
    assert.equal(runs.size, 0)
    for (const node of nodes.slice(1)) {
      assert.equal(node.services.compute.stats().shardsServed + node.services.compute.stats().shardsFailed, 0)
    }
  })

  it('a worker that stalls (no progress, no result) is abandoned after idleTimeout and its shards run elsewhere', async () => {
    nodes = await mesh({ mode: 'hang' }, {})
    const stalled = id(nodes[1])
    const items = bytes(6)
    // a hung shard never answers: the job ends only because idleTimeout gave up on it
    const result = await run(items, 1, { idleTimeout: 300, hedge: false })
    assert.deepEqual(texts(result.outputs), texts(items))
    const timedOut = result.shards.filter(s => s.errors.some(e => e.startsWith(`${stalled}: ERR_TIMEOUT`)))
    assert.ok(timedOut.length > 0, JSON.stringify(result.shards.map(s => s.errors)))
    assert.ok(result.shards.every(s => s.peer === id(nodes[2])))
    // the stalled worker was told: it let go of every shard
    await allIdle([nodes[1]])
  })

  it('a worker stopped mid-job loses its shards to the others: every output present, in order, once', async () => {
    nodes = await mesh({ msPerItem: 20 }, { msPerItem: 20 }, { msPerItem: 20 })
    const victim = nodes[3]
    const items = bytes(40)
    let stopping: Promise<void> | undefined
    const result = await run(items, 2, {
      onProgress: (p) => {
        if (p.shardsDone === 3 && stopping == null) {
          stopping = Promise.resolve(victim.stop())
        }
      }
    })
    await stopping
    assert.ok(stopping != null)
    assert.deepEqual(texts(result.outputs), texts(items))
    assert.equal(result.shards.length, 20)
    const lost = result.shards.filter(s => s.errors.some(e => e.startsWith(id(victim))))
    assert.ok(lost.length > 0, 'the stopped worker had no shard in flight')
    assert.ok(lost.every(s => s.peer !== id(victim)))
    const report = result.peers.find(p => p.peerId === id(victim))
    assert.ok(report != null && report.attempts > report.shards)
  })

  it('cancelling a job rejects with JobAbortedError at once and releases every slot and stream on every worker', async () => {
    nodes = await mesh({}, {})
    const workers = nodes.slice(1)
    const controller = new AbortController()
    // shards that hang until cancelled: the job can end only by the cancel, and the workers
    // can go idle only when the cancel reaches them
    // windows of the advertised slots + 1 (not earned ones, which start at 1): shards also queue
    const job = run(Array.from({ length: 20 }, () => new TextEncoder().encode('hang')), 2, { signal: controller.signal, placement: defaultPlacement() })
    await waitFor(() => workers.every(w => w.services.compute.stats().active === 1), 'shards running')
    assert.ok(workers.some(w => w.services.compute.stats().queued > 0))
    controller.abort()
    await assert.rejects(job, (err: any) => err.name === 'JobAbortedError' && err.code === 'ERR_JOB_ABORTED')
    await allIdle(workers, 10_000)
    for (const w of workers) {
      // one reused stream per requester at most, with nothing on it
      assert.ok(shardStreams(nodes[0], w) <= 1)
      assert.ok(w.services.compute.stats().openStreams <= 1)
    }
    // the slots are free: the next job runs (a hung shard would still hold the only slot)
    const items = bytes(4)
    const next = await run(items, 1)
    assert.deepEqual(texts(next.outputs), texts(items))
    assert.equal(next.shards.reduce((n, s) => n + s.errors.length, 0), 0)
    // and once the requester is gone, so are its streams
    await nodes[0].stop()
    await waitFor(() => workers.every(w => w.services.compute.stats().openStreams === 0), 'streams closed')
  })

  it('a job whose signal is already aborted sends nothing', async () => {
    nodes = await mesh({})
    await assert.rejects(run(bytes(4), 1, { signal: AbortSignal.abort() }), (err: any) => err.name === 'JobAbortedError')
    assert.equal(runs.size, 0)
  })
})
