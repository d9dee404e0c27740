import assert from 'node:assert/strict'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { lpStream } from '@libp2p/utils'
import {
  MAX_SHARD_FRAME_BYTES, SHARD_PROTOCOL, decodeClientFrame, decodeItemList, decodeWorkerFrame, encodeClientFrame, encodeItemList, encodeWorkerFrame, sha256Hex
} from '@shardmesh/protocol'
import { Prng } from '@shardmesh/protocol/fuzz'
import { waitFor } from '@shardmesh/test-utils'
import { verifyReceipt } from '@shardmesh/receipts'
import { echo, onnx, sleep } from '@shardmesh/workloads'
import { STREAM_READ_BUFFER_BYTES } from '../src/constants.js'
import { defaultPlacement } from '../src/requester/placement.js'
import { bytes, computeNodes, stopAll, texts } from './utils/nodes.js'
import { affineModel } from './utils/onnx-model.js'
import type { ComputeNode } from './utils/nodes.js'
import type { Stream } from '@libp2p/interface'
import type { ClientFrame, Loose, ShardRequest, WorkerFrame } from '@shardmesh/protocol'

interface Raw {
  stream: Stream
  send(frame: Loose<ClientFrame>): Promise<void>
  sendBytes(bytes: Uint8Array): Promise<void>
  /** the next frame that is not progress */
  read(ms?: number): Promise<WorkerFrame>
}

/** Every raw stream opened, to be aborted after each test (a worker takes 8 per connection). */
const opened: Stream[] = []

