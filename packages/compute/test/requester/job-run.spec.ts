import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ShardmeshError } from '@shardmesh/protocol'
import { verifyReceipt } from '@shardmesh/receipts'
import { UnknownWorkloadError, echo } from '@shardmesh/workloads'
import { BusyError, ShardTimeoutError } from '../../src/errors.js'
import { JobRun } from '../../src/requester/job-run.js'
import { defaultPlacement, planOf } from '../../src/requester/placement.js'
import { isSpotChecked } from '../../src/requester/verification.js'
import { FakeChannel, quietLog } from './fake-channel.js'
import { SimClock, SimWorker, settle, simulate } from './sim.js'
import type { PeerChannel } from '../../src/requester/channel.js'
import type { JobRunInit } from '../../src/requester/job-run.js'
import type { PlacementPolicy, WindowObservation } from '../../src/requester/placement.js'
import type { JobEvidenceSink, JobProgress, JobResult } from '../../src/requester/types.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { EvidenceKind, Measurement } from '@shardmesh/trust'

function items (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new Uint8Array([i]))
}

/** An evidence sink that keeps everything it is told; `verify` lists the peers that must be verified. */
class SinkLog implements JobEvidenceSink {
  readonly records: Array<[string, EvidenceKind]> = []
  readonly measures: Array<[string, Omit<Measurement, 'by' | 'source'>]> = []
  readonly windows: Array<[string, string, number]> = []
  readonly asked = new Set<string>()

  constructor (private readonly verify: ReadonlySet<string> = new Set()) {}

  record (peerId: string, kind: EvidenceKind): void {
    this.records.push([peerId, kind])
  }

  measure (peerId: string, measurement: Omit<Measurement, 'by' | 'source'>): void {
    this.measures.push([peerId, measurement])
  }

  setEarnedWindow (peerId: string, workload: string, window: number): void {
    this.windows.push([peerId, workload, window])
  }

  mustVerify (peerId: string): boolean {
    this.asked.add(peerId)
    return this.verify.has(peerId)
  }

  kinds (peerId: string): EvidenceKind[] {
    return this.records.filter(([p]) => p === peerId).map(([, k]) => k)
  }
}

/** The receipts a job countersigned: whose, and for which shard. */
async function countersigned (result: JobResult): Promise<Array<{ worker: string, shard: number }>> {
  return Promise.all(result.receipts.map(async r => {
    const receipt = await verifyReceipt(r, { requireCountersignature: true })
    return { worker: receipt.worker.toString(), shard: receipt.shardIndex }
  }))
}

