import { randomBytes } from 'node:crypto'
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { FileLockedError } from './errors.js'

/**
 * One writer per directory: a lock file holding the writer's pid, created atomically (written
 * under a private name, then hard-linked into place, which fails if it exists). A lock whose
 * pid is no longer alive is taken over, as is one naming this process that no part of this
 * process holds (a crashed holder of this process, or an earlier process with the same pid).
 * Two processes taking over the same stale lock at the same moment are not told apart: the
 * one that loses the link is refused.
 */

/** Lock files held in this process (the pid in the file cannot tell two holders in one process apart). */
const heldInProcess = new Set<string>()

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    // EPERM: it exists, it is just not ours to signal
    return err.code === 'EPERM'
  }
}

async function holder (path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return undefined
    }
    throw err
  }
}

export interface FileLockOptions {
  /**
   * Whether a live process named in the lock file still holds it. A pid can be reused by an
   * unrelated program after a crash; a caller that can tell (by the process's command line, for
   * example) says so here, and a lock whose pid answers false is taken over as stale.
   * @default () => true
   */
  isHolder?(pid: number): Promise<boolean>
}

export class FileLock {
  private released = false

  private constructor (public readonly path: string) {}

  /** Take the lock at `path`, or throw `FileLockedError` naming the live holder. */
  static async acquire (path: string, options: FileLockOptions = {}): Promise<FileLock> {
    const key = resolve(path)
    if (heldInProcess.has(key)) {
      throw new FileLockedError(path, process.pid, true)
    }
    heldInProcess.add(key) // taken (or being taken) here: another acquire in this process is refused at once
    const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
    try {
      await writeFile(mine, `${process.pid}\n`)
      for (let tries = 0; ; tries++) {
        try {
          await link(mine, path)
          return new FileLock(key)
        } catch (err: any) {
          if (err.code !== 'EEXIST' || tries > 0) {
            throw err.code === 'EEXIST' ? new FileLockedError(path, undefined, false, `${path} was taken by another process while this one took it over`) : err
          }
        }
        const pid = await FileLock.liveHolder(path, options)
        if (pid != null) {
          throw new FileLockedError(path, pid, false)
        }
        // stale (or unreadable, which a lock written whole never is): take it over
        await unlink(path).catch((err: any) => {
          if (err.code !== 'ENOENT') {
            throw err
          }
        })
      }
    } catch (err) {
      heldInProcess.delete(key)
      throw err
    } finally {
      await unlink(mine).catch(() => {})
    }
  }

  /**
   * The pid of another live process that holds the lock at `path` (as `isHolder` tells), or
   * undefined when there is no lock file, it names this process, or it is stale.
   */
  static async liveHolder (path: string, options: FileLockOptions = {}): Promise<number | undefined> {
    const pid = await holder(path)
    if (pid == null || pid === process.pid || !isProcessAlive(pid)) {
      return undefined
    }
    return options.isHolder == null || await options.isHolder(pid) ? pid : undefined
  }

  /** Release the lock if it is still ours. */
  async release (): Promise<void> {
    if (this.released) {
      return
    }
    this.released = true
    heldInProcess.delete(this.path)
    if (await holder(this.path) === process.pid) {
      await unlink(this.path).catch(() => {})
    }
  }
}
