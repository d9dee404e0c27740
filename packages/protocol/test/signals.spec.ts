import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { linkSignals } from '../src/index.js'

/** Run a full garbage collection every few ms until the returned function is called. */
function collectGarbageConstantly (): () => void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const timer = setInterval(gc, 5)
  return () => { clearInterval(timer) }
}

async function aborted (signal: AbortSignal): Promise<unknown> {
  return new Promise(resolve => { signal.addEventListener('abort', () => { resolve(signal.reason) }, { once: true }) })
}

describe('linkSignals', () => {
  it('aborts at its deadline while garbage collection runs (AbortSignal.any of a timeout may not)', async function () {
    this.timeout(20_000)
    const stopGc = collectGarbageConstantly()
    try {
      // nothing but the deadline itself refers to the timer: as in a join that only polls
      const { signal } = linkSignals([undefined], 200)
      const reason: any = await aborted(signal)
      assert.equal(reason.name, 'TimeoutError')
    } finally {
      stopGc()
    }
  })

  it('follows any parent, with the parent\'s reason', () => {
    const a = new AbortController()
    const b = new AbortController()
    const linked = linkSignals([a.signal, undefined, b.signal])
    b.abort(new Error('b stopped'))
    assert.equal(linked.signal.aborted, true)
    assert.equal((linked.signal.reason as Error).message, 'b stopped')
  })

  it('starts aborted when a parent already is', () => {
    const a = new AbortController()
    a.abort(new Error('early'))
    const linked = linkSignals([a.signal], 10)
    assert.equal(linked.signal.aborted, true)
    assert.equal((linked.signal.reason as Error).message, 'early')
  })

  it('clear() detaches from the parents and cancels the deadline', async () => {
    const parent = new AbortController()
    const linked = linkSignals([parent.signal], 20, () => new Error('late'))
    linked.clear()
    parent.abort()
    await new Promise(resolve => setTimeout(resolve, 60))
    assert.equal(linked.signal.aborted, false)
  })
})
