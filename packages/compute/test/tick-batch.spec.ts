import assert from 'node:assert/strict'
import { TickBatch } from '../src/tick-batch.js'

const nextTurn = async (): Promise<void> => new Promise(resolve => setImmediate(resolve))

describe('TickBatch: calls of one turn served together', () => {
  it('serves the calls of one turn in one batch, in order, and those of the next turn in another', async () => {
    const batches: number[][] = []
    const batch = new TickBatch<number, string>(inputs => {
      batches.push(inputs)
      return inputs.map(i => `out-${i}`)
    }, 64)
    const first = [1, 2, 3].map(async i => batch.add(i))
    // a call made from a microtask of the same turn joins them
    const late = Promise.resolve().then(async () => batch.add(4))
    assert.deepEqual(await Promise.all([...first, late]), ['out-1', 'out-2', 'out-3', 'out-4'])
    await nextTurn()
    assert.equal(await batch.add(5), 'out-5')
    assert.deepEqual(batches, [[1, 2, 3, 4], [5]])
  })

  it('splits a turn into batches of at most max', async () => {
    const sizes: number[] = []
    const batch = new TickBatch<number, number>(inputs => {
      sizes.push(inputs.length)
      return inputs.map(i => i * 2)
    }, 4)
    const outputs = await Promise.all(Array.from({ length: 10 }, async (_, i) => batch.add(i)))
    assert.deepEqual(outputs, Array.from({ length: 10 }, (_, i) => i * 2))
    assert.deepEqual(sizes, [4, 4, 2])
  })

  it('a batch that throws, or answers the wrong number of outputs, rejects each of its calls; the next batch is served', async () => {
    let fail = true
    const batch = new TickBatch<number, number>(async inputs => {
      if (fail) {
        throw new Error('signing failed')
      }
      return inputs.slice(1)
    }, 8)
    const failed = [1, 2].map(async i => batch.add(i))
    for (const call of failed) {
      await assert.rejects(call, /signing failed/)
    }
    fail = false
    await nextTurn()
    const short = [1, 2].map(async i => batch.add(i))
    for (const call of short) {
      await assert.rejects(call, /a batch of 2 gave 1 outputs/)
    }
  })

  it('refuses a max that is not a positive integer', () => {
    assert.throws(() => new TickBatch(() => [], 0), RangeError)
    assert.throws(() => new TickBatch(() => [], 1.5), RangeError)
  })
})
