import assert from 'node:assert/strict'
import { benchCharts, renderBench, scalingOf } from '../src/bench/report.js'
import { peerCountsFlag, defaultPeerCounts } from '../src/commands/bench.js'
import { checkWellFormedXml } from '../src/bench/xml-check.js'
import type { BenchReport, BenchRun } from '../src/bench/report.js'

const A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

function run (peers: number, itemsPerSec: number): BenchRun & { peersUsed: number } {
  return { peers, peerIds: [A, B].slice(0, peers), items: 16, shards: 4, elapsedMs: 16_000 / itemsPerSec, itemsPerSec, peersUsed: peers }
}

function report (): BenchReport {
  const runs = scalingOf([run(1, 10), run(2, 15)])
  return {
    bench: 'shardmesh',
    startedAt: 0,
    elapsedMs: 5000,
    node: A,
    workload: 'sleep@1.0.0',
    items: 16,
    shardSize: 4,
    available: 2,
    overhead: { workload: 'echo@1.0.0', peerId: A, baseline: { ...run(1, 1000), shards: 1 }, run: { ...run(1, 100), shards: 16 }, perShardMs: 10 },
    scaling: { baselinePeers: 1, runs },
    inference: { workload: 'sleep@1.0.0', baselineItemsPerSec: 10, meshItemsPerSec: 15, meshPeers: 2, ratio: 1.5, perPeer: [{ peerId: A, local: true, items: 8, itemsPerSec: 5 }, { peerId: B, local: false, items: 8, itemsPerSec: 4 }] }
  }
}

describe('bench report', () => {
  it('speedup and efficiency are against the run on the fewest peers', () => {
    const [one, two, four] = scalingOf([run(1, 10), run(2, 15), run(4, 40)])
    assert.equal(one.speedup, 1)
    assert.equal(one.efficiency, 1)
    assert.equal(two.speedup, 1.5)
    assert.equal(two.efficiency, 0.75)
    assert.equal(four.speedup, 4)
    assert.equal(four.efficiency, 1)
    // a baseline of 2 peers: 4 peers is twice the peers
    assert.equal(scalingOf([run(2, 10), run(4, 15)])[1].efficiency, 0.75)
  })

  it('one well-formed chart per measure', () => {
    const charts = benchCharts(report())
    assert.deepEqual(charts.map(c => c.file), ['overhead.svg', 'throughput.svg', 'efficiency.svg', 'inference.svg'])
    for (const chart of charts) {
      assert.equal(checkWellFormedXml(chart.svg), 'svg', chart.file)
    }
  })

  it('the summary has the overhead, a row per run with its baseline marked, and inference', () => {
    const text = renderBench(report())
    assert.match(text, /per-shard overhead \(echo@1\.0\.0 on 12D3KooW…aaaaaa\): 10 ms a shard/)
    assert.match(text, /^1 \(baseline\)\s+1\s+4\s+1600\s+10\s+1x\s+100 %$/m)
    assert.match(text, /^2\s+2\s+4\s+1067\s+15\s+1\.5x\s+75 %$/m)
    assert.match(text, /^inference: sleep@1\.0\.0 15 items\/s on 2 peers, 10 on 1 \(x1\.5\)/m)
  })

  it('--peers: ascending distinct counts; the default doubles up to every peer', () => {
    assert.equal(peerCountsFlag(undefined), undefined)
    assert.deepEqual(peerCountsFlag('1,2,4'), [1, 2, 4])
    assert.throws(() => peerCountsFlag('2,2'), /ascending/)
    assert.throws(() => peerCountsFlag('1,x'), /--peers: "x" must be a whole number/)
    assert.throws(() => peerCountsFlag('0'), /--peers/)
    assert.deepEqual(defaultPeerCounts(1), [1])
    assert.deepEqual(defaultPeerCounts(3), [1, 2, 3])
    assert.deepEqual(defaultPeerCounts(4), [1, 2, 4])
    assert.deepEqual(defaultPeerCounts(9), [1, 2, 4, 8, 9])
  })
})
