import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeFileAtomic } from '../src/index.js'

describe('writeFileAtomic', () => {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-atomic-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('replaces a file whole, with the mode asked for, and leaves no temporary file', async () => {
    const path = join(dir, 'control.json')
    await writeFileAtomic(path, 'old')
    await writeFileAtomic(path, new TextEncoder().encode('{"url":"new"}'), 0o644)
    assert.equal(await readFile(path, 'utf8'), '{"url":"new"}')
    assert.equal((await stat(path)).mode & 0o777, 0o644)
    assert.deepEqual(await readdir(dir), ['control.json'])
  })

  it('a write that cannot land leaves neither the file nor a temporary one', async () => {
    const path = join(dir, 'no-such-dir', 'ready.json')
    await assert.rejects(writeFileAtomic(path, 'x'), (err: any) => err.code === 'ENOENT')
    assert.deepEqual(await readdir(dir), [])
  })
})
