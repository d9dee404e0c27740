import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ModelStore } from '../../src/worker/model-store.js'
import type { ModelStoreInit } from '../../src/worker/model-store.js'

/** Model bytes of `size`, distinct per `seed`, and their digest. */
function model (seed: number, size = 100): { bytes: Uint8Array, digest: string } {
  const bytes = new Uint8Array(size).fill(seed)
  return { bytes, digest: createHash('sha256').update(bytes).digest('hex') }
}

const A = model(1)
const B = model(2)
const C = model(3)
const D = model(4)

describe('ModelStore: quota, eviction and shares', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-models-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  function store (init: Partial<ModelStoreInit> = {}): ModelStore {
    return new ModelStore({ dir, maxModelBytes: 1000, maxBytes: 300, share: 1, ...init })
  }

  async function put (s: ModelStore, m: { bytes: Uint8Array, digest: string }, requester?: string): Promise<void> {
    const writer = await s.receive(m.digest, m.bytes.byteLength, requester)
    await writer.write(0, m.bytes)
    await writer.finish()
  }

  async function onDisk (): Promise<string[]> {
    return (await readdir(dir)).filter(f => f.endsWith('.onnx')).sort()
  }

  const file = (m: { digest: string }): string => `${m.digest}.onnx`

  function quotaError (err: any): boolean {
    assert.equal(err.name, 'ModelQuotaError', `${err.name}: ${err.message}`)
    assert.equal(err.code, 'ERR_MODEL_QUOTA')
    return true
  }

  it('makes room by deleting the least recently used models', async () => {
    const s = store()
    await put(s, A)
    await put(s, B)
    await put(s, C)
    // A is used again: B is now the least recently used
    ;(await s.acquire(A.digest))?.release()
    await put(s, D)
    assert.deepEqual(await onDisk(), [file(A), file(C), file(D)].sort())
    assert.equal(await s.get(B.digest), undefined)
    // then C, then A
    await put(s, B)
    assert.deepEqual(await onDisk(), [file(A), file(D), file(B)].sort())
    assert.deepEqual(s.usage(), { bytes: 300, reserved: 0, models: 3, inUse: 0, byRequester: {} })
  })

  it('never deletes a model a shard holds; refuses with ERR_MODEL_QUOTA when every model is held', async () => {
    const s = store()
    await put(s, A)
    await put(s, B)
    await put(s, C)
    const a = await s.acquire(A.digest)
    const b = await s.acquire(B.digest)
    assert.ok(a != null && b != null)
    await put(s, D)
    // C went (A, the oldest, is held)
    assert.deepEqual(await onDisk(), [file(A), file(B), file(D)].sort())
    const d = await s.acquire(D.digest)
    await assert.rejects(put(s, C), quotaError)
    assert.deepEqual(await onDisk(), [file(A), file(B), file(D)].sort(), 'a held model was deleted')
    // released, the least recently used of them makes room
    a.release()
    await put(s, C)
    assert.deepEqual(await onDisk(), [file(B), file(C), file(D)].sort())
    b.release()
    d?.release()
  })

  it('counts a model arriving against the quota until it is in place or given up', async () => {
    const s = store({ maxBytes: 200 })
    const writer = await s.receive(A.digest, 100, 'x')
    const held = await s.acquire(B.digest)
    assert.equal(held, undefined)
    await put(s, B, 'y')
    assert.equal(s.usage().reserved, 100)
    const b = await s.acquire(B.digest)
    await assert.rejects(put(s, C, 'z'), quotaError)
    await writer.abort()
    assert.equal(s.usage().reserved, 0)
    await put(s, C, 'z')
    b?.release()
  })

  it('keeps each requester within its share: its own least recently used models make room, not the others\'', async () => {
    const s = store({ maxBytes: 400, share: 0.5 })
    await put(s, A, 'x')
    await put(s, B, 'y')
    await put(s, C, 'x')
    // x has 200 of its 200 bytes: D replaces x's oldest (A), though B (y's) is older
    await put(s, D, 'x')
    assert.deepEqual(await onDisk(), [file(B), file(C), file(D)].sort())
    assert.deepEqual(s.usage().byRequester, { x: 200, y: 100 })
    // with both of x's models held, x cannot bring a third however empty the cache is
    const c = await s.acquire(C.digest)
    const d = await s.acquire(D.digest)
    await assert.rejects(put(s, A, 'x'), (err: any) => quotaError(err) && /200 of the 200 bytes one requester may use/.test(err.message))
    // y still can
    await put(s, A, 'y')
    c?.release()
    d?.release()
  })

  it('refuses a model over the per-model limit or a requester\'s share as ERR_MODEL_TOO_LARGE', async () => {
    const s = store({ maxBytes: 400, share: 0.25, maxModelBytes: 150 })
    const big = model(9, 151)
    await assert.rejects(s.receive(big.digest, 151, 'x'), (err: any) => err.code === 'ERR_MODEL_TOO_LARGE' && /accepts 1\.\.150/.test(err.message))
    const over = model(8, 101)
    await assert.rejects(s.receive(over.digest, 101, 'x'), (err: any) => err.code === 'ERR_MODEL_TOO_LARGE' && /at most 100 bytes of models per requester/.test(err.message))
    assert.deepEqual(await onDisk(), [])
  })

  it('counts models already on disk at start (oldest first to go), and forgets files removed behind its back', async () => {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, file(A)), A.bytes)
    await writeFile(join(dir, file(B)), B.bytes)
    await writeFile(join(dir, 'embed-minilm.onnx'), new Uint8Array(500))
    const s = store({ maxBytes: 250 })
    await put(s, C, 'x')
    assert.equal((await onDisk()).includes(file(C)), true)
    assert.equal((await onDisk()).filter(f => f === file(A) || f === file(B)).length, 1)
    assert.ok((await onDisk()).includes('embed-minilm.onnx'), 'a file that is not a received model was touched')
    await rm(join(dir, file(C)))
    assert.equal(await s.acquire(C.digest), undefined)
    assert.deepEqual(s.usage().byRequester, {})
  })
})
