import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { startChainServer } from '@shardmesh/chain'
import { CLI_BIN } from '@shardmesh/cli/harness'
import { ControlClient } from '@shardmesh/control'
import { runCli } from './utils/run-cli.js'
import type { ChainServer } from '@shardmesh/chain'

describe('shardmesh demo (the main job, as a user runs it)', function () {
  this.timeout(240_000)
  let dir: string
  let chain: ChainServer | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-demo-spec-'))
  })

  after(async () => {
    await chain?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('shards a generated OCR batch across a local cluster, reads it, anchors every receipt, verifies a remote worker\'s proof from its own store and tallies who did what', async () => {
    const out = join(dir, 'kept')
    const { code, stdout, stderr } = await runCli(['demo', '--json', '--out', out], { timeout: 230_000 })
    assert.equal(code, 0, stderr + stdout)
    const demo = JSON.parse(stdout)
    assert.equal(demo.ok, true)
    assert.equal(demo.nodes, 4)
    assert.equal(demo.items, 120)
    assert.ok(demo.accuracy.charAccuracyNoSpaces >= 0.95, JSON.stringify(demo.accuracy))
    // work spread over every node, and every item accounted for exactly once
    assert.equal(demo.peers.length, 4)
    for (const p of demo.peers) {
      assert.ok(p.shards > 0, `node ${p.node} did no work: ${JSON.stringify(demo.peers)}`)
    }
    assert.equal(demo.peers.reduce((sum: number, p: { items: number }) => sum + p.items, 0), 120)
    assert.equal(demo.localMatchesMesh, true)
    assert.ok(demo.throughput.meshItemsPerSec > 0 && demo.throughput.localItemsPerSec > 0)
    assert.equal(demo.throughput.ratio, demo.throughput.meshItemsPerSec / demo.throughput.localItemsPerSec)
    // every receipt (one per shard) anchored in batches, each paid by one 5,000-lamport signature
    const { receipts } = demo
    assert.equal(receipts.count, demo.job.shards)
    assert.equal(receipts.anchored, receipts.count)
    assert.ok(receipts.batches >= 1 && receipts.batches <= receipts.count)
    assert.equal(receipts.lamportsPerReceipt, 5_000 * receipts.batches / receipts.count)

    // the receipt verified is a remote worker's (not node 0's), for node 0, from both stores
    const requester = demo.peers.find((p: { node: number }) => p.node === 0).peerId
    const { verified } = receipts
    assert.equal(verified.ok, true, JSON.stringify(verified))
    assert.match(verified.signature, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/)
    assert.equal(verified.requester, requester)
    assert.notEqual(verified.worker, requester)
    assert.ok(verified.workerNode >= 1)
    assert.equal(demo.peers.find((p: { node: number }) => p.node === verified.workerNode).peerId, verified.worker)

    // the files are kept where it says, with the local chain's history
    assert.equal(receipts.proofDir, out)
    assert.equal(receipts.chainDir, join(out, 'chain'))
    const bundles = receipts.files.filter((f: string) => f.startsWith('bundle-'))
    assert.equal(bundles.length, receipts.batches)
    assert.deepEqual(verified.files, { worker: join(out, 'worker-proof.json'), requester: join(out, 'requester-proof.json') })
    assert.deepEqual((await readdir(out)).sort(), [...receipts.files, 'chain'].sort())
    // the batch of that receipt came from the worker itself, fetched over libp2p by a third node
    const fetched = receipts.bundleFetched
    assert.equal(fetched.from, verified.workerNode)
    assert.ok(fetched.by !== 0 && fetched.by !== verified.workerNode, JSON.stringify(fetched))
    assert.ok(bundles.includes(`bundle-${fetched.root as string}.json`), JSON.stringify(fetched))

    // the tally: one row per worker, the job's shards and items, each anchor checked on chain
    assert.deepEqual(receipts.tallyCheck, { ok: true, bundles: receipts.batches })
    assert.equal(receipts.tallyMatchesJob, true)
    assert.equal(demo.tally.length, 4)
    for (const p of demo.peers) {
      const row = demo.tally.find((r: { worker: string }) => r.worker === p.peerId)
      assert.ok(row != null, `no tally row for node ${p.node as number}`)
      assert.equal(row.shards, p.shards)
      assert.equal(row.items, p.items)
      assert.equal(row.byWorkload['ocr-rec@1.0.0'].items, p.items)
    }

    // after the demo: its chain served again from the history it kept, the files verify by
    // themselves, and `receipts tally` over the bundles gives the demo's rows
    chain = await startChainServer({ port: 0, dataDir: receipts.chainDir })
    for (const file of [verified.files.worker, verified.files.requester]) {
      const res = await runCli(['receipts', 'verify', file, '--solana-rpc', chain.url, '--json'])
      assert.equal(res.code, 0, res.stdout + res.stderr)
      const report = JSON.parse(res.stdout)
      assert.equal(report.ok, true)
      assert.equal(report.id, verified.id)
      assert.equal(report.worker, verified.worker)
      assert.equal(report.requester, requester)
      assert.equal(report.anchor.signature, verified.signature)
      assert.ok(report.cluster != null, 'the proof names its cluster')
    }
    const tallied = await runCli(['receipts', 'tally', ...bundles.flatMap((f: string) => ['--bundle', join(out, f)]), '--solana-rpc', chain.url, '--json'])
    assert.equal(tallied.code, 0, tallied.stdout + tallied.stderr)
    assert.deepEqual(JSON.parse(tallied.stdout).workers, demo.tally)
  })

  it('--pay: each remote worker is paid items x price in the transactions that anchor its receipts, as the tally checks on chain', async () => {
    const out = join(dir, 'paid')
    const { code, stdout, stderr } = await runCli(['demo', '--nodes', '3', '--items', '24', '--pay', '1000', '--json', '--out', out], { timeout: 230_000 })
    assert.equal(code, 0, stderr + stdout)
    const demo = JSON.parse(stdout)
    assert.equal(demo.ok, true)
    const requester = demo.peers.find((p: { node: number }) => p.node === 0).peerId
    // node 0 owes itself nothing; every other worker its items at 1000 lamports, all paid
    for (const row of demo.tally) {
      const owed = row.worker === requester ? 0 : row.items * 1000
      assert.equal(row.owedLamports, String(owed), JSON.stringify(row))
      assert.equal(row.paidLamports, String(owed), JSON.stringify(row))
      assert.equal(row.missingLamports, '0')
    }
    const owed = demo.tally.reduce((n: number, row: { worker: string, items: number }) => n + (row.worker === requester ? 0 : row.items * 1000), 0)
    assert.ok(owed > 0, 'no remote worker did any work')
    assert.deepEqual(demo.receipts.settlement, { lamportsPerItem: 1000, owed: String(owed), paid: String(owed), missing: '0', ok: true })
    // the same figures from the files kept, by `receipts tally` against the chain's history
    const server = await startChainServer({ port: 0, dataDir: demo.receipts.chainDir })
    try {
      const bundles = demo.receipts.files.filter((f: string) => f.startsWith('bundle-'))
      const tallied = await runCli(['receipts', 'tally', ...bundles.flatMap((f: string) => ['--bundle', join(out, f)]), '--solana-rpc', server.url, '--json'])
      assert.equal(tallied.code, 0, tallied.stdout + tallied.stderr)
      assert.deepEqual(JSON.parse(tallied.stdout).workers, demo.tally)
    } finally {
      await server.close()
    }
  })

  it('usage: --out refuses a directory that is not empty, --pay a price that is not a whole number of lamports, before anything starts', async () => {
    const full = join(dir, 'full')
    await mkdir(full)
    await writeFile(join(full, 'mine.txt'), 'a user\'s file\n')
    const res = await runCli(['demo', '--out', full])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /--out .* is not empty/)
    const noChain = await runCli(['demo', '--no-chain', '--out', join(dir, 'new')])
    assert.equal(noChain.code, 2)
    assert.match(noChain.stderr, /--out keeps proofs of anchored receipts: it needs a chain/)
    assert.equal(existsSync(join(dir, 'new')), false)
    const free = await runCli(['demo', '--pay', '0'])
    assert.equal(free.code, 2)
    assert.match(free.stderr, /--pay: "0" must be a whole number from 1 to 9007199254740991/)
    const unanchored = await runCli(['demo', '--no-chain', '--pay', '5'])
    assert.equal(unanchored.code, 2)
    assert.match(unanchored.stderr, /--pay pays in the transaction that anchors the receipts: it needs a chain/)
  })

  it('--keep: after its results the cluster and the chain serve on, node 0\'s login URL printed, until SIGINT stops them and keeps the chain\'s history', async () => {
    const out = join(dir, 'keep')
    const child = spawn(process.execPath, [CLI_BIN, 'demo', '--nodes', '2', '--items', '8', '--keep', '--json', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = once(child, 'exit')
    try {
      // the JSON object comes first, with the login URL, while the cluster keeps running
      const [line] = await Promise.race([
        once(createInterface({ input: child.stdout }), 'line') as Promise<string[]>,
        exited.then(([code]) => { throw new Error(`the demo exited (${code as number}) before its results: ${stderr}`) })
      ])
      const demo = JSON.parse(line)
      assert.equal(demo.ok, true, line)
      assert.match(demo.dashboard, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/)
      const login = new URL(demo.dashboard)
      const node0 = new ControlClient(login.origin, new URLSearchParams(login.hash.slice(1)).get('token') ?? '')
      const status = await node0.status()
      assert.equal(status.peerId, demo.peers.find((p: { node: number }) => p.node === 0).peerId)
      // node 1 serves on too: node 0 still holds its advert and a connection to it
      const node1 = demo.peers.find((p: { node: number }) => p.node === 1).peerId
      assert.ok((await node0.peers()).peers.some(p => p.peerId === node1), 'node 0 no longer lists node 1')
      assert.ok(status.connectedPeers >= 1)
      // its dashboard has the demo's job to show
      const jobs = (await node0.jobs()).jobs
      assert.deepEqual(jobs.map(j => [j.jobId, j.state, j.items]), [[demo.job.jobId, 'ok', 8]])
      // the chain's history is copied when it stops, not before
      assert.equal(demo.receipts.chainDir, join(out, 'chain'))
      assert.equal(existsSync(demo.receipts.chainDir), false)

      process.kill(child.pid as number, 'SIGINT')
      const [code] = await exited
      assert.equal(code, 0, stderr)
      assert.throws(() => process.kill(status.pid, 0), { code: 'ESRCH' }, `node 0 (pid ${status.pid}) outlived the demo`)
      // the history kept is whole: the chain it serves again verifies the worker's proof
      const server = await startChainServer({ port: 0, dataDir: demo.receipts.chainDir })
      try {
        const res = await runCli(['receipts', 'verify', demo.receipts.verified.files.worker, '--solana-rpc', server.url, '--json'])
        assert.equal(res.code, 0, res.stdout + res.stderr)
        assert.equal(JSON.parse(res.stdout).ok, true)
      } finally {
        await server.close()
      }
    } finally {
      if (child.exitCode == null && child.signalCode == null) {
        process.kill(child.pid as number, 'SIGKILL')
        await exited
      }
    }
  })

  it('a reader that goes away (demo | head -3) ends it quietly, its chain and nodes with it', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'demo', '--nodes', '2', '--items', '8', '--out', join(dir, 'head')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = once(child, 'exit')
    const lines: string[] = []
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line)
      if (lines.length === 3) {
        break
      }
    }
    // as head does: the pipe is closed after three lines
    child.stdout.destroy()
    const [code] = await exited
    assert.equal(code, 0, stderr)
    assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /, stderr)
    // the chain and node 0 it started are gone when it has exited
    const pids = lines.flatMap(line => /\bpid (\d+)\b/.exec(line)?.[1] ?? []).map(Number)
    assert.equal(pids.length, 2, lines.join('\n'))
    for (const pid of pids) {
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} outlived the demo`)
    }
  })
})
