import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalCluster } from '@shardmesh/cli/harness'
import { waitFor } from '@shardmesh/test-utils'
import type { JobRequest, JobResultJson, PeerRow } from '@shardmesh/control'

// node 6's PATH has a stand-in nvidia-smi claiming eight H100s; the others' PATH has none
const FAKE_GPU_DIR = fileURLToPath(new URL('../../test/fixtures/fake-gpu-8', import.meta.url))
const NO_GPU_DIR = fileURLToPath(new URL('../../test/fixtures', import.meta.url))

/** ms per item of the honest workers' and of the slow node's `sleep` workload */
const HONEST_MS = 10
const SLOW_MS = 100
/** the liar answers this many shards right (its first challenge among them), then lies */
const HONEST_SHARDS_OF_LIAR = 2

const SLOW = 4
const LIAR = 5
const FAKE_GPU = 6

/** `n` distinct 8-byte items (sleep returns each unchanged). */
function items (n: number, tag: number): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag.toString(16).padStart(3, '0')}-${i.toString(16).padStart(4, '0')}`).toString('base64'))
}

function rejected (metrics: string, name: string, label: string, value: string): number {
  const line = metrics.split('\n').find(l => l.startsWith(`${name}{${label}="${value}"}`))
  return line == null ? 0 : Number(line.split(' ').pop())
}

/**
 * The adversaries the trust layer exists for, as real node processes over TCP: a node that
 * claims 500 slots but serves one slowly, a node frozen with SIGSTOP mid-job, a liar that
 * passes its first challenge and then lies (remembered across jobs and across a restart of the
 * requester), and a node whose nvidia-smi claims eight H100s on this machine.
 */
describe('trust: nothing believed that was not measured (node processes over TCP)', function () {
  this.timeout(240_000)
  let cluster: LocalCluster

  const id = (i: number): string => cluster.nodes[i].peerId
  async function run (job: Partial<JobRequest> & { peers: string[] }, onEvent?: (event: any) => void): Promise<JobResultJson> {
    return cluster.nodes[0].control.runJob({ workload: 'sleep', items: items(8, 0), includeSelf: false, ...job }, { onEvent })
  }
  async function peerOf (i: number): Promise<PeerRow> {
    const row = (await cluster.peersOf(0)).find(p => p.peerId === id(i))
    assert.ok(row != null, `node 0 does not list node ${i}`)
    return row
  }

  before(async () => {
    cluster = new LocalCluster({
      nodes: 7,
      advertTtl: '20s',
      refresh: '1s',
      gpu: true,
      nodeEnv: i => i === FAKE_GPU ? { PATH: `${FAKE_GPU_DIR}${delimiter}${process.env.PATH}` } : { PATH: NO_GPU_DIR },
      nodeArgs: i => {
        if (i === 0) {
          // the requester offers no sleep (every shard goes to a peer) and challenges the peers in use often
          return ['--workload', 'echo@1.0.0', '--challenge-interval', '2s']
        }
        const base = ['--workload', 'sleep@1.0.0', '--slots', '1']
        if (i === SLOW) {
          return [...base, '--sleep-ms', String(SLOW_MS), '--test-fault', 'advertise-slots:500']
        }
        if (i === LIAR) {
          return [...base, '--sleep-ms', String(HONEST_MS), '--test-fault', `wrong-answers-after:${HONEST_SHARDS_OF_LIAR}`]
        }
        return [...base, '--sleep-ms', String(HONEST_MS)]
      }
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 90_000 })
  })

  after(async () => {
    for (const n of cluster?.nodes ?? []) {
      // a frozen node must be thawed to be stopped
      try { process.kill(n.pid, 'SIGCONT') } catch {}
    }
    await cluster?.stop()
    for (const n of cluster?.nodes ?? []) {
      assert.ok(n.process.exitCode != null || n.process.signalCode != null, `node ${n.index} (pid ${n.pid}) still running`)
    }
  })

  it('a node claiming 500 slots while serving one slowly gets no more than 1.5x the share its speed earns', async () => {
    const peers = [1, 2, 3, SLOW].map(id)
    const result = await run({ items: items(200, 1), shardSize: 2, peers })
    assert.equal(result.outputs.length, 200)
    assert.deepEqual(result.outputs, items(200, 1), 'outputs complete, correct and in order')
    const seconds = result.elapsedMs / 1000
    const slow = result.peers.find(p => p.peerId === id(SLOW))
    assert.ok(slow != null)
    // what each node really delivers: the honest ones are busy the whole job (their rate on this
    // machine, now), the slow one runs one item per SLOW_MS whatever its advert says
    const honestRate = result.peers.filter(p => p.peerId !== id(SLOW)).reduce((sum, p) => sum + p.items, 0) / seconds
    const slowRate = 1000 / SLOW_MS
    const fair = slowRate / (slowRate + honestRate)
    const share = slow.shards / result.shards.length
    assert.ok(share <= 1.5 * fair, `the slow node did ${slow.shards} of ${result.shards.length} shards (${(100 * share).toFixed(1)} %), its speed earns ${(100 * fair).toFixed(1)} %`)
    // it was never given more than its earned window: what it was sent, it held one or two at a time
    assert.ok(slow.window <= 2, `window ${slow.window}`)
    assert.ok(slow.attempts <= slow.shards + 2, `sent ${slow.attempts} shards, completed ${slow.shards}`)
    const row = await peerOf(SLOW)
    assert.equal(row.trust?.slots.claimed, 500)
    assert.ok((row.trust?.slots.earned.find(e => e.workload === 'sleep')?.window ?? 0) <= 2)
  })

  it('a frozen node is suspect, then dead; its shards go to others at once; its age keeps counting; it recovers on fresh evidence', async () => {
    const frozen = 2
    let stopped = false
    // an idle timeout of ten minutes: only liveness can take the frozen node's shards away
    const result = await run({ items: items(120, 2), shardSize: 2, peers: [1, frozen, 3].map(id), idleTimeout: 600_000 }, (event) => {
      if (event.event === 'progress' && event.shardsDone >= 8 && !stopped) {
        stopped = true
        process.kill(cluster.nodes[frozen].pid, 'SIGSTOP')
      }
    })
    assert.ok(stopped)
    assert.deepEqual(result.outputs, items(120, 2))
    // what it held when it froze went to others at once: hedged on an idle peer or failed by its
    // heartbeat (ERR_PEER_UNRESPONSIVE), never left to the ten-minute idle timeout
    const held = result.peers.find(p => p.peerId === id(frozen))
    assert.ok(held != null && held.attempts > held.results, `the frozen node held no shard: ${JSON.stringify(held)}`)
    const errors = result.shards.flatMap(s => s.errors)
    assert.ok(errors.every(e => !e.includes('ERR_TIMEOUT')), `a shard waited for the idle timeout: ${JSON.stringify(errors)}`)
    assert.ok(errors.every(e => e.startsWith(`${id(frozen)}: ERR_PEER_UNRESPONSIVE`)), JSON.stringify(errors))
    // its heartbeat went on until it answered or was found dead: it is dead, by heartbeat silence
    const first = await waitFor(async () => {
      const l = (await peerOf(frozen)).trust?.liveness
      return l?.state === 'dead' ? l : undefined
    }, 'the frozen node to be dead', { timeout: 20_000, interval: 100 })
    assert.ok(['heartbeat', 'result'].includes(first.evidence), JSON.stringify(first))
    // never a bare "online": the age of the last evidence keeps counting
    const later = await waitFor(async () => {
      const l = (await peerOf(frozen)).trust?.liveness
      return l != null && (l.ageMs ?? 0) > (first.ageMs ?? 0) ? l : undefined
    }, 'the age to grow', { timeout: 10_000, interval: 100 })
    assert.equal(later.state, 'dead')
    process.kill(cluster.nodes[frozen].pid, 'SIGCONT')
    // a fresh advert lifts the verdict to "advert only"; a shard answered makes it alive again
    await waitFor(async () => (await peerOf(frozen)).trust?.liveness.state !== 'dead' ? true : undefined, 'the thawed node to leave "dead"', { timeout: 20_000, interval: 100 })
    const again = await run({ items: items(8, 3), shardSize: 1, peers: [id(frozen)] })
    assert.ok(again.peers.find(p => p.peerId === id(frozen))?.shards === 8)
    assert.equal((await peerOf(frozen)).trust?.liveness.state, 'alive')
  })

  it('a liar outvoted under replicate:3 gets no unverified work, across jobs and across a restart of the requester', async () => {
    const peers = [1, 3, LIAR].map(id)
    const replicated = await run({ items: items(24, 4), shardSize: 2, peers, verification: 'replicate:3' })
    assert.deepEqual(replicated.outputs, items(24, 4))
    assert.ok(replicated.disputes.length > 0, 'the liar was never outvoted')
    assert.ok(replicated.disputes.every(d => d.losers.includes(id(LIAR)) && !d.winners.includes(id(LIAR))))
    const row = await peerOf(LIAR)
    assert.equal(row.trust?.score.probation, true, JSON.stringify(row.trust?.score))

    const unverified = await run({ items: items(24, 5), shardSize: 2, peers })
    assert.deepEqual(unverified.outputs, items(24, 5))
    assert.equal(unverified.peers.find(p => p.peerId === id(LIAR))?.attempts ?? 0, 0)
    assert.deepEqual(unverified.placement.excluded.filter(e => e.peerId === id(LIAR)).map(e => e.reason), ['probation'])

    // the requester never countersigned a wrong output: the liar's receipts are only those it earned honestly
    const receipts = await cluster.nodes[0].control.receipts({ peer: id(LIAR), limit: 1000 })
    assert.ok(receipts.total <= HONEST_SHARDS_OF_LIAR, `${receipts.total} receipts of the liar countersigned`)

    // a restart forgets nothing: the trust book is in the data dir
    await cluster.kill(0, 'SIGTERM')
    await cluster.restart(0)
    await waitFor(async () => (await cluster.peersOf(0)).filter(p => peers.includes(p.peerId)).length === 3 ? true : undefined, 'the restarted requester to know its peers again', { timeout: 30_000, interval: 200 })
    assert.equal((await peerOf(LIAR)).trust?.score.probation, true)
    const plan = await cluster.nodes[0].control.plan({ workload: 'sleep', peers, includeSelf: false })
    assert.deepEqual(plan.peers.filter(p => p.peerId === id(LIAR)).map(p => [p.used, p.reason]), [[false, 'probation']])
    const after = await run({ items: items(24, 6), shardSize: 2, peers })
    assert.deepEqual(after.outputs, items(24, 6))
    assert.equal(after.peers.find(p => p.peerId === id(LIAR))?.attempts ?? 0, 0)
  })

  it('a fake GPU claim is shown as a claim, never as measured, and gpu lookups leave it out unless asked', async () => {
    const row = await peerOf(FAKE_GPU)
    assert.equal(row.hardware.gpus.length, 8)
    const status = row.trust?.gpus.status
    assert.notEqual(status, 'measured')
    if (availableParallelism() < 8) {
      // eight GPUs on fewer cores than that: not even plausible
      assert.equal(status, 'implausible', JSON.stringify(row.trust?.gpus))
    }
    const found = await cluster.nodes[0].control.find({ gpu: 'nvidia', source: 'table' })
    assert.deepEqual(found.peers.map(p => p.peerId), [])
    assert.ok(found.omittedClaims >= 1)
    const claimed = await cluster.nodes[0].control.find({ gpu: 'nvidia', source: 'table', claimed: true })
    assert.deepEqual(claimed.peers.map(p => p.peerId), [id(FAKE_GPU)])
  })

  it('honest nodes are never flagged over many challenges, and every figure shown about them says where it comes from', async () => {
    // the requester challenges the peers in use every 2 s on average: wait for a few rounds
    const passed = await waitFor(async () => {
      const n = rejected(await cluster.nodes[0].control.metrics(), 'shardmesh_trust_challenges_total', 'verdict', 'passed')
      return n >= 12 ? n : undefined
    }, 'twelve passed challenges', { timeout: 60_000, interval: 500 })
    assert.ok(passed >= 12)
    for (const i of [1, 3]) {
      const trust = (await peerOf(i)).trust
      assert.ok(trust != null)
      assert.equal(trust.score.probation, false, JSON.stringify(trust.score))
      assert.equal(trust.score.evidence['challenge-failed'], 0)
      assert.equal(trust.score.evidence['dispute-lost'], 0)
      assert.ok(trust.score.value > 0.5, JSON.stringify(trust.score))
      const sleep = trust.workloads.find(w => w.workload === 'sleep')
      assert.equal(sleep?.status, 'measured', JSON.stringify(sleep))
      assert.equal(sleep?.measured?.source, 'self')
      assert.ok(['alive', 'advert'].includes(trust.liveness.state))
      assert.ok(trust.liveness.ageMs != null)
    }
  })
})
