import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI_BIN } from '@shardmesh/cli/harness'
import { ControlClient } from '@shardmesh/control'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'
import type { ChildProcess } from 'node:child_process'
import type { Server } from 'node:net'

interface Daemon {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  exited: Promise<number | null>
}

/** A `shardmesh node start` process whose output lines are kept; stopped by pid in afterEach. */
function startNode (args: string[], daemons: Daemon[]): Daemon {
  const child = spawn(process.execPath, [CLI_BIN, 'node', 'start', '--no-gpu', '--workload', 'echo', '--pool-size', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const daemon: Daemon = { child, stdout: [], stderr: [], exited: once(child, 'exit').then(([code]) => code as number | null) }
  createInterface({ input: child.stdout }).on('line', line => daemon.stdout.push(line))
  createInterface({ input: child.stderr }).on('line', line => daemon.stderr.push(line))
  daemons.push(daemon)
  return daemon
}

async function jsonLine (daemon: Daemon, event: string): Promise<any> {
  return waitFor(async () => daemon.stdout.map(l => JSON.parse(l)).find(e => e.event === event), `a "${event}" line (stderr: ${daemon.stderr.join('\n')})`, { timeout: 60_000, interval: 100 })
}

async function busyPort (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

/** Stand in a flag table for the suite's temporary dir and a data dir no refused start may create (both made only in before()). */
const DIR = '<dir>'
const NEVER = '<never-created>'

describe('shardmesh node start, wait, stop (a daemon as scripts run it)', function () {
  this.timeout(120_000)
  let dir: string
  const daemons: Daemon[] = []

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-daemon-')) })
  afterEach(async () => {
    for (const d of daemons.splice(0)) {
      if (d.child.exitCode == null && d.child.signalCode == null) {
        process.kill(d.child.pid as number, 'SIGKILL')
        await d.exited
      }
    }
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  // each case its own test: a flag table run in one test outgrows its timeout on a loaded machine
  // (DIR stands for the suite's temporary dir, made in before(); NEVER for a data dir no case may create)
  const badFlags: Array<[string[], RegExp]> = [
    [['node', 'start', '--data-dir', NEVER, '--listen', 'notamultiaddr'], /--listen "notamultiaddr" is not a TCP multiaddr/],
    [['node', 'start', '--data-dir', NEVER, '--advert-ttl', '5s', '--refresh', '10s'], /--refresh 10s must be shorter than --advert-ttl 5s/],
    [['node', 'start', '--data-dir', NEVER, '--refresh', '45s'], /--refresh 45s must be shorter than the default --advert-ttl 30s/],
    [['node', 'start', '--data-dir', NEVER, '--advert-ttl', '0s'], /--advert-ttl: "0s" must be longer than 0/],
    [['node', 'start', '--data-dir', NEVER, '--bootstrap', 'nope'], /--bootstrap "nope" is not a multiaddr of a peer/],
    [['node', 'start', '--data-dir', NEVER, '--control-port', '99999'], /--control-port: "99999" must be a whole number/],
    [['node', 'start', '--data-dir', NEVER, '--parent-pid', 'me'], /--parent-pid: "me" must be a whole number/],
    [['node', 'start', '--data-dir', NEVER, '--allow', 'someone'], /--allow "someone" is not a peer id/],
    [['node', 'start', '--data-dir', NEVER, '--log-level', 'loud'], /--log-level must be one of error, warn, info, debug/],
    [['node', 'start', '--data-dir', NEVER, '--ready-file', join(DIR, 'no', 'such', 'ready.json')], /--ready-file: cannot write in/],
    [['node', 'start', '--data-dir', NEVER, '--solana-rpc', 'http://127.0.0.1:1', '--solana-keypair', join(DIR, 'no-such-keypair.json')], /--solana-keypair .*no-such-keypair\.json/],
    [['node', 'start', '--data-dir', NEVER, '--swarm-key', join(DIR, 'no-such-swarm.key')], /--swarm-key .*no-such-swarm\.key: not a swarm key: no such file/],
    [['node', 'wait', '--data-dir', NEVER, '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
    [['node', 'stop', '--data-dir', NEVER, '--bogus'], /Unknown option '--bogus'/],
    [['cluster', '--advert-ttl', '5s', '--refresh', '10s'], /cluster: --refresh 10s must be shorter than --advert-ttl 5s/],
    [['cluster', '--solana-rpc', 'http://127.0.0.1:1', '--solana-ws', 'http://127.0.0.1:2'], /--solana-ws must be a ws\(s\):\/\/ URL/],
    [['chain', 'airdrop', '11111111111111111111111111111111', '--solana-rpc', 'localhost:8899'], /chain airdrop: --solana-rpc must be an http\(s\):\/\/ URL/],
    [['chain', '--parent-pid', '0'], /--parent-pid: "0" must be a whole number/],
    [['demo', '--verify', 'bad'], /demo: --verify bad verification "bad"/],
    [['demo', '--verify', 'replicate:5', '--nodes', '4'], /--verify replicate:5 needs 5 nodes offering ocr-rec, and --nodes is 4/]
  ]
  for (const [args, message] of badFlags) {
    it(`checks every flag before starting anything (exit 2, the flag named): ${args.join(' ')}`, async () => {
      const res = await runCli(args.map(a => a.replace(NEVER, join(dir, 'never-created')).replace(DIR, dir)), { timeout: 60_000 })
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, message)
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
      assert.equal(existsSync(join(dir, 'never-created')), false, 'a refused start created its data dir')
    })
  }

  it('serves its control API and says it is joining while an unreachable bootstrap peer is redialled', async () => {
    const dataDir = join(dir, 'joining')
    const node = startNode(['--data-dir', dataDir, '--json', '--bootstrap', '/ip4/127.0.0.1/tcp/1'], daemons)
    const ready = await jsonLine(node, 'ready')
    assert.deepEqual(ready.join, { state: 'joining' })
    // the ready event goes to scripts and --ready-file: it never carries the control token
    const token = (await readFile(join(dataDir, 'control.token'), 'utf8')).trim()
    assert.ok(!node.stdout.join('\n').includes(token), node.stdout.join('\n'))
    const status = await (await ControlClient.fromDataDir(dataDir)).status()
    assert.equal(status.peerId, ready.peerId)
    assert.ok(['joining', 'unreachable'].includes(status.join.state), status.join.state)
    // the join ends at its deadline (it is not lost to a garbage collection): reported as unreachable
    const joined = await jsonLine(node, 'joined')
    assert.equal(joined.join.state, 'unreachable')
    assert.match(joined.join.failures[0].error, /ECONNREFUSED/)
    assert.ok(node.stderr.some(l => / warn +no bootstrap peer answered/.test(l)), node.stderr.join('\n'))
  })

  it('--ready-file appears once the control API serves; node wait returns; node stop ends the process and removes its files', async () => {
    const dataDir = join(dir, 'ready')
    const readyFile = join(dir, 'ready.json')
    const waiting = runCli(['node', 'wait', '--data-dir', dataDir, '--timeout', '60s'])
    const node = startNode(['--data-dir', dataDir, '--ready-file', readyFile], daemons)
    const ready = await waitFor(async () => existsSync(readyFile) ? JSON.parse(await readFile(readyFile, 'utf8')) : undefined, 'the ready file', { timeout: 60_000, interval: 100 })
    assert.equal(ready.pid, node.child.pid)
    assert.equal(Number((await readFile(join(dataDir, 'node.pid'), 'utf8')).trim()), node.child.pid)
    assert.equal((await (await ControlClient.fromDataDir(dataDir)).status()).peerId, ready.peerId)
    const waited = await waiting
    assert.equal(waited.code, 0, waited.stderr)
    assert.match(waited.stdout, new RegExp(`node ${ready.peerId as string} \\(pid ${ready.pid as number}\\) answers`))

    // a second node on the same data dir is refused while the first runs
    const second = await runCli(['node', 'start', '--no-gpu', '--data-dir', dataDir])
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`a node already runs on .* \\(pid ${ready.pid as number}\\)`))

    const stopped = await runCli(['node', 'stop', '--data-dir', dataDir])
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.equal(await node.exited, 0)
    for (const file of [readyFile, join(dataDir, 'node.pid'), join(dataDir, 'control.json')]) {
      assert.equal(existsSync(file), false, file)
    }
  })

  it('prints the dashboard\'s login URL after its control URL (text mode); shardmesh dashboard prints it again while the node runs', async () => {
    const dataDir = join(dir, 'dashboard')
    const node = startNode(['--data-dir', dataDir], daemons)
    const line = await waitFor(async () => node.stdout.find(l => l.startsWith('dashboard ')), `the dashboard line (stdout: ${node.stdout.join('\n')}; stderr: ${node.stderr.join('\n')})`, { timeout: 60_000, interval: 100 })
    const control = JSON.parse(await readFile(join(dataDir, 'control.json'), 'utf8')).url as string
    const token = (await readFile(join(dataDir, 'control.token'), 'utf8')).trim()
    const login = `${control}/#token=${token}`
    assert.equal(line, `dashboard ${login}`)
    assert.equal(node.stdout[node.stdout.indexOf(line) - 1], `control   ${control}`)

    const plain = await runCli(['dashboard', '--data-dir', dataDir])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(plain.stdout, `${login}\n`)
    const json = await runCli(['dashboard', '--data-dir', dataDir, '--json'])
    assert.equal(json.code, 0, json.stderr)
    const { peerId } = await (await ControlClient.fromDataDir(dataDir)).status()
    assert.deepEqual(JSON.parse(json.stdout), { url: login, control, peerId })

    // a node killed leaves its control.json behind: the URL it names is not printed
    process.kill(node.child.pid as number, 'SIGKILL')
    await node.exited
    assert.equal(existsSync(join(dataDir, 'control.json')), true)
    const dead = await runCli(['dashboard', '--data-dir', dataDir])
    assert.equal(dead.code, 1)
    assert.equal(dead.stdout, '')
    assert.match(dead.stderr, new RegExp(`^shardmesh dashboard: node at ${control} does not answer`))
  })

  it('a stale pid file (its process is gone) neither blocks a start nor fools node stop', async () => {
    const dataDir = join(dir, 'stale')
    await mkdir(dataDir, { recursive: true })
    const gone = spawn(process.execPath, ['-e', ''])
    await once(gone, 'exit')
    await writeFile(join(dataDir, 'node.pid'), `${gone.pid as number}\n`)
    const stop = await runCli(['node', 'stop', '--data-dir', dataDir])
    assert.equal(stop.code, 1)
    assert.match(stop.stderr, /no node runs on/)
    assert.equal(existsSync(join(dataDir, 'node.pid')), false)
    await writeFile(join(dataDir, 'node.pid'), `${gone.pid as number}\n`)
    const node = startNode(['--data-dir', dataDir, '--json'], daemons)
    const ready = await jsonLine(node, 'ready')
    assert.equal(Number((await readFile(join(dataDir, 'node.pid'), 'utf8')).trim()), ready.pid)
    assert.deepEqual(ready.join.state, 'standalone')
    const waited = await runCli(['node', 'wait', '--data-dir', join(dir, 'nobody'), '--timeout', '300ms'])
    assert.equal(waited.code, 1)
    assert.match(waited.stderr, /was not ready within 300ms/)
  })

  it('a busy --control-port or --listen port fails the start with one line naming it, leaving nothing running', async () => {
    const { server, port } = await busyPort()
    try {
      const dataDir = join(dir, 'busy')
      const control = await runCli(['node', 'start', '--no-gpu', '--data-dir', dataDir, '--control-port', String(port)], { timeout: 60_000 })
      assert.equal(control.code, 1, control.stderr)
      assert.equal(control.stderr, `shardmesh node: control port ${port} is in use (pick another with --control-port, or leave it out for any free port)\n`)
      const listen = await runCli(['node', 'start', '--no-gpu', '--data-dir', dataDir, '--listen', `/ip4/127.0.0.1/tcp/${port}`], { timeout: 60_000 })
      assert.equal(listen.code, 1, listen.stderr)
      assert.equal(listen.stderr, `shardmesh node: cannot listen on /ip4/127.0.0.1/tcp/${port} (address already in use)\n`)
      for (const file of ['node.pid', 'control.json']) {
        assert.equal(existsSync(join(dataDir, file)), false, file)
      }
    } finally {
      server.close()
    }
  })

  it('chain keeps a pid file while it runs; chain stop ends it; a busy --port fails with one line; --host picks the address', async () => {
    const dataDir = join(dir, 'chain')
    // another loopback address than the default 127.0.0.1: served there, and nothing said about it
    const child = spawn(process.execPath, [CLI_BIN, 'chain', '--data-dir', dataDir, '--host', '127.0.0.2', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const chain: Daemon = { child, stdout: [], stderr: [], exited: once(child, 'exit').then(([code]) => code as number | null) }
    createInterface({ input: child.stdout }).on('line', line => chain.stdout.push(line))
    createInterface({ input: child.stderr }).on('line', line => chain.stderr.push(line))
    daemons.push(chain)
    const ready = await jsonLine(chain, 'ready')
    assert.equal(new URL(ready.url as string).hostname, '127.0.0.2')
    assert.deepEqual(chain.stderr, [])
    assert.equal(Number((await readFile(join(dataDir, 'chain.pid'), 'utf8')).trim()), child.pid)

    const second = await runCli(['chain', '--data-dir', dataDir, '--port', '0'])
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`a chain already runs on .* \\(pid ${child.pid as number}\\); stop it with: shardmesh chain stop`))
    const port = new URL(ready.url as string).port
    const busy = await runCli(['chain', '--data-dir', join(dir, 'chain-busy'), '--host', '127.0.0.2', '--port', port])
    assert.equal(busy.code, 1, busy.stderr)
    assert.equal(busy.stderr, `shardmesh chain: port ${port} is in use (pick another with --port, or 0 for any)\n`)
    assert.equal(existsSync(join(dir, 'chain-busy', 'chain.pid')), false)

    const stopped = await runCli(['chain', 'stop', '--data-dir', dataDir])
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.match(stopped.stdout, new RegExp(`stopped the chain on .* \\(pid ${child.pid as number}\\)`))
    assert.equal(await chain.exited, 0)
    assert.equal(existsSync(join(dataDir, 'chain.pid')), false)
    const again = await runCli(['chain', 'stop', '--data-dir', dataDir])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /no chain runs on/)
  })

  it('--swarm-key makes a private mesh: a node with the same key (key swarm --out) joins and serves a job; one without joins nothing', async () => {
    const keyFile = join(dir, 'swarm.key')
    const made = await runCli(['key', 'swarm', '--out', keyFile])
    assert.equal(made.code, 0, made.stderr)
    const a = startNode(['--data-dir', join(dir, 'pm-a'), '--json', '--swarm-key', keyFile], daemons)
    const readyA = await jsonLine(a, 'ready')
    const b = startNode(['--data-dir', join(dir, 'pm-b'), '--json', '--swarm-key', keyFile, '--bootstrap', readyA.addrs[0]], daemons)
    const readyB = await jsonLine(b, 'ready')
    const outsider = startNode(['--data-dir', join(dir, 'pm-c'), '--json', '--bootstrap', readyA.addrs[0]], daemons)
    const readyOutsider = await jsonLine(outsider, 'ready')
    const joinedOutsider = await jsonLine(outsider, 'joined')
    assert.equal(joinedOutsider.join.state, 'unreachable', JSON.stringify(joinedOutsider))
    const controlA = await ControlClient.fromDataDir(join(dir, 'pm-a'))
    await waitFor(async () => (await controlA.peers()).peers.find(p => p.peerId === readyB.peerId), 'A holds B', { timeout: 60_000, interval: 100 })
    const job = await runCli(['job', 'run', '--data-dir', join(dir, 'pm-b'), '--workload', 'echo', '--generate', '4', '--shard-size', '1', '--peer', readyA.peerId, '--no-local', '--json'])
    assert.equal(job.code, 0, job.stderr)
    const outsiderJob = await runCli(['job', 'run', '--data-dir', join(dir, 'pm-c'), '--workload', 'echo', '--generate', '4', '--peer', readyA.peerId, '--no-local', '--json'])
    assert.notEqual(outsiderJob.code, 0, outsiderJob.stdout)
    assert.ok((await controlA.peers()).peers.every(p => p.peerId !== readyOutsider.peerId), 'A never lists the outsider')
  })

  it('logs peers joining and leaving its table, jobs it ran and shards it served on stderr; --log-level error silences them', async () => {
    const a = startNode(['--data-dir', join(dir, 'log-a'), '--json'], daemons)
    const readyA = await jsonLine(a, 'ready')
    const quiet = startNode(['--data-dir', join(dir, 'log-q'), '--json', '--log-level', 'error', '--bootstrap', readyA.addrs[0]], daemons)
    const readyQ = await jsonLine(quiet, 'ready')
    const bDir = join(dir, 'log-b')
    const b = startNode(['--data-dir', bDir, '--json', '--bootstrap', readyA.addrs[0], '--advert-ttl', '2s', '--refresh', '500ms'], daemons)
    const readyB = await jsonLine(b, 'ready')
    await waitFor(async () => a.stderr.find(l => l.includes(`info  peer joined ${readyB.peerId as string}`)), `A logs B joining: ${a.stderr.join('\n')}`, { timeout: 60_000, interval: 100 })
    const quietControl = await ControlClient.fromDataDir(join(dir, 'log-q'))
    await waitFor(async () => (await quietControl.peers()).peers.find(p => p.peerId === readyB.peerId), 'the quiet node holds B', { timeout: 60_000, interval: 100 })
    // A requests a job; B serves some of its shards; a job A cannot place is a warning
    await waitFor(async () => (await (await ControlClient.fromDataDir(join(dir, 'log-a'))).peers()).peers.find(p => p.peerId === readyB.peerId), 'A holds B', { timeout: 60_000, interval: 100 })
    const job = await runCli(['job', 'run', '--data-dir', join(dir, 'log-a'), '--workload', 'echo', '--generate', '16', '--shard-size', '1', '--peer', readyB.peerId, '--no-local', '--json'])
    assert.equal(job.code, 0, job.stderr)
    const jobId = String(JSON.parse(job.stdout).jobId)
    await waitFor(async () => a.stderr.find(l => l.includes(`info  ran job ${jobId.slice(0, 12)} (echo@1.0.0, 16 items, verification none)`) && l.includes('16 shards on 1 peer')), `A logs its job: ${a.stderr.join('\n')}`, { timeout: 60_000, interval: 100 })
    await waitFor(async () => b.stderr.find(l => l.includes(`info  served shard 0 of job ${jobId.slice(0, 12)} (echo@1.0.0) for ${readyA.peerId as string}`)), `B logs a shard it served: ${b.stderr.join('\n')}`, { timeout: 60_000, interval: 100 })
    const refused = await runCli(['job', 'run', '--data-dir', join(dir, 'log-a'), '--workload', 'echo', '--generate', '4', '--verify', 'replicate:5', '--json'])
    assert.equal(refused.code, 1, refused.stderr)
    await waitFor(async () => a.stderr.find(l => / warn +failed job [0-9a-f]{12} \(echo@1\.0\.0, 4 items, verification replicate:5\) after .*ERR_NOT_ENOUGH_PEERS/.test(l)), `A logs the refused job: ${a.stderr.join('\n')}`, { timeout: 60_000, interval: 100 })
    assert.equal((await runCli(['node', 'stop', '--data-dir', bDir])).code, 0)
    await waitFor(async () => a.stderr.find(l => l.includes(`info  peer left ${readyB.peerId as string}`)), `A logs B leaving: ${a.stderr.join('\n')}`, { timeout: 60_000, interval: 100 })
    await waitFor(async () => (await quietControl.peers()).peers.every(p => p.peerId !== readyB.peerId) ? true : undefined, 'B leaves the quiet node', { timeout: 60_000, interval: 100 })
    assert.ok(quiet.stderr.every(l => !/ (info|warn|debug) /.test(l)), quiet.stderr.join('\n'))
    assert.ok(readyQ.peerId != null)
  })
})

describe('shardmesh with its output closed early (| head)', () => {
  it('exits quietly instead of an EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [CLI_BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.destroy()
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const [code] = await once(child, 'exit')
    assert.equal(stderr, '')
    assert.equal(code, 0)
  })
})
