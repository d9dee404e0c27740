import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

/** The `shardmesh` entry script, run with this Node binary. */
export const CLI_BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/shardmesh.js')

/** stderr lines of a child kept in memory (printed only on failure). */
const STDERR_LINES = 200

export interface SuperviseOptions {
  /** Extra environment of the child (on top of this process's). */
  env?: NodeJS.ProcessEnv
  /** Receives each stderr line instead of keeping it in memory. */
  onStderr?: (line: string) => void
}

export interface Supervised {
  process: ChildProcess
  /** the child's first stderr lines, when no `onStderr` took them */
  stderr: string[]
}

/**
 * The child processes of a harness: each is spawned with this Node binary, tracked until it
 * exits, and stopped by pid (SIGTERM, then SIGKILL). Children are started with `--parent-pid`
 * by their callers, so none outlives this process.
 */
export class Supervisor {
  /** Every live process spawned here, ready or not. */
  private readonly children = new Set<ChildProcess>()

  /** Spawn `node <args>`, stdout piped (for ready lines), stderr kept or forwarded. */
  spawn (args: string[], options: SuperviseOptions = {}): Supervised {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env }
    })
    this.children.add(child)
    child.once('exit', () => { this.children.delete(child) })
    const stderr: string[] = []
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', line => {
      if (options.onStderr != null) {
        options.onStderr(line)
      } else if (stderr.length < STDERR_LINES) {
        stderr.push(line)
      }
    })
    return { process: child, stderr }
  }

  /** SIGTERM every live child (but those `except` names), SIGKILL it after `grace` ms; resolves when all exited. */
  async terminate (grace: number, except?: ChildProcess): Promise<void> {
    await terminate([...this.children].filter(c => c !== except), grace)
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
 * The JSON line with `event: 'ready'` a child prints; for a node still joining, once its
 * `joined` line came too (merged in: a cluster's start-up waves pace joins, not process starts).
 * Rejects if the child exits first; kills it if it is not ready within `timeout` ms.
 */
export async function readyLine (child: Supervised, name: string, timeout: number): Promise<any> {
  const { process: proc, stderr } = child
  return new Promise<any>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${name} was not ready within ${timeout} ms: ${stderr.join('\n')}`))
    }, timeout)
    let ready: any
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', line => {
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
    proc.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.join('\n')}`))
    })
  })
}

/** Resolves when `child` has exited (at once if it already has). */
export async function exitOf (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) {
    return
  }
  await new Promise<void>(resolve => child.once('exit', () => { resolve() }))
}
