import { join } from 'node:path'
import { CLI_BIN, exitOf, readyLine } from './supervisor.js'
import type { Supervisor } from './supervisor.js'
import type { ChildProcess } from 'node:child_process'

/** The `shardmesh chain` process of a cluster. */
export interface ChainProcess {
  url: string
  wsUrl: string
  pid: number
  port: number
  dataDir: string
  process: ChildProcess
}

export interface StartChainOptions {
  /** Root of the cluster: the chain keeps its state in `<root>/chain`. */
  root: string
  /** 0: any free port. */
  port: number
  /** Deadline for its ready line (ms). */
  startTimeout: number
}

/** Start a `shardmesh chain` process under `supervisor`; resolves when it serves. */
export async function startChainProcess (supervisor: Supervisor, options: StartChainOptions): Promise<ChainProcess> {
  const dataDir = join(options.root, 'chain')
  const child = supervisor.spawn([CLI_BIN, 'chain', '--json', '--data-dir', dataDir, '--port', String(options.port), '--parent-pid', String(process.pid)])
  const ready = await readyLine(child, 'the chain', options.startTimeout)
  return { url: ready.url, wsUrl: ready.wsUrl, pid: child.process.pid as number, port: Number(new URL(ready.url).port), dataDir, process: child.process }
}

/** Stop the chain process by pid (SIGKILL by default); resolves when it exited. */
export async function killChainProcess (chain: ChainProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const exited = exitOf(chain.process)
  process.kill(chain.pid, signal)
  await exited
}
