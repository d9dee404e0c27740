import { open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isAlive } from '../parent.js'

/** `<dataDir>/node.pid`: the pid of the node process serving this data dir, while it runs. */
export const PID_FILE = 'node.pid'

/** A node already runs on this data dir: a second one would fight over its key, store and port file. */
export class NodeAlreadyRunningError extends Error {
  constructor (readonly dataDir: string, readonly pid: number) {
    super(`a node already runs on ${dataDir} (pid ${pid}); stop it with: shardmesh node stop --data-dir ${dataDir}`)
    this.name = 'NodeAlreadyRunningError'
  }
}

/** Write a file whole or not at all: readers never see it half written. */
export async function writeFileAtomic (path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, data, { mode })
  await rename(tmp, path)
}

/**
 * The pid a data dir's pid file names, when that process is still a running shardmesh process;
 * undefined when there is no pid file or it is stale (the process is gone, or the pid now
 * belongs to another program).
 */
export async function runningPid (dataDir: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(join(dataDir, PID_FILE), 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return undefined
    }
    throw err
  }
  const pid = Number(text.trim())
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) {
    return undefined
  }
  return await isShardmesh(pid) ? pid : undefined
}

/**
 * Record this process as the data dir's node: refuses while another live node holds the pid
 * file, replaces a stale one. The file is created exclusively, so two nodes starting at once
 * cannot both win.
 */
export async function claimPidFile (dataDir: string): Promise<void> {
  const path = join(dataDir, PID_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600)
      await file.writeFile(`${process.pid}\n`)
      await file.close()
      return
    } catch (err: any) {
      if (err.code !== 'EEXIST') {
        throw err
      }
    }
    const pid = await runningPid(dataDir)
    if (pid != null) {
      throw new NodeAlreadyRunningError(dataDir, pid)
    }
    await rm(path, { force: true })
  }
  throw new Error(`could not create ${path}: another process keeps creating it`)
}

/** Remove the pid file if it still names this process. */
export async function releasePidFile (dataDir: string): Promise<void> {
  const path = join(dataDir, PID_FILE)
  try {
    if (Number((await readFile(path, 'utf8')).trim()) === process.pid) {
      await rm(path, { force: true })
    }
  } catch {}
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
