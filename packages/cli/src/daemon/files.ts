import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { FileLock, isProcessAlive } from '@shardmesh/protocol'

/** The long-running commands: each keeps `<dataDir>/<daemon>.pid` while it runs. */
export type Daemon = 'node' | 'chain'

/** `<dataDir>/node.pid` (or `chain.pid`): the pid of the process serving this data dir, while it runs. */
export function pidFile (daemon: Daemon): string {
  return `${daemon}.pid`
}

/** A node (or chain) already runs on this data dir: a second one would fight over its key, store and ports. */
export class AlreadyRunningError extends Error {
  constructor (readonly daemon: Daemon, readonly dataDir: string, readonly pid: number) {
    super(`a ${daemon} already runs on ${dataDir} (pid ${pid}); stop it with: shardmesh ${daemon} stop --data-dir ${dataDir}`)
    this.name = 'AlreadyRunningError'
  }
}

/**
 * The pid a data dir's pid file names, when that process is still a running shardmesh process;
 * undefined when there is no pid file or it is stale (the process is gone, or the pid now
 * belongs to another program).
 */
export async function runningPid (dataDir: string, daemon: Daemon = 'node'): Promise<number | undefined> {
  return await FileLock.liveHolder(join(dataDir, pidFile(daemon)), { isHolder: isShardmesh })
}

/**
 * Record this process as the data dir's node (or chain): the pid file is a `FileLock`, created
 * atomically, so two starting at once cannot both win. A live node holding it is refused; a
 * stale one (its process gone, or the pid now another program's) is replaced. Release the
 * returned lock on stop: it removes the file if it still names this process.
 */
export async function claimPidFile (dataDir: string, daemon: Daemon = 'node'): Promise<FileLock> {
  try {
    return await FileLock.acquire(join(dataDir, pidFile(daemon)), { isHolder: isShardmesh })
  } catch (err: any) {
    if (err.name === 'FileLockedError' && err.pid != null) {
      throw new AlreadyRunningError(daemon, dataDir, err.pid)
    }
    throw err
  }
}

/**
 * `node stop` / `chain stop`: SIGTERM the pid in the data dir's pid file and wait until that
 * process is gone; a stale pid file (its process gone) is removed. The message to print, and
 * whether it stopped.
 */
export async function stopDaemon (dataDir: string, daemon: Daemon, timeoutMs: number): Promise<{ ok: boolean, message: string }> {
  const pid = await runningPid(dataDir, daemon)
  if (pid == null) {
    // a pid file whose process is gone is stale: a crashed or killed process left it
    await rm(join(dataDir, pidFile(daemon)), { force: true })
    return { ok: false, message: `no ${daemon} runs on ${dataDir}` }
  }
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) {
      return { ok: false, message: `pid ${pid} did not exit within ${timeoutMs / 1000} s (kill -9 ${pid} forces it)` }
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return { ok: true, message: `stopped the ${daemon} on ${dataDir} (pid ${pid})` }
}

/** Whether `pid` runs the shardmesh CLI (on systems without /proc, any live process counts). */
async function isShardmesh (pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('shardmesh')
  } catch (err: any) {
    return err.code !== 'ENOENT' || !await procExists()
  }
}

async function procExists (): Promise<boolean> {
  try {
    await readFile('/proc/self/cmdline')
    return true
  } catch {
    return false
  }
}
