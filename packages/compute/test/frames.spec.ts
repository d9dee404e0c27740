import assert from 'node:assert/strict'
import { Prng } from '@shardmesh/protocol/fuzz'
import { FrameReader, encodeFrames, writeFrames } from '../src/frames.js'
import type { Stream } from '@libp2p/interface'

/** The pieces of a message, as a stream's Uint8ArrayList iterates them. */
type Pieces = Iterable<Uint8Array>

/** Just enough of a libp2p stream: events in, sends recorded, back-pressure on demand. */
class FakeStream extends EventTarget {
  sent: Uint8Array[] = []
  aborted?: Error
  full = false

  deliver (data: Uint8Array | Pieces): void {
    const evt = new Event('message') as Event & { data: Uint8Array | Pieces }
    evt.data = data
    this.dispatchEvent(evt)
  }

  end (error?: Error): void {
    const evt = new Event(error == null ? 'remoteCloseWrite' : 'close') as Event & { error?: Error }
    evt.error = error
    this.dispatchEvent(evt)
  }

  send (data: Uint8Array): boolean {
    this.sent.push(data)
    return !this.full
  }

  abort (err: Error): void {
    this.aborted = err
  }
}

function reader (stream: FakeStream, maxDataLength = 1024, maxBufferSize = 4096): FrameReader {
  return new FrameReader(stream as unknown as Stream, { maxDataLength, maxBufferSize })
}

const hex = (b: Uint8Array | undefined): string | undefined => b == null ? undefined : Buffer.from(b).toString('hex')

describe('frames: length-prefixed frames on a stream', () => {
  const frames = [new Uint8Array(0), Uint8Array.of(1), new Uint8Array(200).fill(7), new Uint8Array(129).map((_, i) => i)]
  const wire = encodeFrames(frames)

  it('encodes each frame after its varint length, as lpStream does', () => {
    assert.equal(hex(encodeFrames([Uint8Array.of(0xaa, 0xbb)])), '02aabb')
    assert.equal(hex(encodeFrames([new Uint8Array(300)]))?.slice(0, 4), 'ac02')
    assert.equal(wire.byteLength, 1 + 0 + 1 + 1 + 2 + 200 + 2 + 129)
  })

  it('reads the same frames however the bytes are cut into chunks, then undefined at a clean end', async () => {
    const prng = new Prng(0xf4a3e5)
    for (let round = 0; round < 200; round++) {
      const stream = new FakeStream()
      const r = reader(stream)
      // cut the wire at random places, sometimes as a Uint8ArrayList of several pieces
      let at = 0
      while (at < wire.byteLength) {
        const size = 1 + prng.int(Math.min(64, wire.byteLength - at))
        const piece = wire.subarray(at, at + size)
        stream.deliver(prng.int(3) === 0 ? [piece.subarray(0, size >> 1), piece.subarray(size >> 1)] : piece)
        at += size
      }
      stream.end()
      for (const frame of frames) {
        assert.equal(hex(await r.read()), hex(frame), `round ${round}`)
      }
      assert.equal(await r.read(), undefined)
    }
  })

  it('waits for a frame that has not all arrived, and hands it over when it has', async () => {
    const stream = new FakeStream()
    const r = reader(stream)
    const pending = r.read()
    stream.deliver(wire.subarray(0, 4))
    stream.deliver(wire.subarray(4, 10))
    // frames 0 and 1 are whole, 2 is not
    assert.equal(hex(await pending), '')
    assert.equal(hex(await r.read()), '01')
    const third = r.read()
    let settled = false
    void third.then(() => { settled = true })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(settled, false)
    stream.deliver(wire.subarray(10))
    assert.equal(hex(await third), hex(frames[2]))
  })

  it('refuses a frame over the limit, and a length prefix longer than the limit needs', async () => {
    const big = new FakeStream()
    const b = reader(big)
    big.deliver(encodeFrames([new Uint8Array(1025)]))
    await assert.rejects(b.read(), { name: 'InvalidDataLengthError' })
    const late = new FakeStream()
    const r = reader(late)
    late.deliver(Uint8Array.of(0x80, 0x80, 0x80))
    await assert.rejects(r.read(), { name: 'InvalidDataLengthLengthError' })
  })

  it('an end inside a frame is an UnexpectedEOFError; a closed stream\'s error is thrown', async () => {
    const cut = new FakeStream()
    const r = reader(cut)
    cut.deliver(wire.subarray(0, wire.byteLength - 1))
    cut.end()
    for (const frame of frames.slice(0, 3)) {
      assert.equal(hex(await r.read()), hex(frame))
    }
    await assert.rejects(r.read(), { name: 'UnexpectedEOFError' })
    const reset = new FakeStream()
    const pending = reader(reset).read()
    reset.end(new Error('stream reset'))
    await assert.rejects(pending, /stream reset/)
  })

  it('a peer that sends more than the buffer holds has its stream aborted, and reading fails', async () => {
    const stream = new FakeStream()
    const r = reader(stream, 1024, 100)
    stream.deliver(new Uint8Array(101).fill(1))
    await assert.rejects(r.read(), { name: 'StreamBufferError' })
    await new Promise(resolve => queueMicrotask(() => { resolve(undefined) }))
    assert.equal(stream.aborted?.name, 'StreamBufferError')
  })

  it('a read gives up when its signal aborts; close() stops listening', async () => {
    const stream = new FakeStream()
    const r = reader(stream)
    const controller = new AbortController()
    const pending = r.read({ signal: controller.signal })
    controller.abort(new Error('deadline'))
    await assert.rejects(pending, /deadline/)
    r.close()
    stream.deliver(wire)
    assert.equal(await r.read(), undefined)
  })

  it('writes frames in one send, and waits for drain when the stream is full', async () => {
    const stream = new FakeStream()
    await writeFrames(stream as unknown as Stream, frames)
    assert.deepEqual(stream.sent.map(hex), [hex(wire)])
    stream.full = true
    let done = false
    const writing = writeFrames(stream as unknown as Stream, [Uint8Array.of(9)]).then(() => { done = true })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(done, false)
    stream.dispatchEvent(new Event('drain'))
    await writing
    const closing = writeFrames(stream as unknown as Stream, [Uint8Array.of(9)])
    stream.dispatchEvent(new Event('close'))
    await assert.rejects(closing, { name: 'StreamClosedError' })
  })
})
