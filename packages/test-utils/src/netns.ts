/**
 * Hosts on one Linux machine as network namespaces, for tests and examples that need nodes on
 * addresses of their own (a partition, a slow link, a host that disappears).
 *
 * A `NetLab` makes one namespace per host, each with its own loopback and one address (`eth0`)
 * on a veth pair into a bridge; the bridge lives in a namespace of its own (`<prefix>-sw`), so
 * nothing is added to the machine's own network and every address exists only inside the
 * lab. Every name carries this process's pid and a counter, so labs side by side (in one process
 * or several) never collide. It needs root and `ip` (iproute2); `NetLab.unavailable()` says why
 * not where namespaces cannot be made.
 *
 * Processes run inside a host with `ip netns exec`, which execs the command itself: the pid is
 * the process's own, and `close()` stops each by pid (SIGTERM, then SIGKILL), then deletes every
 * namespace (which deletes the veths and the bridge). A lab that is not closed is cleaned up when
 * this process exits normally (SIGKILL of the process itself leaves namespaces named
 * `nl<pid>x<n>-*` behind: `ip netns del` them).
 *
 * The test process lives in the machine's own namespace and cannot dial into a host. For that,
 * `forward()` opens a TCP port on this machine's loopback whose connections a relay inside the
 * host carries to an address of that host (its loopback, where a node's control API listens, or
 * its lab address), through a Unix socket (file-system sockets cross namespaces).
 *
 * @example
 *
 * ```TypeScript
 * const lab = await NetLab.create({ hosts: 2 })
 * const server = lab.spawn(lab.hosts[0], process.execPath, ['server.js', '--host', lab.hosts[0].ip])
 * await lab.partition(lab.hosts[1]) // host 1 can reach nothing and nobody reaches it
 * await lab.heal(lab.hosts[1])
 * await lab.close()
 * ```
 */
import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import type { AddressInfo, Server, Socket } from 'node:net'

const RELAY = fileURLToPath(new URL('./netns-relay.js', import.meta.url))

/** Output kept per process (the tail, for failure messages). */
const OUTPUT_TAIL = 64 * 1024

export interface NetLabOptions {
  /** how many hosts (1-200), or their names (`[a-z0-9]`, at most 8 characters each) */
  hosts: number | string[]
  /**
   * The hosts' /24 network: host i gets `<a.b.c>.<10 + i>`.
   *
   * @default '10.77.0.0/24'
   */
  subnet?: string
}

export interface NetHost {
  /** 0, 1, ... in the order given */
  index: number
  /** the name given, or `h<index>` */
  name: string
  /** the network namespace (`<lab prefix>-<name>`) */
  ns: string
  /** its address on the lab's network (on `eth0`) */
  ip: string
  /** the bridge port of its veth pair (in the bridge's namespace) */
  port: string
}

export interface LabSpawnOptions {
  /** extra environment (on top of this process's) */
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** stdin of the process (default 'ignore') */
  stdin?: 'ignore' | 'pipe'
  /** receives each line of stdout / stderr (the tail is kept either way) */
  onStdout?: (line: string) => void
  onStderr?: (line: string) => void
}

export interface LabProcess {
  host: NetHost
  pid: number
  child: ChildProcess
  /** resolves when it exited, with its code or the signal that ended it */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** whether it is still running */
  running: () => boolean
  /** the last 64 KiB of its stdout / stderr */
  stdout: () => string
  stderr: () => string
  /** send a signal by pid; for SIGTERM and SIGKILL, resolves when it exited */
  kill: (signal?: NodeJS.Signals) => Promise<void>
}

export interface LabExecResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface LinkLimit {
  /** tc rate, e.g. '1mbit', '500kbit' */
  rate: string
  /** tc bucket size, e.g. '32kbit' (default: rate / 10, at least 16kbit) */
  burst?: string
  /** how long a packet may wait in the bucket before it is dropped (default '400ms') */
  latency?: string
}

export interface Forward {
  /** the port on this machine's 127.0.0.1 */
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** the address and port it reaches inside the host */
  target: { address: string, port: number }
  close: () => Promise<void>
}

export interface ForwardOptions {
  /** the address inside the host (default '127.0.0.1', the host's own loopback) */
  address?: string
  /**
   * The port there. Without it, the target port is the local port this opens: start a server
   * on it in the host afterwards (a server that checks its Host header, like a node's control
   * API, then sees its own port).
   */
  port?: number
}

let labs = 0
const open = new Set<NetLab>()
let exitHook = false

