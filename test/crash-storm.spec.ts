import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LocalCluster } from '@shardmesh/cli/harness'
import { decodeSignedReceipt, sha256Hex } from '@shardmesh/protocol'
import { waitFor } from '@shardmesh/test-utils'
import { anchorsOnChain as anchorRoots } from './utils/chain.js'
import { items } from './utils/items.js'
import type { ReceiptRow } from '@shardmesh/control/client'
import type { ChildProcess } from 'node:child_process'

/** How many SIGKILLs the script holds. */
const KILLS = 100
const REQUESTERS = [0, 1]
const WORKERS = [2, 3, 4]
type Victim = number | 'chain'
type Moment = 'job' | 'anchoring' | 'idle'

interface Step {
  victim: Victim
  moment: Moment
  /** the requester that submits the step's job (for `job` and `anchoring`) */
  requester: number
  /** ms between the moment and the kill */
  delay: number
}

/** sfc32: a small seeded PRNG, so a failing script can be replayed from its seed. */
function prng (seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    const t = (a + b) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) >>> 0
    const r = (t + d) >>> 0
    c = (c + r) >>> 0
    return r / 4294967296
  }
  for (let i = 0; i < 12; i++) {
    next()
  }
  return next
}

/** The script of `kills` SIGKILLs a seed stands for: victim (a requester, a worker or the chain), moment and delay of each. */
function script (seed: number, kills: number): Step[] {
  const random = prng(seed)
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]
  return Array.from({ length: kills }, () => {
    const r = random()
    const victim: Victim = r < 0.15 ? 'chain' : r < 0.5 ? pick(REQUESTERS) : pick(WORKERS)
    return { victim, moment: pick<Moment>(['job', 'anchoring', 'idle']), requester: pick(REQUESTERS), delay: Math.floor(random() * 250) }
  })
}

const name = (victim: Victim): string => victim === 'chain' ? 'the chain' : `${REQUESTERS.includes(victim) ? 'requester' : 'worker'} ${victim}`

/**
 * A crash storm: two requesters, three workers and the local chain, as processes on loopback.
 * A seeded script SIGKILLs one of them 100 times (during a job, during anchoring, or idle), each
 * restarted on its data dir at once, while jobs keep being submitted. Afterwards, with no one
 * told to flush or pull, every receipt a requester stored (acknowledged: it stores a shard's
 * countersigned receipts before it counts the shard done or sends them to the worker) is
 * anchored on chain exactly once, in the transaction its store records, and every worker holds
 * exactly the countersigned receipts of its own work that the requesters stored, with their
 * requester's proof, and each requester runs a job again. The seed is printed only on failure;
 * `SHARDMESH_CRASH_SEED` replays its script. For debugging: `SHARDMESH_CRASH_KILLS` (a shorter
 * script), `SHARDMESH_CRASH_LOGS=DIR` (each node's stderr, with `DEBUG` its component logs, in
 * DIR/node-<i>.log), `SHARDMESH_CRASH_VERBOSE` (every event printed).
 *
 * Accepted, precisely: a requester countersigns and stores a shard's agreeing receipts before it
 * counts the shard done, returns them in the job's result, or sends each worker its own; so the
 * receipts it stored are exactly those it acknowledged (a job killed with it fails, but what it
 * stored stays), and a worker may only ever hold receipts its requester stored.
 */
