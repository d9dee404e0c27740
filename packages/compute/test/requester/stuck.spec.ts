import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { newPeer, newShard } from '../../src/requester/state.js'
import { whyStuck } from '../../src/requester/stuck.js'
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

  it('no peer accepted work for queueTimeout: AllBusyError', () => {
    assert.equal(whyStuck(input({ now: 1_000 })), undefined)
    assert.equal(whyStuck(input({ now: 1_001 }))?.name, 'AllBusyError')
  })
})
