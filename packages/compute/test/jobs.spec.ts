import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { waitFor } from '@shardmesh/test-utils'
import { echo } from '@shardmesh/workloads'
import { FINISHED_JOBS_KEPT } from '../src/index.js'
import { JobRun } from '../src/requester/job-run.js'
import { closeGate, openGate } from './fixtures/test-kernel.js'
import { FakeChannel, quietLog } from './requester/fake-channel.js'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { JobSnapshot } from '../src/index.js'
import type { Workload } from '@shardmesh/workloads'

/** The only snapshot of a job, by id. */
function snapshotOf (node: ComputeNode, jobId: string): JobSnapshot {
  const found = node.services.compute.jobs().filter(j => j.jobId === jobId)
  assert.equal(found.length, 1, `job ${jobId} listed ${found.length} times`)
  return found[0]
}

/** The test workload with a calibration input, so that a peer is challenged before its first work. */
function challengeable (mode: 'ok' | 'gated'): Workload<Uint8Array, Uint8Array> {
  return { ...testWorkload({ mode }), calibration: async () => [new TextEncoder().encode('challenge')] }
}

describe('compute: jobs(), the live view of the jobs this node requested', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    openGate()
    await stopAll(nodes ?? [])
  })

  it('a running job shows its progress and the shards each peer holds; once done, its final state; running jobs come before finished ones', async () => {
    closeGate()
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }, { workloads: [testWorkload()] }, { workloads: [testWorkload({ mode: 'gated' })] }])
    const [requester, fast, slow] = nodes
    const compute = requester.services.compute
    assert.deepEqual(compute.jobs(), [])
    const first = await compute.run({ workload: 'test', items: bytes(4), shardSize: 2 }, { peers: [fast.peerId] })
    const held = (): number => slow.services.compute.stats().active + slow.services.compute.stats().queued
    let done = 0
    const job = compute.run({ workload: 'test', items: bytes(60), shardSize: 2 }, {
      peers: [fast.peerId, slow.peerId],
      hedge: false,
      onProgress: (p) => { done = p.shardsDone }
    })
    await waitFor(() => held() > 0 && done + held() === 30, 'the fast peer done with all but the slow peer\'s shards')
    const window = held()

    const jobs = compute.jobs()
    assert.deepEqual(jobs.map(j => j.state), ['running', 'ok'])
    assert.equal(jobs[1].jobId, first.jobId)
    const running = jobs[0]
    assert.equal(running.workload, 'test@1.0.0')
    assert.equal(running.verification, 'none')
    assert.equal(running.items, 60)
    assert.equal(running.finishedAt, null)
    assert.equal(running.error, undefined)
    assert.deepEqual([running.progress.shardsDone, running.progress.shardsTotal, running.progress.itemsDone, running.progress.itemsTotal], [30 - window, 30, 2 * (30 - window), 60])
    assert.equal(running.progress.peersInUse, 1)
    assert.deepEqual(running.shards, { total: 30, done: 30 - window, inFlight: window, attempts: 30, retries: 0, hedged: 0, checked: 0, disputed: 0 })
    assert.deepEqual(running.peers.map(p => [p.peerId, p.inFlight, p.shards]), [[fast.peerId.toString(), 0, 30 - window], [slow.peerId.toString(), window, 0]])
    assert.deepEqual(running.placement, { considered: 2, used: [fast.peerId.toString(), slow.peerId.toString()], excluded: [] })
    assert.deepEqual(running.disputes, [])

    openGate()
    const result = await job
    const ended = snapshotOf(requester, result.jobId)
    assert.equal(compute.jobs()[0].jobId, result.jobId, 'the newest finished job first')
    assert.equal(ended.state, 'ok')
    assert.ok(ended.finishedAt != null && ended.finishedAt >= ended.startedAt)
    assert.deepEqual([ended.progress.shardsDone, ended.progress.itemsDone, ended.progress.peersInUse], [30, 60, 0])
    assert.deepEqual(ended.shards, { total: 30, done: 30, inFlight: 0, attempts: 30, retries: 0, hedged: 0, checked: 0, disputed: 0 })
    assert.deepEqual(ended.peers.map(p => [p.peerId, p.inFlight, p.shards]), result.peers.map(p => [p.peerId, 0, p.shards]))
    assert.deepEqual(ended.peers.map(p => p.shards), [30 - window, window])
    assert.equal(ended.error, undefined)
  })

  it('a failed job keeps the error it failed with (its only peer failed the shard), and counts the failed attempt', async () => {
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }, { workloads: [testWorkload({ mode: 'fail' })] }])
    const [requester, broken] = nodes
    const err: any = await requester.services.compute.run({ workload: 'test', items: bytes(2), shardSize: 2 }, { peers: [broken.peerId] }).then(() => assert.fail('the job succeeded'), (err: unknown) => err)
    const [ended] = requester.services.compute.jobs()
    assert.equal(ended.state, 'error')
    assert.deepEqual(ended.error, { code: err.code, message: err.message })
    assert.ok(ended.finishedAt != null)
    assert.deepEqual([ended.shards.total, ended.shards.done, ended.shards.inFlight, ended.shards.retries, ended.shards.attempts], [1, 0, 0, 1, 1])
    assert.deepEqual(ended.peers.map(p => [p.peerId, p.failures, p.inFlight]), [[broken.peerId.toString(), 1, 0]])
  })

  it('a job that finds no peer fails before any shard: its error, no shards, nothing placed', async () => {
    nodes = await computeNodes([{ workloads: [testWorkload()], offer: [] }])
    const err: any = await nodes[0].services.compute.run({ workload: 'test', items: bytes(2) }, { peers: [] }).then(() => assert.fail('the job succeeded'), (err: unknown) => err)
    const [ended] = nodes[0].services.compute.jobs()
    assert.equal(ended.state, 'error')
    assert.deepEqual(ended.error, { code: err.code, message: err.message })
    assert.equal(ended.shards.total, 0)
    assert.deepEqual(ended.peers, [])
    assert.deepEqual(ended.placement, { considered: 0, used: [], excluded: [] })
    assert.deepEqual([ended.progress.shardsTotal, ended.progress.itemsTotal], [0, 2])
  })

  it('a job whose peer is being challenged before its first work is placing; then it runs', async () => {
    closeGate()
    nodes = await computeNodes([
      { workloads: [challengeable('ok')], offer: [], challenges: { meanInterval: 0 } },
      { workloads: [challengeable('gated')] }
    ])
    const [requester, worker] = nodes
    const job = requester.services.compute.run({ workload: 'test', items: bytes(4), shardSize: 2 }, { peers: [worker.peerId] }).then(r => r, (err: Error) => err)
    await waitFor(() => worker.services.compute.stats().active > 0, 'the challenge running on the worker')
    const [placing] = requester.services.compute.jobs()
    assert.equal(placing.state, 'placing')
    assert.equal(placing.finishedAt, null)
    assert.deepEqual([placing.shards.total, placing.peers.length, placing.progress.itemsTotal], [0, 0, 4])
    openGate()
    const outcome = await job
    const [ended] = requester.services.compute.jobs()
    assert.equal(ended.state, outcome instanceof Error ? 'error' : 'ok')
  })

  it('keeps only the newest finished jobs, newest first', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }])
    const compute = nodes[0].services.compute
    const ids: string[] = []
    for (let i = 0; i < FINISHED_JOBS_KEPT + 5; i++) {
      ids.push((await compute.run({ workload: 'echo', items: bytes(1) })).jobId)
    }
    const jobs = compute.jobs()
    assert.equal(jobs.length, FINISHED_JOBS_KEPT)
    assert.deepEqual(jobs.map(j => j.jobId), ids.slice(-FINISHED_JOBS_KEPT).reverse())
    assert.ok(jobs.every(j => j.state === 'ok' && j.peers.length === 1 && j.peers[0].local))
  })

  it('a snapshot is a copy: changing it changes nothing the node reports', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }])
    const compute = nodes[0].services.compute
    await compute.run({ workload: 'echo', items: bytes(2) })
    const [first] = compute.jobs()
    first.state = 'error'
    first.placement.used.push('someone')
    first.peers[0].shards = 99
    const [again] = compute.jobs()
    assert.equal(again.state, 'ok')
    assert.equal(again.placement.used.length, 1)
    assert.equal(again.peers[0].shards, 1)
  })
})

