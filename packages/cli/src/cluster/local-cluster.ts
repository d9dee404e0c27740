import { spawn } from 'node:child_process'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { fundAddresses } from '../chain/fund.js'
import { ControlClient } from '@shardmesh/control'
import type { JoinStatus, PeerRow } from '@shardmesh/control'
import type { ChildProcess } from 'node:child_process'

/** The `shardmesh` entry script, run with this Node binary. */
export const CLI_BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/shardmesh.js')

export interface LocalClusterOptions {
  nodes: number
  /** Root of the node data dirs (node-0, node-1, ...). @default a new temp dir, removed on stop */
  dataDir?: string
  /** Extra `node start` flags for node i (e.g. `--workload x@1`). */
  nodeArgs?: (index: number) => string[]
  /** Node.js flags for node i's process (e.g. `--cpu-prof` to profile one node). */
  nodeExecArgv?: (index: number) => string[]
  /** Extra environment of node i's process. */
  nodeEnv?: (index: number) => NodeJS.ProcessEnv
  /** Probe GPUs with nvidia-smi in each node. @default false (tests and benchmarks skip it) */
  gpu?: boolean
  /** Advert TTL and refresh passed to every node, e.g. '5s' and '1s'. */
  advertTtl?: string
  refresh?: string
  /** Deadline for every node to print its ready line (ms). @default 60000 */
  startTimeout?: number
  /** Receives each node's stderr lines (default: kept in memory, printed only on failure). */
  onStderr?: (index: number, line: string) => void
  /**
   * Where nodes anchor their receipts: `'local'` starts a `shardmesh chain` process (in
   * `<root>/chain`) and funds every node key with an airdrop; an RPC config targets an
   * existing cluster (its keypair pays the fees). @default none (receipts are not anchored)
   */
  solana?: 'local' | { rpcUrl: string, wsUrl?: string, keypair?: string }
}

/** The `shardmesh chain` process of a cluster. */
export interface ChainProcess {
  url: string
  wsUrl: string
  pid: number
  port: number
  dataDir: string
  process: ChildProcess
}

export interface ClusterNode {
  index: number
  dataDir: string
  peerId: string
  /** the node key's Solana address (it signs the node's anchors) */
  solanaAddress: string
  addrs: string[]
  pid: number
  control: ControlClient
  process: ChildProcess
  /** When the process was spawned / printed its ready line (ms since epoch). */
  spawnedAt: number
  readyAt: number
  /** How the node joined: bootstrap peers reached, dial rounds, DHT self-lookup, failures. */
  join: JoinStatus
  stderr: string[]
}

export interface ConvergenceReport {
  /** For each node: verified adverts held, and when it first held all the others (ms after the cluster's start). */
  nodes: Array<{ peerId: string, advertsSeen: number, convergedMs: number | null }>
  /** When the last node converged, ms after the cluster's start; null if not converged. */
  convergedMs: number | null
  /** When the last node was ready, ms after the cluster's start. */
  readyMs: number
}

/**
 * A cluster of `shardmesh node start` processes on loopback, each with its own data dir and
 * key. Node 0 starts first and is everyone's bootstrap peer. Processes are stopped by pid
 * (SIGTERM, then SIGKILL) and watch this process, so none outlives it.
 */
export class LocalCluster {
  readonly nodes: ClusterNode[] = []
  /** Every process this cluster spawned, ready or not: `stop()` ends them all. */
  private readonly children = new Set<ChildProcess>()
  startedAt = 0
  root = ''
  chain?: ChainProcess
  private ownsRoot = false

  constructor (readonly options: LocalClusterOptions) {
    if (!Number.isInteger(options.nodes) || options.nodes < 1) {
      throw new RangeError('a cluster needs at least one node')
    }
  }

