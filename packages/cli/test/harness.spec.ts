import assert from 'node:assert/strict'
import { measureConvergence, waitConverged } from '../src/cluster/convergence.js'
import type { ConvergenceMember, ConvergenceReport } from '../src/cluster/convergence.js'

/** A member whose table holds `seen` (peer id -> first seen at). */
function member (peerId: string, readyAt: number, seen: Record<string, number>): ConvergenceMember {
  return { peerId, readyAt, peers: async () => Object.entries(seen).map(([peerId, firstSeenAt]) => ({ peerId, firstSeenAt })) }
}

describe('harness', () => {
  it('is @shardmesh/cli/harness, not the CLI\'s front door', async () => {
    // specifiers in variables: resolved by Node through the package's exports map at run time
    const front = '@shardmesh/cli'
    const harness = '@shardmesh/cli/harness'
    const cli = await import(front)
    assert.equal(cli.LocalCluster, undefined)
    assert.equal(cli.CLI_BIN, undefined)
    assert.equal(typeof cli.main, 'function')
    const h = await import(harness)
    assert.equal(typeof h.LocalCluster, 'function')
    assert.equal(typeof h.CLI_BIN, 'string')
    assert.equal(typeof h.measureConvergence, 'function')
  })

  describe('convergence', () => {
    it('a node converged when it holds every other member: the last first-seen (or its ready time), after the start', async () => {
      const report = await measureConvergence([
        member('a', 1_010, { b: 1_050, c: 1_070, outsider: 1_900 }),
        member('b', 1_020, { a: 1_030, c: 1_040 }),
        member('c', 1_100, { a: 1_060, b: 1_080 })
      ], 1_000)
      assert.deepEqual(report.nodes, [
        { peerId: 'a', advertsSeen: 2, convergedMs: 70 },
        { peerId: 'b', advertsSeen: 2, convergedMs: 40 },
        { peerId: 'c', advertsSeen: 2, convergedMs: 100 }
      ])
      assert.equal(report.convergedMs, 100)
      assert.equal(report.readyMs, 100)
    })

    it('one node missing a member leaves the cluster unconverged', async () => {
      const report = await measureConvergence([
        member('a', 1_010, { b: 1_050 }),
        member('b', 1_020, { a: 1_030, c: 1_040 }),
        member('c', 1_030, { a: 1_060, b: 1_080 })
      ], 1_000)
      assert.deepEqual(report.nodes[0], { peerId: 'a', advertsSeen: 1, convergedMs: null })
      assert.equal(report.convergedMs, null)
    })

    it('waitConverged measures until converged and returns that report', async () => {
      const reports: ConvergenceReport[] = [
        { nodes: [], convergedMs: null, readyMs: 5 },
        { nodes: [], convergedMs: null, readyMs: 5 },
        { nodes: [], convergedMs: 42, readyMs: 5 }
      ]
      let calls = 0
      const report = await waitConverged(async () => reports[calls++], { interval: 1 })
      assert.equal(calls, 3)
      assert.equal(report.convergedMs, 42)
    })

    it('waitConverged returns the last unconverged report at its timeout', async () => {
      const report = await waitConverged(async () => ({ nodes: [], convergedMs: null, readyMs: 5 }), { timeout: 5, interval: 1 })
      assert.equal(report.convergedMs, null)
    })
  })
})
