import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InvalidInputError, UnknownWorkloadError } from '@shardmesh/workloads'
import * as C from '../../src/constants.js'
import { BusyError, PeerUnresponsiveError, ShardTimeoutError } from '../../src/errors.js'
import { FailurePolicy } from '../../src/requester/failure-policy.js'
import { newPeer, newShard } from '../../src/requester/state.js'
import { FakeChannel } from './fake-channel.js'
import type { PeerState } from '../../src/requester/state.js'

describe('requester: failure policy', () => {
  let peer: PeerState

  beforeEach(async () => {
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peer = newPeer(await FakeChannel.create(requester), 2)
  })

  it('backs a failing peer off exponentially and bans it after 3 consecutive failures', () => {
    const policy = new FailurePolicy({ maxRetries: 10 })
    const backoffs: number[] = []
    let now = 1_000
    for (let i = 0; i < C.MAX_PEER_FAILURES; i++) {
      const shard = newShard(i, [new Uint8Array(1)], 1)
      shard.tried.add(peer.id)
      const verdict = policy.onFailure(shard, peer, new ShardTimeoutError('no progress'), now)
      assert.deepEqual(verdict, { kind: 'retry', busy: false })
      backoffs.push(peer.backoffUntil - now)
      assert.equal(peer.banned, i === C.MAX_PEER_FAILURES - 1)
      assert.ok(shard.tried.has(peer.id), 'a failed peer does not get the shard again')
      assert.deepEqual(shard.errors, [`${peer.id}: ERR_TIMEOUT no progress`])
      now = peer.backoffUntil
    }
    assert.deepEqual(backoffs, [C.PEER_BACKOFF_BASE, C.PEER_BACKOFF_BASE * 2, C.PEER_BACKOFF_BASE * 4])
    assert.equal(peer.failures, 3)
    assert.deepEqual(peer.lastError, { code: 'ERR_TIMEOUT', message: 'no progress' })
  })

  it('one error that fails several shards of a peer at once (its channel gave up) is one failure of the peer, not a ban', () => {
    const policy = new FailurePolicy({ maxRetries: 10 })
    // the heartbeat found the peer unresponsive with three shards in flight: each fails with the same error
    const silence = new PeerUnresponsiveError('sent nothing for 1700 ms with 3 shards in flight')
    const shards = [0, 1, 2].map(i => newShard(i, [new Uint8Array(1)], 1))
    for (const shard of shards) {
      assert.deepEqual(policy.onFailure(shard, peer, silence, 1_000), { kind: 'retry', busy: false })
      assert.equal(shard.failures, 1, 'each shard counts it against its retries')
    }
    assert.equal(peer.banned, false, 'dropped from the job for one silence')
    assert.equal(peer.failures, 1)
    assert.equal(peer.consecutiveFailures, 1)
    assert.equal(peer.backoffUntil, 1_000 + C.PEER_BACKOFF_BASE)
    // two more silences (new errors) are failures in a row: then it is dropped
    policy.onFailure(newShard(3, [new Uint8Array(1)], 1), peer, new PeerUnresponsiveError('again'), 2_000)
    assert.equal(peer.banned, false)
    policy.onFailure(newShard(4, [new Uint8Array(1)], 1), peer, new PeerUnresponsiveError('and again'), 3_000)
    assert.equal(peer.banned, true)
    assert.equal(peer.failures, 3)
  })

  it('caps the backoff, and a result ends the run of failures', () => {
    const policy = new FailurePolicy({ maxRetries: 100, maxPeerFailures: 100 })
    assert.equal(policy.backoff(1), C.PEER_BACKOFF_BASE)
    assert.equal(policy.backoff(30), C.PEER_BACKOFF_MAX)
    const shard = newShard(0, [new Uint8Array(1)], 1)
    policy.onFailure(shard, peer, new ShardTimeoutError('x'), 0)
    policy.onFailure(shard, peer, new ShardTimeoutError('x'), 0)
    policy.onSuccess(peer)
    policy.onFailure(shard, peer, new ShardTimeoutError('x'), 0)
    assert.equal(peer.backoffUntil, C.PEER_BACKOFF_BASE, 'the count started again')
    assert.equal(peer.failures, 3)
  })

  it('a busy peer is no fault: a short pause, and it may take the shard again', () => {
    const policy = new FailurePolicy({ maxRetries: 0 })
    const shard = newShard(0, [new Uint8Array(1)], 1)
    shard.tried.add(peer.id)
    assert.deepEqual(policy.onFailure(shard, peer, new BusyError('full'), 10), { kind: 'retry', busy: true })
    assert.equal(peer.backoffUntil, 10 + C.BUSY_BACKOFF)
    assert.equal(shard.tried.has(peer.id), false)
    assert.equal(peer.failures, 0)
    assert.equal(shard.failures, 0)
  })

  it('a peer without the workload is banned at once', () => {
    const policy = new FailurePolicy({ maxRetries: 3 })
    policy.onFailure(newShard(0, [new Uint8Array(1)], 1), peer, new UnknownWorkloadError('no such workload'), 0)
    assert.equal(peer.banned, true)
  })

  it('a shard fails the job after maxRetries retries', () => {
    const policy = new FailurePolicy({ maxRetries: 1, maxPeerFailures: 100 })
    const shard = newShard(4, [new Uint8Array(1)], 1)
    assert.equal(policy.onFailure(shard, peer, new ShardTimeoutError('a'), 0).kind, 'retry')
    const verdict = policy.onFailure(shard, peer, new ShardTimeoutError('b'), 0)
    assert.equal(verdict.kind, 'fail')
    assert.equal(verdict.kind === 'fail' && verdict.error.name, 'ShardFailedError')
    assert.match(verdict.kind === 'fail' ? verdict.error.message : '', /^shard 4 failed 2 times: .*ERR_TIMEOUT a; .*ERR_TIMEOUT b$/)
  })

  it('an error in the input fails the job at once with its named error', () => {
    const policy = new FailurePolicy({ maxRetries: 3 })
    const verdict = policy.onFailure(newShard(0, [new Uint8Array(1)], 1), peer, new InvalidInputError('bad item'), 0)
    assert.equal(verdict.kind, 'fail')
    assert.equal(verdict.kind === 'fail' && verdict.error.name, 'InvalidInputError')
    assert.equal(peer.failures, 0)
  })
})