describe('requester: JobRun.snapshot()', () => {
  it('counts disputes and checked shards, with who won and lost', async () => {
    const key = await generateKeyPair('Ed25519')
    const self = peerIdFromPrivateKey(key)
    const liar = await FakeChannel.create(self, attempt => [new Uint8Array([0xff, attempt.shardIndex])])
    const honest = [await FakeChannel.create(self), await FakeChannel.create(self)]
    const run = new JobRun({
      jobId: new Uint8Array(16).fill(3),
      workload: echo(),
      items: [new Uint8Array([1]), new Uint8Array([2])],
      shardSize: 1,
      peers: [honest[0], liar, honest[1]].map(channel => ({ channel, window: 1 })),
      excluded: [{ peerId: 'elsewhere', reason: 'low-score', detail: 'score 0.1 < 0.25' }],
      self,
      privateKey: key,
      policy: { kind: 'replicate', k: 3 },
      maxRetries: 3,
      idleTimeout: 30_000,
      queueTimeout: 60_000,
      hedge: false,
      log: quietLog
    })
    const before = run.snapshot()
    assert.deepEqual(before.shards, { total: 2, done: 0, inFlight: 0, attempts: 0, retries: 0, hedged: 0, checked: 0, disputed: 0 })
    await run.run()
    const after = run.snapshot()
    assert.deepEqual(after.shards, { total: 2, done: 2, inFlight: 0, attempts: 6, retries: 0, hedged: 0, checked: 0, disputed: 2 })
    assert.deepEqual(after.disputes.map(d => [d.shard, d.losers]).sort((a, b) => Number(a[0]) - Number(b[0])), [[0, [liar.peerId.toString()]], [1, [liar.peerId.toString()]]])
    assert.deepEqual(after.placement, { considered: 4, used: [honest[0], liar, honest[1]].map(c => c.peerId.toString()), excluded: [{ peerId: 'elsewhere', reason: 'low-score', detail: 'score 0.1 < 0.25' }] })
    assert.equal(after.progress.shardsDone, 2)
  })
})
