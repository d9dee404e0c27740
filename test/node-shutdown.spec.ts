import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI_BIN, LocalCluster } from '@shardmesh/cli/harness'
import { ControlClient } from '@shardmesh/control'
import { verifyReceipt } from '@shardmesh/receipts'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import type { ChildProcess } from 'node:child_process'
import { items } from './utils/items.js'

/**
 * Graceful shutdown over node processes: node 0 runs a sleep job on workers 1 and 2; while
 * worker 1 runs a shard it gets SIGTERM. It takes no new shard, finishes those it holds, keeps
 * their countersigned receipts and exits 0; the job completes with every output right, the
 * rest of it on worker 2; worker 1, restarted on its data dir, lists the receipts of every shard
 * of its own that node 0 accepted.
 */
describe('node start: graceful shutdown on SIGTERM', function () {
  this.timeout(240_000)
  let cluster: LocalCluster

  before(async () => {
    cluster = new LocalCluster({
      nodes: 3,
      nodeArgs: i => i === 0
        ? ['--workload', 'none', '--challenge-interval', 'off']
        // a shard of 4 items runs 1.2 s: a SIGTERM finds it running
        : ['--workload', 'sleep', '--sleep-ms', '300', '--pool-size', '1', '--slots', '1', '--challenge-interval', 'off', '--shutdown-timeout', '120s']
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
  })

  after(async () => {
    await cluster?.stop()
    for (const n of cluster?.nodes ?? []) {
      assert.ok(n.process.exitCode != null || n.process.signalCode != null, `node ${n.index} (pid ${n.pid}) still running`)
    }
  })

  it('a worker stopped mid-job finishes its shards, keeps their receipts and exits 0; the job completes', async () => {
    const input = items(40, 'graceful')
    const [, worker, other] = cluster.nodes
    // first a job that has node 0 challenge both workers (before their first shard of sleep): the
    // shard found running below is one of the job's, not a challenge's
    const warmup = await cluster.nodes[0].control.runJob({ workload: 'sleep', items: items(2, 'warmup'), shardSize: 1, peers: [worker.peerId, other.peerId], hedge: false })
    assert.equal(warmup.outputs.length, 2)
    const job = cluster.nodes[0].control.runJob({ workload: 'sleep', items: input, shardSize: 4, peers: [worker.peerId, other.peerId], hedge: false })
    job.catch(() => {})
    // a shard of this job runs on worker 1 now
    await waitFor(async () => (await worker.control.compute()).active > 0, 'worker 1 running a shard', { timeout: 60_000, interval: 20 })
    const exited = once(worker.process, 'exit')
    process.kill(worker.pid, 'SIGTERM')
    const [code, signal] = await exited
    assert.equal(signal, null, `worker 1 died of ${String(signal)}`)
    assert.equal(code, 0, worker.stderr.join('\n'))
    const log = worker.stderr.join('\n')
    assert.match(log, /stopping gracefully: no new shards/)
    const drained = /drained in [\d.]+s: (\d+) of (\d+) shard\(s\) in flight finished/.exec(log)
    assert.ok(drained != null, log)
    assert.ok(Number(drained[2]) >= 1, `a shard was in flight at SIGTERM: ${drained[0]}`)
    assert.equal(drained[1], drained[2], 'every shard in flight finished')
    assert.doesNotMatch(log, /did not come back in time|still running: their requesters retry/)

    const result = await job
    assert.deepEqual(result.outputs, input, 'every output right')
    const byWorker = new Map<string, string[]>()
    for (const r of result.receipts) {
      const v = await verifyReceipt(Buffer.from(r, 'base64'), { requireCountersignature: true })
      byWorker.set(v.worker.toString(), [...byWorker.get(v.worker.toString()) ?? [], Buffer.from(v.id).toString('hex')])
    }
    const own = (byWorker.get(worker.peerId) ?? []).sort()
    assert.ok(own.length >= 1, 'worker 1 did some of the job')
    assert.ok((byWorker.get(other.peerId) ?? []).length >= 1, 'worker 2 did the rest')

    // its receipts were on disk when it exited: the restarted node lists them
    const restarted = await cluster.restart(1)
    assert.equal(restarted.peerId, worker.peerId)
    const res = await runCli(['receipts', 'list', '--data-dir', restarted.dataDir, '--role', 'worker', '--json'])
    assert.equal(res.code, 0, res.stderr)
    const kept = JSON.parse(res.stdout).receipts.filter((r: any) => r.jobId === result.jobId).map((r: any) => r.id).sort()
    assert.deepEqual(kept, own)
  })

  it('a node with nothing in flight stops at once on SIGTERM, and says so in --json', async () => {
    const node = cluster.nodes[2]
    const lines: string[] = []
    createInterface({ input: node.process.stdout as NodeJS.ReadableStream }).on('line', line => lines.push(line))
    const exited = once(node.process, 'exit')
    process.kill(node.pid, 'SIGTERM')
    assert.deepEqual(await exited, [0, null])
    const events = lines.map(l => JSON.parse(l))
    assert.deepEqual(events.find(e => e.event === 'stopping'), { event: 'stopping', graceful: true })
    const stopped = events.find(e => e.event === 'stopped')
    assert.equal(stopped?.drain?.inFlight, 0)
    assert.equal(stopped?.drain?.handedBack, 0)
    assert.equal(stopped?.drain?.timedOut, false)
  })
})

/** `node start --config FILE --announce`: a standalone node as a unit file would start it. */
describe('node start --config and --announce', function () {
  this.timeout(120_000)
  let dir: string
  const children: ChildProcess[] = []

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-config-')) })
  after(async () => {
    for (const child of children) {
      if (child.exitCode == null && child.signalCode == null) {
        const exited = once(child, 'exit')
        child.kill('SIGKILL')
        await exited
      }
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('starts from the file (flags override it), advertises the announced address and shows it in --json and the status', async () => {
    const config = join(dir, 'node.json')
    await writeFile(config, JSON.stringify({
      'data-dir': 'data',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      announce: ['/ip4/203.0.113.7/tcp/7077', '/dns4/node.example.com/tcp/7077'],
      workload: ['sleep'],
      'pool-size': 1,
      'no-gpu': true,
      'log-level': 'warn'
    }, null, 2))
    const child = spawn(process.execPath, [CLI_BIN, 'node', 'start', '--config', config, '--workload', 'echo', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    const lines: string[] = []
    let stderr = ''
    createInterface({ input: child.stdout }).on('line', line => lines.push(line))
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const ready = await waitFor(async () => lines.map(l => JSON.parse(l)).find(e => e.event === 'ready'), `a ready line (stderr: ${stderr})`, { timeout: 60_000, interval: 50 })
    assert.equal(ready.dataDir, join(dir, 'data'), 'data-dir taken from the file, relative to it')
    assert.deepEqual(ready.announce, ['/ip4/203.0.113.7/tcp/7077', '/dns4/node.example.com/tcp/7077'])
    assert.deepEqual(ready.addrs, ready.announce.map((a: string) => `${a}/p2p/${ready.peerId}`), 'only the announced addresses are advertised')
    const control = await ControlClient.fromDataDir(join(dir, 'data'))
    const status = await control.status()
    assert.deepEqual(status.addrs, ready.addrs)
    assert.deepEqual((await control.compute()).offered, ['echo@1.0.0'], '--workload on the command line replaced the file\'s list')
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    assert.deepEqual(await exited, [0, null])
  })

  it('refuses an unknown key and a wrong type with exit 2, naming the key, before anything starts', async () => {
    const unknown = join(dir, 'unknown.json')
    await writeFile(unknown, JSON.stringify({ 'data-dir': 'never', listen: ['/ip4/127.0.0.1/tcp/0'], bootstarp: [] }))
    const a = await runCli(['node', 'start', '--config', unknown])
    assert.equal(a.code, 2)
    assert.match(a.stderr, /unknown key "bootstarp"/)
    const wrong = join(dir, 'wrong.json')
    await writeFile(wrong, JSON.stringify({ 'data-dir': 'never', slots: true }))
    const b = await runCli(['node', 'start', '--config', wrong])
    assert.equal(b.code, 2)
    assert.match(b.stderr, /"slots" must be a string or a number, got boolean true/)
    const ok = join(dir, 'ok.json')
    await writeFile(ok, JSON.stringify({ 'data-dir': 'never' }))
    const c = await runCli(['node', 'start', '--config', ok, '--announce', '/ip4/192.0.2.1/tcp/1/p2p/12D3KooWFBEvSi47f6NrEBGiPgD9v9bjydLtMY7xSDauiYTeFmsQ'])
    assert.equal(c.code, 2)
    assert.match(c.stderr, /--announce ".*" is not a multiaddr of this node without \/p2p\//)
    assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr)
    await assert.rejects(stat(join(dir, 'never')), { code: 'ENOENT' }, 'no data dir was made')
  })
})
