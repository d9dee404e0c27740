import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { decodeBundle } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import { items } from './utils/items.js'

/**
 * `/shardmesh/receipt-batches/1.0.0` over node processes, TCP and the local chain: node 0
 * requests and anchors, node 1 works (and, having pulled its proofs, keeps the batch), node 2
 * took no part. Node 2 fetches the whole batch by its root from the worker and from the
 * requester, each checked on its own view of the chain, and the tally of what it fetched is the
 * requester's, byte for byte.
 */
describe('receipt batches fetched by root over libp2p', function () {
  this.timeout(300_000)
  let cluster: LocalCluster
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-batches-test-'))
    cluster = new LocalCluster({
      nodes: 3,
      solana: 'local',
      // node 0 seals only when flushed: one batch of the whole job
      nodeArgs: i => ['--workload', 'echo', '--pool-size', '1', ...(i === 0 ? ['--receipt-batch-interval', '1h', '--receipt-batch-size', '10000'] : [])]
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

  async function cli (...args: string[]): Promise<string> {
    const res = await runCli(args)
    assert.equal(res.code, 0, `shardmesh ${args.join(' ')}: ${res.stdout}${res.stderr}`)
    return res.stdout
  }

  it('a node that took no part fetches a batch from a worker that kept it, and its tally is the requester\'s', async () => {
    const [requester, worker, stranger] = cluster.nodes
    const result = await requester.control.runJob({ workload: 'echo', items: items(10, 'b'), shardSize: 2, peers: [worker.peerId], includeSelf: false })
    assert.equal(result.receipts.length, 5)
    await requester.control.flushReceipts()
    const batches = (await requester.control.receiptBatches()).batches
    assert.equal(batches.length, 1)
    const root = batches[0].root
    const anchor = batches[0].anchor
    assert.ok(anchor != null)

    // before the worker holds the batch: not held (404), named
    const early = await runCli(['receipts', 'bundle', root, '--from', stranger.peerId, '--out', join(dir, 'none.json'), '--data-dir', requester.dataDir, '--json'])
    assert.equal(early.code, 1, early.stderr)
    const refused = JSON.parse(early.stdout)
    assert.equal(refused.ok, false)
    assert.equal(refused.status, 404)
    assert.match(refused.message, /not-held/)

    // the worker pulls the proofs of its receipts (receipts come back after the job, so ask until
    // every one is anchored); the pull that stored them kept the batch
    await waitFor(async () => {
      await worker.control.pullReceiptProofs()
      const held = await worker.control.receipts({ role: 'worker', limit: 1000 })
      return held.total === 5 && held.receipts.every(r => r.anchor != null)
    }, 'the worker to hold the proof of each of its 5 receipts', { timeout: 60_000, interval: 500 })

    // it keeps the bundle with its receipt store, so it serves it (and after a restart too)
    assert.equal(decodeBundle(await readFile(join(worker.dataDir, 'receipts', 'bundles', `${root}.json`), 'utf8')).count, 5)

    // node 2 fetches it from the worker, over TCP, checked on its own view of the chain
    const fromWorker = join(dir, 'from-worker.json')
    const summary = JSON.parse(await cli('receipts', 'bundle', root, '--from', worker.peerId, '--out', fromWorker, '--data-dir', stranger.dataDir, '--json'))
    assert.deepEqual(summary, {
      ok: true, root, receipts: 5, anchor: { signature: anchor.signature, slot: anchor.slot }, cluster: summary.cluster, from: worker.peerId, out: fromWorker
    })
    assert.ok(typeof summary.cluster === 'string')
    const human = await cli('receipts', 'bundle', root, '--from', requester.peerId, '--out', join(dir, 'from-requester.json'), '--data-dir', stranger.dataDir)
    assert.match(human, new RegExp(`^batch ${root}: 5 receipts, anchored by \\S+ at slot \\d+, from ${requester.peerId}, written to `))
    // the requester's own bundle of it
    const own = join(dir, 'own.json')
    await cli('receipts', 'bundle', root, '--out', own, '--data-dir', requester.dataDir)
    const ownText = await readFile(own, 'utf8')
    assert.equal(await readFile(fromWorker, 'utf8'), ownText, 'the worker serves the requester\'s batch, byte for byte')
    assert.equal(await readFile(join(dir, 'from-requester.json'), 'utf8'), ownText)
    assert.equal(decodeBundle(ownText).count, 5)

    // who did what: the tally of the fetched bundle is the requester's, checked on chain
    const rpc = cluster.chain?.url ?? ''
    const theirs = await cli('receipts', 'tally', '--bundle', fromWorker, '--solana-rpc', rpc, '--json')
    const mine = await cli('receipts', 'tally', '--bundle', own, '--solana-rpc', rpc, '--json')
    assert.equal(theirs, mine)
    const rows = JSON.parse(theirs)
    assert.ok(JSON.stringify(rows).includes(worker.peerId), theirs)

    // a root nobody holds: 404 from the worker; a malformed --from is a usage error
    const none = await runCli(['receipts', 'bundle', 'ab'.repeat(32), '--from', worker.peerId, '--out', join(dir, 'none.json'), '--data-dir', stranger.dataDir])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /not-held/)
    const bad = await runCli(['receipts', 'bundle', root, '--from', 'not/a/peer', '--out', join(dir, 'none.json'), '--data-dir', stranger.dataDir])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--from is a peer id/)
  })
})
