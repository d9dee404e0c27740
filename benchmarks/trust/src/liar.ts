/**
 * Liars: 3 honest workers and two liars, each liar in turn named beside the honest ones in a
 * `replicate:3` job and then a `none` job from node 0:
 *
 * - `wrong-answers` corrupts every output. A requester challenges a peer before its first work,
 *   and a peer cannot tell a challenge from a job: this one is caught there, before any dispute;
 * - `wrong-answers-after:1` answers its first shard (the challenge) right, then lies: it passes
 *   the challenge, gets replicas in the `replicate:3` job and is outvoted there.
 *
 * Reported per liar and job: what it did (shards accepted, attempts, results), the disputes it
 * lost, why the job's placement excluded it, and node 0's view of it afterwards (score,
 * probation, reasons).
 */
import { makeItems, outputsMatch, peerReport, progress, rowOf, runJob, sleepNode, withCluster } from './util.js'
import type { JobResultJson } from '@shardmesh/control'

export interface LiarConfig {
  items: number
  shardSize: number
  sleepMs: number
}

const HONEST = [1, 2, 3]
const LIARS = [{ index: 4, fault: 'wrong-answers' }, { index: 5, fault: 'wrong-answers-after:1' }]

export async function liar (config: LiarConfig): Promise<Record<string, unknown>> {
  return withCluster('liars', {
    nodes: 6,
    nodeArgs: i => i === 0
      ? sleepNode(config.sleepMs)
      : sleepNode(config.sleepMs, '--slots', '1', ...LIARS.filter(l => l.index === i).flatMap(l => ['--test-fault', l.fault]))
  }, async cluster => {
    const requester = cluster.nodes[0]
    const honest = HONEST.map(i => cluster.nodes[i].peerId)
    const liars = []
    let shardsInNoneJobs = 0
    for (const { index, fault } of LIARS) {
      const bad = cluster.nodes[index].peerId
      const items = makeItems(config.items, 4 + index)
      const describe = (result: JobResultJson): Record<string, any> => {
        const excluded = result.placement.excluded.find(e => e.peerId === bad)
        return {
          verification: result.verification,
          outputsComplete: outputsMatch(result, items),
          shards: result.shards.length,
          liar: peerReport(result, bad),
          liarUsed: result.placement.used.includes(bad),
          liarExcluded: excluded == null ? { reason: 'not excluded', detail: '' } : { reason: excluded.reason, detail: excluded.detail },
          disputes: result.disputes.length,
          disputesLost: result.disputes.filter(d => d.losers.includes(bad)).length
        }
      }
      const peers = [...honest, bad]
      const replicated = describe((await runJob(requester, { items, shardSize: config.shardSize, peers, includeSelf: false, verification: 'replicate:3' })).result)
      const plain = describe((await runJob(requester, { items, shardSize: config.shardSize, peers, includeSelf: false, verification: 'none' })).result)
      const trust = (await rowOf(requester, bad))?.trust
      shardsInNoneJobs += plain.liar.shards
      progress(`liar ${fault}: ${replicated.disputesLost} disputes lost, ${plain.liar.shards} shards (${plain.liar.attempts} attempts) in the none job, excluded: ${plain.liarExcluded.reason}`)
      liars.push({
        fault,
        replicate3: replicated,
        none: plain,
        /** shards of the liar accepted in the `none` job (target 0), and attempts sent to it there */
        shardsInNoneJob: plain.liar.shards,
        attemptsInNoneJob: plain.liar.attempts,
        excludedBecause: plain.liarExcluded.reason,
        trustAfter: trust == null
          ? { score: -1, probation: false, reasons: [] }
          : { score: Math.round(trust.score.value * 1000) / 1000, probation: trust.score.probation, reasons: trust.score.reasons }
      })
    }
    return {
      config: { ...config, honestWorkers: HONEST.length },
      liars,
      /** shards of either liar accepted in its `none` job (target 0) */
      shardsInNoneJob: shardsInNoneJobs
    }
  })
}
