import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/** Every path under `dir`, relative to it. */
async function tree (dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort()
}

describe('onnxruntime in a pool', function () {
  this.timeout(60_000)
  let root: string

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'shardmesh-ort-env-'))
  })

  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('leaves nothing behind in the OS temp directory or the home directory (no telemetry files)', async () => {
    const [tmp, home, cache] = ['tmp', 'home', 'cache'].map(d => join(root, d))
    await Promise.all([tmp, home, cache].map(async d => mkdir(d)))
    // a fresh environment: onnxruntime's telemetry switch unset, as an operator's shell has it
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, HOME: home }
    delete env.ORT_DISABLE_TELEMETRY
    delete env.XDG_CACHE_HOME
    const script = fileURLToPath(new URL('./fixtures/pool-onnx.js', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [script, cache], { env, timeout: 50_000 })
    assert.equal(stdout, '42\n')
    assert.deepEqual(await tree(tmp), [], 'files left in the OS temp directory')
    assert.deepEqual(await tree(home), [], 'files left in the home directory')
    assert.deepEqual(await tree(cache), [])
  })
})
