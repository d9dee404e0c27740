import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { Admission } from '../../src/index.js'

describe('Admission', () => {
  it('admits up to its slots, queues up to maxQueue, and refuses more with BusyError', async () => {
    const a = new Admission({ slots: 2, maxQueue: 1 })
    await a.acquire()
    await a.acquire()
    assert.equal(a.active, 2)
    assert.equal(a.free, 0)
    const waiting = a.acquire()
    assert.equal(a.queued, 1)
    await assert.rejects(a.acquire(), (err: any) => err.name === 'BusyError' && err.code === 'ERR_BUSY')
    a.release()
    await waiting
    assert.equal(a.active, 2)
    assert.equal(a.queued, 0)
    a.release()
    a.release()
    assert.equal(a.active, 0)
    assert.equal(a.free, 2)
    a.release()
    assert.equal(a.active, 0, 'an extra release went below zero')
  })

  it('once closed, refuses every new shard with BusyError while those admitted go on', async () => {
    const a = new Admission({ slots: 1, maxQueue: 2 })
    const requester = peerIdFromString('12D3KooWFBEvSi47f6NrEBGiPgD9v9bjydLtMY7xSDauiYTeFmsQ')
    await a.acquire()
    const queued = a.acquire()
    a.close()
    assert.equal(a.closing, true)
    assert.equal(a.free, 0, 'a closed worker offers no free slot')
    assert.throws(() => { a.check(requester) }, (err: any) => err.name === 'BusyError' && err.code === 'ERR_BUSY' && /shutting down/.test(err.message))
    a.release()
    await queued
    assert.equal(a.active, 1, 'the queued shard still got its slot')
    a.release()
    assert.equal(a.active, 0)
  })

  it('hands freed slots to waiters in arrival order', async () => {
    const a = new Admission({ slots: 1, maxQueue: 3 })
    await a.acquire()
    const order: number[] = []
    const waiters = [1, 2, 3].map(async i => { await a.acquire(); order.push(i) })
    for (let i = 0; i < 3; i++) {
      a.release()
      await new Promise(resolve => setImmediate(resolve))
    }
    await Promise.all(waiters)
    assert.deepEqual(order, [1, 2, 3])
    assert.equal(a.active, 1)
  })

  it('a waiter that is cancelled leaves the queue and takes no slot', async () => {
    const a = new Admission({ slots: 1, maxQueue: 2 })
    await a.acquire()
    const controller = new AbortController()
    const cancelled = a.acquire(controller.signal)
    const next = a.acquire()
    controller.abort(new Error('shard cancelled'))
    await assert.rejects(cancelled, /shard cancelled/)
    assert.equal(a.queued, 1)
    a.release()
    await next
    assert.equal(a.active, 1)
    assert.equal(a.queued, 0)
  })

  it('a shard cancelled before it asks takes no place, free slot or not', async () => {
    const a = new Admission({ slots: 1, maxQueue: 2 })
    const reason = new Error('cancelled while its model arrived')
    await assert.rejects(a.acquire(AbortSignal.abort(reason)), /cancelled while its model arrived/)
    assert.equal(a.active, 0)
    await a.acquire()
    await assert.rejects(a.acquire(AbortSignal.abort(reason)), /cancelled while its model arrived/)
    assert.equal(a.queued, 0, 'a cancelled shard waits in the queue')
  })

  it('serves only allowed requesters and never denied ones', () => {
    const [alice, bob, carol] = [
      '12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU',
      '12D3KooWLKXmKmzXFHe4RJr39bQbFzBiaukHmnXLgoQevjbmGEBt',
      '12D3KooWSB62VjF4BRAszTu2HyqBQDQjQE7RnJ9woU1rvwu2ti6y'
    ].map(s => peerIdFromString(s))
    const open = new Admission({ slots: 1, maxQueue: 0, deny: [bob.toString()] })
    open.check(alice)
    assert.throws(() => { open.check(bob) }, (err: any) => err.name === 'NotAllowedError' && err.code === 'ERR_NOT_ALLOWED')
    const closed = new Admission({ slots: 1, maxQueue: 0, allow: [alice.toString(), bob.toString()], deny: [bob.toString()] })
    closed.check(alice)
    assert.throws(() => { closed.check(bob) }, (err: any) => err.name === 'NotAllowedError')
    assert.throws(() => { closed.check(carol) }, (err: any) => err.name === 'NotAllowedError')
  })
})
