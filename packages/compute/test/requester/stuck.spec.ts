import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { newPeer, newShard } from '../../src/requester/state.js'
import { FailurePolicy } from '../../src/requester/failure-policy.js'
import { reopenLost, whyStuck } from '../../src/requester/stuck.js'
import { BadResultError, PeerUnresponsiveError, StreamClosedError } from '../../src/errors.js'
import { FakeChannel } from './fake-channel.js'
import type { PeerState, ShardState } from '../../src/requester/state.js'
import type { StuckInput } from '../../src/requester/stuck.js'

describe('requester: stuck jobs', () => {
  let peers: PeerState[]
  let shard: ShardState

  function input (overrides: Partial<StuckInput> = {}): StuckInput {
    return { shards: [shard], peers, workload: { id: 'echo', version: '1.0.0' }, policy: { kind: 'none' }, now: 0, lastAccepted: 0, queueTimeout: 1_000, ...overrides }
  }

  beforeEach(async () => {
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peers = [newPeer(await FakeChannel.create(requester), 1), newPeer(await FakeChannel.create(requester), 1)]
    shard = newShard(3, [new Uint8Array(1)], 1)
  })

  it('a job with an attempt in flight is not stuck', () => {
    peers[0].inflight = 1
    peers[1].banned = true
    shard.tried.add(peers[0].id)
    assert.equal(whyStuck(input({ now: 10_000 })), undefined)
  })

  it('every peer dropped: AllExcludedError naming each with its last error', () => {
    for (const peer of peers) {
      peer.banned = true
      peer.failures = 3
      peer.lastError = { code: 'ERR_TIMEOUT', message: 'no progress' }
    }
    const err = whyStuck(input())
    assert.equal(err?.name, 'AllExcludedError')
    assert.equal(err?.message, `every peer was dropped from the job: ${peers[0].id} (ERR_TIMEOUT no progress; 3 failures), ${peers[1].id} (ERR_TIMEOUT no progress; 3 failures)`)
  })

  it('no peer accepted work past queueTimeout: AllBusyError names each unresponsive peer with what failed its last attempt', () => {
    // peer 0 went silent holding the job's shards (one failure) and is dead now; peer 1 is busy
    peers[0].channel.health = () => 'dead'
    peers[0].lastError = { code: PeerUnresponsiveError.code, message: 'sent nothing for 1700 ms' }
    const err = whyStuck(input({ now: 1_001 }))
    assert.equal(err?.name, 'AllBusyError')
    assert.equal(err?.message, `no peer accepted work for 1000 ms; not given work while unresponsive: ${peers[0].id} (dead; last failed with ERR_PEER_UNRESPONSIVE: sent nothing for 1700 ms)`)
  })

  it('every peer left has tried a shard that needs a second result: NotEnoughPeersError names what it needs and has', () => {
    shard.needed = 2
    peers[1].banned = true
    peers[1].lastError = { code: 'ERR_NOT_ALLOWED', message: 'no' }
    shard.tried.add(peers[0].id)
    shard.results.push({ peer: peers[0], output: new Uint8Array(0), receipt: new Uint8Array(0), outputs: [], roundTripMs: 1 })
    const err = whyStuck(input({ policy: { kind: 'replicate', k: 2 } }))
    assert.equal(err?.name, 'NotEnoughPeersError')
    assert.match(err?.message ?? '', /^shard 3 needs results from 2 distinct peers for replicate:2 and has 1; no peer is left to ask \(1 peer left: .* \(returned a result\)\); dropped from the job: .* \(ERR_NOT_ALLOWED\)$/)
  })

  it('a shard every peer left lost to the link goes round again while it has retries; a wrong answer is never asked again', () => {
    const policy = new FailurePolicy({ maxRetries: 3, maxPeerFailures: 100 })
    // peer 0 crashed with it (stream closed), peer 1 went silent (a partition): neither says anything about the shard
    for (const [i, err] of [new StreamClosedError('the worker closed the stream'), new PeerUnresponsiveError('sent nothing for 1700 ms')].entries()) {
      shard.tried.add(peers[i].id)
      policy.onFailure(shard, peers[i], err, 0)
    }
    assert.equal(whyStuck(input())?.name, 'AllExcludedError', 'without a second round the job fails')
    assert.equal(reopenLost([shard], peers, 3), 1)
    assert.deepEqual([...shard.tried], [])
    assert.equal(whyStuck(input()), undefined)
    // the second round is lost too: failures 4 > maxRetries 3 would have failed the job already; at 3 it goes round once more
    for (const peer of peers) {
      shard.tried.add(peer.id)
    }
    shard.lostTo.add(peers[0].id)
    shard.failures = 4
    assert.equal(reopenLost([shard], peers, 3), 0, 'no retries left')
    // a peer that answered wrongly (a bad result) is not asked again
    const other = newShard(4, [new Uint8Array(1)], 1)
    other.tried.add(peers[0].id)
    other.tried.add(peers[1].id)
    policy.onFailure(other, peers[0], new BadResultError('output digest differs'), 0)
    policy.onFailure(other, peers[1], new StreamClosedError('closed'), 0)
    assert.equal(reopenLost([other], peers, 3), 1)
    assert.deepEqual([...other.tried], [peers[0].id])
  })

  it('no peer accepted work for queueTimeout: AllBusyError', () => {
    assert.equal(whyStuck(input({ now: 1_000 })), undefined)
    assert.equal(whyStuck(input({ now: 1_001 }))?.name, 'AllBusyError')
  })
})
