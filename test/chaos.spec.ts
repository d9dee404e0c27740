import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI_BIN } from '@shardmesh/cli/harness'
import { ControlClient } from '@shardmesh/control/client'
import { NetLab, waitFor } from '@shardmesh/test-utils'
import { address, createSolanaRpc, lamports } from '@solana/kit'
import { anchorsOnChain as anchorRoots } from './utils/chain.js'
import { items } from './utils/items.js'
import type { JobEvent, JobResultJson, ReceiptRow } from '@shardmesh/control/client'
import type { Forward, LabProcess, NetHost } from '@shardmesh/test-utils'

const run = promisify(execFile)

/** 12 nodes, 3 a host on hosts 1-4; the chain on host 0 */
const NODES = 12
const PER_HOST = 3
const REQUESTER = 0
/** ms per item of the workers' sleep workload: shards that last long enough to be cut by a kill */
const SLEEP_MS = 200
/** shards of each chaos job, items a shard */
const SHARDS = 12
const SHARD_SIZE = 4
const RPC_PORT = 8899
/** how long the partitioned host stays cut off */
const PARTITION_MS = 10_000

/** A small seeded PRNG (mulberry32): the same seed, the same faults. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pick <T> (rand: () => number, from: T[], n: number): T[] {
  const pool = [...from]
  const out: T[] = []
  while (out.length < n && pool.length > 0) {
    out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0])
  }
  return out
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

interface ChaosNode {
  index: number
  host: NetHost
  port: number
  dataDir: string
  forward: Forward
  proc?: LabProcess
  peerId: string
  solanaAddress: string
  control: ControlClient
  /** every pid this node ever ran under (restarts included) */
  pids: number[]
}

/**
 * Chaos on hosts of their own (issue 15): 12 `shardmesh node start` processes on 4 hosts (Linux
 * network namespaces, 3 nodes each), a `shardmesh chain` on a 5th, every address inside the
 * lab. While jobs run, 30 % of the workers are SIGKILLed at random moments and restarted later
 * on their data dirs, and one host (not the requester's) is cut off for 10 s and healed; then
 * 20 % of the workers lie under `replicate:3`. The faults come from a seeded PRNG
 * (`SHARDMESH_CHAOS_SEED` replays a run); the seed and the faults are printed only on failure:
 * one JSON line `{ chaos: 'failed', seed, replay, liars, killed, partitionedHost, faults }`
 * (each fault with the fraction of the work done when it struck and its time), then the last
 * log lines of each node. Skipped loudly without root or `ip netns`; a failure instead with
 * CI=true as root.
 */
