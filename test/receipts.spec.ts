import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster } from '@shardmesh/cli/harness'
import { decodeReceipt, decodeSignedReceipt, encodeReceipt, encodeSignedReceipt } from '@shardmesh/protocol'
import { verifyReceipt } from '@shardmesh/receipts'
import { createSolanaRpc, getBase58Decoder, signature } from '@solana/kit'
import { anchorsOnChain as anchorRoots } from './utils/chain.js'
import { runCli } from './utils/run-cli.js'
import { waitFor } from '@shardmesh/test-utils'
import type { ChildProcess } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { items } from './utils/items.js'

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

async function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) {
    return
  }
  await new Promise<void>(resolve => child.once('exit', () => { resolve() }))
}

/**
 * Node 0 requests, node 1 works; both anchor on the cluster's `shardmesh chain` process over
 * real JSON-RPC. How node 0 batches is switched between restarts: `hold` (it never seals on its
 * own), `crash` (it SIGKILLs itself right after sending an anchor, before recording it) and
 * `normal`.
 */
describe('receipts anchored by node processes on the local chain', function () {
  this.timeout(300_000)
  let cluster: LocalCluster
  let mode: 'hold' | 'crash' | 'normal' = 'hold'
  let dir: string

  const node0Args = (): string[] => {
    switch (mode) {
      case 'hold': return ['--receipt-batch-interval', '1h', '--receipt-batch-size', '10000']
      case 'crash': return ['--receipt-batch-interval', '100ms', '--test-fault', 'crash-after-anchor-send']
      case 'normal': return ['--receipt-batch-interval', '100ms']
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-receipts-test-'))
    cluster = new LocalCluster({
      nodes: 2,
      solana: 'local',
      advertTtl: '6s',
      refresh: '1s',
      nodeArgs: i => ['--workload', 'echo', '--pool-size', '1', ...(i === 0 ? node0Args() : [])]
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

  async function runJob (tag: string): Promise<string[]> {
    const result = await cluster.nodes[0].control.runJob({ workload: 'echo', items: items(12, tag), shardSize: 2, peers: [cluster.nodes[1].peerId], includeSelf: false })
    assert.equal(result.receipts.length, 6)
    return Promise.all(result.receipts.map(async r => Buffer.from((await verifyReceipt(Buffer.from(r, 'base64'))).id).toString('hex')))
  }

  /** Memo roots of every successful anchor node 0's key signed, as the chain reports them. */
  async function anchorsOnChain (): Promise<Map<string, string[]>> {
    return anchorRoots(cluster.chain?.url ?? '', cluster.nodes[0].solanaAddress)
  }

  /** Every receipt of `ids` is in an anchored batch whose root is on chain exactly once, in the recorded transaction. */
  async function assertAnchoredOnce (ids: string[]): Promise<void> {
    const onChain = await anchorsOnChain()
    for (const id of ids) {
      const { receipt } = await cluster.nodes[0].control.receipt(id)
      assert.ok(receipt.batch != null && receipt.anchor != null, `receipt ${id} not anchored`)
      assert.deepEqual(onChain.get(receipt.batch), [receipt.anchor.signature], `batch ${receipt.batch} anchored ${onChain.get(receipt.batch)?.length ?? 0} times`)
    }
  }

  it('SIGKILLed after acknowledging receipts, a node anchors every one of them exactly once after a restart', async () => {
    const ids = await runJob('a')
    const before = await cluster.nodes[0].control.receipts({ job: undefined })
    assert.equal(before.stats.receipts, 6)
    assert.equal(before.stats.anchored, 0, 'hold mode anchored early')
    await cluster.kill(0)
    mode = 'normal'
    await cluster.restart(0)
    await cluster.nodes[0].control.flushReceipts(60_000)
    const after = await cluster.nodes[0].control.receipts({ limit: 100 })
    assert.deepEqual(new Set(after.receipts.map(r => r.id)), new Set(ids))
    assert.equal(after.stats.anchored, 6)
    await assertAnchoredOnce(ids)
    // this run anchored all six (and stored none: they were on disk from the killed run)
    const metrics = await cluster.nodes[0].control.metrics()
    assert.match(metrics, /^shardmesh_receipts_anchored_total 6$/m)
    assert.match(metrics, /^shardmesh_receipts_anchor_fees_lamports_total 5000$/m)
    assert.match(metrics, /^shardmesh_receipts_unanchored 0$/m)
    assert.match(metrics, /^# HELP shardmesh_receipts_anchored_total Receipts whose batch root was anchored on chain$/m)
  })

  it('killed between sending an anchor and recording it, a node finds its transaction and does not anchor twice', async () => {
    mode = 'hold'
    await cluster.kill(0)
    await cluster.restart(0)
    const ids = await runJob('b')
    await cluster.kill(0)
    const rootsBefore = new Set((await anchorsOnChain()).keys())
    mode = 'crash'
    try {
      // the node seals and anchors the waiting receipts at start, then kills itself
      const node = await cluster.restart(0)
      await exited(node.process)
    } catch (err: any) {
      assert.match(String(err.message), /SIGKILL/)
    }
    // the crashed run's transaction landed: one new root on chain, that the node never recorded
    const sent = [...(await anchorsOnChain()).entries()].filter(([root]) => !rootsBefore.has(root))
    assert.equal(sent.length, 1, 'the crashing node did not send exactly one anchor')
    mode = 'normal'
    await cluster.restart(0)
    await cluster.nodes[0].control.flushReceipts(60_000)
    await assertAnchoredOnce(ids)
    const { receipt } = await cluster.nodes[0].control.receipt(ids[0])
    assert.equal(receipt.batch, sent[0][0])
    assert.deepEqual([receipt.anchor?.signature], sent[0][1], 'the restarted node did not adopt the transaction it had sent')
    const batches = (await cluster.nodes[0].control.receiptBatches()).batches
    assert.ok(batches.every(b => b.anchor != null))
  })

  it('a fresh process verifies a receipt file with only the RPC URL, also after the chain restarted; tampering is named', async () => {
    const listed = await runCli(['receipts', 'list', '--data-dir', cluster.nodes[0].dataDir, '--anchored', '--limit', '1', '--json'])
    assert.equal(listed.code, 0, listed.stderr)
    const { receipts: [first], total, stats } = JSON.parse(listed.stdout)
    assert.equal(total, 12)
    assert.equal(stats.anchored, 12)
    const file = join(dir, 'receipt.json')
    const shown = await runCli(['receipts', 'show', first.id, '--data-dir', cluster.nodes[0].dataDir, '--out', file, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const rpcUrl = cluster.chain?.url ?? ''
    const verify = async (path: string): Promise<any> => {
      const res = await runCli(['receipts', 'verify', path, '--solana-rpc', rpcUrl, '--json'])
      assert.ok(res.code === 0 || res.code === 1, res.stderr)
      const out = JSON.parse(res.stdout)
      assert.equal(res.code === 0, out.ok === true)
      return out
    }
    const ok = await verify(file)
    assert.equal(ok.ok, true, JSON.stringify(ok))
    assert.equal(ok.id, first.id)
    assert.equal(ok.anchor.signature, first.anchor?.signature)

    // the chain restarts (SIGKILL): it still serves the anchor it took
    await cluster.killChain()
    await cluster.restartChain()
    const again = await verify(file)
    assert.equal(again.ok, true, JSON.stringify(again))
    const rpc = createSolanaRpc(rpcUrl)
    assert.ok(await rpc.getTransaction(signature(first.anchor?.signature ?? ''), { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send() != null)

    const proof = JSON.parse(await readFile(file, 'utf8'))
    const tamper = async (name: string, change: (p: any) => void): Promise<string> => {
      const copy = structuredClone(proof)
      change(copy)
      const path = join(dir, `${name}.json`)
      await writeFile(path, JSON.stringify(copy))
      const out = await verify(path)
      assert.equal(out.ok, false, name)
      return out.check
    }
    // a field of the receipt changed after the worker signed it
    assert.equal(await tamper('tampered', p => {
      const signed = decodeSignedReceipt(Buffer.from(p.receipt, 'base64'))
      const receipt = decodeReceipt(signed.receipt)
      p.receipt = Buffer.from(encodeSignedReceipt({ ...signed, receipt: encodeReceipt({ ...receipt, items: receipt.items + 1 }) })).toString('base64')
    }), 'bad-worker-signature')
    // an anchor transaction that does not exist
    assert.equal(await tamper('missing-tx', p => {
      p.anchor.signature = getBase58Decoder().decode(randomBytes(64))
    }), 'transaction-not-found')
  })

  it('the worker holds a complete proof of its accepted shards, pulled from its requester, that verifies on chain', async () => {
    const worker = cluster.nodes[1]
    const list = async (...args: string[]): Promise<any> => {
      const res = await runCli(['receipts', 'list', '--data-dir', worker.dataDir, '--role', 'worker', '--limit', '1000', '--json', ...args])
      assert.equal(res.code, 0, res.stderr)
      return JSON.parse(res.stdout)
    }
    // receipts come back to the worker after each job (best effort: a requester SIGKILLed before
    // sending keeps them to itself); the worker then pulls the proof of each once it is anchored
    const held = await list()
    assert.ok(held.total > 0, 'the worker holds none of its receipts')
    // a requester whose rounds gave nothing (not anchored yet) rests up to a minute between
    // background rounds, so the deadline lies beyond one such rest
    const proven = await waitFor(async () => {
      const anchored = await list('--anchored')
      return anchored.total === held.total ? anchored : undefined
    }, 'the worker to pull the proof of every receipt it holds', { timeout: 150_000, interval: 500 })
    for (const row of proven.receipts) {
      assert.equal(row.role, 'worker')
      assert.ok(row.batch != null && row.anchor != null)
    }
    // one of them, from the worker's own store, verified against the chain with nothing else
    const file = join(dir, 'worker-receipt.json')
    const shown = await runCli(['receipts', 'show', proven.receipts[0].id, '--data-dir', worker.dataDir, '--out', file, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const res = await runCli(['receipts', 'verify', file, '--solana-rpc', cluster.chain?.url ?? '', '--json'])
    assert.equal(res.code, 0, res.stdout + res.stderr)
    const out = JSON.parse(res.stdout)
    assert.equal(out.worker, worker.peerId)
    assert.equal(out.requester, cluster.nodes[0].peerId)
    assert.ok(out.cluster != null, 'the proof names its cluster')
  })

  it('verify takes an id prefix; an unreachable RPC is named with its cause (verify, airdrop); flush needs no body', async () => {
    const dataDir = cluster.nodes[0].dataDir
    const listed = JSON.parse((await runCli(['receipts', 'list', '--data-dir', dataDir, '--anchored', '--limit', '1', '--json'])).stdout)
    const id: string = listed.receipts[0].id
    // the node's own RPC (from its stats), the receipt by the 16 hex digits list prints
    const ok = await runCli(['receipts', 'verify', id.slice(0, 16), '--data-dir', dataDir, '--json'])
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.equal(JSON.parse(ok.stdout).id, id)

    const dead = `http://127.0.0.1:${await closedPort()}`
    const unreachable = await runCli(['receipts', 'verify', id.slice(0, 16), '--data-dir', dataDir, '--solana-rpc', dead])
    assert.equal(unreachable.code, 1)
    assert.equal(unreachable.stdout, `FAILED check rpc-unreachable: the Solana RPC at ${dead} is unreachable: connect ECONNREFUSED ${dead.slice('http://'.length)}\n`)
    const airdrop = await runCli(['chain', 'airdrop', cluster.nodes[0].solanaAddress, '--solana-rpc', dead])
    assert.equal(airdrop.code, 1)
    assert.match(airdrop.stderr, new RegExp(`the Solana RPC at ${dead} is unreachable: connect ECONNREFUSED`))
    assert.doesNotMatch(airdrop.stderr, /fetch failed/)

    // POST /v1/receipts/flush with no body: the default timeout
    const { url } = JSON.parse(await readFile(join(dataDir, 'control.json'), 'utf8'))
    const token = (await readFile(join(dataDir, 'control.token'), 'utf8')).trim()
    const res = await fetch(`${url}/v1/receipts/flush`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    const body = await res.text()
    assert.equal(res.status, 200, body)
    assert.equal(JSON.parse(body).stats.anchored, 12)
  })
})