/** A hand-driven shard stream from `from` to `to`. */
async function raw (from: ComputeNode, to: ComputeNode): Promise<Raw> {
  const stream = await from.dialProtocol(to.peerId, SHARD_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  opened.push(stream)
  const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
  return {
    stream,
    send: async (frame) => { await lp.write(encodeClientFrame(frame)) },
    sendBytes: async (bytes) => { await lp.write(bytes) },
    // the next frame that is not progress
    read: async (ms = 5000) => {
      while (true) {
        const frame = decodeWorkerFrame((await lp.read({ signal: AbortSignal.timeout(ms) })).subarray())
        if (frame.progress == null) {
          return frame
        }
      }
    }
  }
}

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

function request (id: number, fields: Partial<Loose<ShardRequest>> = {}): Loose<ClientFrame> {
  return {
    request: {
      id,
      jobId: new Uint8Array(16).fill(id),
      shardIndex: 0,
      workload: 'echo',
      version: '1.0.0',
      input: encodeItemList(bytes(2)),
      model: new Uint8Array(0),
      timeoutMs: 0,
      ...fields
    }
  }
}

function isError (frame: WorkerFrame, id: number, code: string, message?: RegExp): void {
  assert.ok(frame.error != null, `expected an error frame, got ${JSON.stringify(Object.keys(frame).filter(k => (frame as any)[k] != null))}`)
  assert.equal(frame.error.id, id)
  assert.equal(frame.error.code, code, frame.error.message)
  if (message != null) {
    assert.match(frame.error.message, message)
  }
}

describe('compute: the shard protocol against hostile peers', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]
  let worker: ComputeNode

  before(async () => {
    // [0] the hostile requester, [1] the worker, [2] a well-behaved requester
    nodes = await computeNodes([
      { workloads: [echo(), onnx()], offer: [] },
      { workloads: [echo(), onnx(), sleep({ msPerItem: 300 })], maxModelBytes: 4096, modelTimeout: 300 },
      { workloads: [echo()], offer: [] }
    ])
    worker = nodes[1]
    await nodes[2].dial(worker.getMultiaddrs())
  })

  afterEach(async function () {
    for (const stream of opened.splice(0)) {
      stream.abort(new Error('test over'))
    }
    await waitFor(() => worker.services.compute.stats().openStreams <= 1, 'raw streams closed')
    // after each attack the worker still serves a normal job from another node
    const items = bytes(5)
    const result = await nodes[2].services.compute.run({ workload: 'echo', items, shardSize: 2 }, { peers: [worker.peerId] })
    assert.deepEqual(texts(result.outputs), texts(items), `after: ${this.currentTest?.title}`)
  })

  after(async () => {
    await stopAll(nodes ?? [])
  })

  it('an undecodable frame: ERR_INVALID_MESSAGE on shard 0, then the worker closes the stream', async () => {
    const s = await raw(nodes[0], worker)
    await s.sendBytes(Uint8Array.of(0x0a, 0xff, 0xff, 0xff))
    isError(await s.read(), 0, 'ERR_INVALID_MESSAGE', /ClientFrame/)
    await assert.rejects(s.read())
    await waitFor(() => worker.services.compute.stats().openStreams === 0, 'worker stream closed')
  })

  it('a length prefix over MAX_SHARD_FRAME_BYTES: ERR_MESSAGE_TOO_LARGE before any payload, then the stream is closed', async () => {
    const s = await raw(nodes[0], worker)
    s.stream.send(varint(MAX_SHARD_FRAME_BYTES + 1))
    isError(await s.read(), 0, 'ERR_MESSAGE_TOO_LARGE')
    await assert.rejects(s.read())
  })

  it('an unknown workload or version: ERR_UNKNOWN_WORKLOAD for that shard, and the stream goes on', async () => {
    const s = await raw(nodes[0], worker)
    await s.send(request(5, { workload: 'no-such-workload' }))
    isError(await s.read(), 5, 'ERR_UNKNOWN_WORKLOAD', /no-such-workload@1\.0\.0 is not installed/)
    await s.send(request(6, { version: '9.9.9' }))
    isError(await s.read(), 6, 'ERR_UNKNOWN_WORKLOAD')
    await s.send(request(7, { shardIndex: 3 }))
    const frame = await s.read()
    assert.equal(frame.result?.id, 7)
    const receipt = await verifyReceipt(frame.result.receipt, { requireCountersignature: false, worker: worker.peerId, requester: nodes[0].peerId })
    assert.equal(receipt.shardIndex, 3)
    await s.stream.close()
  })

  it('an input that is not an ItemList: ERR_INVALID_INPUT for that shard', async () => {
    const s = await raw(nodes[0], worker)
    await s.send(request(1, { input: Uint8Array.of(0x0a, 0xff, 0xff) }))
    isError(await s.read(), 1, 'ERR_INVALID_INPUT', /undecodable shard input/)
    await s.send(request(2, { input: new Uint8Array(0) }))
    assert.deepEqual(decodeItemList((await s.read()).result?.output ?? Uint8Array.of(1)).items, [], 'an empty shard has no output')
    await s.stream.close()
  })

  it('a second shard with an id already in flight: ERR_INVALID_MESSAGE for it, the first one finishes', async () => {
    const s = await raw(nodes[0], worker)
    await s.send(request(9, { workload: 'sleep' }))
    await s.send(request(9))
    isError(await s.read(), 9, 'ERR_INVALID_MESSAGE', /already in flight/)
    assert.equal((await s.read()).result?.id, 9)
    // cancels and model chunks for shards that do not exist are ignored
    await s.send({ cancel: { id: 1234 } })
    await s.send({ model: { id: 1234, digest: new Uint8Array(32), total: 10n, offset: 0n, data: new Uint8Array(10) } })
    await s.send(request(10))
    assert.equal((await s.read()).result?.id, 10)
    await s.stream.close()
  })

  it('a shard past the deadline its requester gave: ERR_TIMEOUT, and the slot is freed', async () => {
    const s = await raw(nodes[0], worker)
    await s.send(request(1, { workload: 'sleep', input: encodeItemList(bytes(10)), timeoutMs: 100 }))
    isError(await s.read(), 1, 'ERR_TIMEOUT', /deadline/)
    await waitFor(() => worker.services.compute.stats().active === 0, 'slot released')
  })

  describe('models', () => {
    const model = new TextEncoder().encode('the model the shard names')
    const digest = sha256Hex(model)
    const onnxRequest = (id: number): Loose<ClientFrame> => request(id, { workload: 'onnx', input: encodeItemList([]), model: Buffer.from(digest, 'hex') })

    async function modelDir (): Promise<string[]> {
      return readdir(join(worker.cacheDir, 'models')).catch(() => [])
    }

    it('model bytes that hash to another digest: ERR_MODEL_MISMATCH, and nothing is cached', async () => {
      const s = await raw(nodes[0], worker)
      await s.send(onnxRequest(1))
      const need = await s.read()
      assert.equal(need.needModel?.id, 1)
      assert.equal(Buffer.from(need.needModel.digest).toString('hex'), digest)
      const other = new TextEncoder().encode('a different model, same size')
      await s.send({ model: { id: 1, digest: need.needModel.digest, total: BigInt(other.byteLength), offset: 0n, data: other } })
      isError(await s.read(), 1, 'ERR_MODEL_MISMATCH', new RegExp(`not to ${digest}`))
      assert.deepEqual(await modelDir(), [])
      await s.stream.close()
    })

    it('chunks out of order, or for another digest: ERR_MODEL_MISMATCH', async () => {
      const s = await raw(nodes[0], worker)
      await s.send(onnxRequest(1))
      assert.equal((await s.read()).needModel?.id, 1)
      await s.send({ model: { id: 1, digest: Buffer.from(digest, 'hex'), total: BigInt(model.byteLength), offset: 5n, data: model.subarray(5) } })
      isError(await s.read(), 1, 'ERR_MODEL_MISMATCH', /does not follow/)
      await s.send(onnxRequest(2))
      assert.equal((await s.read()).needModel?.id, 2)
      await s.send({ model: { id: 2, digest: new Uint8Array(32), total: BigInt(model.byteLength), offset: 0n, data: model } })
      isError(await s.read(), 2, 'ERR_MODEL_MISMATCH', /another model/)
      // the partial file of the first attempt is removed
      const files = await waitFor(async () => { const f = await modelDir(); return f.length === 0 ? f : undefined }, 'the partial model file removed')
      assert.deepEqual(files, [])
      await s.stream.close()
    })

    it('a model over the worker\'s limit: ERR_MODEL_TOO_LARGE', async () => {
      const s = await raw(nodes[0], worker)
      await s.send(onnxRequest(1))
      assert.equal((await s.read()).needModel?.id, 1)
      await s.send({ model: { id: 1, digest: Buffer.from(digest, 'hex'), total: 1n << 40n, offset: 0n, data: model } })
      isError(await s.read(), 1, 'ERR_MODEL_TOO_LARGE', /accepts 1\.\.4096/)
      await s.stream.close()
    })

    it('a model that never comes: ERR_TIMEOUT after modelTimeout', async () => {
      const s = await raw(nodes[0], worker)
      await s.send(onnxRequest(1))
      assert.equal((await s.read()).needModel?.id, 1)
      isError(await s.read(), 1, 'ERR_TIMEOUT', /did not arrive within 300 ms/)
      await s.stream.close()
    })

    for (const spoiler of ['cancels its shard', 'sends the wrong bytes']) {
      it(`two requesters waiting for the same model: when the first ${spoiler}, the second is asked for it`, async () => {
        const good = await affineModel()
        const goodDigest = Buffer.from(sha256Hex(good), 'hex')
        const a = await raw(nodes[0], worker)
        const b = await raw(nodes[2], worker)
        const ask = (id: number): Loose<ClientFrame> => request(id, { workload: 'onnx', input: encodeItemList([]), model: goodDigest })
        await a.send(ask(1))
        assert.equal((await a.read()).needModel?.id, 1)
        // the worker is already receiving this model: it does not ask b
        await b.send(ask(7))
        await new Promise(resolve => setTimeout(resolve, 50))
        if (spoiler === 'cancels its shard') {
          await a.send({ cancel: { id: 1 } })
        } else {
          const wrong = new Uint8Array(good.byteLength)
          await a.send({ model: { id: 1, digest: goodDigest, total: BigInt(wrong.byteLength), offset: 0n, data: wrong } })
          isError(await a.read(), 1, 'ERR_MODEL_MISMATCH')
        }
        const need = await b.read()
        assert.equal(need.needModel?.id, 7, `b got ${JSON.stringify(need.error ?? need)}`)
        await b.send({ model: { id: 7, digest: goodDigest, total: BigInt(good.byteLength), offset: 0n, data: good } })
        const result = await b.read()
        assert.equal(result.result?.id, 7, `b got ${JSON.stringify(result.error ?? result)}`)
        assert.deepEqual(decodeItemList(result.result.output).items, [])
        await rm(join(worker.cacheDir, 'models'), { recursive: true, force: true })
      })
    }

    it('a digest that is not sha256 hex: ERR_MODEL_MISMATCH', async () => {
      const s = await raw(nodes[0], worker)
      await s.send(request(1, { workload: 'onnx', input: encodeItemList([]), model: Uint8Array.of(1, 2, 3) }))
      isError(await s.read(), 1, 'ERR_MODEL_MISMATCH', /not a sha256 hex digest/)
      await s.stream.close()
    })
  })

  it('serves many streams at once (a requester each, in effect) without warnings about abort listeners', async () => {
    const warnings: string[] = []
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
    process.on('warning', onWarning)
    try {
      // up to 8 shard streams per connection; each costs the worker two listeners on its shutdown signal
      const streams = await Promise.all(Array.from({ length: 7 }, async () => raw(nodes[0], worker)))
      await Promise.all(streams.map(async (s, i) => { await s.send(request(i + 1)) }))
      for (const [i, s] of streams.entries()) {
        assert.equal((await s.read()).result?.id, i + 1)
      }
      await new Promise(resolve => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    assert.deepEqual(warnings, [])
  })

  it('answers 150 mutated frames with results or coded errors only, one stream each', async () => {
    const prng = new Prng(0x5ba_4d)
    const valid = encodeClientFrame(request(3, { input: encodeItemList(bytes(3)) }))
    const codes = new Set<string>()
    let results = 0
    for (let i = 0; i < 150; i++) {
      const input = i % 3 === 0 ? prng.truncate(valid) : prng.flipBits(valid, 1 + (i % 4))
      const s = await raw(nodes[0], worker)
      await s.sendBytes(input)
      let frame: WorkerFrame
      try {
        frame = await s.read(300)
      } catch (err: any) {
        // a frame that decodes to nothing to do: the worker waits for more, we give up
        assert.equal(err.name, 'TimeoutError', `mutant #${i}: ${err.message}`)
        continue
      } finally {
        s.stream.abort(new Error('next'))
      }
      if (frame.result != null) {
        results++
      } else {
        assert.ok(frame.error != null || frame.needModel != null, `mutant #${i}: ${JSON.stringify(frame)}`)
        if (frame.error != null) {
          assert.match(frame.error.code, /^ERR_[A-Z_]+$/)
          assert.notEqual(frame.error.code, 'ERR_INTERNAL', `mutant #${i}: ${frame.error.message}`)
          codes.add(frame.error.code)
        }
      }
    }
    assert.ok(codes.size >= 2 && results > 0, `codes ${[...codes].join(', ')}; ${results} results`)
  })

  it('a requester dropping its stream mid-shard frees the worker\'s slot', async () => {
    const s = await raw(nodes[0], worker)
    await s.send(request(1, { workload: 'sleep', input: encodeItemList(bytes(20)) }))
    await waitFor(() => worker.services.compute.stats().active === 1, 'a shard running')
    s.stream.abort(new Error('requester gone'))
    await waitFor(() => worker.services.compute.stats().active === 0, 'slot released')
  })
})

describe('compute: a requester against hostile workers', function () {
  this.timeout(20_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  /** Replace the shard handler of `node` with one that answers every request with `answer(request)`. */
  async function hostile (node: ComputeNode, answer: (request: ShardRequest) => Uint8Array): Promise<void> {
    await node.unhandle(SHARD_PROTOCOL)
    await node.handle(SHARD_PROTOCOL, async (stream) => {
      const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES })
      try {
        while (true) {
          const frame = decodeClientFrame((await lp.read()).subarray())
          if (frame.request != null) {
            await lp.write(answer(frame.request))
          }
        }
      } catch {
        stream.abort(new Error('done'))
      }
    })
  }

  const answers: Array<[string, string, (request: ShardRequest) => Uint8Array]> = [
    ['a result with a receipt that does not verify', 'ERR_BAD_RESULT', (r) => encodeWorkerFrame({ result: { id: r.id, output: r.input, receipt: Uint8Array.of(1, 2, 3) } })],
    ['a result with the wrong number of outputs', 'ERR_BAD_RESULT', (r) => encodeWorkerFrame({ result: { id: r.id, output: encodeItemList([]), receipt: new Uint8Array(0) } })],
    ['an output that is not an ItemList', 'ERR_BAD_RESULT', (r) => encodeWorkerFrame({ result: { id: r.id, output: Uint8Array.of(0xff), receipt: new Uint8Array(0) } })],
    ['a frame that does not decode', 'ERR_STREAM_CLOSED', () => Uint8Array.of(0x12, 0xff, 0xff)],
    ['an error for shard 0 (the whole stream)', 'ERR_STREAM_CLOSED', () => encodeWorkerFrame({ error: { id: 0, code: 'ERR_INVALID_MESSAGE', message: 'go away' } })],
    ['a user-error code it has no business sending is still only its word', 'ERR_INVALID_INPUT', (r) => encodeWorkerFrame({ error: { id: r.id, code: 'ERR_INVALID_INPUT', message: 'x'.repeat(5000) } })]
  ]

  for (const [what, code, answer] of answers.slice(0, 5)) {
    it(`${what}: ${code}, and the shard runs on an honest peer`, async () => {
      nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }, { workloads: [echo()] }])
      await hostile(nodes[1], answer)
      const items = bytes(8)
      // windows of the advertised slots (not earned ones): the hostile peer gets several shards at
      // once, and the failure policy's ban is what stops it
      const result = await nodes[0].services.compute.run({ workload: 'echo', items, shardSize: 2 }, { peers: nodes.slice(1).map(n => n.peerId), placement: defaultPlacement() })
      assert.deepEqual(texts(result.outputs), texts(items))
      const bad = nodes[1].peerId.toString()
      assert.ok(result.shards.some(s => s.errors.some(e => e.startsWith(`${bad}: ${code}`))), JSON.stringify(result.shards.map(s => s.errors)))
      assert.ok(result.shards.every(s => s.peer !== bad))
      assert.equal(result.peers.find(p => p.peerId === bad)?.banned, true)
    })
  }

  it('a worker claiming a user error fails the job, with its message cut to 1 KiB', async () => {
    const [, code, answer] = answers[5]
    nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
    await hostile(nodes[1], answer)
    await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(2) }, { peers: [nodes[1].peerId] }), (err: any) => {
      assert.equal(err.code, code)
      assert.ok(err.message.length < 1200, `${err.message.length} characters`)
      return true
    })
  })
})
