import assert from 'node:assert/strict'
import { InboundBudget } from '@shardmesh/protocol'
import { FrameReader, encodeFrames } from '../src/frames.js'
import type { Stream } from '@libp2p/interface'
import type { InboundBudgetInit } from '@shardmesh/protocol'

/** Just enough of a libp2p stream: events in, pause/resume and aborts recorded. */
class FakeStream extends EventTarget {
  events: string[] = []
  aborted?: Error

  deliver (data: Uint8Array): void {
    const evt = new Event('message') as Event & { data: Uint8Array }
    evt.data = data
    this.dispatchEvent(evt)
  }

  pause (): void { this.events.push('pause') }
  resume (): void { this.events.push('resume') }
  abort (err: Error): void { this.aborted = err }
}

function fakeTimers (): NonNullable<InboundBudgetInit['timers']> & { fire(): void } {
  const timers = new Map<number, () => void>()
  let next = 1
  return {
    setTimeout: (fn) => { const id = next++; timers.set(id, fn); return id },
    clearTimeout: (id) => { timers.delete(id as number) },
    fire: () => { const due = [...timers.values()]; timers.clear(); due.forEach(fn => { fn() }) }
  }
}

async function settled (): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
}

describe('frames: a FrameReader takes its bytes from the inbound budget', () => {
  let timers: ReturnType<typeof fakeTimers>
  let budget: InboundBudget
  let refusals: string[]

  beforeEach(() => {
    timers = fakeTimers()
    refusals = []
    budget = new InboundBudget({ maxBytes: 1000, maxPeerBytes: 600, maxStreams: 10, waitTimeout: 5000, timers, onRefused: (p, r) => { refusals.push(`${p} ${r}`) } })
  })

  function reader (stream: FakeStream, peer: string): FrameReader {
    return new FrameReader(stream as unknown as Stream, { maxDataLength: 800, maxBufferSize: 2000, budget: { budget, peer, protocol: '/t' } })
  }

  it('holds the whole frame being received once its length is known, and gives it back when the frame is read', async () => {
    const stream = new FakeStream()
    const r = reader(stream, 'a')
    const wire = encodeFrames([new Uint8Array(300).fill(1)])
    stream.deliver(wire.subarray(0, 10))
    assert.equal(budget.peerBytes('a'), 10, 'bytes in memory are charged as they arrive')
    const reading = r.read()
    await settled()
    assert.equal(budget.peerBytes('a'), 302, 'the prefix said 300: the frame is reserved before the rest arrives')
    stream.deliver(wire.subarray(10))
    const frame = await reading
    assert.equal(frame?.byteLength, 300)
    assert.equal(budget.peerBytes('a'), 0)
    assert.deepEqual(stream.events, [])
    r.close()
  })

  it('pauses a stream whose frame does not fit, resumes it when bytes are given back, and reads the frame whole', async () => {
    const hog = new FakeStream()
    const h = reader(hog, 'hog')
    const big = encodeFrames([new Uint8Array(500).fill(2)])
    hog.deliver(big.subarray(0, 100))
    const hogRead = h.read()
    await settled()
    assert.equal(budget.peerBytes('hog'), 502)

    const honest = new FakeStream()
    const o = reader(honest, 'honest')
    const wire = encodeFrames([new Uint8Array(600 - 3).fill(3)])
    honest.deliver(wire.subarray(0, 50))
    const read = o.read()
    await settled()
    // 502 + 600 > 1000: the honest stream holds what arrived and waits for the rest, paused
    assert.deepEqual(honest.events, ['pause'])
    assert.equal(budget.peerBytes('honest'), 50)
    assert.equal(budget.stats().waiting, 1)
    // (a real stream holds what arrives while paused, and hands it over once resumed)

    // the hog's frame completes and is read: its bytes go back and the honest stream resumes
    hog.deliver(big.subarray(100))
    assert.equal((await hogRead)?.byteLength, 500)
    await settled()
    assert.deepEqual(honest.events, ['pause', 'resume'])
    assert.equal(budget.peerBytes('honest'), 599)
    honest.deliver(wire.subarray(50))
    assert.equal((await read)?.byteLength, 597)
    assert.equal(budget.bytes, 0)
    assert.deepEqual(refusals, [])
    h.close()
    o.close()
  })

  it('refuses a stream that waited waitTimeout with InboundBudgetError from read(), leaving the stream for the caller to close', async () => {
    const hog = new FakeStream()
    const h = reader(hog, 'hog')
    hog.deliver(encodeFrames([new Uint8Array(590)]).subarray(0, 550))
    const hogRead = h.read()
    await settled()
    const other = new FakeStream()
    const o = reader(other, 'other')
    other.deliver(encodeFrames([new Uint8Array(500)]).subarray(0, 20))
    const read = o.read()
    await settled()
    assert.deepEqual(other.events, ['pause'])
    timers.fire()
    await assert.rejects(read, { name: 'InboundBudgetError', code: 'ERR_INBOUND_LIMIT' })
    assert.equal(other.aborted, undefined, 'the caller says why before it resets the stream')
    assert.deepEqual(refusals, ['/t bytes'])
    assert.equal(budget.peerBytes('other'), 0, 'a refused stream holds nothing')
    o.close()
    h.close()
    assert.equal(await hogRead, undefined, 'a reader closed by its owner reads nothing more')
    assert.equal(budget.bytes, 0, 'a closed reader gives back what it held')
  })

  it('refuses at once a frame over the peer share, whatever the node holds', async () => {
    const stream = new FakeStream()
    const r = reader(stream, 'a')
    stream.deliver(encodeFrames([new Uint8Array(700)]).subarray(0, 10))
    await assert.rejects(r.read(), { name: 'InboundBudgetError' })
    assert.deepEqual(refusals, ['/t bytes'])
    assert.equal(budget.bytes, 0)
    r.close()
  })

  it('gives back what it held when the stream fails or is closed mid-frame', async () => {
    const stream = new FakeStream()
    const r = reader(stream, 'a')
    stream.deliver(encodeFrames([new Uint8Array(400)]).subarray(0, 200))
    const reading = r.read()
    await settled()
    assert.equal(budget.peerBytes('a'), 402)
    const evt = new Event('close') as Event & { error?: Error }
    evt.error = new Error('reset by peer')
    stream.dispatchEvent(evt)
    await assert.rejects(reading, { message: 'reset by peer' })
    assert.equal(budget.bytes, 0)
    r.close()
    assert.equal(budget.bytes, 0)
  })

  it('charges a slow reader for what it buffers and pauses it past its share', async () => {
    const stream = new FakeStream()
    const r = reader(stream, 'a')
    // nobody reads: many small frames pile up
    const small = encodeFrames(Array.from({ length: 10 }, () => new Uint8Array(98)))
    stream.deliver(small.subarray(0, 500))
    assert.equal(budget.peerBytes('a'), 500)
    assert.deepEqual(stream.events, [])
    stream.deliver(small.subarray(500, 700))
    assert.deepEqual(stream.events, ['pause'], '700 bytes are over the 600 share: the stream stops')
    assert.equal(budget.peerBytes('a'), 700)
    // reading frees them and the stream goes on
    for (let i = 0; i < 7; i++) {
      assert.equal((await r.read())?.byteLength, 98)
    }
    await settled()
    assert.deepEqual(stream.events, ['pause', 'resume'], 'once the peer is back within its share')
    assert.equal(budget.peerBytes('a'), 7, 'what is left: 7 bytes of the eighth frame')
    r.close()
    assert.equal(budget.bytes, 0)
  })
})
