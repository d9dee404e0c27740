import assert from 'node:assert/strict'
import { InboundBudget, InboundBudgetError } from '../src/index.js'
import type { InboundBudgetInit, InboundRefusalReason } from '../src/index.js'

/** Timers run by hand: `fire()` runs every timer set and not cleared, as if its delay passed. */
function fakeTimers (): NonNullable<InboundBudgetInit['timers']> & { fire(): void, pending(): number } {
  const timers = new Map<number, () => void>()
  let next = 1
  return {
    setTimeout: (fn) => { const id = next++; timers.set(id, fn); return id },
    clearTimeout: (id) => { timers.delete(id as number) },
    fire: () => {
      const due = [...timers.values()]
      timers.clear()
      for (const fn of due) {
        fn()
      }
    },
    pending: () => timers.size
  }
}

/** Let promise callbacks run. */
async function settled (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

describe('InboundBudget', () => {
  let refused: Array<[string, InboundRefusalReason]>
  let waits: string[]
  let timers: ReturnType<typeof fakeTimers>

  function budget (init: Partial<InboundBudgetInit> = {}): InboundBudget {
    return new InboundBudget({
      maxBytes: 100,
      maxPeerBytes: 40,
      maxStreams: 4,
      maxPeerStreams: 2,
      waitTimeout: 1000,
      timers,
      onRefused: (protocol, reason) => { refused.push([protocol, reason]) },
      onWait: (protocol) => { waits.push(protocol) },
      ...init
    })
  }

  beforeEach(() => {
    refused = []
    waits = []
    timers = fakeTimers()
  })

  it('refuses nonsense caps', () => {
    assert.throws(() => new InboundBudget({ maxBytes: 0, maxStreams: 1 }), RangeError)
    assert.throws(() => new InboundBudget({ maxBytes: 10, maxStreams: -1 }), RangeError)
    assert.throws(() => new InboundBudget({ maxBytes: 1.5, maxStreams: 1 }), RangeError)
  })

  it('defaults each peer to a quarter of the total, and never more than the total', () => {
    const b = new InboundBudget({ maxBytes: 1000, maxStreams: 40 })
    assert.equal(b.maxPeerBytes, 250)
    assert.equal(b.maxPeerStreams, 10)
    const capped = new InboundBudget({ maxBytes: 10, maxPeerBytes: 50, maxStreams: 1 })
    assert.equal(capped.maxPeerBytes, 10)
    assert.equal(capped.maxPeerStreams, 1)
  })

  it('takes bytes within the peer share and the total, and gives them back', () => {
    const b = budget()
    assert.equal(b.tryTake('a', 40), true)
    assert.equal(b.tryTake('a', 1), false, 'a peer holds no more than its share')
    assert.equal(b.tryTake('b', 40), true)
    assert.equal(b.tryTake('c', 20), true)
    assert.equal(b.tryTake('d', 1), false, 'the total is spent')
    assert.equal(b.bytes, 100)
    b.release('a', 40)
    assert.equal(b.peerBytes('a'), 0)
    assert.equal(b.tryTake('d', 30), true)
    assert.equal(b.bytes, 90)
    // giving back more than held gives back what was held
    b.release('d', 1000)
    assert.equal(b.bytes, 60)
    assert.equal(b.stats().peers, 2)
  })

  it('charges forced bytes over the budget, and lets nobody take more until they are given back', () => {
    const b = budget()
    b.force('a', 150)
    assert.equal(b.bytes, 150)
    assert.equal(b.tryTake('b', 1), false)
    b.release('a', 150)
    assert.equal(b.tryTake('b', 1), true)
  })

  it('makes a reservation that does not fit wait, and grants it when bytes are given back', async () => {
    const b = budget()
    assert.equal(b.tryTake('a', 40), true)
    assert.equal(b.tryTake('b', 40), true)
    assert.equal(b.tryTake('x', 20), true)
    const events: string[] = []
    const waiting = b.take('c', 30, { protocol: '/p' }).then(() => { events.push('granted') })
    await settled()
    assert.deepEqual(events, [])
    assert.deepEqual(waits, ['/p'])
    assert.equal(b.stats().waiting, 1)
    b.release('a', 10)
    await settled()
    assert.deepEqual(events, [], '10 bytes freed: 30 do not fit yet')
    b.release('a', 20)
    await waiting
    assert.deepEqual(events, ['granted'])
    assert.equal(b.peerBytes('c'), 30)
    assert.equal(b.bytes, 100)
    assert.equal(timers.pending(), 0, 'the wait timer is cleared once granted')
  })

  it('grants waiters in order of arrival, skipping one over its peer share so it does not block the rest', async () => {
    const b = budget()
    b.force('a', 40)
    b.force('b', 40)
    b.force('x', 20)
    const order: string[] = []
    // 'a' is at its share: it waits for its own bytes, not for the node's
    const a = b.take('a', 10, { protocol: '/p' }).then(() => { order.push('a') })
    const c = b.take('c', 10, { protocol: '/p' }).then(() => { order.push('c') })
    const d = b.take('d', 10, { protocol: '/p' }).then(() => { order.push('d') })
    b.release('x', 20)
    await Promise.all([c, d])
    assert.deepEqual(order, ['c', 'd'])
    b.release('a', 10)
    await a
    assert.deepEqual(order, ['c', 'd', 'a'])
  })

  it('refuses a wait that outlasts waitTimeout with a named, counted error, and frees its place', async () => {
    const b = budget()
    b.force('a', 40)
    b.force('b', 40)
    b.force('c', 20)
    const late = b.take('d', 30, { protocol: '/shardmesh/shard/1.0.0' })
    const behind = b.take('e', 5, { protocol: '/p' })
    timers.fire()
    await assert.rejects(late, (err: any) => err instanceof InboundBudgetError && err.name === 'InboundBudgetError' && err.code === 'ERR_INBOUND_LIMIT' && err.reason === 'bytes')
    await assert.rejects(behind, { name: 'InboundBudgetError' })
    assert.deepEqual(refused, [['/shardmesh/shard/1.0.0', 'bytes'], ['/p', 'bytes']])
    assert.equal(b.stats().waiting, 0)
    assert.equal(b.bytes, 100, 'a refused wait holds nothing')
  })

  it('refuses at once a frame larger than a peer share (it could never fit)', async () => {
    const b = budget()
    b.force('z', 100)
    await assert.rejects(b.take('a', 41, { protocol: '/p' }), { name: 'InboundBudgetError', reason: 'bytes' })
    assert.deepEqual(refused, [['/p', 'bytes']])
    assert.equal(timers.pending(), 0)
  })

  it('leaves the line when the signal aborts, uncounted, and lets those behind through', async () => {
    const b = budget()
    b.force('a', 40)
    b.force('b', 40)
    b.force('c', 15)
    const controller = new AbortController()
    const big = b.take('d', 30, { protocol: '/p', signal: controller.signal })
    const small = b.take('e', 5, { protocol: '/p' })
    await small
    controller.abort(new Error('stream closed'))
    await assert.rejects(big, { message: 'stream closed' })
    assert.deepEqual(refused, [])
    assert.equal(b.stats().waiting, 0)
    assert.equal(timers.pending(), 0)
  })

  it('counts inbound streams against the node and each peer, refusing past either with a reason', () => {
    const b = budget()
    const a1 = b.openStream('a', '/p')
    const a2 = b.openStream('a', '/p')
    assert.equal(typeof a1, 'function')
    assert.equal(typeof a2, 'function')
    const a3 = b.openStream('a', '/q')
    assert.ok(a3 instanceof InboundBudgetError)
    assert.equal(a3.reason, 'peer-streams')
    const b1 = b.openStream('b', '/p')
    const b2 = b.openStream('b', '/p')
    assert.equal(b.streams, 4)
    const c1 = b.openStream('c', '/r')
    assert.ok(c1 instanceof InboundBudgetError)
    assert.equal(c1.reason, 'streams')
    assert.deepEqual(refused, [['/q', 'peer-streams'], ['/r', 'streams']])
    if (typeof a1 !== 'function' || typeof b1 !== 'function' || typeof b2 !== 'function' || typeof a2 !== 'function') {
      throw new Error('unreachable')
    }
    a1()
    a1() // a second call gives nothing back twice
    assert.equal(b.streams, 3)
    assert.equal(typeof b.openStream('c', '/r'), 'function')
    a2()
    b1()
    b2()
    assert.equal(b.streams, 1)
    assert.equal(b.stats().peers, 1)
  })
})
