import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { echo } from '@shardmesh/workloads'
import { newPeer, newShard } from '../../src/requester/state.js'
import { MAX_REPLICAS, isSpotChecked } from '../../src/requester/verification.js'
import { decide, disputeOf, sameOutputs } from '../../src/requester/voting.js'
import { FakeChannel } from './fake-channel.js'
import type { PeerState, ShardResult, ShardState } from '../../src/requester/state.js'

const JOB = new Uint8Array(16)
const same = sameOutputs(echo())

describe('requester: voting', () => {
  let peers: PeerState[]

  function result (peer: number, value: number): ShardResult {
    return { peer: peers[peer], output: new Uint8Array(0), receipt: new Uint8Array(0), outputs: [new Uint8Array([value])], roundTripMs: 1 }
  }

  function shard (needed: number, ...results: ShardResult[]): ShardState {
    const s = newShard(0, [new Uint8Array(1)], needed)
    s.results.push(...results)
    return s
  }

  before(async () => {
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peers = await Promise.all(Array.from({ length: MAX_REPLICAS }, async () => newPeer(await FakeChannel.create(requester), 1)))
  })

  it('waits for the results a shard needs', () => {
    assert.deepEqual(decide(shard(3, result(0, 1), result(1, 1)), { kind: 'replicate', k: 3 }, JOB, same), { kind: 'wait' })
  })

  it('accepts a lone result', () => {
    const s = shard(1, result(0, 1))
    const decision = decide(s, { kind: 'none' }, JOB, same)
    assert.equal(decision.kind, 'accept')
    assert.equal(decision.kind === 'accept' && decision.outcome, 'accepted')
    assert.equal(disputeOf(s, decision.kind === 'accept' ? decision.agreeing : []), undefined)
  })

  it('picks the majority and records the losers', () => {
    const s = shard(3, result(0, 1), result(1, 2), result(2, 1))
    const decision = decide(s, { kind: 'replicate', k: 3 }, JOB, same)
    assert.equal(decision.kind, 'accept')
    if (decision.kind !== 'accept') {
      return
    }
    assert.equal(decision.outcome, 'disputed')
    assert.deepEqual(decision.agreeing.map(r => r.peer.id), [peers[0].id, peers[2].id])
    assert.deepEqual(disputeOf(s, decision.agreeing), { shard: 0, winners: [peers[0].id, peers[2].id], losers: [peers[1].id] })
  })

  it('unanimous replicas are checked, not disputed', () => {
    const s = shard(2, result(0, 1), result(1, 1))
    const decision = decide(s, { kind: 'replicate', k: 2 }, JOB, same)
    assert.equal(decision.kind === 'accept' && decision.outcome, 'checked')
    assert.equal(s.disputed, false)
  })

  it('with no majority it asks one more peer, and fails at MAX_REPLICAS', () => {
    const s = shard(2, result(0, 1), result(1, 2))
    assert.deepEqual(decide(s, { kind: 'replicate', k: 2 }, JOB, same), { kind: 'more', reason: 'dispute' })
    assert.equal(s.needed, 3)
    assert.equal(s.disputed, true)
    const full = shard(MAX_REPLICAS, ...peers.map((_, i) => result(i, i)))
    const decision = decide(full, { kind: 'replicate', k: MAX_REPLICAS }, JOB, same)
    assert.equal(decision.kind === 'fail' && decision.error.name, 'DisputeUnresolvedError')
  })

  it('a spot-checked shard asks a second peer before it is accepted', () => {
    const s = shard(1, result(0, 1))
    assert.equal(isSpotChecked(JOB, 0, 1), true)
    assert.deepEqual(decide(s, { kind: 'spot-check', p: 1 }, JOB, same), { kind: 'more', reason: 'spot-check' })
    assert.equal(s.needed, 2)
    assert.equal(s.checked, true)
    s.results.push(result(1, 1))
    const decision = decide(s, { kind: 'spot-check', p: 1 }, JOB, same)
    assert.equal(decision.kind === 'accept' && decision.outcome, 'checked')
  })

  describe('peers that must be verified (probation, a lost dispute)', () => {
    function unverified (peer: number, value: number): ShardResult {
      return { ...result(peer, value), mustVerify: true }
    }

    it('a lone result of such a peer asks a second peer, under any policy, and is then checked', () => {
      for (const policy of [{ kind: 'none' }, { kind: 'spot-check', p: 0 }, { kind: 'replicate', k: 1 }] as const) {
        const s = shard(1, unverified(0, 1))
        assert.deepEqual(decide(s, policy, JOB, same), { kind: 'more', reason: 'probation' })
        assert.equal(s.needed, 2)
        assert.equal(s.probation, true)
        assert.deepEqual(decide(s, policy, JOB, same), { kind: 'wait' })
        s.results.push(result(1, 1))
        const decision = decide(s, policy, JOB, same)
        assert.equal(decision.kind, 'accept')
        assert.equal(decision.kind === 'accept' && decision.outcome, 'checked')
        assert.deepEqual(decision.kind === 'accept' && decision.agreeing.map(r => r.peer.id), [peers[0].id, peers[1].id])
      }
    })

    it('if the second peer disagrees, the dispute rule applies and the loser is recorded', () => {
      const s = shard(1, unverified(0, 9))
      decide(s, { kind: 'none' }, JOB, same)
      s.results.push(result(1, 1))
      assert.deepEqual(decide(s, { kind: 'none' }, JOB, same), { kind: 'more', reason: 'dispute' })
      assert.equal(s.needed, 3)
      s.results.push(result(2, 1))
      const decision = decide(s, { kind: 'none' }, JOB, same)
      assert.equal(decision.kind === 'accept' && decision.outcome, 'disputed')
      assert.deepEqual(disputeOf(s, decision.kind === 'accept' ? decision.agreeing : []), { shard: 0, winners: [peers[1].id, peers[2].id], losers: [peers[0].id] })
    })

    it('a majority made only of such peers is not enough: one in good standing must agree', () => {
      const s = shard(2, unverified(0, 1), unverified(1, 1))
      assert.deepEqual(decide(s, { kind: 'replicate', k: 2 }, JOB, same), { kind: 'more', reason: 'probation' })
      assert.equal(s.needed, 3)
      s.results.push(result(2, 1))
      assert.equal(decide(s, { kind: 'replicate', k: 2 }, JOB, same).kind, 'accept')
      // and never past MAX_REPLICAS
      const full = shard(MAX_REPLICAS, ...peers.map((_, i) => unverified(i, 1)))
      const decision = decide(full, { kind: 'replicate', k: MAX_REPLICAS }, JOB, same)
      assert.equal(decision.kind === 'fail' && decision.error.name, 'DisputeUnresolvedError')
    })
  })
})
