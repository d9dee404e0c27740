import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as C from '../../src/constants.js'
import { hedgeStragglers, hedgeThreshold } from '../../src/requester/hedging.js'
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
    const hedged = hedgeStragglers([slow, recent, slowToo], peers, durations, now, (shard, peer) => {
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
    const later = hedgeStragglers([slow, recent, slowToo], peers, durations, now + threshold * 10, () => {})
    assert.deepEqual(later.map(h => [h.shard.index, h.peer.id]), [[1, peers[1].id]])
  })

  it('hedges nothing when no idle peer is left, nor while too few round trips completed', () => {
    const now = 10_000
    const shard = running(0, peers[0], 0)
    peers[1].banned = true
    peers[2].backoffUntil = now + 1
    const launch = (): void => { assert.fail('nothing should be hedged') }
    assert.deepEqual(hedgeStragglers([shard], peers, [1, 1, 1, 1], now, launch), [])
    peers[1].banned = false
    assert.deepEqual(hedgeStragglers([shard], peers, [1, 1, 1], now, launch), [])
  })
})
