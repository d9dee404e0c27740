import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { BroadcastChannel } from 'node:worker_threads'
import { waitFor } from '@shardmesh/test-utils'
import { InvalidInputError, WorkloadFailedError } from '../src/errors.js'
import { WorkerPool } from '../src/pool/pool.js'
import type { PoolTask } from '../src/pool/pool.js'
import type { Worker } from 'node:worker_threads'

const KERNEL = { module: new URL('./fixtures/test-kernel.js', import.meta.url).href }
const TASK: PoolTask = { kernel: KERNEL, options: { workload: 'test', version: '1.0.0', params: {}, cacheDir: '/nonexistent' } }
const encoder = new TextEncoder()
const decoder = new TextDecoder()

function items (...texts: string[]): Uint8Array[] {
  return texts.map(t => encoder.encode(t))
}

function texts (outputs: Uint8Array[]): string[] {
  return outputs.map(o => decoder.decode(o))
}

function named (name: string, code?: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    if (code != null) {
      assert.equal(err.code, code)
    }
    return true
  }
}

/** The pool's threads (private: only to check that they are gone). */
function threads (pool: WorkerPool): Worker[] {
  return (pool as any).slots.map((s: { worker: Worker }) => s.worker)
}

/**
 * A gate that tasks with the item `gate:<name>` wait at: `arrived` resolves once one waits,
 * `open()` lets every one through. Close it after the test.
 */
function gate (): { item: string, arrived: Promise<void>, open(): void, close(): void } {
  const item = `gate:${randomUUID()}`
  const channel = new BroadcastChannel(item)
  let opened = false
  let arrive!: () => void
  const arrived = new Promise<void>(resolve => { arrive = resolve })
  channel.onmessage = (event) => {
    if ((event as MessageEvent).data === 'waiting') {
      arrive()
      if (opened) {
        channel.postMessage('open')
      }
    }
  }
  return {
    item,
    arrived,
    open: () => {
      opened = true
      channel.postMessage('open')
    },
    close: () => { channel.close() }
  }
}

