import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as C from '../../src/constants.js'
import { StragglerThreshold, hedgeStragglers, hedgeThreshold, meanRoundTrip } from '../../src/requester/hedging.js'
import { newPeer, newShard } from '../../src/requester/state.js'
import { FakeChannel } from './fake-channel.js'
import type { PeerState, ShardState } from '../../src/requester/state.js'

/** A shard with one attempt running on `peer` since `startedAt`. */
function running (index: number, peer: PeerState, startedAt: number): ShardState {
  const shard = newShard(index, [new Uint8Array(1)], 1)
  shard.tried.add(peer.id)
  shard.running.add({ peer, startedAt, hedge: false, handle: { result: new Promise(() => {}), cancel: () => {} } })
  peer.inflight++
  return shard
}

describe('requester: hedging', () => {
  let peers: PeerState[]

  beforeEach(async () => {
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peers = await Promise.all([4, 1, 1].map(async window => newPeer(await FakeChannel.create(requester), window)))
  })

  it('the threshold is 2x the p90 of completed round trips, never below the minimum delay, and none before enough samples', () => {
    assert.equal(hedgeThreshold([400, 400, 400]), undefined)
    // p90 of ten samples is the 9th smallest
    assert.equal(hedgeThreshold([100, 200, 300, 400, 500, 600, 700, 800, 900, 5000]), C.HEDGE_FACTOR * 900)
    assert.equal(hedgeThreshold([1, 1, 1, 1]), C.HEDGE_MIN_DELAY)
  })

  it('hedges only the stragglers past the threshold, each on an idle peer that has not tried it', () => {
    const durations = [300, 300, 300, 300]
    const threshold = hedgeThreshold(durations) ?? 0
    const now = 10_000
    const slow = running(0, peers[0], now - threshold - 1)
    const recent = running(1, peers[0], now - threshold + 1)
    const slowToo = running(2, peers[0], now - 5 * threshold)
    const launched: Array<[number, string]> = []
    const hedged = hedgeStragglers([slow, recent, slowToo], peers, hedgeThreshold(durations), now, (shard, peer) => {
      shard.tried.add(peer.id)
      peer.inflight++
      launched.push([shard.index, peer.id])
    })
    assert.deepEqual(launched, [[0, peers[1].id], [2, peers[2].id]])
    assert.deepEqual(hedged.map(h => h.shard.index), [0, 2])
    assert.equal(slow.hedged, true)
    assert.equal(recent.hedged, false)
    assert.equal(slow.needed, 1, 'a hedge answers for the straggler: the shard needs no more results')
    // a shard is hedged once only: later, only the one that was not straggling yet is
    peers[1].inflight--
    const later = hedgeStragglers([slow, recent, slowToo], peers, hedgeThreshold(durations), now + threshold * 10, () => {})
    assert.deepEqual(later.map(h => [h.shard.index, h.peer.id]), [[1, peers[1].id]])
  })

  it('hedges nothing when no idle peer is left, nor while too few round trips completed', () => {
    const now = 10_000
    const shard = running(0, peers[0], 0)
    peers[1].banned = true
    peers[2].backoffUntil = now + 1
    const launch = (): void => { assert.fail('nothing should be hedged') }
    assert.deepEqual(hedgeStragglers([shard], peers, hedgeThreshold([1, 1, 1, 1]), now, launch), [])
    peers[1].banned = false
    assert.deepEqual(hedgeStragglers([shard], peers, hedgeThreshold([1, 1, 1]), now, launch), [])
  })

  describe('endgame', () => {
    /** The peer completed `n` results averaging `meanMs`. */
    function completed (peer: PeerState, n: number, meanMs: number): void {
      peer.results = n
      peer.roundTripMs = n * meanMs
    }

    it('hedges at once a shard whose peer is expected to finish later than an idle peer could, on the fastest such peer', () => {
      const [slow, idleSlow, idleFast] = peers
      completed(slow, 2, 1000)
      completed(idleSlow, 4, 300)
      completed(idleFast, 4, 100)
      const now = 10_000
      // expected to end at now + 900; the idle peers at now + 300 and now + 100
      const shard = running(0, slow, now - 100)
      const launched: string[] = []
      const hedged = hedgeStragglers([shard], peers, undefined, now, (s, p) => { s.tried.add(p.id); p.inflight++; launched.push(p.id) })
      assert.deepEqual(hedged.map(h => [h.shard.index, h.peer.id, h.reason]), [[0, idleFast.id, 'endgame']])
      assert.deepEqual(launched, [idleFast.id])
      assert.equal(shard.hedged, true)
      assert.equal(meanRoundTrip(slow), 1000)
    })

    it('leaves a shard expected to end sooner than any idle peer could finish it', () => {
      const [slow, idle] = peers
      completed(slow, 2, 1000)
      completed(idle, 4, 100)
      const now = 10_000
      // expected at now + 50
      const shard = running(0, slow, now - 950)
      assert.deepEqual(hedgeStragglers([shard], peers, undefined, now, () => { assert.fail('nothing to hedge') }), [])
    })

    it('with no mean round trip for the running peer, falls back to the straggler threshold', () => {
      const [fresh, idle] = peers
      completed(idle, 4, 100)
      const now = 10_000
      const shard = running(0, fresh, now - 5000)
      const launch = (): void => {}
      // no threshold yet (too few samples): nothing
      assert.deepEqual(hedgeStragglers([shard], peers, undefined, now, launch), [])
      const durations = [100, 100, 100, 100]
      const hedged = hedgeStragglers([shard], peers, hedgeThreshold(durations), now, launch)
      assert.deepEqual(hedged.map(h => [h.peer.id, h.reason]), [[idle.id, 'straggler']])
    })

    it('an idle peer with no completed result is no endgame target, nor one that is suspect, dead, backing off or full', () => {
      const [slow, unknown, sick] = peers
      completed(slow, 2, 1000)
      completed(sick, 4, 100)
      const now = 10_000
      const shard = running(0, slow, now - 100)
      sick.channel.health = () => 'suspect'
      const launch = (): void => { assert.fail('nothing to hedge') }
      assert.deepEqual(hedgeStragglers([shard], [slow, unknown, sick], undefined, now, launch), [])
      sick.channel.health = () => 'dead'
      assert.deepEqual(hedgeStragglers([shard], [slow, unknown, sick], undefined, now, launch), [])
      sick.channel.health = () => 'alive'
      sick.backoffUntil = now + 1
      assert.deepEqual(hedgeStragglers([shard], [slow, unknown, sick], undefined, now, launch), [])
      sick.backoffUntil = 0
      sick.inflight = sick.window
      assert.deepEqual(hedgeStragglers([shard], [slow, unknown, sick], undefined, now, launch), [])
      sick.inflight = 0
      assert.equal(hedgeStragglers([shard], [slow, unknown, sick], undefined, now, () => {}).length, 1)
    })

    it('with room for fewer hedges than candidates, the shards expected to end last go first', () => {
      const [slow, idle] = peers
      completed(slow, 2, 1000)
      completed(idle, 4, 100)
      idle.window = 1
      const now = 10_000
      const soon = running(0, slow, now - 500)
      const late = running(1, slow, now - 10)
      const hedged = hedgeStragglers([soon, late], peers.slice(0, 2), undefined, now, (s, p) => { s.tried.add(p.id); p.inflight++ })
      assert.deepEqual(hedged.map(h => h.shard.index), [1])
      assert.equal(soon.hedged, false)
    })

    it('endgame: false keeps only the straggler rule', () => {
      const [slow, idle] = peers
      completed(slow, 2, 1000)
      completed(idle, 4, 100)
      const now = 10_000
      const shard = running(0, slow, now - 100)
      assert.deepEqual(hedgeStragglers([shard], peers, undefined, now, () => {}, { endgame: false }), [])
    })
  })
})

