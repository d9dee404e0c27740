import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { parseAnchorMemo, verifyReceipt } from '@shardmesh/receipts'
import { parseTransaction } from '@shardmesh/solana'
import { address, createSolanaRpc } from '@solana/kit'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import { items } from './utils/items.js'

/**
 * A requester cannot erase its worker's work by going silent. Node 0 requests and node 1 works,
 * both anchoring on the cluster's `shardmesh chain` over JSON-RPC. Node 0 first runs `silent`:
 * it never sends the countersigned receipts back on the shard stream (a lost frame) and never
 * seals a batch. The worker, which noted durably every receipt it signed, pulls them
 * countersigned; then node 0 is SIGKILLed, and past its `--self-anchor-after` deadline the worker
 * anchors them itself. Node 0 then comes back and anchors its own batch: the chain holds both
 * anchors, and a tally over both batches counts each receipt once.
 */
describe('a worker whose requester goes silent still holds proof of its work', function () {
  this.timeout(300_000)
  let cluster: LocalCluster
  let mode: 'silent' | 'normal' = 'silent'
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-self-anchor-test-'))
    cluster = new LocalCluster({
      nodes: 2,
      solana: 'local',
      advertTtl: '6s',
      refresh: '1s',
      nodeArgs: i => ['--workload', 'echo', '--pool-size', '1', ...(i === 0
        ? mode === 'silent'
          ? ['--receipt-batch-interval', '1h', '--receipt-batch-size', '10000', '--test-fault', 'drop-countersigned']
          : ['--receipt-batch-interval', '100ms']
        : ['--self-anchor-after', '2s'])]
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

  async function cli (...args: string[]): Promise<any> {
    const res = await runCli([...args, '--json'])
    assert.equal(res.code, 0, res.stdout + res.stderr)
    return JSON.parse(res.stdout)
  }

  /** The roots of the anchor memos `who` signed that landed, as the chain reports them. */
  async function anchorsBy (who: string): Promise<string[]> {
    const rpc = createSolanaRpc(cluster.chain?.url ?? '')
    const roots: string[] = []
    for (const s of await rpc.getSignaturesForAddress(address(who), { limit: 1000 }).send()) {
      if (s.err != null) {
        continue
      }
      const tx = await rpc.getTransaction(s.signature, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
      const parsed = parseTransaction(Buffer.from(tx?.transaction[0] ?? '', 'base64'))
      for (const memo of parsed.memos) {
        const anchor = parseAnchorMemo(memo)
        if (anchor != null && parsed.signers.includes(who)) {
          roots.push(Buffer.from(anchor.root).toString('hex'))
        }
      }
    }
    return roots
  }

  it('pulls the receipts it never got back, anchors them itself past the deadline, and both anchors tally once', async () => {
    const [requester, worker] = cluster.nodes
    const result = await requester.control.runJob({ workload: 'echo', items: items(12, 'silent'), shardSize: 2, peers: [worker.peerId], includeSelf: false })
    assert.equal(result.receipts.length, 6)
    const ids = (await Promise.all(result.receipts.map(async r => Buffer.from((await verifyReceipt(Buffer.from(r, 'base64'))).id).toString('hex')))).sort()
    const list = async (...args: string[]): Promise<any> => cli('receipts', 'list', '--data-dir', worker.dataDir, '--role', 'worker', '--limit', '1000', ...args)

    // no Countersigned frame came: the worker asks for what it signed, and gets it countersigned
    const held = await waitFor(async () => {
      const rows = await list()
      return rows.total === 6 ? rows : undefined
    }, 'the worker to pull its countersigned receipts', { timeout: 60_000, interval: 250 })
    assert.deepEqual(held.receipts.map((r: any) => r.id).sort(), ids)

    // the requester dies before anchoring anything
    await cluster.kill(0)
    const own = await waitFor(async () => {
      const rows = await list('--anchored')
      return rows.total === 6 ? rows : undefined
    }, 'the worker to anchor its receipts itself', { timeout: 60_000, interval: 250 })
    const workerRoot: string = own.receipts[0].batch
    assert.ok(own.receipts.every((r: any) => r.batch === workerRoot), 'one batch of its own')
    assert.deepEqual(await anchorsBy(worker.solanaAddress), [workerRoot], 'the worker anchored once')

    // from the worker's own store, checked on chain: signed by the worker, naming both parties
    const verified = await cli('receipts', 'verify', ids[0].slice(0, 16), '--data-dir', worker.dataDir)
    assert.equal(verified.ok, true)
    assert.equal(verified.anchor.by, 'worker')
    assert.equal(verified.worker, worker.peerId)
    assert.equal(verified.requester, requester.peerId)
    assert.ok(verified.anchor.signers.includes(worker.solanaAddress))

    // the requester comes back and anchors what it countersigned: the chain now holds both anchors
    mode = 'normal'
    await cluster.restart(0)
    const mine = await waitFor(async () => {
      const rows = await cli('receipts', 'list', '--data-dir', requester.dataDir, '--role', 'requester', '--anchored', '--limit', '1000')
      return rows.total === 6 ? rows : undefined
    }, 'the requester to anchor its batch', { timeout: 60_000, interval: 250 })
    const requesterRoot: string = mine.receipts[0].batch
    assert.deepEqual(await anchorsBy(requester.solanaAddress), [requesterRoot])
    // the worker takes no second proof of receipts it anchored: its rows stay as they were
    const after = await list('--anchored')
    assert.deepEqual(after.receipts.map((r: any) => [r.id, r.batch, r.anchor.signature]), own.receipts.map((r: any) => [r.id, r.batch, r.anchor.signature]))

    // a tally over both batches counts each receipt once, and equals the tally over either
    const bundles = { worker: join(dir, 'worker.json'), requester: join(dir, 'requester.json') }
    await cli('receipts', 'bundle', workerRoot, '--out', bundles.worker, '--data-dir', worker.dataDir)
    await cli('receipts', 'bundle', requesterRoot, '--out', bundles.requester, '--data-dir', requester.dataDir)
    const rpc = ['--solana-rpc', cluster.chain?.url ?? '']
    const both = await runCli(['receipts', 'tally', '--bundle', bundles.worker, '--bundle', bundles.requester, ...rpc, '--json'])
    assert.equal(both.code, 0, both.stdout + both.stderr)
    const theirs = await runCli(['receipts', 'tally', '--bundle', bundles.requester, ...rpc, '--json'])
    const ours = await runCli(['receipts', 'tally', '--bundle', bundles.worker, ...rpc, '--json'])
    assert.equal(theirs.code, 0, theirs.stdout + theirs.stderr)
    assert.equal(ours.code, 0, ours.stdout + ours.stderr)
    const rows = (text: string): any => JSON.parse(text).workers ?? JSON.parse(text)
    assert.deepEqual(rows(both.stdout), rows(theirs.stdout))
    assert.deepEqual(rows(ours.stdout), rows(theirs.stdout))
    assert.match(both.stdout, /"shards": ?6/)
  })
})
