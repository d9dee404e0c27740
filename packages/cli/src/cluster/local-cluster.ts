import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ControlClient } from '@shardmesh/control/client'
import { fundAddresses } from '../chain/fund.js'
import { killChainProcess, startChainProcess } from './chain-process.js'
import { measureConvergence, waitConverged } from './convergence.js'
import { CLI_BIN, Supervisor, exitOf, readyLine } from './supervisor.js'
import type { ChainProcess } from './chain-process.js'
import type { ConvergenceReport, WaitConvergedOptions } from './convergence.js'
import type { JoinStatus, PeerRow } from '@shardmesh/control/client'
import type { ChildProcess } from 'node:child_process'

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

/**
 * Node.js flags of every cluster node. A node's heap is small and its garbage short-lived: a
 * 2 MiB young-generation semi-space (V8's default is 16 MiB) cut RSS from ~102 to ~88 MiB per
 * idle node in an 8-node cluster, with the same idle CPU (measured side by side, twice).
 */
const NODE_FLAGS = ['--max-semi-space-size=2']

/** Joiners per running node in one start-up wave, and bootstrap peers per joiner. */
const JOINERS_PER_NODE = 6
const BOOTSTRAP_PEERS = 2

/**
 * A cluster of `shardmesh node start` processes on loopback, each with its own data dir and
 * key. Node 0 starts first and is everyone's bootstrap peer. Processes are stopped by pid
 * (SIGTERM, then SIGKILL) and watch this process, so none outlives it.
 */
export class LocalCluster {
  readonly nodes: ClusterNode[] = []
  /** Every process this cluster spawned, ready or not: `stop()` ends them all. */
  private readonly supervisor = new Supervisor()
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

  /**
   * Spawn (or re-spawn) node `index` with the given bootstrap addresses; resolves when it is
   * ready. With a local chain its key is funded (an airdrop) unless `fund` is false.
   */
  async spawnNode (index: number, bootstrap: string[], options: { fund?: boolean, port?: number } = {}): Promise<ClusterNode> {
    const dataDir = join(this.root, `node-${index}`)
    const args = [
      ...NODE_FLAGS,
      ...(this.options.nodeExecArgv?.(index) ?? []),
      CLI_BIN, 'node', 'start', '--json',
      '--data-dir', dataDir,
      '--listen', `/ip4/127.0.0.1/tcp/${options.port ?? 0}`,
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
    const onStderr = this.options.onStderr
    const child = this.supervisor.spawn(args, {
      env: this.options.nodeEnv?.(index),
      onStderr: onStderr == null ? undefined : line => { onStderr(index, line) }
    })
    const ready = await readyLine(child, `node ${index}`, this.options.startTimeout ?? 60_000)
    if (this.chain != null && options.fund !== false) {
      await fundAddresses(this.chain.url, [ready.solanaAddress])
    }
    const node: ClusterNode = {
      index,
      solanaAddress: ready.solanaAddress,
      dataDir,
      peerId: ready.peerId,
      addrs: ready.addrs,
      pid: child.process.pid as number,
      control: await ControlClient.fromDataDir(dataDir),
      process: child.process,
      spawnedAt,
      readyAt: Date.now(),
      join: ready.join,
      stderr: child.stderr
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
    this.chain = await startChainProcess(this.supervisor, { root: this.root, port, startTimeout: this.options.startTimeout ?? 60_000 })
    return this.chain
  }

  /** Stop the chain process by pid (SIGKILL by default); resolves when it exited. */
  async killChain (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.chain != null) {
      await killChainProcess(this.chain, signal)
    }
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

  /**
   * Restart node `index` (after a kill) with the same data dir, bootstrapping through another
   * node. `fund: false` skips the airdrop (its key was funded at its first start), so a node can
   * restart while the chain is down. `samePort: true` listens on the port it had, as a deployed
   * node keeps its listen address, so peers that knew it reach it again (a new port if that one
   * was taken meanwhile).
   */
  async restart (index: number, options: { fund?: boolean, samePort?: boolean } = {}): Promise<ClusterNode> {
    const other = this.nodes.find(n => n.index !== index && n.process.exitCode == null && n.process.signalCode == null)
    const bootstrap = other == null ? [] : [loopbackAddr(other) ?? other.addrs[0]]
    const old = this.nodes.find(n => n.index === index)
    const port = options.samePort === true && old != null ? Number(loopbackAddr(old)?.split('/')[4]) : NaN
    if (Number.isInteger(port) && port > 0) {
      try {
        return await this.spawnNode(index, bootstrap, { fund: options.fund, port })
      } catch (err: any) {
        if (!/address already in use/.test(String(err?.message))) {
          throw err
        }
      }
    }
    return this.spawnNode(index, bootstrap, { fund: options.fund })
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

  /** Poll every node until each holds a verified advert of every other node in `among`. */
  async waitConverged (options: WaitConvergedOptions & { among?: number[] } = {}): Promise<ConvergenceReport> {
    return waitConverged(async () => this.convergence(options.among), options)
  }

  /** The current convergence state, computed from each node's table (`firstSeenAt` of each peer). */
  async convergence (among?: number[]): Promise<ConvergenceReport> {
    const members = (among ?? this.nodes.map(n => n.index)).map(i => this.nodes[i])
    return measureConvergence(members.map(n => ({ peerId: n.peerId, readyAt: n.readyAt, peers: async () => this.peersOf(n.index) })), this.startedAt)
  }

  /** Stop the node processes only (SIGTERM, then SIGKILL after `grace` ms); the chain keeps serving. */
  async stopNodes (grace = 5_000): Promise<void> {
    await this.supervisor.terminate(grace, this.chain?.process)
  }

  /** Stop every process (nodes and chain) by pid: SIGTERM, then SIGKILL after `grace` ms. Removes a temp root. */
  async stop (grace = 5_000): Promise<void> {
    await this.supervisor.terminate(grace)
    if (this.ownsRoot) {
      await rm(this.root, { recursive: true, force: true })
    }
  }
}

function bootstrapFrom (ready: ClusterNode[]): string[] {
  const shuffled = [...ready].sort(() => Math.random() - 0.5)
  return shuffled.slice(0, BOOTSTRAP_PEERS).map(n => loopbackAddr(n)).filter((a): a is string => a != null)
}

function loopbackAddr (node: ClusterNode): string | undefined {
  return node.addrs.find(a => a.includes('/127.0.0.1/') || a.includes('/::1/'))
}