describe('a crash storm of SIGKILLs loses and duplicates no receipt', function () {
  this.timeout(900_000)
  const seed = process.env.SHARDMESH_CRASH_SEED != null ? Number(process.env.SHARDMESH_CRASH_SEED) : randomInt(2 ** 31)
  const kills = process.env.SHARDMESH_CRASH_KILLS != null ? Number(process.env.SHARDMESH_CRASH_KILLS) : KILLS
  let cluster: LocalCluster
  /** every process of the cluster, all generations */
  const processes: ChildProcess[] = []
  /** what happened, in order: printed with the seed on failure */
  const events: string[] = []
  const note = (event: string): void => { events.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${event}`) }
  let t0 = Date.now()

  before(async () => {
    assert.ok(Number.isSafeInteger(seed) && seed >= 0, `SHARDMESH_CRASH_SEED is a whole number, not ${process.env.SHARDMESH_CRASH_SEED}`)
    cluster = new LocalCluster({
      nodes: REQUESTERS.length + WORKERS.length,
      solana: 'local',
      advertTtl: '6s',
      refresh: '1s',
      // SHARDMESH_CRASH_LOGS=DIR: each node's stderr (with DEBUG, its component logs) in DIR/node-<i>.log
      ...(process.env.SHARDMESH_CRASH_LOGS != null
        ? { onStderr: (i: number, line: string) => { appendFileSync(join(process.env.SHARDMESH_CRASH_LOGS ?? '', `node-${i}.log`), `${line}\n`) } }
        : {}),
      nodeArgs: i => ['--workload', 'echo', '--pool-size', '1', ...(REQUESTERS.includes(i) ? ['--receipt-batch-interval', '100ms'] : [])]
    })
    await cluster.start()
    processes.push(...cluster.nodes.map(n => n.process), cluster.chain!.process)
    const converged = await cluster.waitConverged({ timeout: 60_000 })
    assert.ok(converged.convergedMs != null, `the cluster did not converge: ${JSON.stringify(converged.nodes)}`)
  })

  after(async () => {
    await cluster?.stop()
    for (const child of processes) {
      assert.ok(child.exitCode != null || child.signalCode != null, `pid ${child.pid} still running`)
    }
  })

  /** Memo roots of every successful anchor `who` signed, each with the transactions that carry it. */
  async function anchorsOnChain (who: string): Promise<Map<string, string[]>> {
    return anchorRoots(cluster.chain?.url ?? '', who)
  }

  async function rows (i: number, role: 'requester' | 'worker'): Promise<ReceiptRow[]> {
    const res = await cluster.nodes[i].control.receipts({ role, limit: 10_000 })
    assert.ok(res.total < 10_000)
    return res.receipts
  }

  it(`${kills} SIGKILLs of requesters, workers and the chain: every acknowledged receipt anchored once, every worker holds its own`, async () => {
    t0 = Date.now()
    const steps = script(seed, kills)
    /** the restart under way of each victim */
    const restarting = new Map<Victim, Promise<void>>()
    const up = async (victim: Victim): Promise<void> => { await restarting.get(victim) }
    const jobs: Array<Promise<boolean>> = []
    /** receipt ids each requester returned in a job result (so it stored them) */
    const returned = new Map<number, Set<string>>(REQUESTERS.map(i => [i, new Set()]))
    const outcomes = { ok: 0, failed: 0 }
    let jobCount = 0

    /** A job of `requester` for the workers in its table now (as a user names the peers it sees); resolves when it ended, true if it succeeded. */
    const submit = (requester: number): Promise<boolean> => {
      const tag = `j${jobCount++}`
      const control = cluster.nodes[requester].control
      const job = control.peers().then(async ({ peers }) => {
        const workers = WORKERS.map(w => cluster.nodes[w].peerId).filter(id => peers.some(p => p.peerId === id))
        if (workers.length === 0) {
          throw new Error(`no worker in its table (${peers.length} rows)`)
        }
        return control.runJob({ workload: 'echo', items: items(8, tag), shardSize: 2, peers: workers, includeSelf: false })
      }).then(result => {
        outcomes.ok++
        for (const r of result.receipts) {
          returned.get(requester)!.add(sha256Hex(decodeSignedReceipt(Buffer.from(r, 'base64')).receipt))
        }
        note(`job ${tag} on requester ${requester}: ${result.receipts.length} receipts`)
        return true
      }, (err: Error) => {
        outcomes.failed++
        note(`job ${tag} on requester ${requester} failed: ${err.message}`)
        return false
      })
      jobs.push(job)
      return job
    }

    const restart = (victim: Victim): void => {
      restarting.set(victim, (async () => {
        if (victim === 'chain') {
          const chain = await cluster.restartChain()
          processes.push(chain.process)
        } else {
          // no airdrop (its key was funded at its first start): it restarts whether the chain serves
          // or not; on the port it had, as a deployed node keeps its listen address
          const node = await cluster.restart(victim, { fund: false, samePort: true })
          processes.push(node.process)
        }
        note(`${name(victim)} restarted`)
      })())
    }

    try {
      for (const [k, step] of steps.entries()) {
        await up(step.victim)
        if (step.moment !== 'idle') {
          await up(step.requester)
          const job = submit(step.requester)
          if (step.moment === 'anchoring') {
            // the job's receipts are stored: their batch is sealed within 100 ms, then anchored
            await job
          }
        } else {
          await Promise.all(jobs)
        }
        await sleep(step.delay)
        note(`kill ${k + 1}: ${name(step.victim)} (${step.moment}, +${step.delay} ms)`)
        if (step.victim === 'chain') {
          await cluster.killChain()
        } else {
          await cluster.kill(step.victim)
        }
        restart(step.victim)
      }
      await Promise.all(restarting.values())
      await Promise.all(jobs)
      note(`storm over: ${outcomes.ok} jobs ok, ${outcomes.failed} failed`)
      // every node came back on its own: each requester runs a job on the workers again
      for (const r of REQUESTERS) {
        await waitFor(async () => submit(r), `requester ${r} to run a job after the storm`, { timeout: 120_000, interval: 1_000 })
      }
      note('after the storm, a job done by each requester')

      // no flush and no pull asked for: every restarted node anchors and pulls on its own
      const stored = new Map<number, ReceiptRow[]>()
      for (const r of REQUESTERS) {
        stored.set(r, await waitFor(async () => {
          const held = await rows(r, 'requester')
          return held.every(row => row.anchor != null) ? held : undefined
        }, `requester ${r} to anchor every receipt it stored`, { timeout: 180_000, interval: 500 }))
      }
      note('every requester anchored')
      const all = [...stored.values()].flat()
      for (const w of WORKERS) {
        const worker = cluster.nodes[w].peerId
        const expected = new Map(all.filter(row => row.worker === worker).map(row => [row.id, row]))
        let state = ''
        await waitFor(async () => {
          const held = await rows(w, 'worker')
          const ids = new Set(held.map(row => row.id))
          const missing = [...expected.values()].filter(row => !ids.has(row.id)).map(row => `${row.id} (job ${row.jobId} shard ${row.shardIndex} of ${row.requester})`)
          const extra = held.filter(row => !expected.has(row.id)).map(row => row.id)
          const unproven = held.filter(row => row.anchor == null).map(row => `${row.id} (job ${row.jobId} shard ${row.shardIndex} of ${row.requester})`)
          state = `missing ${JSON.stringify(missing)}, not stored by a requester ${JSON.stringify(extra)}, without a proof ${JSON.stringify(unproven)}`
          return missing.length + extra.length + unproven.length === 0
        }, `worker ${w} to hold, with its proof, each of the ${expected.size} receipts of its work the requesters stored`, { timeout: 180_000, interval: 500 }).catch((err: Error) => {
          throw new Error(`${err.message}: ${state}`)
        })
      }
      note('every worker holds its receipts')

      for (const r of REQUESTERS) {
        const held = stored.get(r)!
        const ids = held.map(row => row.id)
        assert.equal(new Set(ids).size, ids.length, `a receipt id twice in requester ${r}'s store`)
        for (const id of returned.get(r)!) {
          assert.ok(ids.includes(id), `requester ${r} returned receipt ${id} in a result but does not hold it`)
        }
        // exactly once: each batch root on chain in one transaction, the one the store records, and no other anchor of this key
        const onChain = await anchorsOnChain(cluster.nodes[r].solanaAddress)
        const batches = (await cluster.nodes[r].control.receiptBatches()).batches
        assert.deepEqual(new Set(onChain.keys()), new Set(batches.map(b => b.root)), `requester ${r}: the roots on chain are not the batches it holds`)
        for (const b of batches) {
          assert.deepEqual(onChain.get(b.root), [b.anchor?.signature], `requester ${r}: batch ${b.root} anchored ${onChain.get(b.root)?.length ?? 0} times`)
          assert.equal(held.filter(row => row.batch === b.root).length, b.count, `requester ${r}: batch ${b.root} holds another count of receipts`)
        }
        for (const row of held) {
          assert.equal(row.anchor?.signature, batches.find(b => b.root === row.batch)?.anchor?.signature)
          assert.equal(row.anchor?.by, 'requester')
        }
        assert.equal((await rows(r, 'worker')).length, 0, `requester ${r} holds worker receipts`)
      }
      for (const w of WORKERS) {
        const held = await rows(w, 'worker')
        const ids = held.map(row => row.id)
        assert.equal(new Set(ids).size, ids.length, `a receipt id twice in worker ${w}'s store`)
        for (const row of held) {
          const theirs = all.find(mine => mine.id === row.id)!
          assert.equal(row.worker, cluster.nodes[w].peerId)
          assert.equal(row.batch, theirs.batch, `worker ${w}: the proof of ${row.id} is not of its requester's batch`)
          assert.equal(row.anchor?.signature, theirs.anchor?.signature, `worker ${w}: the proof of ${row.id} names another anchor`)
          assert.equal(row.anchor?.by, 'requester')
        }
        assert.equal((await rows(w, 'requester')).length, 0, `worker ${w} holds requester receipts`)
      }
      // the storm did not stop the work: jobs ran, and receipts were stored
      assert.ok(outcomes.ok > 0 && all.length > 0, `${outcomes.ok} jobs ran, ${all.length} receipts stored`)
      note(`checked: ${all.length} receipts, ${outcomes.ok} jobs ok, ${outcomes.failed} failed, ${jobCount} submitted`)
      if (process.env.SHARDMESH_CRASH_VERBOSE != null) {
        process.stderr.write(events.join('\n') + '\n')
      }
    } catch (err: any) {
      err.message = `crash storm with seed ${seed} (replay: SHARDMESH_CRASH_SEED=${seed}): ${err.message}\n${events.slice(process.env.SHARDMESH_CRASH_VERBOSE != null ? 0 : -40).join('\n')}`
      throw err
    }
  })
})
