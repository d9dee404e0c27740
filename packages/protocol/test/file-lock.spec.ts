import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileLock } from '../src/index.js'

/** The pid of a process that has exited. */
async function deadPid (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise(resolve => child.once('exit', resolve))
  return child.pid!
}

describe('FileLock', () => {
  let dir: string
  let path: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-file-lock-'))
    path = join(dir, 'LOCK')
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('holds the pid; a second acquire in this process is refused until release', async () => {
    const lock = await FileLock.acquire(path)
    assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid))
    await assert.rejects(FileLock.acquire(path), (err: any) => err.name === 'FileLockedError' && err.inProcess === true && err.pid === process.pid)
    await lock.release()
    await assert.rejects(stat(path), (err: any) => err.code === 'ENOENT')
    await lock.release()
    const again = await FileLock.acquire(path)
    await again.release()
  })

  it('a live pid that isHolder disowns (a pid reused by another program) is taken over; one it owns is refused', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
    try {
      await writeFile(path, `${other.pid!}\n`)
      await assert.rejects(FileLock.acquire(path, { isHolder: async () => true }), (err: any) => err.name === 'FileLockedError' && err.pid === other.pid)
      const asked: number[] = []
      const lock = await FileLock.acquire(path, { isHolder: async pid => { asked.push(pid); return false } })
      assert.deepEqual(asked, [other.pid])
      assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid))
      await lock.release()
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('two acquires at once in this process: exactly one gets the lock', async () => {
    const results = await Promise.allSettled([FileLock.acquire(path), FileLock.acquire(path)])
    assert.equal(results.filter(r => r.status === 'fulfilled').length, 1)
    for (const r of results) {
      if (r.status === 'fulfilled') {
        await r.value.release()
      }
    }
  })

  it('is refused while another live process holds it', async () => {
    await writeFile(path, `${process.ppid}\n`)
    await assert.rejects(FileLock.acquire(path), (err: any) => err.name === 'FileLockedError' && err.pid === process.ppid && err.inProcess === false)
    assert.equal((await readFile(path, 'utf8')).trim(), String(process.ppid), 'a refused acquire leaves the holder alone')
  })

  it('takes over a lock left by a process that is gone, or by this process without a holder', async () => {
    await writeFile(path, `${await deadPid()}\n`)
    const lock = await FileLock.acquire(path)
    assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid))
    await lock.release()
    await writeFile(path, `${process.pid}\n`)
    const mine = await FileLock.acquire(path)
    await mine.release()
  })
})
