import assert from 'node:assert/strict'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { sha256Hex } from '@shardmesh/protocol'
import { waitFor } from '@shardmesh/test-utils'
import { onnx, tensorMapCodec, tensorValues } from '@shardmesh/workloads'
import { ModelStore } from '../src/index.js'
import { bytes, computeNode, computeNodes, stopAll } from './utils/nodes.js'
import { affineModel } from './utils/onnx-model.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { JobResult } from '../src/index.js'
import type { NamedTensor } from '@shardmesh/workloads'

function rows (n: number): number[][] {
  return Array.from({ length: n }, (_, i) => [i, -i / 4, 1000 + i])
}

function input (row: number[]): Uint8Array {
  const t: NamedTensor = { name: 'X', dtype: 'float32', dims: [1, 3], data: new Uint8Array(Float32Array.from(row).buffer) }
  return tensorMapCodec.encode([t])
}

function checkOutputs (result: JobResult, data: number[][]): void {
  assert.equal(result.outputs.length, data.length)
  result.outputs.forEach((o, i) => {
    const [y] = tensorMapCodec.decode(o)
    assert.equal(y.name, 'Y')
    assert.deepEqual([...tensorValues(y) as Float32Array], data[i].map(x => Math.fround(Math.fround(x * 2) + 1)))
  })
}

describe('compute: shipping onnx models to workers', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]
  const receive = ModelStore.prototype.receive
  let received: string[]

  beforeEach(() => {
    received = []
    ModelStore.prototype.receive = async function (this: ModelStore, digest: string, total: number, requester?: string) {
      received.push(digest)
      return receive.call(this, digest, total, requester)
    }
  })

  afterEach(async () => {
    ModelStore.prototype.receive = receive
    await stopAll(nodes ?? [])
  })

  async function modelFiles (node: ComputeNode): Promise<string[]> {
    return readdir(join(node.cacheDir, 'models')).catch(() => [])
  }

  it('ships a model to a worker that lacks it, once, and the next job reuses the cached file', async () => {
    nodes = await computeNodes([{ workloads: [onnx()], offer: [] }, { workloads: [onnx()] }])
    const [requester, worker] = nodes
    const model = await affineModel()
    const digest = sha256Hex(model)
    assert.deepEqual(await modelFiles(worker), [])
    const data = rows(6)
    const first = await requester.services.compute.run({ workload: 'onnx', items: data.map(input), shardSize: 1, model }, { peers: [worker.peerId] })
    checkOutputs(first, data)
    // six shards in flight at once, one model on the wire
    assert.deepEqual(received, [digest])
    assert.deepEqual(await modelFiles(worker), [`${digest}.onnx`])
    const { ino, mtimeMs } = await stat(join(worker.cacheDir, 'models', `${digest}.onnx`))

    const second = await requester.services.compute.run({ workload: 'onnx', items: data.map(input), shardSize: 2, model }, { peers: [worker.peerId] })
    checkOutputs(second, data)
    assert.deepEqual(received, [digest], 'the model was shipped again')
    const again = await stat(join(worker.cacheDir, 'models', `${digest}.onnx`))
    assert.equal(again.ino, ino)
    assert.equal(again.mtimeMs, mtimeMs)

    // a newcomer gets it too; the worker that has it does not
    const newcomer = await computeNode({ workloads: [onnx()] })
    nodes.push(newcomer)
    await requester.dial(newcomer.getMultiaddrs())
    const third = await requester.services.compute.run({ workload: 'onnx', items: data.map(input), shardSize: 1, model }, { peers: [worker.peerId, newcomer.peerId] })
    checkOutputs(third, data)
    assert.deepEqual(received, [digest, digest])
    assert.deepEqual(await modelFiles(newcomer), [`${digest}.onnx`])
  })

  it('ships a model of many chunks (tens of MiB) intact', async () => {
    nodes = await computeNodes([{ workloads: [onnx()], offer: [] }, { workloads: [onnx()] }])
    const model = await affineModel(10 * 1024 * 1024)
    assert.ok(model.byteLength > 40 * 1024 * 1024)
    const data = rows(3)
    const result = await nodes[0].services.compute.run({ workload: 'onnx', items: data.map(input), shardSize: 1, model }, { peers: [nodes[1].peerId] })
    checkOutputs(result, data)
    assert.deepEqual(await modelFiles(nodes[1]), [`${sha256Hex(model)}.onnx`])
  })

  it('a worker whose model cache is held full refuses another model with ERR_MODEL_QUOTA, which the requester sees', async () => {
    const a = await affineModel()
    const b = await affineModel(8)
    // room for one of the two models: a shard that holds a keeps b out
    nodes = await computeNodes([
      { workloads: [onnx(), testWorkload()], offer: [] },
      { workloads: [onnx(), testWorkload({ mode: 'hang' })], slots: 1, modelCacheBytes: a.byteLength + b.byteLength - 1, modelCacheShare: 1 }
    ])
    const [requester, worker] = nodes
    const peers = [worker.peerId]
    const hang = new AbortController()
    const busy = requester.services.compute.run({ workload: 'test', items: bytes(1) }, { peers, signal: hang.signal, hedge: false })
    busy.catch(() => {})
    await waitFor(() => worker.services.compute.stats().active === 1, 'the slot taken', { timeout: 5000 })
    // this shard gets its model, then waits for the slot, holding the model
    const first = requester.services.compute.run({ workload: 'onnx', items: rows(1).map(input), model: a }, { peers, hedge: false })
    await waitFor(() => worker.services.compute.stats().queued === 1, 'the onnx shard queued', { timeout: 5000 })
    await assert.rejects(requester.services.compute.run({ workload: 'onnx', items: rows(1).map(input), model: b }, { peers, maxRetries: 0, hedge: false }), (err: any) => {
      assert.equal(err.name, 'ShardFailedError')
      assert.match(err.message, /ERR_MODEL_QUOTA a model of \d+ bytes does not fit: .* in use or arriving/)
      return true
    })
    assert.deepEqual(await modelFiles(worker), [`${sha256Hex(a)}.onnx`])
    hang.abort()
    await assert.rejects(busy)
    checkOutputs(await first, rows(1))
    // nothing holds a now: b takes its place
    checkOutputs(await requester.services.compute.run({ workload: 'onnx', items: rows(2).map(input), model: b }, { peers }), rows(2))
    assert.deepEqual(await modelFiles(worker), [`${sha256Hex(b)}.onnx`])
  })

  it('a job without the model it needs fails at once as a user error', async () => {
    nodes = await computeNodes([{ workloads: [onnx()], offer: [] }, { workloads: [onnx()] }])
    await assert.rejects(nodes[0].services.compute.run({ workload: 'onnx', items: rows(2).map(input) }, { peers: [nodes[1].peerId] }), (err: any) => {
      assert.equal(err.name, 'InvalidInputError')
      assert.match(err.message, /needs a model digest/)
      return true
    })
  })

  it('a model that does not load fails the job as a user error, after it was shipped intact', async () => {
    nodes = await computeNodes([{ workloads: [onnx()], offer: [] }, { workloads: [onnx()] }])
    const model = new TextEncoder().encode('not an onnx model at all')
    await assert.rejects(nodes[0].services.compute.run({ workload: 'onnx', items: rows(1).map(input), model }, { peers: [nodes[1].peerId] }), (err: any) => {
      assert.equal(err.name, 'InvalidInputError')
      assert.match(err.message, /the model does not load/)
      return true
    })
    assert.deepEqual(await modelFiles(nodes[1]), [`${sha256Hex(model)}.onnx`])
  })
})
