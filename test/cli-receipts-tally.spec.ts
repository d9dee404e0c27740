import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { runCli } from './utils/run-cli.js'

/**
 * `receipts bundle` and `receipts tally` through the real CLI: one node on the local chain runs
 * two echo jobs, each anchored as its own batch; the bundles are written, tallied offline in both
 * orders and against the chain, and tallied from the node itself. Tampering and usage are named.
 */
describe('shardmesh receipts bundle and tally', function () {
  this.timeout(240_000)
  let cluster: LocalCluster
  let dir: string
  let dataDir: string
  let rpcUrl: string
  const files: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-cli-tally-'))
    cluster = new LocalCluster({ nodes: 1, solana: 'local', nodeArgs: () => ['--workload', 'echo', '--pool-size', '1', '--receipt-batch-interval', '1h', '--receipt-batch-size', '10000'] })
    await cluster.start()
    dataDir = cluster.nodes[0].dataDir
    rpcUrl = cluster.chain?.url ?? ''
    // two jobs, each sealed and anchored in a batch of its own
    for (const items of ['6', '9']) {
      const job = await runCli(['job', 'run', '--workload', 'echo', '--generate', items, '--shard-size', '3', '--data-dir', dataDir])
      assert.equal(job.code, 0, job.stderr)
      await cluster.nodes[0].control.flushReceipts()
    }
  })

  after(async () => {
    await cluster?.stop()
    for (const child of [...(cluster?.nodes ?? []).map(n => n.process), cluster?.chain?.process]) {
      assert.ok(child == null || child.exitCode != null || child.signalCode != null, `pid ${child?.pid} still running`)
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('bundle writes each anchored batch as a file that checks', async () => {
    const { batches } = await cluster.nodes[0].control.receiptBatches()
    assert.deepEqual(batches.map(b => b.count).sort(), [2, 3])
    for (const [i, batch] of batches.entries()) {
      assert.ok(batch.anchor != null)
      const file = join(dir, `batch-${i}.json`)
      const res = await runCli(['receipts', 'bundle', batch.root, '--out', file, '--data-dir', dataDir])
      assert.equal(res.code, 0, res.stderr)
      assert.equal(res.stdout, `batch ${batch.root}: ${batch.count} receipts, anchored by ${batch.anchor.signature} at slot ${batch.anchor.slot}, written to ${file}\n`)
      const json = JSON.parse(await readFile(file, 'utf8'))
      assert.equal(json.format, 'shardmesh-receipt-bundle/1')
      assert.equal(json.root, batch.root)
      assert.equal(json.receipts.length, batch.count)
      files.push(file)
    }
    const unknown = await runCli(['receipts', 'bundle', 'ab'.repeat(32), '--out', join(dir, 'none.json'), '--data-dir', dataDir])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no batch with root (ab){32}/)
  })

  it('tally gives the same bytes for the bundles in any order, checked on chain, and from the node', async () => {
    const peerId = cluster.nodes[0].peerId
    const forward = await runCli(['receipts', 'tally', '--bundle', files[0], '--bundle', files[1], '--json', '--solana-rpc', rpcUrl])
    assert.equal(forward.code, 0, forward.stderr + forward.stdout)
    const backward = await runCli(['receipts', 'tally', '--bundle', files[1], '--bundle', files[0], '--bundle', files[1], '--json', '--solana-rpc', rpcUrl])
    assert.equal(backward.code, 0, backward.stderr + backward.stdout)
    assert.equal(backward.stdout, forward.stdout)
    const rows = JSON.parse(forward.stdout).workers
    assert.deepEqual(rows.map((r: any) => [r.worker, r.shards, r.items, Object.keys(r.byWorkload)]), [[peerId, 5, 15, ['echo@1.0.0']]])
    // unpaid jobs: nothing owed; checked on chain, so paid and missing are known (0)
    assert.deepEqual(rows.map((r: any) => [r.owedLamports, r.paidLamports, r.missingLamports]), [['0', '0', '0']])

    const fromNode = await runCli(['receipts', 'tally', '--json', '--data-dir', dataDir])
    assert.equal(fromNode.code, 0, fromNode.stderr + fromNode.stdout)
    assert.equal(fromNode.stdout, forward.stdout)

    const csv = await runCli(['receipts', 'tally', '--bundle', files[1], '--bundle', files[0], '--csv'])
    assert.equal(csv.code, 0, csv.stderr)
    // offline: owed only, paid and missing empty
    assert.match(csv.stdout, new RegExp(`^worker,workload,shards,items,cpu_micros,owed_lamports,paid_lamports,missing_lamports\n${peerId},echo@1\\.0\\.0,5,15,\\d+,0,,\n${peerId},\\*,5,15,\\d+,0,,\n$`))
    const other = await runCli(['receipts', 'tally', '--bundle', files[0], '--worker', '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK', '--json'])
    assert.equal(other.stdout, '{\n  "workers": []\n}\n')
  })

  it('a tampered bundle is refused by name; usage errors name the flag', async () => {
    const json = JSON.parse(await readFile(files[0], 'utf8'))
    const bytes = Buffer.from(json.receipts[0], 'base64')
    bytes[bytes.length - 1] ^= 1
    const tampered = join(dir, 'tampered.json')
    await writeFile(tampered, JSON.stringify({ ...json, receipts: [bytes.toString('base64'), ...json.receipts.slice(1)] }))
    const res = await runCli(['receipts', 'tally', '--bundle', files[1], '--bundle', tampered])
    assert.equal(res.code, 1)
    assert.match(res.stdout, new RegExp(`^FAILED ${tampered}: check root-mismatch: `))

    for (const [args, flag] of [
      [['--since', 'yesterday'], '--since'],
      [['--worker', 'not/a/peer'], '--worker'],
      [['--json', '--csv'], '--json and --csv'],
      [['--solana-rpc', 'ftp://x'], '--solana-rpc']
    ] as const) {
      const usage = await runCli(['receipts', 'tally', '--bundle', files[0], ...args])
      assert.equal(usage.code, 2, usage.stderr)
      assert.ok(usage.stderr.includes(flag), usage.stderr)
    }
    const noOut = await runCli(['receipts', 'bundle', 'ab'.repeat(32), '--data-dir', dataDir])
    assert.equal(noOut.code, 2)
    assert.match(noOut.stderr, /--out FILE is required/)
  })
})
