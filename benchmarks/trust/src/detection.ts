/**
 * Detection of a frozen peer: a long `sleep` job over 3 workers, one of them SIGSTOPped while it
 * has shards in flight (no FIN, no RST: its TCP connection stays open). Node 0's `/v1/peers` is
 * polled every `pollMs` and the times its row of the frozen peer turns `suspect` and `dead` are
 * taken from the row's `trust.liveness.since` (the requester's own clock, the same machine's), or
 * from the poll when a state came and went between two polls. The job must still end with every
 * output.
 */
import {
  DEAD_AFTER_MS, SUSPECT_AFTER_MS,
  makeItems, outputsMatch, peerReport, progress, round, rowOf, runJob, sleep, sleepNode, withCluster
} from './util.js'
import type { TimedJob } from './util.js'

export interface DetectionConfig {
  items: number
  shardSize: number
  sleepMs: number
  slots: number
  pollMs: number
  /** shards done before the freeze */
  freezeAfterShards: number
  /** give up waiting for `dead` after this long (ms) */
  waitMs: number
}

interface Seen {
  /** ms from the SIGSTOP to the state, by its `since` (or the poll that first saw it) */
  ms: number
  /** the row's `since` was used (false: the poll time) */
  fromSince: boolean
  /** the row's evidence age when the state was seen, and the silence at the transition */
  evidenceAgeMs: number | null
  silenceMs: number | null
}

const VICTIM = 2

export async function detection (config: DetectionConfig): Promise<Record<string, unknown>> {
  return withCluster('detection', {
    nodes: 4,
    nodeArgs: i => i === 0 ? sleepNode(config.sleepMs) : sleepNode(config.sleepMs, '--slots', String(config.slots))
  }, async cluster => {
    const requester = cluster.nodes[0]
    const victim = cluster.nodes[VICTIM]
    const peers = cluster.nodes.slice(1).map(n => n.peerId)
    // warm-up: the challenges before first work, connections
    await runJob(requester, { items: makeItems(8 * config.shardSize, 1), shardSize: config.shardSize, peers, includeSelf: false })

    const items = makeItems(config.items, 2)
    let going = (): void => {}
    const underway = new Promise<void>(resolve => { going = resolve })
    const job: Promise<TimedJob> = runJob(requester, { items, shardSize: config.shardSize, peers, includeSelf: false }, event => {
      if (event.event === 'progress' && event.shardsDone >= config.freezeAfterShards) {
        going()
      }
    })
    job.catch(() => {})
    await Promise.race([underway, job])

    let stoppedAt = NaN
    let suspect: Seen | undefined
    let dead: Seen | undefined
    const states: Array<{ ms: number, state: string, evidence: string, ageMs: number }> = []
    let polls = 0
    try {
      await cluster.kill(VICTIM, 'SIGSTOP')
      stoppedAt = Date.now()
      while (dead == null && Date.now() - stoppedAt < config.waitMs) {
        const polled = Date.now()
        const liveness = (await rowOf(requester, victim.peerId))?.trust?.liveness
        polls++
        if (liveness != null) {
          const last = states[states.length - 1]
          if (last?.state !== liveness.state) {
            states.push({ ms: polled - stoppedAt, state: liveness.state, evidence: liveness.evidence, ageMs: liveness.ageMs ?? -1 })
          }
          const seen = (): Seen => {
            const fromSince = liveness.since != null && liveness.since >= stoppedAt - 5_000
            const at = fromSince ? liveness.since as number : polled
            const lastEvidence = liveness.ageMs == null ? null : polled - liveness.ageMs
            return { ms: at - stoppedAt, fromSince, evidenceAgeMs: liveness.ageMs, silenceMs: lastEvidence == null ? null : at - lastEvidence }
          }
          if (liveness.state === 'suspect' && suspect == null) {
            suspect = seen()
          }
          if (liveness.state === 'dead') {
            dead = seen()
            // suspect came and went between two polls: it was reached by the time dead was seen
            suspect ??= { ...dead, ms: Math.min(dead.ms, polled - stoppedAt), fromSince: false }
          }
        }
        await sleep(Math.max(0, config.pollMs - (Date.now() - polled)))
      }
    } finally {
      await cluster.kill(VICTIM, 'SIGCONT')
    }
    const continuedMs = Date.now() - stoppedAt
    const { result, wallMs } = await job
    const report = peerReport(result, victim.peerId)
    progress(`detection: suspect after ${suspect?.ms} ms, dead after ${dead?.ms} ms; job ${result.elapsedMs} ms, outputs ${outputsMatch(result, items) ? 'all there' : 'MISSING'}`)
    if (suspect == null || dead == null) {
      throw new Error(`the frozen peer was not found dead within ${config.waitMs} ms (states seen: ${JSON.stringify(states)})`)
    }
    return {
      config: { ...config, workers: 3, thresholdsMs: { suspect: SUSPECT_AFTER_MS, dead: DEAD_AFTER_MS } },
      suspectMs: suspect.ms,
      deadMs: dead.ms,
      suspectRatio: round(suspect.ms / SUSPECT_AFTER_MS, 3),
      deadRatio: round(dead.ms / DEAD_AFTER_MS, 3),
      suspect: finiteSeen(suspect),
      dead: finiteSeen(dead),
      states,
      polls,
      sigcontAfterMs: continuedMs,
      job: {
        items: result.items,
        shards: result.shards.length,
        outputsComplete: outputsMatch(result, items),
        elapsedMs: result.elapsedMs,
        wallMs: Math.round(wallMs),
        retriedShards: result.shards.filter(s => s.errors.length > 0).length,
        hedgedShards: result.shards.filter(s => s.hedged).length,
        frozenPeer: report,
        frozenPeerErrors: [...new Set(result.shards.flatMap(s => s.errors).filter(e => e.startsWith(victim.peerId)).map(e => e.slice(victim.peerId.length + 2).split(' ')[0]))]
      }
    }
  })
}

/** `Seen` with its null figures as -1: the JSON carries only finite numbers (-1: the row gave no evidence age). */
function finiteSeen (seen: Seen): Record<string, number | boolean> {
  return { ms: seen.ms, fromSince: seen.fromSince, evidenceAgeMs: seen.evidenceAgeMs ?? -1, silenceMs: seen.silenceMs ?? -1 }
}
