import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { promisify } from 'node:util'
import { NetLab, waitFor } from '../src/index.js'
import type { LabProcess } from '../src/index.js'

const run = promisify(execFile)
const PORT = 7007

/** A TCP echo server on `host:PORT` that prints 'listening' once it listens. */
const ECHO_SERVER = `
const net = require('node:net')
net.createServer(s => s.pipe(s)).listen(${PORT}, process.argv[1], () => console.log('listening'))
`
/** Connects to `host:PORT`, sends a line, prints what comes back; exit 1 when it cannot (3 s of the client's own patience). */
const ECHO_CLIENT = `
const net = require('node:net')
const s = net.connect({ host: process.argv[1], port: ${PORT}, timeout: 3000 })
s.on('timeout', () => { console.error('timeout'); process.exit(1) })
s.on('error', e => { console.error(e.code); process.exit(1) })
s.on('connect', () => s.write('ping from ' + process.argv[2] + '\\n'))
s.on('data', d => { process.stdout.write(d); process.exit(0) })
`

async function namespaces (): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'])
  return stdout.split('\n').map(l => l.split(' ')[0]).filter(Boolean)
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('NetLab: hosts as network namespaces', function () {
  this.timeout(60_000)
  let lab: NetLab | undefined
  let server: LabProcess

  before(async function () {
    await NetLab.skipUnavailable(this, 'the NetLab spec')
    lab = await NetLab.create({ hosts: 2 })
    server = lab.spawn(lab.hosts[0], process.execPath, ['-e', ECHO_SERVER, lab.hosts[0].ip])
    await waitFor(() => server.stdout().includes('listening'), 'the echo server to listen', { timeout: 20_000 })
  })

  after(async () => {
    await lab?.close()
  })

  const echo = async (from: number): Promise<{ code: number | null, stdout: string, stderr: string }> => {
    if (lab == null) {
      throw new Error('no lab')
    }
    return lab.exec(lab.hosts[from], process.execPath, ['-e', ECHO_CLIENT, lab.hosts[0].ip, lab.hosts[from].name], { timeout: 20_000 })
  }

  it('gives each host its own namespace and address on one /24, the bridge in a namespace of its own', async () => {
    assert.ok(lab != null)
    assert.deepEqual(lab.hosts.map(h => h.ip), ['10.77.0.10', '10.77.0.11'])
    assert.match(lab.prefix, new RegExp(`^nl${process.pid}x\\d+$`))
    const listed = await namespaces()
    for (const ns of [lab.switchNs, ...lab.hosts.map(h => h.ns)]) {
      assert.ok(listed.includes(ns), `${ns} not in ${listed.join(', ')}`)
    }
    assert.deepEqual(lab.namespaceNames(), [lab.switchNs, ...lab.hosts.map(h => h.ns)])
    // the address is inside the host's namespace only
    const { stdout } = await lab.exec(lab.hosts[1], 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])
    assert.match(stdout, /inet 10\.77\.0\.11\/24/)
    const own = await run('ip', ['-4', '-o', 'addr'])
    assert.doesNotMatch(own.stdout, /10\.77\.0\.1[01]\//, 'the machine\'s own namespace has a lab address')
  })

  it('the process it spawns runs under its own pid in the host', async () => {
    assert.ok(lab != null)
    assert.ok(server.running())
    const { stdout } = await run('ip', ['netns', 'pids', lab.hosts[0].ns])
    assert.ok(stdout.split('\n').includes(String(server.pid)), `pid ${server.pid} not in ${lab.hosts[0].ns}: ${stdout}`)
  })

  it('two hosts reach each other through the bridge (TCP echo)', async () => {
    const res = await echo(1)
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, 'ping from h1\n')
  })

  it('a partitioned host reaches nobody; healed, it does again', async () => {
    assert.ok(lab != null)
    await lab.partition(lab.hosts[1])
    const cut = await echo(1)
    assert.equal(cut.code, 1)
    assert.match(cut.stderr, /timeout|ENETUNREACH|EHOSTUNREACH/)
    await lab.heal(lab.hosts[1])
    const res = await waitFor(async () => {
      const r = await echo(1)
      return r.code === 0 ? r : undefined
    }, 'the healed host to reach the server again', { timeout: 30_000, interval: 200 })
    assert.equal(res.stdout, 'ping from h1\n')
  })

  it('a rate limit is a tbf qdisc on both ends of the link; traffic still flows; null removes it', async () => {
    assert.ok(lab != null)
    await lab.limit(lab.hosts[1], { rate: '1mbit' })
    const { stdout } = await lab.exec(lab.hosts[1], 'tc', ['qdisc', 'show', 'dev', 'eth0'])
    assert.match(stdout, /qdisc tbf .* rate 1Mbit/)
    const port = await run('ip', ['netns', 'exec', lab.switchNs, 'tc', 'qdisc', 'show', 'dev', lab.hosts[1].port])
    assert.match(port.stdout, /qdisc tbf .* rate 1Mbit/)
    const res = await echo(1)
    assert.equal(res.code, 0, res.stderr)
    await lab.limit(lab.hosts[1], null)
    const after = await lab.exec(lab.hosts[1], 'tc', ['qdisc', 'show', 'dev', 'eth0'])
    assert.doesNotMatch(after.stdout, /tbf/)
  })

  it('forward() carries this process\'s connections into a host; only lab addresses are targets', async () => {
    assert.ok(lab != null)
    const fwd = await lab.forward(lab.hosts[0], { address: lab.hosts[0].ip, port: PORT })
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: fwd.port })
      s.once('error', reject)
      s.once('data', d => { resolve(d.toString()); s.destroy() })
      s.write('through the relay\n')
    })
    assert.equal(reply, 'through the relay\n')
    await fwd.close()
    await assert.rejects(lab.forward(lab.hosts[0], { address: '192.0.2.1', port: 80 }), /not an address of this lab/)
  })

  it('forward() delivers every byte a server writes before it closes, to a client that reads slowly', async () => {
    assert.ok(lab != null)
    const SIZE = 4 * 1024 * 1024
    const port = PORT + 1
    // a server that writes 4 MiB and closes at once on each connection
    const big = lab.spawn(lab.hosts[0], process.execPath, ['-e',
      `require('net').createServer(s => { s.end(Buffer.alloc(${SIZE}, 7)) }).listen(${port}, '${lab.hosts[0].ip}', () => console.log('up'))`])
    await waitFor(() => big.stdout().includes('up'), 'the big server to listen', { timeout: 20_000 })
    const fwd = await lab.forward(lab.hosts[0], { address: lab.hosts[0].ip, port })
    for (let round = 0; round < 3; round++) {
      const received = await new Promise<number>((resolve, reject) => {
        let total = 0
        const s = connect({ host: '127.0.0.1', port: fwd.port })
        s.once('error', reject)
        // a slow reader: a pause after every chunk, so the relays buffer what the server sent
        s.on('data', d => {
          total += d.length
          s.pause()
          setTimeout(() => s.resume(), 2)
        })
        s.once('end', () => { resolve(total) })
      })
      assert.equal(received, SIZE, `round ${round}: ${SIZE - received} bytes lost`)
    }
    await fwd.close()
    await big.kill('SIGKILL')
    await big.exited
  })

  it('close() stops every process by pid and deletes every namespace; a second close() is a no-op', async () => {
    assert.ok(lab != null)
    const names = lab.namespaceNames()
    const pids = [server.pid]
    const sleeper = lab.spawn(lab.hosts[1], 'sleep', ['600'])
    pids.push(sleeper.pid)
    // a process that ignores SIGTERM is SIGKILLed after the grace
    const stubborn = lab.spawn(lab.hosts[1], process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'])
    await waitFor(() => stubborn.stdout().includes('up'), 'the stubborn process to start', { timeout: 20_000 })
    pids.push(stubborn.pid)
    assert.ok(pids.every(alive))
    await lab.close(500)
    await lab.close(500)
    assert.deepEqual(pids.filter(alive), [])
    assert.equal((await stubborn.exited).signal, 'SIGKILL')
    const left = await namespaces()
    assert.deepEqual(left.filter(ns => names.includes(ns) || ns.startsWith(`${lab?.prefix}-`)), [])
    assert.throws(() => lab?.spawn(lab.hosts[0], 'true', []), /closed/)
  })
})

describe('NetLab.create', () => {
  it('refuses a bad subnet or host names before making anything', async () => {
    await assert.rejects(NetLab.create({ hosts: 2, subnet: '10.0.0.0/16' }), /subnet/)
    await assert.rejects(NetLab.create({ hosts: ['a', 'a'] }), /distinct/)
    await assert.rejects(NetLab.create({ hosts: 0 }), /1 to 200/)
  })
})
