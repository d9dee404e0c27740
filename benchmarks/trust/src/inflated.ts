/**
 * Inflated slots: a job of `shards` shards on 3 honest `sleep` workers (`--slots 1`, 10 ms per
 * item) alone, and with a 4th node that serves 1 slot at 100 ms per item but advertises 500
 * slots (`--test-fault advertise-slots:500`). All 5 nodes are one cluster; "alone" names the 3
 * honest workers as the job's peers. The first job with the 4th node (it is challenged before
 * its first work) is reported apart; then `rounds` rounds of both, alternating their order.
 *
 * Its fair share is what its speed earns against the honest nodes' speed measured in the jobs
 * without it: 10 items/s ÷ (10 + honest items/s).
 */
import {
  makeItems, median, outputsMatch, peerReport, progress, round, runJob, sleepNode, withCluster
} from './util.js'
import type { TimedJob } from './util.js'
import type { JobResultJson } from '@shardmesh/control'

export interface InflatedConfig {
  shards: number
  shardSize: number
  honestSleepMs: number
  inflatedSleepMs: number
  claimedSlots: number
  rounds: number
}

const HONEST = [1, 2, 3]
const INFLATED = 4

export async function inflated (config: InflatedConfig): Promise<Record<string, unknown>> {
  return withCluster('inflated slots', {
    nodes: 5,
    nodeArgs: i => i === 0
      ? sleepNode(config.honestSleepMs)
      : i === INFLATED
        ? sleepNode(config.inflatedSleepMs, '--slots', '1', '--test-fault', `advertise-slots:${config.claimedSlots}`)
        : sleepNode(config.honestSleepMs, '--slots', '1')
  }, async cluster => {
    const requester = cluster.nodes[0]
    const bad = cluster.nodes[INFLATED].peerId
    const honest = HONEST.map(i => cluster.nodes[i].peerId)
    const items = makeItems(config.shards * config.shardSize, 3)
    const run = async (withIt: boolean): Promise<TimedJob> => {
      const job = await runJob(requester, { items, shardSize: config.shardSize, peers: withIt ? [...honest, bad] : honest, includeSelf: false })
      if (!outputsMatch(job.result, items)) {
        throw new Error('a job of the inflated-slots scenario lost outputs')
      }
      return job
    }

    // warm-up without it (the honest peers' challenges), then the first job with it
    await run(false)
    const first = await run(true)
    const without: TimedJob[] = []
    const withIt: TimedJob[] = []
    for (let r = 0; r < config.rounds; r++) {
      for (const w of r % 2 === 0 ? [false, true] : [true, false]) {
        (w ? withIt : without).push(await run(w))
      }
    }

    const honestItemsPerSec = median(without.map(j => j.result.items / j.result.elapsedMs * 1000))
    const speed = 1000 / config.inflatedSleepMs
    const fairShare = speed / (speed + honestItemsPerSec)
    const nominalFairShare = speed / (speed + HONEST.length * 1000 / config.honestSleepMs)
    const share = (j: JobResultJson): { shards: number, attempts: number } => {
      const p = peerReport(j, bad)
      const attempts = j.peers.reduce((t, r) => t + r.attempts, 0)
      return { shards: p.shards / j.shards.length, attempts: attempts === 0 ? 0 : p.attempts / attempts }
    }
    const shareOfShards = median(withIt.map(j => share(j.result).shards))
    const shareOfAttempts = median(withIt.map(j => share(j.result).attempts))
    const elapsedWith = median(withIt.map(j => j.result.elapsedMs))
    const elapsedWithout = median(without.map(j => j.result.elapsedMs))
    const wallWith = median(withIt.map(j => j.wallMs))
    const wallWithout = median(without.map(j => j.wallMs))
    const row = (j: TimedJob): Record<string, unknown> => ({
      elapsedMs: j.result.elapsedMs,
      wallMs: Math.round(j.wallMs),
      inflated: peerReport(j.result, bad),
      hedgedShards: j.result.shards.filter(s => s.hedged).length
    })
    progress(`inflated: share ${round(shareOfShards * 100)} % of shards (fair ${round(fairShare * 100)} %), job ${elapsedWith} ms with it, ${elapsedWithout} ms without`)
    return {
      config: { ...config, honestWorkers: HONEST.length, inflatedItemsPerSec: speed },
      honestItemsPerSec: round(honestItemsPerSec),
      fairShare: round(fairShare, 4),
      nominalFairShare: round(nominalFairShare, 4),
      shareOfShards: round(shareOfShards, 4),
      shareOfAttempts: round(shareOfAttempts, 4),
      /** its share of accepted shards ÷ its fair share (target ≤ 1.5) */
      shareRatio: round(shareOfShards / fairShare, 3),
      attemptShareRatio: round(shareOfAttempts / fairShare, 3),
      nominalShareRatio: round(shareOfShards / nominalFairShare, 3),
      elapsedMs: { with: elapsedWith, without: elapsedWithout },
      wallMs: { with: Math.round(wallWith), without: Math.round(wallWithout) },
      /** the job's time with it ÷ without it (target ≤ 1.15), from the job reports' elapsedMs */
      timeRatio: round(elapsedWith / elapsedWithout, 3),
      wallTimeRatio: round(wallWith / wallWithout, 3),
      /** the first job with it (its challenge before first work included) ÷ the median job without it, wall time */
      firstJobWallRatio: round(first.wallMs / wallWithout, 3),
      firstJobWithIt: { ...row(first), excluded: first.result.placement.excluded.map(e => ({ reason: e.reason, detail: e.detail })) },
      runs: {
        with: withIt.map(row),
        without: without.map(j => ({ elapsedMs: j.result.elapsedMs, wallMs: Math.round(j.wallMs) }))
      }
    }
  })
}