describe('requester: JobRun against fake peers', () => {
  let key: PrivateKey
  let self: PeerId

  before(async () => {
    key = await generateKeyPair('Ed25519')
    self = peerIdFromPrivateKey(key)
  })

  function job (channels: FakeChannel[], init: Partial<JobRunInit> = {}): JobRun {
    return new JobRun({
      jobId: new Uint8Array(16).fill(7),
      workload: echo(),
      items: items(6),
      shardSize: 1,
      peers: channels.map(channel => ({ channel, window: 2 })),
      self,
      privateKey: key,
      policy: { kind: 'none' },
      maxRetries: 3,
      idleTimeout: 30_000,
      queueTimeout: 60_000,
      hedge: false,
      log: quietLog,
      ...init
    })
  }

  it('returns the outputs in order and reports every shard, peer, result and attempt', async () => {
    const channels = [await FakeChannel.create(self), await FakeChannel.create(self)]
    const progress: JobProgress[] = []
    const result = await job(channels, { onProgress: p => progress.push(p) }).run()
    assert.deepEqual(result.outputs, items(6))
    assert.equal(result.items, 6)
    assert.equal(result.verification, 'none')
    assert.deepEqual(result.shards.map(s => [s.index, s.items, s.attempts, s.outcome, s.hedged]), [0, 1, 2, 3, 4, 5].map(i => [i, 1, 1, 'accepted', false]))
    assert.equal(channels[0].sent.length + channels[1].sent.length, 6)
    for (const [i, channel] of channels.entries()) {
      const peer = result.peers[i]
      assert.equal(peer.peerId, channel.peerId.toString())
      assert.equal(peer.attempts, channel.sent.length)
      assert.equal(peer.results, channel.sent.length)
      assert.equal(peer.shards, channel.sent.length)
      assert.equal(peer.items, channel.sent.length)
      assert.equal(peer.failures, 0)
      assert.equal(peer.banned, false)
    }
    assert.equal(result.receipts.length, 6)
    assert.deepEqual(progress.map(p => p.shardsDone), [1, 2, 3, 4, 5, 6])
    assert.ok(progress.every(p => p.shardsTotal === 6 && p.itemsTotal === 6))
  })

  it('replicate:3 takes the majority, records the liar as the loser of every shard and countersigns the agreeing receipts', async () => {
    const liar = await FakeChannel.create(self, attempt => [new Uint8Array([0xff, attempt.shardIndex])])
    const channels = [await FakeChannel.create(self), liar, await FakeChannel.create(self)]
    const result = await job(channels, { policy: { kind: 'replicate', k: 3 } }).run()
    assert.deepEqual(result.outputs, items(6))
    assert.equal(result.disputes.length, 6)
    for (const dispute of result.disputes) {
      assert.deepEqual(dispute.losers, [liar.peerId.toString()])
      assert.equal(dispute.winners.length, 2)
    }
    assert.ok(result.shards.every(s => s.outcome === 'disputed' && s.replicas.length === 3))
    const lying = result.peers[1]
    assert.equal(lying.shards, 0)
    assert.equal(lying.results, 6)
    assert.equal(result.receipts.length, 12)
  })

  it('drops a peer after 3 consecutive failures and finishes on the others', async () => {
    const failing = await FakeChannel.create(self, () => new ShardTimeoutError('no progress'))
    // the failing peer holds three shards at once: all three fail, whatever the other peer does
    const result = await job([], { peers: [{ channel: failing, window: 3 }, { channel: await FakeChannel.create(self), window: 1 }] }).run()
    assert.deepEqual(result.outputs, items(6))
    assert.equal(result.peers[0].banned, true)
    assert.equal(result.peers[0].failures, 3)
    assert.equal(result.peers[0].shards, 0)
    assert.equal(failing.sent.length, 3)
  })

  it('explains a job no peer can run: none has the workload', async () => {
    const channels = [
      await FakeChannel.create(self, () => new UnknownWorkloadError('no echo here')),
      await FakeChannel.create(self, () => new UnknownWorkloadError('no echo here'))
    ]
    await assert.rejects(job(channels).run(), (err: Error) => err.name === 'NoPeersError' && /no peer offers workload echo@/.test(err.message))
  })

  it('the placement policy sets each peer\'s window from what its attempts did', async () => {
    const observations: WindowObservation[] = []
    const placement: PlacementPolicy = {
      place: defaultPlacement().place,
      window: (observation) => {
        observations.push(observation)
        return 1
      }
    }
    let inflight = 0
    let maxAfterFirst = 0
    const channel = await FakeChannel.create(self, (_, n) => {
      if (observations.length > 0) {
        maxAfterFirst = Math.max(maxAfterFirst, inflight)
      }
      return n === 1 ? new BusyError('full') : 'echo'
    })
    const send = channel.send.bind(channel)
    channel.send = (attempt) => {
      const handle = send(attempt)
      inflight++
      void handle.result.finally(() => { inflight-- }).catch(() => {})
      return handle
    }
    const result = await job([channel], { placement, items: items(4) }).run()
    assert.deepEqual(result.outputs, items(4))
    assert.deepEqual(observations.map(o => o.outcome), ['busy', 'result', 'result', 'result', 'result'])
    assert.ok(observations.every(o => o.peerId === channel.peerId.toString()))
    assert.equal(maxAfterFirst, 0, 'once the policy set the window to 1, one shard at a time')
  })

  it('the default placement windows: slots for this node, advertised slots plus one for a peer, one less after busy', async () => {
    const policy = defaultPlacement()
    const remote = await FakeChannel.create(self)
    const local = new FakeChannel(key, self, () => 'echo', true)
    const unknown = await FakeChannel.create(self)
    const placed = policy.place([{ channel: local, slots: 3 }, { channel: remote, slots: 4 }, { channel: unknown, slots: 0 }], { workload: echo() })
    assert.deepEqual(planOf(placed).peers.map(p => [p.channel, p.window]), [[local, 3], [remote, 5], [unknown, 3]])
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'busy', roundTripMs: 1 }), 4)
    assert.equal(policy.window({ peerId: '', window: 1, outcome: 'busy', roundTripMs: 1 }), 1)
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'result', roundTripMs: 1 }), 5)
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'failure', roundTripMs: 1 }), 5)
  })

  describe('evidence, probation and placement report', () => {
    it('feeds the evidence sink: accepted shards and their speed, each kind of failure, never this node; the windows at the end', async () => {
      const local = new FakeChannel(key, self, () => 'echo', true)
      const good = await FakeChannel.create(self)
      const slow = await FakeChannel.create(self, (_, n) => n === 1 ? new ShardTimeoutError('no progress') : 'echo')
      const gone = await FakeChannel.create(self, (_, n) => n === 1 ? new ShardmeshError('heartbeat silent', 'ERR_PEER_UNRESPONSIVE') : 'echo')
      const busy = await FakeChannel.create(self, (_, n) => n === 1 ? new BusyError('full') : 'echo')
      const bad = await FakeChannel.create(self, (_, n) => n === 1 ? [] : 'echo')
      const sink = new SinkLog()
      const channels = [local, good, slow, gone, busy, bad]
      const result = await job([], { peers: channels.map(channel => ({ channel, window: 1 })), items: items(10), evidence: sink }).run()
      assert.deepEqual(result.outputs, items(10))
      const me = self.toString()
      assert.ok(result.shards.some(s => s.peer === me), 'this node ran shards')
      assert.ok(sink.records.every(([p]) => p !== me) && sink.measures.every(([p]) => p !== me) && sink.windows.every(([p]) => p !== me), 'nothing about this node')
      assert.ok(sink.kinds(slow.peerId.toString()).includes('shard-timeout'))
      assert.ok(sink.kinds(gone.peerId.toString()).includes('unresponsive'))
      assert.ok(sink.kinds(bad.peerId.toString()).includes('shard-failed'))
      assert.deepEqual(sink.kinds(busy.peerId.toString()).filter(k => k !== 'shard-accepted'), [], 'busy is no fault')
      assert.deepEqual(sink.kinds(good.peerId.toString()).filter(k => k !== 'shard-accepted'), [])
      for (const peer of result.peers.filter(p => !p.local)) {
        assert.equal(sink.kinds(peer.peerId).filter(k => k === 'shard-accepted').length, peer.shards, `accepted shards of ${peer.peerId}`)
        const answered = peer.results > 0 || peer.failures > 0
        assert.deepEqual(sink.windows.filter(([p]) => p === peer.peerId), answered ? [[peer.peerId, 'echo', peer.window]] : [])
      }
      // one measurement per shard a remote peer won: items over its round trip
      const remoteWins = result.shards.filter(s => s.peer !== me)
      assert.equal(sink.measures.length, remoteWins.length)
      for (const [peerId, m] of sink.measures) {
        assert.ok(remoteWins.some(s => s.peer === peerId))
        assert.equal(m.workload, 'echo')
        assert.equal(m.version, echo().version)
        assert.equal(m.items, 1)
        assert.equal(m.beyondCpu, false)
        assert.ok(m.itemsPerSec > 0 && Number.isFinite(m.itemsPerSec))
      }
    })

    it('a peer the sink says must be verified never has a result accepted alone: a second peer confirms each', async () => {
      const onProbation = await FakeChannel.create(self)
      const others = [await FakeChannel.create(self), await FakeChannel.create(self)]
      const sink = new SinkLog(new Set([onProbation.peerId.toString()]))
      const result = await job([onProbation, ...others], { evidence: sink }).run()
      assert.deepEqual(result.outputs, items(6))
      const id = onProbation.peerId.toString()
      const its = result.shards.filter(s => s.replicas.includes(id))
      assert.ok(its.length > 0, 'it returned results')
      for (const shard of its) {
        assert.ok(shard.replicas.length >= 2, `shard ${shard.index}: ${shard.replicas.join(', ')}`)
        assert.equal(shard.outcome, 'checked')
        assert.notEqual(shard.peer, id, 'the result used is the confirming peer\'s')
      }
      // the others' results were accepted alone
      assert.ok(result.shards.some(s => s.replicas.length === 1 && s.outcome === 'accepted'))
      assert.ok(sink.asked.has(id))
    })

    it('a peer placed with mustVerify (probation, no sink) is verified the same way', async () => {
      const onProbation = await FakeChannel.create(self)
      const other = await FakeChannel.create(self)
      const result = await job([], { peers: [{ channel: onProbation, window: 2, mustVerify: true }, { channel: other, window: 2 }] }).run()
      const id = onProbation.peerId.toString()
      const its = result.shards.filter(s => s.replicas.includes(id))
      assert.ok(its.length > 0)
      assert.ok(its.every(s => s.replicas.length === 2 && s.outcome === 'checked'))
    })

    it('a peer that loses a dispute gets every later result verified, for the rest of the job', async () => {
      // a job id whose spot check (p = 0.25) picks shard 0 and none of shards 1..7
      let jobId: Uint8Array | undefined
      for (let n = 0; n < 65_536 && jobId == null; n++) {
        const id = new Uint8Array(16)
        id[0] = n & 0xff
        id[1] = n >> 8
        if (isSpotChecked(id, 0, 0.25) && [1, 2, 3, 4, 5, 6, 7].every(i => !isSpotChecked(id, i, 0.25))) {
          jobId = id
        }
      }
      assert.ok(jobId != null)
      // it lies on shard 0 and holds every other shard until told
      const liar = await FakeChannel.create(self, attempt => attempt.shardIndex === 0 ? [new Uint8Array([0xee])] : 'hold')
      const others = [await FakeChannel.create(self), await FakeChannel.create(self)]
      const sink = new SinkLog()
      let result: JobResult | undefined
      const running = job([], {
        jobId,
        policy: { kind: 'spot-check', p: 0.25 },
        items: items(8),
        peers: [{ channel: liar, window: 2 }, ...others.map(channel => ({ channel, window: 1 }))],
        evidence: sink
      }).run().then(r => { result = r })
      const id = liar.peerId.toString()
      for (let i = 0; i < 1000 && !sink.kinds(id).includes('dispute-lost'); i++) {
        await settle()
      }
      assert.deepEqual(sink.kinds(id), ['dispute-lost'])
      const held = liar.sent.filter(s => !s.settled)
      assert.ok(held.length > 0, 'it still holds shards')
      for (const sent of held) {
        await sent.answer('echo')
      }
      await running
      assert.ok(result != null)
      assert.equal(result.disputes.length, 1)
      assert.deepEqual(result.disputes[0].losers, [id])
      for (const sent of held) {
        const shard = result.shards[sent.attempt.shardIndex]
        assert.ok(shard.replicas.length >= 2, `shard ${shard.index} held through the dispute was verified: ${shard.replicas.join(', ')}`)
      }
      // its wrong answer to shard 0 is not countersigned (its later, confirmed results are)
      assert.ok(!(await countersigned(result)).some(r => r.worker === id && r.shard === 0))
    })

    it('dispute losers and winners go to the sink, and a receipt whose output lost a dispute is never countersigned', async () => {
      const liar = await FakeChannel.create(self, attempt => [new Uint8Array([0xff, attempt.shardIndex])])
      const honest = [await FakeChannel.create(self), await FakeChannel.create(self)]
      const sink = new SinkLog()
      const result = await job([honest[0], liar, honest[1]], { policy: { kind: 'replicate', k: 3 }, evidence: sink }).run()
      const liarId = liar.peerId.toString()
      assert.deepEqual(sink.kinds(liarId), Array(6).fill('dispute-lost'))
      for (const h of honest) {
        const kinds = sink.kinds(h.peerId.toString())
        assert.equal(kinds.filter(k => k === 'dispute-won').length, 6)
        assert.equal(kinds.filter(k => k === 'shard-accepted').length, 6)
      }
      const workers = (await countersigned(result)).map(r => r.worker)
      assert.equal(workers.length, 12)
      assert.ok(!workers.includes(liarId), 'the liar\'s receipts are not countersigned')
      assert.deepEqual(new Set(workers), new Set(honest.map(h => h.peerId.toString())))
    })

    it('reports the placement (considered, used, excluded) and each peer\'s final window and measured speed', async () => {
      const clock = new SimClock()
      const worker = await SimWorker.create(self, clock, { servers: 1, serviceMs: n => n * 100 })
      const placement: PlacementPolicy = { place: defaultPlacement().place, window: ({ window, outcome }) => outcome === 'result' ? window + 1 : window }
      const excluded = [{ peerId: 'peer-x', reason: 'low-score' as const, detail: 'score 0.10 < 0.25' }]
      const result = await simulate(job([], {
        peers: [{ channel: worker.channel, window: 1 }],
        items: items(4),
        shardSize: 2,
        placement,
        excluded,
        considered: 3,
        clock
      }), clock)
      assert.deepEqual(result.placement, { considered: 3, used: [worker.id], excluded })
      // two shards, one after the other: 2 items in 200 ms each
      assert.equal(result.elapsedMs, 400)
      assert.equal(result.peers[0].window, 3)
      assert.equal(result.peers[0].itemsPerSec, 10)
      assert.equal(result.peers[0].meanShardMs, 200)
    })

    it('without a placement report, every peer counts as considered and used', async () => {
      const channels = [await FakeChannel.create(self), await FakeChannel.create(self)]
      const result = await job(channels).run()
      assert.deepEqual(result.placement, { considered: 2, used: channels.map(c => c.peerId.toString()), excluded: [] })
      assert.ok(result.peers.every(p => p.itemsPerSec > 0 || p.shards === 0))
    })

    it('a suspect peer gets no work until it recovers, when the next re-check gives it some', async () => {
      const clock = new SimClock()
      let health: 'alive' | 'suspect' | 'dead' = 'suspect'
      const flaky = await FakeChannel.create(self)
      const channel: PeerChannel = flaky
      channel.health = () => health
      const slow = await SimWorker.create(self, clock, { servers: 1, serviceMs: () => 1000 })
      let result: JobResult | undefined
      const running = job([], { peers: [{ channel: flaky, window: 2 }, { channel: slow.channel, window: 1 }], items: items(3), clock }).run().then(r => { result = r })
      await settle()
      assert.equal(flaky.sent.length, 0)
      assert.deepEqual(slow.log.map(a => a.shard), [0])
      await clock.advanceTo(150)
      assert.equal(flaky.sent.length, 0, 'still suspect: still nothing')
      health = 'alive'
      await clock.advanceTo(300)
      assert.deepEqual(flaky.sent.map(s => s.attempt.shardIndex), [1, 2])
      await clock.advanceTo(1000)
      await running
      assert.deepEqual(result?.outputs, items(3))
    })
  })
})