  async start (): Promise<void> {
    this.startedAt = Date.now()
    if (this.options.dataDir != null) {
      this.root = resolve(this.options.dataDir)
      await mkdir(this.root, { recursive: true })
    } else {
      this.root = await mkdtemp(join(tmpdir(), 'shardmesh-cluster-'))
      this.ownsRoot = true
    }
    try {
      if (this.options.solana === 'local') {
        this.chain = await this.startChain()
      }
      // Start-up is paced: at most JOINERS_PER_NODE joiners per node already up are in flight,
      // and each joiner bootstraps through BOOTSTRAP_PEERS of the nodes up, chosen at random.
      // With one bootstrap node for all, 31 joiners at once on 2 cores timed its handshakes out
      // and left nodes isolated; spreading the load is what a real deployment does too.
      this.nodes.push(await this.spawnNode(0, []))
      let next = 1
      let failure: Error | undefined
      const inflight = new Set<Promise<void>>()
      while ((next < this.options.nodes || inflight.size > 0) && failure == null) {
        while (next < this.options.nodes && inflight.size < this.nodes.length * JOINERS_PER_NODE) {
          const p: Promise<void> = this.spawnNode(next++, bootstrapFrom(this.nodes))
            .then(node => { this.nodes.push(node) }, (err: Error) => { failure ??= err })
            .finally(() => inflight.delete(p))
          inflight.add(p)
        }
        await Promise.race(inflight)
      }
      if (failure != null) {
        await Promise.allSettled(inflight)
        throw failure
      }
      this.nodes.sort((a, b) => a.index - b.index)
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Spawn (or re-spawn) node `index` with the given bootstrap addresses; resolves when it is ready. */
  async spawnNode (index: number, bootstrap: string[]): Promise<ClusterNode> {
    const dataDir = join(this.root, `node-${index}`)
    const args = [
      ...NODE_FLAGS,
      ...(this.options.nodeExecArgv?.(index) ?? []),
      CLI_BIN, 'node', 'start', '--json',
      '--data-dir', dataDir,
      '--listen', '/ip4/127.0.0.1/tcp/0',
      '--network', 'lan',
      ...(this.options.gpu === true ? [] : ['--no-gpu']),
      '--parent-pid', String(process.pid),
      ...bootstrap.flatMap(b => ['--bootstrap', b]),
      ...(this.options.advertTtl != null ? ['--advert-ttl', this.options.advertTtl] : []),
      ...(this.options.refresh != null ? ['--refresh', this.options.refresh] : []),
      ...this.solanaArgs(),
      ...(this.options.nodeArgs?.(index) ?? [])
    ]
    const spawnedAt = Date.now()
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.nodeEnv?.(index) }
    })
    this.children.add(child)
    child.once('exit', () => { this.children.delete(child) })
    const stderr: string[] = []
    createInterface({ input: child.stderr }).on('line', line => {
      if (this.options.onStderr != null) {
        this.options.onStderr(index, line)
      } else if (stderr.length < 200) {
        stderr.push(line)
      }
    })
    const ready = await readyLine(child, `node ${index}`, this.options.startTimeout ?? 60_000, stderr)
    if (this.chain != null) {
      await fundAddresses(this.chain.url, [ready.solanaAddress])
    }
    const node: ClusterNode = {
      index,
      solanaAddress: ready.solanaAddress,
      dataDir,
      peerId: ready.peerId,
      addrs: ready.addrs,
      pid: child.pid as number,
      control: await ControlClient.fromDataDir(dataDir),
      process: child,
      spawnedAt,
      readyAt: Date.now(),
      join: ready.join,
      stderr
    }
    const at = this.nodes.findIndex(n => n.index === index)
    if (at >= 0) {
      this.nodes[at] = node
    }
    return node
  }

  /**
   * Start the cluster's `shardmesh chain` process on `port` (0: any free port), keeping its
   * state in `<root>/chain`; resolves when it serves.
   */
  async startChain (port = 0): Promise<ChainProcess> {
    const dataDir = join(this.root, 'chain')
    const child = spawn(process.execPath, [CLI_BIN, 'chain', '--json', '--data-dir', dataDir, '--port', String(port), '--parent-pid', String(process.pid)], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.children.add(child)
    child.once('exit', () => { this.children.delete(child) })
    const stderr: string[] = []
    createInterface({ input: child.stderr }).on('line', line => { if (stderr.length < 200) stderr.push(line) })
    const ready = await readyLine(child, 'the chain', this.options.startTimeout ?? 60_000, stderr)
    this.chain = { url: ready.url, wsUrl: ready.wsUrl, pid: child.pid as number, port: Number(new URL(ready.url).port), dataDir, process: child }
    return this.chain
  }

  /** Stop the chain process by pid (SIGKILL by default); resolves when it exited. */
  async killChain (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.chain == null) {
      return
    }
    const exited = exitOf(this.chain.process)
    process.kill(this.chain.pid, signal)
    await exited
  }

  /** Restart a stopped chain on its port and data dir: it serves its whole history again. */
  async restartChain (): Promise<ChainProcess> {
    if (this.chain == null) {
      throw new Error('this cluster has no chain')
    }
    return this.startChain(this.chain.port)
  }

  private solanaArgs (): string[] {
    const solana = this.options.solana
    if (solana == null) {
      return []
    }
    if (solana === 'local') {
      return this.chain == null ? [] : ['--solana-rpc', this.chain.url, '--solana-ws', this.chain.wsUrl]
    }
    return [
      '--solana-rpc', solana.rpcUrl,
      ...(solana.wsUrl != null ? ['--solana-ws', solana.wsUrl] : []),
      ...(solana.keypair != null ? ['--solana-keypair', solana.keypair] : [])
    ]
  }

  /** Restart node `index` (after a kill) with the same data dir, bootstrapping through another node. */
  async restart (index: number): Promise<ClusterNode> {
    const other = this.nodes.find(n => n.index !== index && n.process.exitCode == null && n.process.signalCode == null)
    return this.spawnNode(index, other == null ? [] : [loopbackAddr(other) ?? other.addrs[0]])
  }

  /** Send a signal to node `index` by pid; resolves when it exited (for fatal signals). */
  async kill (index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.nodes[index]
    const exited = exitOf(node.process)
    process.kill(node.pid, signal)
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      await exited
    }
  }

  async peersOf (index: number): Promise<PeerRow[]> {
    return (await this.nodes[index].control.peers()).peers
  }

  /** Poll every node until each holds a verified advert of every other node in `expected`. */
  async waitConverged (options: { timeout?: number, among?: number[], interval?: number } = {}): Promise<ConvergenceReport> {
    const deadline = Date.now() + (options.timeout ?? 60_000)
    let report = await this.convergence(options.among)
    while (report.convergedMs == null && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, options.interval ?? 100))
      report = await this.convergence(options.among)
    }
    return report
  }

  /** The current convergence state, computed from each node's table (`firstSeenAt` of each peer). */
  async convergence (among?: number[]): Promise<ConvergenceReport> {
    const members = (among ?? this.nodes.map(n => n.index)).map(i => this.nodes[i])
    const ids = new Set(members.map(n => n.peerId))
    const nodes = await Promise.all(members.map(async n => {
      const peers = (await this.peersOf(n.index)).filter(p => ids.has(p.peerId) && p.peerId !== n.peerId)
      const complete = peers.length === ids.size - 1
      const last = Math.max(n.readyAt, ...peers.map(p => p.firstSeenAt))
      return { peerId: n.peerId, advertsSeen: peers.length, convergedMs: complete ? last - this.startedAt : null }
    }))
    const done = nodes.every(n => n.convergedMs != null)
    return {
      nodes,
      convergedMs: done ? Math.max(...nodes.map(n => n.convergedMs as number)) : null,
      readyMs: Math.max(...members.map(n => n.readyAt)) - this.startedAt
    }
  }

  /** Stop the node processes only (SIGTERM, then SIGKILL after `grace` ms); the chain keeps serving. */
  async stopNodes (grace = 5_000): Promise<void> {
    await terminate([...this.children].filter(c => c !== this.chain?.process), grace)
  }

  /** Stop every process (nodes and chain) by pid: SIGTERM, then SIGKILL after `grace` ms. Removes a temp root. */
  async stop (grace = 5_000): Promise<void> {
    await terminate([...this.children], grace)
    if (this.ownsRoot) {
      await rm(this.root, { recursive: true, force: true })
    }
  }
}

