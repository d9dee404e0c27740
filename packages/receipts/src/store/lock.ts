import { randomBytes } from 'node:crypto'
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { ReceiptStoreLockedError } from '../errors.js'

/**
 * The writer's lock: a file holding the writer's pid, created atomically (written under a
 * private name, then hard-linked into place, which fails if it exists). A lock whose pid is no
 * longer alive is taken over. Two processes taking over the same stale lock at the same moment
 * are not told apart; a node's data dir has one node.
 */

function alive (pid: number): boolean {
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

export class LockFile {
  private constructor (private readonly path: string) {}

  /** Take the lock at `path`, or throw `ReceiptStoreLockedError` naming the live holder. */
  static async acquire (path: string): Promise<LockFile> {
    const mine = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`
    await writeFile(mine, `${process.pid}\n`)
    try {
      for (let tries = 0; ; tries++) {
        try {
          await link(mine, path)
          return new LockFile(path)
        } catch (err: any) {
          if (err.code !== 'EEXIST' || tries > 0) {
            throw err.code === 'EEXIST' ? new ReceiptStoreLockedError(`${path} was taken by another process while this one took it over`) : err
          }
        }
        const pid = await holder(path)
        if (pid != null && alive(pid)) {
          throw new ReceiptStoreLockedError(`the receipt store is locked by process ${pid} (${path})`, pid)
        }
        // stale (or unreadable, which a lock written whole never is): take it over
        await unlink(path).catch((err: any) => {
          if (err.code !== 'ENOENT') {
            throw err
          }
        })
      }
    } finally {
      await unlink(mine).catch(() => {})
    }
  }

  /** Release the lock if it is still ours. */
  async release (): Promise<void> {
    if (await holder(this.path) === process.pid) {
      await unlink(this.path).catch(() => {})
    }
  }
}
