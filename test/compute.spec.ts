import assert from 'node:assert/strict'
import { LocalCluster } from '@shardmesh/cli/harness'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import type { JobEvent, JobRequest, JobResultJson } from '@shardmesh/control'

const SLEEP_MS = 150

function items (n: number): string[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`item-${i}`).toString('base64'))
}

/** Every output present, in input order, none duplicated (sleep and echo return their input). */
function assertComplete (result: JobResultJson, sent: string[]): void {
  assert.equal(result.outputs.length, sent.length)
  assert.deepEqual(result.outputs, sent)
  assert.equal(new Set(result.shards.map(s => s.index)).size, result.shards.length)
}

describe('sharded jobs across node processes over real TCP, with faults', function () {
  this.timeout(180_000)
  let cluster: LocalCluster

  before(async () => {
    // nodes 0-2 are honest; node 3 answers its first shard right (the challenge before its first
    // work) and corrupts every output after that (a test-only switch): verification must catch it.
    // Only that first challenge: a random one (Poisson, mean 60 s) would be a shard served that
    // no job asked for, and some tests count the shards each node served
    cluster = new LocalCluster({
      nodes: 4,
      advertTtl: '6s',
      refresh: '1s',
      nodeArgs: i => ['--workload', 'echo', '--workload', 'sleep', '--sleep-ms', String(SLEEP_MS), '--pool-size', '1', '--slots', '2',
        '--challenge-interval', 'off', ...(i === 3 ? ['--test-fault', 'wrong-answers-after:1'] : [])]
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
  })

  after(async () => {
    for (const n of cluster?.nodes ?? []) {
      try { process.kill(n.pid, 'SIGCONT') } catch {}
    }
    await cluster?.stop()
    for (const n of cluster?.nodes ?? []) {
      assert.ok(n.process.exitCode != null || n.process.signalCode != null, `node ${n.index} (pid ${n.pid}) still running`)
    }
  })

  const peers = (...indexes: number[]): string[] => indexes.map(i => cluster.nodes[i].peerId)

  async function run (job: Omit<JobRequest, 'items'> & { items: string[] }, onEvent?: (e: JobEvent) => void, signal?: AbortSignal): Promise<JobResultJson> {
    return cluster.nodes[0].control.runJob(job, { onEvent, signal })
  }

  it('replicate:3 outvotes a worker that returns wrong answers, and names it', async () => {
    const sent = items(12)
    const result = await run({ workload: 'echo', items: sent, shardSize: 2, verification: 'replicate:3', peers: peers(1, 2, 3), hedge: false })
    assertComplete(result, sent)
    assert.equal(result.disputes.length, 6)
    for (const d of result.disputes) {
      assert.deepEqual(d.losers, [cluster.nodes[3].peerId])
    }
    // the liar's receipts are not countersigned: 2 agreeing replicas per shard are
    assert.equal(result.receipts.length, 12)
    // each honest peer completed every shard (as a replica when its output was not the one used); the liar none
    const report = (i: number): JobResultJson['peers'][number] | undefined => result.peers.find(p => p.peerId === cluster.nodes[i].peerId)
    assert.deepEqual([1, 2, 3].map(i => [report(i)?.shards, report(i)?.items, report(i)?.results]), [[6, 12, 6], [6, 12, 6], [0, 0, 6]])
    for (const r of result.receipts) {
      const receipt = await verifyReceipt(Buffer.from(r, 'base64'))
      assert.notEqual(receipt.worker.toString(), cluster.nodes[3].peerId)
      assert.equal(receipt.verification?.outcome, 'disputed')
    }
  })

  it('job run with a policy that needs more peers than offer the workload is refused before any shard runs', async () => {
    const served = async (): Promise<number[]> => Promise.all(cluster.nodes.map(async n => { const s = await n.control.compute(); return s.shardsServed + s.shardsFailed }))
    const before = await served()
    // node 0 and its three peers offer echo: four, not five
    const { code, stdout } = await runCli(['job', 'run', '--data-dir', cluster.nodes[0].dataDir, '--workload', 'echo', '--generate', '20', '--verify', 'replicate:5', '--json'])
    assert.equal(code, 1, stdout)
    const { error } = JSON.parse(stdout)
    assert.equal(error.code, 'ERR_NOT_ENOUGH_PEERS')
    assert.match(error.message, /^replicate:5 needs 5 distinct peers offering echo@1\.0\.0 and only 4 do: /)
    assert.ok(error.message.includes(`${cluster.nodes[0].peerId} (this node)`), error.message)
    assert.deepEqual(await served(), before, 'a worker ran a shard of the refused job')
  })

  it('a requester that cancels releases every slot on every peer', async () => {
    const controller = new AbortController()
    const job = run({ workload: 'sleep', items: items(80), shardSize: 2, peers: peers(0, 1, 2) }, (e) => {
      if (e.event === 'progress' && e.shardsDone >= 2) {
        controller.abort()
      }
    }, controller.signal)
    await assert.rejects(job, (err: Error) => err.name === 'AbortError')
    for (const i of [0, 1, 2]) {
      await waitFor(async () => {
        const s = await cluster.nodes[i].control.compute()
        return s.active === 0 && s.queued === 0 ? true : undefined
      }, `node ${i} to free its slots`, { timeout: 10_000, interval: 100 })
    }
  })

  it('a worker that stalls (SIGSTOP) loses its shards to the others', async () => {
    const sent = items(60)
    let stopped = false
    const result = await run({ workload: 'sleep', items: sent, shardSize: 2, peers: peers(0, 1, 2), idleTimeout: 2_000 }, (e) => {
      if (!stopped && e.event === 'progress' && e.shardsDone >= 3) {
        stopped = true
        process.kill(cluster.nodes[2].pid, 'SIGSTOP')
      }
    })
    process.kill(cluster.nodes[2].pid, 'SIGCONT')
    assert.ok(stopped)
    assertComplete(result, sent)
    const stalled = result.peers.find(p => p.peerId === cluster.nodes[2].peerId)
    assert.ok(stalled != null && stalled.failures + result.shards.filter(s => s.hedged).length > 0, JSON.stringify(result.peers))
  })

  it('a worker SIGKILLed mid-job loses its shards to the others; nothing lost or duplicated', async () => {
    const sent = items(60)
    let killed = false
    const result = await run({ workload: 'sleep', items: sent, shardSize: 2, peers: peers(0, 1, 2) }, (e) => {
      if (!killed && e.event === 'progress' && e.shardsDone >= 3) {
        killed = true
        void cluster.kill(1, 'SIGKILL')
      }
    })
    assert.ok(killed)
    assertComplete(result, sent)
    const dead = result.peers.find(p => p.peerId === cluster.nodes[1].peerId)
    assert.ok(dead != null && dead.failures > 0, JSON.stringify(result.peers))
    assert.ok(result.shards.some(s => s.errors.some(e => e.startsWith(cluster.nodes[1].peerId))))
  })

  it('bad input fails the job at once with a clear error, and the node keeps serving', async () => {
    await assert.rejects(run({ workload: 'ocr-rec', items: [Buffer.from('not an image').toString('base64')] }), (err: any) => {
      assert.equal(err.code, 'ERR_INVALID_INPUT')
      assert.match(err.message, /item 0/)
      return true
    })
    await assert.rejects(run({ workload: 'no-such-workload', items: items(1) }), (err: any) => err.code === 'ERR_UNKNOWN_WORKLOAD')
    const sent = items(4)
    assertComplete(await run({ workload: 'echo', items: sent, shardSize: 1, peers: peers(0, 2) }), sent)
  })
})