/** SIGTERM each live child by pid, SIGKILL it after `grace` ms; resolves when all exited. */
async function terminate (children: ChildProcess[], grace: number): Promise<void> {
  await Promise.all(children.map(async child => {
    if (child.exitCode != null || child.signalCode != null || child.pid == null) {
      return
    }
    const exited = exitOf(child)
    try {
      process.kill(child.pid, 'SIGTERM')
    } catch {}
    const timer = setTimeout(() => {
      try { process.kill(child.pid as number, 'SIGKILL') } catch {}
    }, grace)
    await exited
    clearTimeout(timer)
  }))
}

/**
 * Node.js flags of every cluster node. A node's heap is small and its garbage short-lived: a
 * 2 MiB young-generation semi-space (V8's default is 16 MiB) cut RSS from ~102 to ~88 MiB per
 * idle node in an 8-node cluster, with the same idle CPU (measured side by side, twice).
 */
const NODE_FLAGS = ['--max-semi-space-size=2']

/** Joiners per running node in one start-up wave, and bootstrap peers per joiner. */
const JOINERS_PER_NODE = 6
const BOOTSTRAP_PEERS = 2

function bootstrapFrom (ready: ClusterNode[]): string[] {
  const shuffled = [...ready].sort(() => Math.random() - 0.5)
  return shuffled.slice(0, BOOTSTRAP_PEERS).map(n => loopbackAddr(n)).filter((a): a is string => a != null)
}

function loopbackAddr (node: ClusterNode): string | undefined {
  return node.addrs.find(a => a.includes('/127.0.0.1/') || a.includes('/::1/'))
}

/**
 * The JSON line with `event: 'ready'` a child prints; for a node still joining, once its
 * `joined` line came too (merged in: the start-up waves above pace joins, not process starts).
 * Rejects if the child exits first.
 */
async function readyLine (child: ChildProcess, name: string, timeout: number, stderr: string[]): Promise<any> {
  return new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} was not ready within ${timeout} ms: ${stderr.join('\n')}`))
    }, timeout)
    let ready: any
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', line => {
      try {
        const msg = JSON.parse(line)
        if (msg.event === 'ready') {
          ready = msg
        } else if (msg.event === 'joined' && ready != null) {
          ready = { ...ready, join: msg.join }
        }
        if (ready != null && ready.join?.state !== 'joining') {
          clearTimeout(timer)
          resolve(ready)
        }
      } catch {}
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.join('\n')}`))
    })
  })
}

async function exitOf (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) {
    return
  }
  await new Promise<void>(resolve => child.once('exit', () => { resolve() }))
}
