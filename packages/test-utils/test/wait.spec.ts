import assert from 'node:assert/strict'
import { waitFor } from '../src/index.js'

describe('waitFor', () => {
  it('resolves with the first value that is neither undefined nor false', async () => {
    let calls = 0
    const value = await waitFor(() => ++calls === 3 ? { calls } : undefined, 'the third call', { interval: 1 })
    assert.deepEqual(value, { calls: 3 })
  })

  it('resolves a boolean condition with true once it holds', async () => {
    let calls = 0
    assert.equal(await waitFor(async () => ++calls > 2, 'the condition', { interval: 1 }), true)
    assert.equal(calls, 3)
  })

  it('keeps polling through a check that throws', async () => {
    let calls = 0
    const value = await waitFor(() => {
      if (++calls < 3) {
        throw new Error('not ready')
      }
      return 'ready'
    }, 'a check that recovers', { interval: 1 })
    assert.equal(value, 'ready')
  })

  it('rejects after its timeout naming what it waited for, with the last error as cause', async () => {
    const last = new Error('still down')
    await assert.rejects(waitFor(() => { throw last }, 'the service', { timeout: 20, interval: 1 }), (err: Error) => {
      assert.equal(err.name, 'WaitTimeoutError')
      assert.match(err.message, /waiting for the service: still down$/)
      assert.equal(err.cause, last)
      return true
    })
  })
})
