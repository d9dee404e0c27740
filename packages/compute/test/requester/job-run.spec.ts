import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { UnknownWorkloadError, echo } from '@shardmesh/workloads'
import { BusyError, ShardTimeoutError } from '../../src/errors.js'
import { JobRun } from '../../src/requester/job-run.js'
import { defaultPlacement } from '../../src/requester/placement.js'
import { FakeChannel, quietLog } from './fake-channel.js'
import type { JobRunInit } from '../../src/requester/job-run.js'
import type { PlacementPolicy, WindowObservation } from '../../src/requester/placement.js'
import type { JobProgress } from '../../src/requester/types.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

function items (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new Uint8Array([i]))
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
    assert.deepEqual(placed.map(p => [p.channel, p.window]), [[local, 3], [remote, 5], [unknown, 3]])
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'busy', roundTripMs: 1 }), 4)
    assert.equal(policy.window({ peerId: '', window: 1, outcome: 'busy', roundTripMs: 1 }), 1)
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'result', roundTripMs: 1 }), 5)
    assert.equal(policy.window({ peerId: '', window: 5, outcome: 'failure', roundTripMs: 1 }), 5)
  })
})
