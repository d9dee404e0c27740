import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { HEALTH_RECHECK_INTERVAL, ShardQueue, pullShards } from '../../src/requester/scheduler.js'
import { newPeer, newShard } from '../../src/requester/state.js'
import { FakeChannel } from './fake-channel.js'
import type { PeerState, ShardState } from '../../src/requester/state.js'

function shards (n: number, needed = 1): ShardState[] {
  return Array.from({ length: n }, (_, i) => newShard(i, [new Uint8Array([i])], needed))
}

/** Launch as JobRun does for the scheduler: the shard runs, tried by the peer, and counts in its window. */
function launcher (log: Array<[number, string]>): (shard: ShardState, peer: PeerState) => void {
  return (shard, peer) => {
    shard.tried.add(peer.id)
    shard.running.add({ peer, startedAt: 0, hedge: false, handle: peer.channel.send({ jobId: new Uint8Array(16), shardIndex: shard.index, workload: 'w', version: '1', input: shard.input, idleTimeout: 1 }) })
    peer.inflight++
    log.push([shard.index, peer.id])
  }
}

/** The attempt of this shard on this peer ended: it leaves the shard and the peer's window. */
function end (shard: ShardState, peer: PeerState): void {
  for (const attempt of shard.running) {
    if (attempt.peer === peer) {
      shard.running.delete(attempt)
      peer.inflight--
    }
  }
}

describe('requester: scheduler', () => {
  let peers: PeerState[]

  beforeEach(async () => {
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peers = [
      newPeer(await FakeChannel.create(requester, () => 'hold'), 2),
      newPeer(await FakeChannel.create(requester, () => 'hold'), 1)
    ]
  })

  it('pulls fresh shards in index order into each peer\'s free window, peer by peer', () => {
    const all = shards(5)
    const queue = new ShardQueue(all)
    const log: Array<[number, string]> = []
    const waitUntil = pullShards(peers, queue, 0, launcher(log))
    assert.deepEqual(log, [[0, peers[0].id], [1, peers[0].id], [2, peers[1].id]])
    assert.equal(waitUntil, Infinity)
    assert.equal(queue.drained(), false)

    // a window frees up: the next fresh shard goes there
    end(all[2], peers[1])
    log.length = 0
    pullShards(peers, queue, 0, launcher(log))
    assert.deepEqual(log, [[3, peers[1].id]])
  })

  it('a retried shard goes first, and never to a peer that tried it', () => {
    const all = shards(4)
    const queue = new ShardQueue(all)
    const log: Array<[number, string]> = []
    pullShards(peers, queue, 0, launcher(log))
    // peer 0 failed shard 0 and has room again
    end(all[0], peers[0])
    queue.retry(all[0])
    log.length = 0
    pullShards(peers, queue, 0, launcher(log))
    assert.deepEqual(log, [[3, peers[0].id]], 'peer 0 already tried shard 0: it takes the next fresh one')
    end(all[2], peers[1])
    log.length = 0
    pullShards(peers, queue, 0, launcher(log))
    assert.deepEqual(log, [[0, peers[1].id]], 'the retry comes before anything fresh')
  })

  it('a replicated shard is handed to as many distinct peers as it needs', () => {
    const all = shards(2, 2)
    const queue = new ShardQueue(all)
    const log: Array<[number, string]> = []
    peers[1].window = 2
    pullShards(peers, queue, 0, launcher(log))
    assert.deepEqual(log, [[0, peers[0].id], [1, peers[0].id], [0, peers[1].id], [1, peers[1].id]])
    assert.equal(queue.drained(), true)
  })

  it('skips banned peers and peers backing off, and says when the first backoff ends', () => {
    const queue = new ShardQueue(shards(3))
    peers[0].backoffUntil = 500
    peers[1].banned = true
    const log: Array<[number, string]> = []
    assert.equal(pullShards(peers, queue, 100, launcher(log)), 500)
    assert.deepEqual(log, [])
    assert.equal(pullShards(peers, queue, 500, launcher(log)), Infinity)
    assert.deepEqual(log, [[0, peers[0].id], [1, peers[0].id]])
  })

  it('skips suspect and dead peers, and asks to run again soon while one is skipped with work left', () => {
    const queue = new ShardQueue(shards(4))
    let health: 'alive' | 'suspect' | 'dead' = 'suspect'
    peers[0].channel.health = () => health
    const log: Array<[number, string]> = []
    assert.equal(pullShards(peers, queue, 1000, launcher(log)), 1000 + HEALTH_RECHECK_INTERVAL)
    assert.deepEqual(log, [[0, peers[1].id]])
    health = 'dead'
    assert.equal(pullShards(peers, queue, 1100, launcher(log), 50), 1150)
    assert.equal(log.length, 1)
    // it recovered: the next pass gives it work
    health = 'alive'
    log.length = 0
    assert.equal(pullShards(peers, queue, 1200, launcher(log)), Infinity)
    assert.deepEqual(log, [[1, peers[0].id], [2, peers[0].id]])
  })

  it('no re-check for an unhealthy peer once nothing is left to hand out', () => {
    const queue = new ShardQueue(shards(1))
    peers[0].channel.health = () => 'suspect'
    const log: Array<[number, string]> = []
    assert.equal(pullShards(peers, queue, 0, launcher(log)), Infinity)
    assert.deepEqual(log, [[0, peers[1].id]])
  })
})
