import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { echo } from '@shardmesh/workloads'
import { JobRun } from '../../src/requester/job-run.js'
import { defaultPlacement, earnedPlacement, planOf, windowCap } from '../../src/requester/placement.js'
import { evidence, measured } from './evidence.js'
import { quietLog } from './fake-channel.js'
import { SimClock, SimWorker, simulate } from './sim.js'
import type { PlacementCandidate, PlacementPolicy } from '../../src/requester/placement.js'
import type { JobResult } from '../../src/requester/types.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A simulated peer: what it claims, what it really runs, and how fast. */
interface PeerModel {
  /** slots it advertises */
  claims: number
  /** shards it really runs at once */
  servers: number
  /** simulated time of one item (ms) */
  msPerItem: number
  /** measured (by a challenge) before the job, with the window it earned in earlier jobs */
  known?: { earnedWindow?: number }
}

const SHARDS = 100

function items (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new Uint8Array([i % 256]))
}

/** Shards per ms a peer really completes: its servers over the time of one shard. */
function rate (model: PeerModel, shardSize: number): number {
  return model.servers / (model.msPerItem * shardSize)
}

describe('requester: earned placement in a simulated job', () => {
  let key: PrivateKey
  let self: PeerId

  before(async () => {
    key = await generateKeyPair('Ed25519')
    self = peerIdFromPrivateKey(key)
  })

  /** Run a job of SHARDS shards on simulated peers placed by `policy`, in simulated time. */
  async function run (models: PeerModel[], policy: PlacementPolicy = earnedPlacement(), shardSize = 1): Promise<{ result: JobResult, workers: SimWorker[], clock: SimClock }> {
    const clock = new SimClock()
    const workers = await Promise.all(models.map(async m => SimWorker.create(self, clock, { servers: m.servers, serviceMs: n => n * m.msPerItem })))
    const candidates: PlacementCandidate[] = models.map((m, i) => ({
      channel: workers[i].channel,
      slots: m.claims,
      evidence: evidence(m.known != null
        ? { measured: measured(1000 / m.msPerItem), earnedWindow: m.known.earnedWindow }
        : {})
    }))
    const plan = planOf(policy.place(candidates, { workload: echo(), verification: 'none' }))
    const job = new JobRun({
      jobId: new Uint8Array(16).fill(3),
      workload: echo(),
      items: items(SHARDS * shardSize),
      shardSize,
      peers: plan.peers,
      excluded: plan.excluded,
      placement: policy,
      self,
      privateKey: key,
      policy: { kind: 'none' },
      maxRetries: 3,
      idleTimeout: 600_000,
      queueTimeout: 600_000,
      hedge: true,
      log: quietLog,
      clock
    })
    const result = await simulate(job, clock)
    return { result, workers, clock }
  }

  /** The time the last fresh shard was first handed out: from then on the queue is drained. */
  function drainedAt (workers: SimWorker[]): number {
    const first = new Map<number, number>()
    for (const w of workers) {
      for (const a of w.log) {
        first.set(a.shard, Math.min(first.get(a.shard) ?? Infinity, a.sentAt))
      }
    }
    return Math.max(...first.values())
  }

  const inflated: PeerModel = { claims: 500, servers: 1, msPerItem: 1000 }
  const configs: Array<{ name: string, honest: PeerModel, shardSize: number }> = [
    { name: '2-slot honest peers, 1 item a shard', honest: { claims: 2, servers: 2, msPerItem: 100, known: { earnedWindow: 3 } }, shardSize: 1 },
    { name: '1-slot honest peers, 1 item a shard', honest: { claims: 1, servers: 1, msPerItem: 100, known: {} }, shardSize: 1 },
    { name: '1-slot honest peers, 4 items a shard', honest: { claims: 1, servers: 1, msPerItem: 100, known: {} }, shardSize: 4 }
  ]

  for (const { name, honest, shardSize } of configs) {
    it(`a peer claiming 500 slots that serves one, 10x slower, gets at most 1.5x the share its speed earns and holds nothing past the endgame (${name})`, async () => {
      const without = await run([honest, honest, honest], earnedPlacement(), shardSize)
      const { result, workers } = await run([honest, honest, honest, inflated], earnedPlacement(), shardSize)
      assert.equal(result.shards.length, SHARDS)
      const liar = workers[3]
      const report = result.peers.find(p => p.peerId === liar.id)
      assert.ok(report != null)
      // the share its real speed earns, against three honest peers
      const fair = SHARDS * rate(inflated, shardSize) / (3 * rate(honest, shardSize) + rate(inflated, shardSize))
      assert.ok(report.shards <= 1.5 * fair, `${report.shards} shards, fair share ${fair.toFixed(2)}`)
      assert.equal(report.window, 1, 'its window is what its speed justifies')
      // the job takes at most 1.15x as long as without it
      assert.ok(result.elapsedMs <= 1.15 * without.result.elapsedMs, `${result.elapsedMs} ms against ${without.result.elapsedMs} ms without it`)
      // whatever it still held once the queue drained went to an honest peer within one honest shard's time,
      // and it holds nothing when the job ends
      const drained = drainedAt(workers)
      const honestShardMs = honest.msPerItem * shardSize
      const unfinished = liar.log.filter(a => a.answeredAt == null)
      for (const attempt of unfinished) {
        assert.equal(attempt.cancelled, true)
        const hedge = workers.slice(0, 3).flatMap(w => w.log).find(a => a.shard === attempt.shard && a.answeredAt != null)
        assert.ok(hedge != null, `shard ${attempt.shard} was finished by an honest peer`)
        assert.ok(hedge.sentAt <= Math.max(drained, attempt.sentAt) + honestShardMs, `shard ${attempt.shard} hedged at ${hedge.sentAt}, drained at ${drained}`)
      }
      assert.equal(liar.holding, 0)
    })
  }

  it('the default placement believes the claim: the same peer hoards the queue and the job takes longer than 1.15x', async () => {
    const { honest } = configs[0]
    const without = await run([honest, honest, honest], defaultPlacement())
    const { result } = await run([honest, honest, honest, inflated], defaultPlacement())
    assert.equal(result.peers[3].window, windowCap(500))
    assert.ok(result.peers[3].attempts > SHARDS / 2, `${result.peers[3].attempts} attempts`)
    assert.ok(result.elapsedMs > 1.15 * without.result.elapsedMs, `${result.elapsedMs} ms against ${without.result.elapsedMs} ms`)
  })

  it('a fast newcomer, unmeasured, earns its window within the job and ends with close to its fair share', async () => {
    const { honest } = configs[0]
    const newcomer: PeerModel = { claims: 4, servers: 4, msPerItem: 50 }
    const { result, workers } = await run([honest, honest, honest, newcomer])
    const report = result.peers.find(p => p.peerId === workers[3].id)
    assert.ok(report != null)
    const fair = SHARDS * rate(newcomer, 1) / (3 * rate(honest, 1) + rate(newcomer, 1))
    assert.ok(report.shards >= 0.9 * fair, `${report.shards} shards, fair share ${fair.toFixed(2)}`)
    assert.equal(report.window, windowCap(4), 'it earned every slot it claims')
    // it held its whole window before a fifth of the job had passed
    let holding = 0
    let fullAt: number | undefined
    const events = workers[3].log.flatMap(a => [{ t: a.sentAt, d: 1 }, ...(a.answeredAt != null ? [{ t: a.answeredAt, d: -1 }] : [])])
    events.sort((a, b) => a.t - b.t || a.d - b.d)
    for (const e of events) {
      holding += e.d
      if (holding >= windowCap(4) && fullAt == null) {
        fullAt = e.t
      }
    }
    assert.ok(fullAt != null && fullAt <= result.elapsedMs / 5, `full window at ${fullAt} of ${result.elapsedMs} ms`)
  })
})