describe('StragglerThreshold', () => {
  it('is hedgeThreshold of the round trips, sorted again only once they grew by a sixteenth', () => {
    const threshold = new StragglerThreshold({ minSamples: 4, minDelay: 0, factor: 2, percentile: 0.5 })
    const durations: number[] = []
    assert.equal(threshold.of(durations), undefined)
    durations.push(10, 10, 10, 10)
    // grown by fewer than 16 since the first look: the first value holds
    assert.equal(threshold.of(durations), undefined)
    for (let i = 0; i < 13; i++) {
      durations.push(10)
    }
    assert.equal(threshold.of(durations), 20)
    // 1,000 slower samples: seen once they pass a sixteenth of those counted
    for (let i = 0; i < 1_000; i++) {
      durations.push(50)
    }
    assert.equal(threshold.of(durations), hedgeThreshold(durations, { minSamples: 4, minDelay: 0, factor: 2, percentile: 0.5 }))
    assert.equal(threshold.of(durations), 100)
    durations.push(...Array.from({ length: 60 }, () => 1))
    assert.equal(threshold.of(durations), 100, 'fewer than a sixteenth more: not sorted again')
    durations.push(...Array.from({ length: 2_000 }, () => 1))
    assert.equal(threshold.of(durations), 2)
  })
})