describe('WorkerPool', function () {
  this.timeout(15_000)
  let pool: WorkerPool

  afterEach(async () => {
    await pool?.close()
  })

  it('starts no thread before the first task', async () => {
    pool = new WorkerPool({ size: 2 })
    assert.equal(threads(pool).length, 0)
    await pool.close()
    assert.equal(threads(pool).length, 0)
  })

  it('runs tasks on N threads at once and returns each result, in item order', async () => {
    pool = new WorkerPool({ size: 3 })
    // each task waits until all three are running: one after the other, none would ever return
    const meet = `meet:3:${randomUUID()}`
    const results = await Promise.all([0, 1, 2].map(async () => pool.run(TASK, items(meet, 'thread', 'x'))))
    const ids = results.map(r => texts(r.outputs)[1])
    assert.equal(new Set(ids).size, 3, `thread ids ${ids.join(', ')}`)
    for (const r of results) {
      assert.deepEqual(texts(r.outputs).filter((_, i) => i !== 1), [meet, 'x'])
      assert.ok(r.cpuMicros >= 0)
    }
    assert.equal(pool.busy, 0)
  })

  it('reports progress from the thread', async () => {
    pool = new WorkerPool({ size: 1 })
    const seen: number[] = []
    await pool.run(TASK, items('a', 'b', 'c'), { onProgress: (done) => seen.push(done) })
    assert.deepEqual(seen, [1, 2, 3])
  })

  it('queues beyond its threads and refuses beyond maxQueue with PoolBusyError', async () => {
    pool = new WorkerPool({ size: 1, maxQueue: 1 })
    const first = pool.run(TASK, items('sleep:200'))
    const second = pool.run(TASK, items('b'))
    assert.equal(pool.busy, 1)
    assert.equal(pool.queued, 1)
    await assert.rejects(pool.run(TASK, items('c')), named('PoolBusyError', 'ERR_POOL_BUSY'))
    assert.deepEqual(texts((await first).outputs), ['sleep:200'])
    assert.deepEqual(texts((await second).outputs), ['b'])
    assert.equal(pool.queued, 0)
  })

  it('cancels a queued task at once, and the running one goes on', async () => {
    pool = new WorkerPool({ size: 1 })
    const held = gate()
    try {
      // the running task holds the only thread until the gate opens
      let runningDone = false
      const running = pool.run(TASK, items(held.item)).finally(() => { runningDone = true })
      const controller = new AbortController()
      const queued = pool.run(TASK, items('never'), { signal: controller.signal })
      assert.equal(pool.queued, 1)
      controller.abort()
      await assert.rejects(queued, named('AbortError', 'ERR_ABORTED'))
      // cancelled without waiting for the thread to be free
      assert.equal(runningDone, false)
      assert.equal(pool.queued, 0)
      assert.equal(pool.busy, 1)
      held.open()
      assert.deepEqual(texts((await running).outputs), [held.item])
    } finally {
      held.close()
    }
  })

  it('cancels a running task, and the thread takes the next one', async () => {
    pool = new WorkerPool({ size: 1 })
    // a gate that never opens: the running task ends only by the cancel reaching its thread
    const closed = gate()
    try {
      const controller = new AbortController()
      const running = pool.run(TASK, items(closed.item), { signal: controller.signal })
      const next = pool.run(TASK, items('next'))
      await closed.arrived
      controller.abort()
      await assert.rejects(running, named('AbortError', 'ERR_ABORTED'))
      assert.deepEqual(texts((await next).outputs), ['next'])
    } finally {
      closed.close()
    }
  })

  it('refuses a task whose signal is already aborted', async () => {
    pool = new WorkerPool({ size: 1 })
    await assert.rejects(pool.run(TASK, items('a'), { signal: AbortSignal.abort() }), named('AbortError'))
    assert.equal(pool.busy + pool.queued, 0)
  })

  it('keeps the name, code and message of InvalidInputError across the thread; other errors become WorkloadFailedError', async () => {
    pool = new WorkerPool({ size: 1 })
    await assert.rejects(pool.run(TASK, items('ok', 'invalid')), (err: any) => {
      assert.ok(err instanceof InvalidInputError)
      assert.equal(err.name, 'InvalidInputError')
      assert.equal(err.code, 'ERR_INVALID_INPUT')
      assert.equal(err.message, 'poison item: this kernel refuses it')
      return true
    })
    await assert.rejects(pool.run(TASK, items('fail')), (err: any) => {
      assert.ok(err instanceof WorkloadFailedError)
      assert.equal(err.code, 'ERR_WORKLOAD_FAILED')
      assert.match(err.message, /the kernel broke/)
      return true
    })
    await assert.rejects(pool.run({ ...TASK, options: { ...TASK.options, params: { failToLoad: true } } }, items('a')), named('WorkloadFailedError'))
    await assert.rejects(pool.run({ ...TASK, kernel: { module: KERNEL.module, exportName: 'nothing' } }, items('a')), (err: any) => {
      assert.equal(err.name, 'WorkloadFailedError')
      assert.match(err.message, /no export nothing/)
      return true
    })
    // the thread survived all of that
    assert.deepEqual(texts((await pool.run(TASK, items('still here'))).outputs), ['still here'])
  })

  for (const crash of ['exit', 'uncaught']) {
    it(`a thread that dies (${crash}) fails only its own task; the pool replaces it and keeps working`, async () => {
      pool = new WorkerPool({ size: 2 })
      const other = pool.run(TASK, items('sleep:300', 'thread'))
      await waitFor(() => pool.busy === 1, 'one thread busy', { interval: 5 })
      const before = threads(pool).map(w => w.threadId)
      await assert.rejects(pool.run(TASK, items(crash)), (err: any) => {
        assert.equal(err.name, 'WorkloadFailedError')
        assert.match(err.message, /pool thread died/)
        return true
      })
      const survivor = texts((await other).outputs)[1]
      assert.ok(before.includes(Number(survivor)))
      await waitFor(() => threads(pool).every(w => w.threadId !== -1), 'the dead thread replaced', { interval: 5 })
      assert.equal(threads(pool).length, 2)
      const results = await Promise.all([0, 1].map(async () => pool.run(TASK, items('sleep:100', 'thread'))))
      assert.equal(new Set(results.map(r => texts(r.outputs)[1])).size, 2)
      assert.equal(pool.busy, 0)
    })
  }

  it('close() fails queued and running tasks with PoolClosedError and ends every thread', async () => {
    pool = new WorkerPool({ size: 2 })
    const tasks = [0, 1, 2].map(async () => pool.run(TASK, items('spin:20', 'sleep:5000')))
    const settled = Promise.allSettled(tasks)
    await waitFor(() => pool.busy === 2, 'both threads busy', { interval: 5 })
    assert.equal(pool.queued, 1)
    const workers = threads(pool)
    await pool.close()
    for (const outcome of await settled) {
      assert.ok(outcome.status === 'rejected' && named('PoolClosedError', 'ERR_POOL_CLOSED')(outcome.reason))
    }
    assert.ok(workers.every(w => w.threadId === -1), 'a thread is still alive')
    await assert.rejects(pool.run(TASK, items('a')), named('PoolClosedError'))
    await pool.close()
  })

  it('warm() after close() starts no thread', async () => {
    pool = new WorkerPool({ size: 2 })
    await pool.close()
    await assert.rejects(pool.warm(TASK), named('PoolClosedError'))
    assert.equal(threads(pool).length, 0)
  })

  it('warm() loads the kernel in every thread', async () => {
    pool = new WorkerPool({ size: 2 })
    await pool.warm(TASK)
    assert.equal(threads(pool).length, 2)
    assert.equal(pool.busy, 0)
    await assert.rejects(pool.warm({ ...TASK, options: { ...TASK.options, params: { failToLoad: true } } }), named('WorkloadFailedError'))
  })

  it('imports a kernel\'s mainThreadFirst modules on the main thread, once, before it starts a thread', async () => {
    pool = new WorkerPool({ size: 1 })
    const missing = { ...TASK, kernel: { ...KERNEL, mainThreadFirst: ['@shardmesh/no-such-module'] } }
    await assert.rejects(pool.run(missing, items('a')), (err: any) => {
      assert.equal(err?.name, 'WorkloadFailedError')
      assert.match(err.message, /@shardmesh\/no-such-module/)
      return true
    })
    assert.equal(threads(pool).length, 0, 'no thread started for a kernel whose first modules did not load')

    const first = new URL('./fixtures/loaded-first.js', import.meta.url).href
    const task = { ...TASK, kernel: { ...KERNEL, mainThreadFirst: [first] } }
    const [a, b] = await Promise.all([pool.run(task, items('a')), pool.run(task, items('b'))])
    assert.deepEqual([texts(a.outputs), texts(b.outputs)], [['a'], ['b']])
    await pool.warm(task)
    assert.deepEqual((globalThis as { shardmeshLoadedFirst?: boolean[] }).shardmeshLoadedFirst, [true])
  })

  it('lets the process exit after close(), a crashed thread included', async () => {
    const script = fileURLToPath(new URL('./fixtures/pool-exit.js', import.meta.url))
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 10_000 })
    assert.equal(stdout, 'closed\n')
  })
})