/** Run `ip` (or another command); rejects with its stderr on a non-zero exit. */
async function run (command: string, args: string[], timeout = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout }, (err, stdout, stderr) => {
      if (err != null) {
        reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() !== '' ? stderr.trim() : err.message}`))
      } else {
        resolve(stdout)
      }
    })
  })
}

function tail (buf: string, chunk: string): string {
  const next = buf + chunk
  return next.length > OUTPUT_TAIL ? next.slice(next.length - OUTPUT_TAIL) : next
}

/**
 * Linux network namespaces as hosts on a private bridge. See the module's documentation.
 */
export class NetLab {
  readonly hosts: NetHost[]
  /** the prefix of every namespace of this lab (`nl<pid>x<n>`) */
  readonly prefix: string
  /** the bridge's namespace */
  readonly switchNs: string
  private readonly namespaces: string[] = []
  private readonly processes = new Set<LabProcess>()
  private readonly relays = new Map<string, Promise<{ process: LabProcess, socket: string }>>()
  private readonly forwards = new Set<Server>()
  private dir = ''
  private closing?: Promise<void>

  private constructor (prefix: string, hosts: NetHost[]) {
    this.prefix = prefix
    this.switchNs = `${prefix}-sw`
    this.hosts = hosts
  }

  /**
   * Why network namespaces cannot be made here (not root, no `ip`, `ip netns add` refused), or
   * `undefined` when they can (it makes and deletes one to find out).
   */
  static async unavailable (): Promise<string | undefined> {
    if (process.platform !== 'linux') {
      return `network namespaces are Linux only (this is ${process.platform})`
    }
    const uid = process.getuid?.()
    if (uid !== 0) {
      return `needs root to create network namespaces (uid ${uid})`
    }
    try {
      await run('ip', ['-V'])
    } catch (err: any) {
      return `no working 'ip' command (install iproute2): ${err.message}`
    }
    const probe = `nl${process.pid}probe${labs++}`
    try {
      await run('ip', ['netns', 'add', probe])
    } catch (err: any) {
      return `'ip netns add' is not allowed here (no CAP_SYS_ADMIN, or a restricted container): ${err.message}`
    }
    await run('ip', ['netns', 'del', probe]).catch(() => {})
    return undefined
  }

  /**
   * Whether a missing capability must fail instead of skipping: in CI (`CI=true`) as root, where
   * `.ci/run` installs iproute2, a test that cannot make namespaces has found a broken runner.
   */
  static required (): boolean {
    return process.env.CI === 'true' && process.getuid?.() === 0
  }

  /**
   * For a mocha `before` / `it`: resolves when namespaces can be made; otherwise skips the test
   * loudly (a warning naming why: a skipped test is not a passing one), or throws when
   * `NetLab.required()`.
   */
  static async skipUnavailable (context: { skip: () => void }, what: string): Promise<void> {
    const reason = await NetLab.unavailable()
    if (reason == null) {
      return
    }
    if (NetLab.required()) {
      throw new Error(`${what} needs network namespaces, and CI runs as root: ${reason}`)
    }
    // eslint-disable-next-line no-console
    console.warn(`\n  !!! ${what} SKIPPED on this machine: ${reason}\n`)
    context.skip()
  }

  /** Make the hosts, the bridge and the links; every namespace is gone again if this fails. */
  static async create (options: NetLabOptions): Promise<NetLab> {
    const names = typeof options.hosts === 'number'
      ? Array.from({ length: options.hosts }, (_, i) => `h${i}`)
      : options.hosts
    if (names.length < 1 || names.length > 200) {
      throw new RangeError(`a lab has 1 to 200 hosts, not ${names.length}`)
    }
    if (names.some(n => !/^[a-z0-9]{1,8}$/.test(n)) || new Set(names).size !== names.length) {
      throw new RangeError(`host names are distinct, [a-z0-9]{1,8}: ${JSON.stringify(names)}`)
    }
    const subnet = options.subnet ?? '10.77.0.0/24'
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet)
    if (m == null || m.slice(1).some(o => Number(o) > 255)) {
      throw new RangeError(`subnet: expected a.b.c.0/24, got ${JSON.stringify(subnet)}`)
    }
    const net = m.slice(1, 4).join('.')
    const prefix = `nl${process.pid}x${labs++}`
    const hosts = names.map((name, index) => ({ index, name, ns: `${prefix}-${name}`, ip: `${net}.${10 + index}`, port: `p${index}` }))
    const lab = new NetLab(prefix, hosts)
    open.add(lab)
    if (!exitHook) {
      exitHook = true
      process.once('exit', () => {
        for (const l of open) {
          l.closeSync()
        }
      })
    }
    try {
      lab.dir = await mkdtemp(join(tmpdir(), `${prefix}-`))
      await lab.addNs(lab.switchNs)
      await run('ip', ['-n', lab.switchNs, 'link', 'add', 'br0', 'type', 'bridge'])
      await run('ip', ['-n', lab.switchNs, 'link', 'set', 'br0', 'up'])
      for (const h of hosts) {
        await lab.addNs(h.ns)
        await run('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up'])
        await run('ip', ['link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.port, 'netns', lab.switchNs])
        await run('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0'])
        await run('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up'])
        await run('ip', ['-n', lab.switchNs, 'link', 'set', h.port, 'master', 'br0'])
        await run('ip', ['-n', lab.switchNs, 'link', 'set', h.port, 'up'])
      }
    } catch (err) {
      await lab.close()
      throw err
    }
    return lab
  }

  private async addNs (ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
  }

  /** The host of that index or name. */
  host (which: number | string): NetHost {
    const h = typeof which === 'number' ? this.hosts[which] : this.hosts.find(x => x.name === which)
    if (h == null) {
      throw new RangeError(`no host ${which} in this lab`)
    }
    return h
  }

  /** Every namespace this lab made (the bridge's first). */
  namespaceNames (): string[] {
    return [...this.namespaces]
  }

  /** Run `command args` inside `host` (`ip netns exec`: the pid is the command's own). */
  spawn (host: NetHost, command: string, args: string[], options: LabSpawnOptions = {}): LabProcess {
    this.assertOpen()
    const spawnOptions: SpawnOptions = {
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      cwd: options.cwd
    }
    const child = spawn('ip', ['netns', 'exec', host.ns, command, ...args], spawnOptions)
    let out = ''
    let err = ''
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
      child.once('exit', (code, signal) => { resolve({ code, signal }) })
      child.once('error', () => { resolve({ code: child.exitCode, signal: child.signalCode }) })
    })
    const lines = (stream: NodeJS.ReadableStream | null, onLine: ((line: string) => void) | undefined, keep: (s: string) => void): void => {
      if (stream == null) {
        return
      }
      stream.setEncoding('utf8')
      stream.on('data', (s: string) => { keep(s) })
      if (onLine != null) {
        createInterface({ input: stream }).on('line', onLine)
      }
    }
    lines(child.stdout, options.onStdout, s => { out = tail(out, s) })
    lines(child.stderr, options.onStderr, s => { err = tail(err, s) })
    const proc: LabProcess = {
      host,
      pid: child.pid ?? -1,
      child,
      exited,
      running: () => child.exitCode == null && child.signalCode == null && child.pid != null,
      stdout: () => out,
      stderr: () => err,
      kill: async (signal = 'SIGTERM') => {
        if (!proc.running()) {
          return
        }
        try {
          process.kill(proc.pid, signal)
        } catch {}
        if (signal === 'SIGKILL' || signal === 'SIGTERM') {
          await exited
        }
      }
    }
    this.processes.add(proc)
    void exited.then(() => { this.processes.delete(proc) })
    return proc
  }

  /** Run `command args` inside `host` to its end (killed after `timeout` ms). */
  async exec (host: NetHost, command: string, args: string[], options: { timeout?: number, env?: NodeJS.ProcessEnv } = {}): Promise<LabExecResult> {
    const proc = this.spawn(host, command, args, { env: options.env })
    const timer = setTimeout(() => { void proc.kill('SIGKILL') }, options.timeout ?? 60_000)
    const { code, signal } = await proc.exited
    clearTimeout(timer)
    // let the pipes drain
    await new Promise(resolve => setImmediate(resolve))
    return { code, signal, stdout: proc.stdout(), stderr: proc.stderr() }
  }

  /** Cut `host` off the lab's network: its link goes down (nothing it sends leaves, nothing reaches it). */
  async partition (host: NetHost): Promise<void> {
    this.assertOpen()
    await run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'down'])
    await run('ip', ['-n', this.switchNs, 'link', 'set', host.port, 'down'])
  }

  /** Bring `host`'s link up again (its address and route come back with it). */
  async heal (host: NetHost): Promise<void> {
    this.assertOpen()
    await run('ip', ['-n', this.switchNs, 'link', 'set', host.port, 'up'])
    await run('ip', ['-n', host.ns, 'link', 'set', 'eth0', 'up'])
  }

  /**
   * Shape `host`'s link with a token bucket (`tc qdisc ... tbf`) in both directions: what it
   * sends (on its eth0) and what it receives (on its bridge port). `null` removes the limit.
   */
  async limit (host: NetHost, limit: LinkLimit | null): Promise<void> {
    this.assertOpen()
    for (const [ns, dev] of [[host.ns, 'eth0'], [this.switchNs, host.port]]) {
      if (limit == null) {
        await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']).catch(() => {})
      } else {
        await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf',
          'rate', limit.rate, 'burst', limit.burst ?? defaultBurst(limit.rate), 'latency', limit.latency ?? '400ms'])
      }
    }
  }

  /**
   * A TCP port on this machine's 127.0.0.1 whose every connection is carried to an address of
   * `host` (see `ForwardOptions`); closed by `close()` of the forward or of the lab.
   */
  async forward (host: NetHost, options: ForwardOptions = {}): Promise<Forward> {
    this.assertOpen()
    const relay = await this.relayOf(host)
    const address = options.address ?? '127.0.0.1'
    if (address !== '127.0.0.1' && !this.hosts.some(h => h.ip === address)) {
      throw new RangeError(`${address} is not an address of this lab`)
    }
    const target = { address, port: options.port ?? 0 }
    const sockets = new Set<Socket>()
    const server = createServer(client => {
      sockets.add(client)
      const upstream = connect(relay.socket)
      sockets.add(upstream)
      upstream.write(`${target.address} ${target.port}\n`)
      client.pipe(upstream)
      upstream.pipe(client)
      // an error drops both sides; a side that closed ends the other once what it wrote is
      // flushed (pipe() ends it), never destroys it: that would drop bytes still buffered
      const drop = (): void => {
        client.destroy()
        upstream.destroy()
      }
      client.on('error', drop)
      upstream.on('error', drop)
      client.on('close', () => { sockets.delete(client); upstream.end() })
      upstream.on('close', () => { sockets.delete(upstream); client.end() })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const port = (server.address() as AddressInfo).port
    if (options.port == null) {
      target.port = port
    }
    this.forwards.add(server)
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      target,
      close: async () => {
        this.forwards.delete(server)
        for (const s of sockets) {
          s.destroy()
        }
        await new Promise<void>(resolve => server.close(() => { resolve() }))
      }
    }
  }

  private async relayOf (host: NetHost): Promise<{ process: LabProcess, socket: string }> {
    let relay = this.relays.get(host.ns)
    if (relay == null) {
      relay = (async () => {
        const socket = join(this.dir, `${host.name}.sock`)
        let ready: () => void = () => {}
        const isReady = new Promise<void>(resolve => { ready = resolve })
        const proc = this.spawn(host, process.execPath, [RELAY, socket], {
          stdin: 'pipe',
          onStdout: line => { if (line === 'ready') ready() }
        })
        const exited = proc.exited.then(({ code, signal }) => {
          throw new Error(`the relay in ${host.ns} exited (${code ?? signal}): ${proc.stderr().trim()}`)
        })
        await Promise.race([isReady, exited])
        return { process: proc, socket }
      })()
      this.relays.set(host.ns, relay)
      relay.catch(() => { this.relays.delete(host.ns) })
    }
    return relay
  }

  private assertOpen (): void {
    if (this.closing != null) {
      throw new Error('this lab is closed')
    }
  }

  /**
   * Stop every process the lab started, by pid (SIGTERM, then SIGKILL after `grace` ms), close
   * the forwards, delete every namespace and the lab's temp dir. Idempotent: a second call
   * waits for the first.
   */
  async close (grace = 5_000): Promise<void> {
    this.closing ??= (async () => {
      for (const f of this.forwards) {
        f.close()
      }
      this.forwards.clear()
      await Promise.all([...this.processes].map(async p => {
        const timer = setTimeout(() => { void p.kill('SIGKILL') }, grace)
        await p.kill('SIGTERM')
        clearTimeout(timer)
      }))
      for (const ns of [...this.namespaces].reverse()) {
        await run('ip', ['netns', 'del', ns]).catch(() => {})
      }
      this.namespaces.length = 0
      if (this.dir !== '') {
        await rm(this.dir, { recursive: true, force: true })
      }
      open.delete(this)
    })()
    return this.closing
  }

  /** What `close()` does, synchronously, at the exit of this process (SIGKILL, no grace). */
  private closeSync (): void {
    for (const p of this.processes) {
      try { process.kill(p.pid, 'SIGKILL') } catch {}
    }
    for (const ns of this.namespaces) {
      spawnSync('ip', ['netns', 'del', ns])
    }
    this.namespaces.length = 0
    if (this.dir !== '') {
      rmSync(this.dir, { recursive: true, force: true })
    }
  }
}

/** A tenth of `rate`, at least 16kbit (tbf needs a bucket of at least one MTU a tick). */
function defaultBurst (rate: string): string {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/i.exec(rate)
  if (m == null) {
    return '32kbit'
  }
  const scale: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 }
  const bits = Number(m[1]) * scale[m[2].toLowerCase()]
  return `${Math.max(16, Math.ceil(bits / 10 / 1000))}kbit`
}
