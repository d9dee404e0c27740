import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_BIN, LocalCluster } from '@shardmesh/cli/harness'
import { runCli } from './utils/run-cli.js'

/** The longest common prefix of two strings. */
function common (a: string, b: string): string {
  let i = 0
  while (i < a.length && a[i] === b[i]) {
    i++
  }
  return a.slice(0, i)
}

/**
 * `job run` and `receipts` through the real CLI against one running node (echo and a slow
 * sleep workload, no chain: receipts are stored, not anchored): flags the node refuses,
 * Ctrl-C, input files that are not what the workload reads, and ids shortened to prefixes.
 */
describe('shardmesh job run and receipts against a running node', function () {
  this.timeout(180_000)
  let cluster: LocalCluster
  let dir: string
  let dataDir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-cli-job-'))
    cluster = new LocalCluster({ nodes: 1, nodeArgs: () => ['--workload', 'echo', '--workload', 'sleep', '--sleep-ms', '200', '--pool-size', '1'] })
    await cluster.start()
    dataDir = cluster.nodes[0].dataDir
  })

  after(async () => {
    await cluster?.stop()
    for (const child of (cluster?.nodes ?? []).map(n => n.process)) {
      assert.ok(child.exitCode != null || child.signalCode != null, `pid ${child.pid} still running`)
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('a --peer the node does not know is a usage error that says so, before any work', async () => {
    const unknown = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
    const res = await runCli(['job', 'run', '--workload', 'echo', '--generate', '3', '--peer', unknown, '--data-dir', dataDir])
    assert.equal(res.code, 2, res.stderr)
    assert.match(res.stderr, new RegExp(`peer ${unknown} is not in this node's peer table`))
    assert.doesNotMatch(res.stderr, /POST \/v1\/jobs|400/)
    // its own id is fine: the job runs locally
    const self = await runCli(['job', 'run', '--workload', 'echo', '--generate', '3', '--peer', cluster.nodes[0].peerId, '--data-dir', dataDir, '--json'])
    assert.equal(self.code, 0, self.stderr)
  })

  it('an input file the workload cannot read is named, before any work', async () => {
    const images = join(dir, 'images')
    await mkdir(images)
    // a PNG signature and then noise: the codec's sniff passes, decoding does not
    await writeFile(join(images, 'corrupt.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 7)]))
    const res = await runCli(['job', 'run', '--workload', 'ocr-rec', '--input', images, '--data-dir', dataDir])
    assert.equal(res.code, 2, res.stderr)
    assert.match(res.stderr, /--input .*corrupt\.png: ocr-rec/)
  })

  it('Ctrl-C during job run cancels the job: "cancelled" and exit code 130', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'job', 'run', '--workload', 'sleep', '--generate', '200', '--shard-size', '1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
    // the job line is printed once the job is about to be sent: interrupt it then
    await new Promise<void>(resolve => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
        if (stdout.includes('job: sleep')) {
          resolve()
        }
      })
    })
    child.kill('SIGINT')
    assert.equal(await exited, 130, stderr)
    assert.match(stderr, /shardmesh job: cancelled\n$/)
    assert.doesNotMatch(stderr, /aborted/i)
  })

  it('receipts list, show and verify take unique prefixes of ids (as list prints them); the header counts the filter', async () => {
    // 17 receipts and more: two of them share at least their first hex digit
    for (const items of ['34', '6']) {
      const job = await runCli(['job', 'run', '--workload', 'echo', '--generate', items, '--shard-size', '2', '--data-dir', dataDir])
      assert.equal(job.code, 0, job.stderr)
    }
    const all = JSON.parse((await runCli(['receipts', 'list', '--data-dir', dataDir, '--json'])).stdout)
    const ids: string[] = all.receipts.map((r: any) => r.id)
    const total = ids.length
    assert.ok(total >= 20)
    const last = all.receipts[total - 1]
    const jobReceipts = all.receipts.filter((r: any) => r.jobId === last.jobId).length
    assert.equal(jobReceipts, 3)

    // list prints 16 hex of the id and 12 of the job: both work as they are printed
    const listed = await runCli(['receipts', 'list', '--data-dir', dataDir])
    assert.equal(listed.code, 0, listed.stderr)
    assert.ok(listed.stdout.includes(last.id.slice(0, 16)) && listed.stdout.includes(last.jobId.slice(0, 12)))
    const shown = await runCli(['receipts', 'show', last.id.slice(0, 16), '--data-dir', dataDir, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(JSON.parse(shown.stdout).receipt.id, last.id)

    const byJob = await runCli(['receipts', 'list', '--job', last.jobId.slice(0, 12), '--data-dir', dataDir])
    assert.equal(byJob.code, 0, byJob.stderr)
    assert.match(byJob.stdout, new RegExp(`^3 receipts match \\(of ${total} stored\\), 0 batched in 0 batches, 0 anchored in 0 transactions`))
    const byJobJson = JSON.parse((await runCli(['receipts', 'list', '--job', last.jobId.slice(0, 12), '--limit', '1', '--data-dir', dataDir, '--json'])).stdout)
    assert.equal(byJobJson.total, 3)
    assert.equal(byJobJson.matched.receipts, 3)
    assert.equal(byJobJson.stats.receipts, total)
    assert.equal(byJobJson.receipts.length, 1)

    // verify with a prefix finds the receipt (it is not batched: no chain here)
    const verified = await runCli(['receipts', 'verify', last.id.slice(0, 16), '--data-dir', dataDir])
    assert.equal(verified.code, 1)
    assert.equal(verified.stdout, `FAILED check not-batched: receipt ${last.id} is not in a batch yet\n`)

    // nothing matches
    const none = await runCli(['receipts', 'show', 'f'.repeat(20), '--data-dir', dataDir])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no receipt matches f{20}\n$/)
    const noJob = await runCli(['receipts', 'list', '--job', 'ffffffffffffffffffffffffffffffff', '--data-dir', dataDir])
    assert.equal(noJob.code, 1)
    assert.match(noJob.stderr, /no receipt matches job ffffffffffffffffffffffffffffffff/)

    // ambiguous: the longest prefix two ids share
    const sorted = [...ids].sort()
    const shared = sorted.slice(1).map((id, i) => common(sorted[i], id)).sort((a, b) => b.length - a.length)[0]
    assert.ok(shared.length > 0)
    const count = ids.filter(id => id.startsWith(shared)).length
    const ambiguous = await runCli(['receipts', 'show', shared, '--data-dir', dataDir])
    assert.equal(ambiguous.code, 1)
    assert.match(ambiguous.stderr, new RegExp(`${shared} is ambiguous: matches ${count} receipts`))
    const byPeer = await runCli(['receipts', 'list', '--peer', cluster.nodes[0].peerId.slice(0, 20), '--data-dir', dataDir, '--json'])
    assert.equal(JSON.parse(byPeer.stdout).total, total)
  })
})