describe('chaos: kills, a partition and liars across hosts (network namespaces)', function () {
  this.timeout(420_000)
  const seed = process.env.SHARDMESH_CHAOS_SEED != null ? Number(process.env.SHARDMESH_CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31)
  const rand = prng(seed)
  const faults: any[] = []
  let lab: NetLab | undefined
  let work = ''
  let chain: LabProcess | undefined
  let rpcForward: Forward | undefined
  let rpcInLab = ''
  const nodes: ChaosNode[] = []
  const workers = Array.from({ length: NODES - 1 }, (_, i) => i + 1)
  // 20 % of the 11 workers lie, 30 % are killed (honest ones: the liars are the second test's)
  const liars = pick(rand, workers, 2)
  const honest = workers.filter(i => !liars.includes(i))
  const killed = pick(rand, honest, 3)
  // one host that is not the requester's (node 0 is on host 1)
  const partitioned = 2 + Math.floor(rand() * 3)

  /** On failure: the seed and every fault injected, in one JSON line, and each node's last log lines (quiet otherwise). */
  function report (): void {
    console.error(JSON.stringify({ chaos: 'failed', seed, replay: `SHARDMESH_CHAOS_SEED=${seed}`, liars, killed, partitionedHost: partitioned, faults }))
    for (const n of nodes) {
      const tailLines = n.proc?.stderr().trim().split('\n').slice(-3).join(' | ') ?? ''
      if (tailLines !== '') console.error(`node ${n.index} (host ${n.host.index}, pid ${n.proc?.pid}): ${tailLines}`)
    }
  }
  afterEach(function () {
    if (this.currentTest?.state === 'failed') report()
  })

  const hostOf = (i: number): NetHost => (lab as NetLab).hosts[1 + Math.floor(i / PER_HOST)]

  function nodeArgs (i: number): string[] {
    if (i === REQUESTER) {
      return ['--workload', 'echo', '--receipt-batch-interval', '1s']
    }
    return ['--workload', 'echo', '--workload', 'sleep', '--sleep-ms', String(SLEEP_MS),
      ...(liars.includes(i) ? ['--test-fault', 'wrong-answers'] : [])]
  }

  /** Start node `i` (again: same data dir, port and control port); resolves once it is ready. */
  async function start (i: number, bootstrap: string[]): Promise<ChaosNode> {
    const l = lab as NetLab
    const n = nodes[i]
    let ready: any
    const proc = l.spawn(n.host, process.execPath, ['--max-semi-space-size=2', CLI_BIN, 'node', 'start', '--json',
      '--data-dir', n.dataDir, '--listen', `/ip4/${n.host.ip}/tcp/${n.port}`, '--network', 'lan', '--no-gpu',
      '--control-port', String(n.forward.port), '--parent-pid', String(process.pid), '--pool-size', '1',
      '--solana-rpc', rpcInLab, '--challenge-interval', 'off', '--refresh', '5s', '--log-level', 'info',
      ...bootstrap.flatMap(b => ['--bootstrap', b]), ...nodeArgs(i)], {
      onStdout: line => {
        try {
          const event = JSON.parse(line)
          if (event.event === 'ready') ready = event
        } catch {}
      }
    })
    n.proc = proc
    n.pids.push(proc.pid)
    await waitFor(() => {
      if (!proc.running()) throw new Error(`node ${i} exited: ${proc.stderr().trim().split('\n').slice(-3).join(' | ')}`)
      return ready
    }, `node ${i} to be ready`, { timeout: 120_000, interval: 50 })
    n.peerId = ready.peerId
    n.solanaAddress = ready.solanaAddress
    const token = (await readFile(join(n.dataDir, 'control.token'), 'utf8')).trim()
    n.control = new ControlClient(n.forward.url, token)
    return n
  }

  const addrOf = (n: ChaosNode): string => `/ip4/${n.host.ip}/tcp/${n.port}/p2p/${n.peerId}`

  async function fund (solanaAddresses: string[]): Promise<void> {
    const rpc = createSolanaRpc(rpcForward?.url ?? '')
    const sigs = await Promise.all(solanaAddresses.map(async a => rpc.requestAirdrop(address(a), lamports(1_000_000_000n), { commitment: 'confirmed' }).send()))
    await waitFor(async () => {
      const { value } = await rpc.getSignatureStatuses(sigs, { searchTransactionHistory: true }).send()
      return value.every(s => s != null && s.err == null && s.confirmationStatus !== 'processed')
    }, 'the airdrops to land', { timeout: 60_000, interval: 200 })
  }

  /** Each node lists every other node in `among` (a verified advert in its table); throws naming those missing. */
  async function converged (among: number[]): Promise<boolean> {
    const missing: string[] = []
    await Promise.all(among.map(async i => {
      const listed = new Set((await nodes[i].control.peers()).peers.map(p => p.peerId))
      const lacks = among.filter(j => j !== i && !listed.has(nodes[j].peerId))
      if (lacks.length > 0) missing.push(`node ${i} lacks ${lacks.join(',')}`)
    }))
    if (missing.length > 0) throw new Error(missing.sort().join('; '))
    return true
  }

  before(async function () {
    await NetLab.skipUnavailable(this, 'the chaos test')
    try {
      await setUp()
    } catch (err) {
      report()
      throw err
    }
  })

  async function setUp (): Promise<void> {
    work = await mkdtemp(join(tmpdir(), 'shardmesh-chaos-'))
    lab = await NetLab.create({ hosts: 5 })
    const chainHost = lab.hosts[0]
    rpcInLab = `http://${chainHost.ip}:${RPC_PORT}`
    rpcForward = await lab.forward(chainHost, { address: chainHost.ip, port: RPC_PORT })
    chain = lab.spawn(chainHost, process.execPath, [CLI_BIN, 'chain', '--data-dir', join(work, 'chain'), '--host', chainHost.ip, '--port', String(RPC_PORT), '--json', '--parent-pid', String(process.pid)])
    await waitFor(() => {
      if (!(chain as LabProcess).running()) throw new Error(`the chain exited: ${chain?.stderr()}`)
      return (chain as LabProcess).stdout().includes('\n')
    }, 'the chain to serve', { timeout: 60_000, interval: 50 })
    for (let i = 0; i < NODES; i++) {
      const host = hostOf(i)
      nodes.push({ index: i, host, port: 4001 + (i % PER_HOST), dataDir: join(work, `node-${i}`), forward: await lab.forward(host), peerId: '', solanaAddress: '', control: undefined as any, pids: [] })
    }
    // the requester first, everyone's bootstrap peer; then the others in two waves, each
    // joining through the requester and one node of the first wave
    await start(REQUESTER, [])
    const first = workers.slice(0, 5)
    await Promise.all(first.map(async i => start(i, [addrOf(nodes[REQUESTER])])))
    await Promise.all(workers.slice(5).map(async (i, k) => start(i, [addrOf(nodes[REQUESTER]), addrOf(nodes[first[k % first.length]])])))
    await fund(nodes.map(n => n.solanaAddress))
    const all = nodes.map(n => n.index)
    await waitFor(async () => converged(all), 'every node to list the 11 others', { timeout: 120_000, interval: 1_000 })
  }

  after(async () => {
    await lab?.close()
    const pids = [...nodes.flatMap(n => n.pids), chain?.pid].filter((p): p is number => p != null)
    if (work !== '') await rm(work, { recursive: true, force: true })
    assert.deepEqual(pids.filter(alive), [], 'a process of the chaos test outlived it')
    if (lab != null) {
      const { stdout } = await run('ip', ['netns', 'list'])
      const prefix = `${lab.prefix}-`
      assert.deepEqual(stdout.split('\n').filter(line => line.startsWith(prefix)), [], 'a namespace of the chaos test is left')
    }
  })

  /** Memo roots of every successful anchor the requester's key signed, as the chain reports them. */
  async function anchorsOnChain (): Promise<Map<string, string[]>> {
    return anchorRoots(rpcForward?.url ?? '', nodes[REQUESTER].solanaAddress)
  }

  it('jobs end complete, correct and in order through kills and a partition; every accepted shard has one receipt on both sides, anchored once; tables converge', async () => {
    const requester = nodes[REQUESTER]
    const honestIds = honest.map(i => nodes[i].peerId)
    const jobs = [0, 1].map(j => ({ tag: `chaos-${j}`, items: items(SHARDS * SHARD_SIZE, `chaos-${j}`) }))
    const total = jobs.length * SHARDS
    const done = jobs.map(() => 0)
    // when each fault strikes: a fraction of all the jobs' shards done (seeded)
    const plan = {
      partitionAt: 0.05 + rand() * 0.25,
      kills: killed.map(i => ({ node: i, at: 0.1 + rand() * 0.5, restartAfterMs: 1_000 + Math.floor(rand() * 3_000) }))
    }
    const pending: Array<Promise<void>> = []
    let partitionStarted = false
    const onProgress = (): void => {
      const fraction = done.reduce((a, b) => a + b, 0) / total
      if (!partitionStarted && fraction >= plan.partitionAt) {
        partitionStarted = true
        const host = (lab as NetLab).hosts[partitioned]
        faults.push({ fault: 'partition', host: partitioned, at: fraction, atMs: Date.now() })
        pending.push((async () => {
          await (lab as NetLab).partition(host)
          await new Promise(resolve => setTimeout(resolve, PARTITION_MS))
          await (lab as NetLab).heal(host)
          faults.push({ fault: 'heal', host: partitioned, atMs: Date.now() })
        })())
      }
      for (const k of plan.kills) {
        if (fraction >= k.at && (k as any).struck !== true) {
          (k as any).struck = true
          const n = nodes[k.node]
          faults.push({ fault: 'SIGKILL', node: k.node, host: n.host.index, pid: n.proc?.pid, at: fraction, atMs: Date.now() })
          pending.push((async () => {
            await n.proc?.kill('SIGKILL')
            await new Promise(resolve => setTimeout(resolve, k.restartAfterMs))
            // back on its data dir, joining through the requester (never partitioned)
            await start(k.node, [addrOf(requester)])
            faults.push({ fault: 'restart', node: k.node, pid: n.proc?.pid, atMs: Date.now() })
          })())
        }
      }
    }
    const results: JobResultJson[] = await Promise.all(jobs.map(async (job, j) => requester.control.runJob({
      workload: 'sleep', items: job.items, shardSize: SHARD_SIZE, peers: honestIds, includeSelf: false, maxRetries: 20
    }, {
      onEvent: (event: JobEvent) => {
        if (event.event === 'progress') {
          done[j] = (event as any).shardsDone
          onProgress()
        }
      }
    })))
    // every fault struck (each at under 60 % of the work) and every restart is done
    await Promise.all(pending)
    assert.equal(faults.filter(f => f.fault === 'SIGKILL').length, killed.length)
    assert.equal(faults.filter(f => f.fault === 'heal').length, 1)

    // 1. complete, correct, ordered output; accepted by honest workers only
    for (const [j, result] of results.entries()) {
      assert.deepEqual(result.outputs, jobs[j].items, `job ${j}: outputs incomplete, wrong or out of order`)
      assert.equal(result.shards.length, SHARDS)
      assert.deepEqual(result.shards.map(s => s.index), Array.from({ length: SHARDS }, (_, k) => k))
      for (const s of result.shards) {
        assert.equal(s.outcome, 'accepted')
        assert.ok(honestIds.includes(s.peer), `shard ${s.index} accepted from ${s.peer}`)
      }
      assert.equal(result.receipts.length, SHARDS, `job ${j}: one countersigned receipt per accepted shard`)
    }

    // 2. the requester's store: exactly one countersigned receipt per accepted shard, from its worker
    const requesterRows = new Map<string, ReceiptRow[]>()
    for (const result of results) {
      const { receipts } = await requester.control.receipts({ job: result.jobId, role: 'requester', limit: 1000 })
      assert.deepEqual(receipts.map(r => r.shardIndex).sort((a, b) => a - b), Array.from({ length: SHARDS }, (_, k) => k), `job ${result.jobId}: not one receipt per shard`)
      for (const r of receipts) {
        assert.equal(r.worker, result.shards[r.shardIndex].peer, `shard ${r.shardIndex}'s receipt names another worker`)
      }
      requesterRows.set(result.jobId, receipts)
    }
    const allRows = [...requesterRows.values()].flat()

    // 3. anchored exactly once: every receipt's batch root on chain once, in the recorded transaction
    await requester.control.flushReceipts(60_000)
    const anchoredRows = (await Promise.all(results.map(async r => (await requester.control.receipts({ job: r.jobId, role: 'requester', limit: 1000 })).receipts))).flat()
    const onChain = await anchorsOnChain()
    for (const row of anchoredRows) {
      assert.ok(row.batch != null && row.anchor != null, `receipt ${row.id} not anchored`)
      assert.deepEqual(onChain.get(row.batch), [row.anchor.signature], `batch ${row.batch} anchored ${onChain.get(row.batch)?.length ?? 0} times`)
    }

    // 4. peer tables converge after the heal and the restarts: every node lists the 11 others
    const all = nodes.map(n => n.index)
    await waitFor(async () => converged(all), 'every node to list the 11 others after the heal and the restarts', { timeout: 120_000, interval: 1_000 })

    // 5. each worker, once it pulled, holds exactly its accepted shards' receipts, countersigned and anchored
    const jobIds = new Set(results.map(r => r.jobId))
    const byWorker = new Map<string, Map<string, string>>()
    for (const row of anchoredRows) {
      byWorker.set(row.worker, new Map([...(byWorker.get(row.worker) ?? []), [row.id, row.anchor?.signature ?? '']]))
    }
    await Promise.all(honest.map(async i => {
      const n = nodes[i]
      const expected = byWorker.get(n.peerId) ?? new Map<string, string>()
      const held = await waitFor(async () => {
        await n.control.pullReceiptProofs(30_000)
        const { receipts } = await n.control.receipts({ role: 'worker', limit: 1000 })
        const ours = receipts.filter(r => jobIds.has(r.jobId))
        return ours.length >= expected.size && ours.every(r => r.anchor != null) ? ours : undefined
      }, `worker ${i} to pull its ${expected.size} receipts and their proofs`, { timeout: 120_000, interval: 1_000 })
      assert.deepEqual(held.map(r => r.id).sort(), [...expected.keys()].sort(), `worker ${i}: not exactly its accepted shards`)
      for (const r of held) {
        assert.equal(r.requester, requester.peerId)
        assert.equal(r.anchor?.signature, expected.get(r.id), `worker ${i}'s receipt ${r.id} names another anchor`)
      }
    }))
    assert.equal(allRows.length, jobs.length * SHARDS)
  })

  it('liars under replicate:3: output correct, every liar named in the job result, and no unverified work for them afterwards', async () => {
    const requester = nodes[REQUESTER]
    const everyWorker = workers.map(i => nodes[i].peerId)
    const liarIds = liars.map(i => nodes[i].peerId)
    const replicated = await requester.control.runJob({ workload: 'sleep', items: items(24, 'liars'), shardSize: 2, peers: everyWorker, includeSelf: false, verification: 'replicate:3', maxRetries: 20 })
    assert.deepEqual(replicated.outputs, items(24, 'liars'), 'outputs incomplete, wrong or out of order')
    for (const s of replicated.shards) {
      assert.ok(!liarIds.includes(s.peer), `shard ${s.index}'s result came from a liar`)
    }
    // each liar is named: outvoted in a dispute, or excluded for the challenge it failed
    for (const liar of liarIds) {
      const lost = replicated.disputes.some(d => d.losers.includes(liar))
      const excluded = replicated.placement.excluded.find(e => e.peerId === liar)
      assert.ok(lost || (excluded != null && ['failed-challenge', 'probation'].includes(excluded.reason)),
        `liar ${liar} is not named in the job result: ${JSON.stringify({ disputes: replicated.disputes, excluded: replicated.placement.excluded })}`)
    }
    assert.ok(replicated.disputes.every(d => !d.winners.some(w => liarIds.includes(w))), 'a liar won a dispute')
    // the requester never countersigned a liar's output (a liar lies from its first answer on)
    const countersigned = (await requester.control.receipts({ role: 'requester', limit: 10_000 })).receipts
    assert.ok(countersigned.length > 0)
    assert.deepEqual(countersigned.filter(r => liarIds.includes(r.worker)).map(r => r.id), [], 'a receipt of a liar was countersigned')

    // afterwards: no unverified work for them
    const unverified = await requester.control.runJob({ workload: 'sleep', items: items(24, 'after'), shardSize: 2, peers: everyWorker, includeSelf: false, maxRetries: 20 })
    assert.deepEqual(unverified.outputs, items(24, 'after'))
    for (const liar of liarIds) {
      assert.equal(unverified.peers.find(p => p.peerId === liar)?.attempts ?? 0, 0, `liar ${liar} was sent unverified work`)
      const excluded = unverified.placement.excluded.find(e => e.peerId === liar)
      assert.ok(excluded != null && ['failed-challenge', 'probation'].includes(excluded.reason), JSON.stringify(unverified.placement.excluded))
    }
  })
})
