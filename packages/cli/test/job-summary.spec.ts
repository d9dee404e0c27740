import assert from 'node:assert/strict'
import { progressBar } from '../src/job/progress.js'
import { PEER_SUMMARY_LEGEND, peersThatWorked, renderPeerSummary, renderPlacement } from '../src/job/summary.js'
import type { JobResultJson } from '@shardmesh/control'

type PeerJson = JobResultJson['peers'][number]

function peer (peerId: string, fields: Partial<PeerJson> = {}): PeerJson {
  return { peerId, local: false, shards: 0, items: 0, attempts: 0, failures: 0, results: 0, meanShardMs: 0, meanRunMs: 0, meanQueueMs: 0, banned: false, window: 1, itemsPerSec: 0, ...fields }
}

function result (peers: PeerJson[]): JobResultJson {
  return { jobId: '00', workload: 'echo', version: '1.0.0', verification: 'replicate:3', outputs: [], shards: [], peers, disputes: [], receipts: [], items: 0, elapsedMs: 0, itemsPerSec: 0, placement: { considered: peers.length, used: peers.map(p => p.peerId), excluded: [] } }
}

describe('job summary', () => {
  it('the per-peer table shows run and queue time apart, and a legend says what each column counts', () => {
    const text = renderPeerSummary(result([
      peer('a', { local: true, shards: 4, items: 8, attempts: 4, results: 4, meanShardMs: 350, meanRunMs: 200, meanQueueMs: 150, window: 3, itemsPerSec: 22.86 }),
      peer('b', { attempts: 3, failures: 3, banned: true })
    ]))
    const [header, , a, b] = text.split('\n')
    assert.deepEqual(header.split(/\s{2,}/), ['peer', 'shards', 'items', 'attempts', 'failures', 'window', 'items/s', 'mean run', 'mean queue', 'note'])
    assert.deepEqual(a.split(/\s{2,}/), ['a', '4', '8', '4', '0', '3', '23', '200 ms', '150 ms', 'this node'])
    // no result: no time to average, no speed
    assert.deepEqual(b.split(/\s{2,}/), ['b', '0', '0', '3', '3', '1', '-', '-', '-', 'dropped'])
    assert.ok(text.endsWith(PEER_SUMMARY_LEGEND))
    for (const column of ['shards', 'attempts', 'window', 'items/s', 'mean run', 'mean queue']) {
      assert.match(PEER_SUMMARY_LEGEND, new RegExp(`^${column} `, 'm'))
    }
    assert.match(PEER_SUMMARY_LEGEND, /replicas included/)
  })

  it('with what the requester knows of each peer, the table gains measured speed and liveness', () => {
    const text = renderPeerSummary(result([peer('a', { shards: 1, results: 1, itemsPerSec: 4.5 })]), id => `node ${id}`, () => ({ measured: '5.0/s', liveness: 'alive 0.1s (result)' }))
    const [header, , a] = text.split('\n')
    assert.deepEqual(header.split(/\s{2,}/), ['peer', 'shards', 'items', 'attempts', 'failures', 'window', 'items/s', 'mean run', 'mean queue', 'measured', 'liveness', 'note'])
    assert.deepEqual(a.split(/\s{2,}/), ['node a', '1', '0', '0', '0', '1', '4.5', '0 ms', '0 ms', '5.0/s', 'alive 0.1s (result)'])
  })

  it('the placement says how many peers were considered and used, and why each other was excluded', () => {
    assert.equal(renderPlacement({ considered: 2, used: ['a', 'b'], excluded: [] }), 'placement: 2 peers considered, 2 used, 0 excluded')
    const text = renderPlacement({ considered: 3, used: ['a'], excluded: [{ peerId: 'b', reason: 'low-score', detail: 'score 0.12 < 0.25: lost 3 disputes' }, { peerId: 'c', reason: 'dead', detail: 'no heartbeat for 3.2s' }] })
    const [head, header, , b, c] = text.split('\n')
    assert.equal(head, 'placement: 3 peers considered, 1 used, 2 excluded:')
    assert.deepEqual(header.trim().split(/\s{2,}/), ['excluded', 'reason', 'detail'])
    assert.deepEqual(b.trim().split(/\s{2,}/), ['b', 'low-score', 'score 0.12 < 0.25: lost 3 disputes'])
    assert.deepEqual(c.trim().split(/\s{2,}/), ['c', 'dead', 'no heartbeat for 3.2s'])
  })

  it('a peer that refused this requester says so in its own words, instead of "dropped"', () => {
    const text = renderPeerSummary(result([peer('w', { attempts: 1, failures: 1, banned: true, refused: 'this worker does not accept shards from you (denied: on its deny list)' })]))
    const row = text.split('\n')[2]
    assert.equal(row.split(/\s{2,}/).pop(), 'refused us: this worker does not accept shards from you (denied: on its deny list)')
  })

  it('counts the peers that completed a shard, replicas included', () => {
    // under replicate:2 on two peers both did every shard
    assert.equal(peersThatWorked(result([peer('a', { shards: 3 }), peer('b', { shards: 3 }), peer('c', { attempts: 1, failures: 1 })])), 2)
  })

  it('the progress bar counts in the singular for one', () => {
    let written = ''
    const stream = { isTTY: true, write: (s: string) => { written += s; return true } } as unknown as NodeJS.WriteStream
    const bar = progressBar(stream)
    bar.onEvent({ event: 'progress', shardsDone: 0, shardsTotal: 1, itemsDone: 0, itemsTotal: 1, peersInUse: 1, elapsedMs: 1, itemsPerSec: 0 })
    assert.match(written, / 0\/1 shard {2}0\/1 item {2}0\.0 items\/s {2}1 peer busy $/)
    written = ''
    bar.onEvent({ event: 'progress', shardsDone: 1, shardsTotal: 2, itemsDone: 3, itemsTotal: 6, peersInUse: 2, elapsedMs: 1, itemsPerSec: 1 })
    assert.match(written, / 1\/2 shards {2}3\/6 items {2}1\.0 items\/s {2}2 peers busy $/)
    bar.done()
  })
})
