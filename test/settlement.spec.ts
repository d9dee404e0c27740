import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { address, createSolanaRpc } from '@solana/kit'
import { runCli } from './utils/run-cli.js'

const PRICE = 1_000n

/**
 * Settlement over node processes and the local chain: node 0 runs a paid job (`job run --pay`)
 * on nodes 1 and 2; its anchor of the receipts pays each worker in the same transaction. Each
 * worker's balance grows by exactly what its receipts are owed (less any fee it paid itself),
 * and `receipts tally` shows owed = paid, missing 0, checked against the chain.
 */
describe('settlement: a paid job is paid in its anchor transaction', function () {
  this.timeout(300_000)
  let cluster: LocalCluster
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-settlement-'))
    cluster = new LocalCluster({
      nodes: 3,
      solana: 'local',
      nodeArgs: (i) => ['--workload', 'echo', '--pool-size', '1', ...(i === 0 ? ['--receipt-batch-interval', '1h', '--receipt-batch-size', '10000'] : [])]
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
  })

  after(async () => {
    await cluster?.stop()
    for (const child of [...(cluster?.nodes ?? []).map(n => n.process), cluster?.chain?.process]) {
      assert.ok(child == null || child.exitCode != null || child.signalCode != null, `pid ${child?.pid} still running`)
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('each worker\'s balance grows by exactly what it is owed; tally shows owed = paid, missing 0', async () => {
    const rpc = createSolanaRpc(cluster.chain?.url ?? assert.fail('no chain'))
    const balance = async (i: number): Promise<bigint> => (await rpc.getBalance(address(cluster.nodes[i].solanaAddress), { commitment: 'confirmed' }).send()).value
    const fees = async (i: number): Promise<bigint> => BigInt((await cluster.nodes[i].control.receipts({ limit: 0 })).stats.anchor?.feesLamports ?? '0')
    const workers = [1, 2]
    const before = new Map(await Promise.all(workers.map(async i => [i, { balance: await balance(i), fees: await fees(i) }] as const)))

    const dataDir = cluster.nodes[0].dataDir
    // two paid jobs, each anchored (and paid) in a batch of its own
    const reported = new Map<string, bigint>()
    for (const seed of ['1', '2']) {
      const job = await runCli([
        'job', 'run', '--workload', 'echo', '--generate', '6', '--seed', seed, '--shard-size', '3', '--pay', String(PRICE), '--no-local',
        ...workers.flatMap(i => ['--peer', cluster.nodes[i].peerId]), '--data-dir', dataDir, '--json'
      ])
      assert.equal(job.code, 0, job.stderr + job.stdout)
      const result = JSON.parse(job.stdout)
      assert.equal(result.pay.lamportsPerItem, String(PRICE))
      assert.equal(result.receipts, 2)
      // what the job says it owes, per worker
      for (const [peer, lamports] of Object.entries(result.pay.owed as Record<string, string>)) {
        reported.set(peer, (reported.get(peer) ?? 0n) + BigInt(lamports))
      }
      await cluster.nodes[0].control.flushReceipts(60_000)
    }

    const tally = await runCli(['receipts', 'tally', '--json', '--data-dir', dataDir])
    assert.equal(tally.code, 0, tally.stderr + tally.stdout)
    const rows: any[] = JSON.parse(tally.stdout).workers
    assert.deepEqual(rows.map(r => r.worker).sort(), workers.map(i => cluster.nodes[i].peerId).sort())
    let items = 0
    for (const i of workers) {
      const row = rows.find(r => r.worker === cluster.nodes[i].peerId)
      items += row.items
      const owed = BigInt(row.items) * PRICE
      assert.equal(reported.get(row.worker), owed, 'the jobs reported what the tally finds owed')
      assert.deepEqual([row.owedLamports, row.paidLamports, row.missingLamports], [owed.toString(), owed.toString(), '0'], `node ${i}`)
      // what it was paid, less whatever it paid in fees itself meanwhile (a worker anchoring its own receipts)
      const spent = (await fees(i)) - (before.get(i)?.fees ?? 0n)
      assert.equal(await balance(i), (before.get(i)?.balance ?? 0n) + owed - spent, `node ${i}'s balance grew by what it is owed`)
    }
    assert.equal(items, 12)

    const text = await runCli(['receipts', 'tally', '--data-dir', dataDir])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /\bowed\s+paid\s+missing\b/)

    // anyone with the bundle files and an RPC gets the same bytes, in any order
    const { batches } = await cluster.nodes[0].control.receiptBatches()
    assert.equal(batches.length, 2)
    const files: string[] = []
    for (const [i, batch] of batches.entries()) {
      const file = join(dir, `batch-${i}.json`)
      const res = await runCli(['receipts', 'bundle', batch.root, '--out', file, '--data-dir', dataDir])
      assert.equal(res.code, 0, res.stderr)
      files.push(file)
    }
    const rpcUrl = cluster.chain?.url ?? ''
    const forward = await runCli(['receipts', 'tally', '--bundle', files[0], '--bundle', files[1], '--solana-rpc', rpcUrl, '--json'])
    const backward = await runCli(['receipts', 'tally', '--bundle', files[1], '--bundle', files[0], '--solana-rpc', rpcUrl, '--json'])
    assert.equal(forward.code, 0, forward.stderr + forward.stdout)
    assert.equal(backward.stdout, forward.stdout)
    assert.equal(forward.stdout, tally.stdout)
    // one bundle: its own batch's share, paid in full
    const one = await runCli(['receipts', 'tally', '--bundle', files[0], '--solana-rpc', rpcUrl, '--csv'])
    assert.equal(one.code, 0, one.stderr)
    for (const line of one.stdout.trim().split('\n').slice(1).filter(l => l.includes(',*,'))) {
      const [, , , lineItems, , owed, paid, missing] = line.split(',')
      assert.deepEqual([owed, paid, missing], [String(BigInt(lineItems) * PRICE), String(BigInt(lineItems) * PRICE), '0'], line)
    }
    // offline: owed, paid unknown
    const offline = JSON.parse((await runCli(['receipts', 'tally', '--bundle', files[0], '--bundle', files[1], '--json'])).stdout)
    assert.ok(offline.workers.every((r: any) => r.paidLamports === null && r.missingLamports === null && r.owedLamports !== '0'))
  })

  it('a requester without the lamports to pay fails to anchor, loudly, and pays nothing (last: it leaves node 0 unable to anchor)', async () => {
    const rpc = createSolanaRpc(cluster.chain?.url ?? assert.fail('no chain'))
    const balance = async (i: number): Promise<bigint> => (await rpc.getBalance(address(cluster.nodes[i].solanaAddress), { commitment: 'confirmed' }).send()).value
    const before = await balance(1)
    const price = BigInt(Number.MAX_SAFE_INTEGER)
    const job = await cluster.nodes[0].control.runJob({
      workload: 'echo', items: ['a', 'b'].map(t => Buffer.from(t).toString('base64')), shardSize: 2, peers: [cluster.nodes[1].peerId], includeSelf: false, pay: { lamportsPerItem: price.toString() }
    })
    assert.equal(job.receipts.length, 1)
    // far more than node 0 holds: the anchor fails, is retried, and the failure is on record
    await assert.rejects(cluster.nodes[0].control.flushReceipts(5_000))
    const { stats } = await cluster.nodes[0].control.receipts({ limit: 0 })
    assert.ok((stats.anchor?.failures ?? 0) > 0, 'the failed attempts are counted')
    assert.ok(stats.anchor?.lastError != null && stats.anchor.lastError !== '', 'the last error is shown')
    assert.ok(stats.anchored < stats.receipts, 'the paid batch is not anchored')
    assert.equal(await balance(1), before, 'the worker was paid nothing')
  })
})
