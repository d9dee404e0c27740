/** Start `worker.js` as a child process and stop it by pid. */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { linkSignals } from '@shardmesh/protocol'
import type { ChildProcess } from 'node:child_process'

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))

export interface WorkerProcess {
  child: ChildProcess
  peerId: string
  multiaddrs: string[]
}

export async function startWorker (cacheDir: string, poolSize: number, timeoutMs = 60_000, slots?: number): Promise<WorkerProcess> {
  const child = fork(WORKER, ['--cache-dir', cacheDir, '--pool-size', String(poolSize), ...(slots != null ? ['--slots', String(slots)] : [])], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc']
  })
  try {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const ready = linkSignals([], timeoutMs)
    const onExit = (code: number | null): void => { ready.abort(new Error(`worker process exited with ${code} before it was ready`)) }
    child.once('exit', onExit)
    const [line] = await once(lines, 'line', { signal: ready.signal }).finally(ready.clear) as [string]
    child.off('exit', onExit)
    lines.close()
    const { peerId, multiaddrs } = JSON.parse(line)
    return { child, peerId, multiaddrs }
  } catch (err) {
    await stopWorker(child)
    throw err
  }
}

/** SIGTERM by pid, then SIGKILL if it has not exited within `graceMs`. */
export async function stopWorker (child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.pid == null || child.exitCode != null || child.signalCode != null) {
    return
  }
  const exited = once(child, 'exit')
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (child.pid != null && child.exitCode == null && child.signalCode == null) {
      process.kill(child.pid, 'SIGKILL')
    }
  }, graceMs)
  try {
    await exited
  } finally {
    clearTimeout(timer)
  }
}
