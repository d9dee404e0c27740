import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMeshNode } from '@shardmesh/node'
import { onnx, tensorMapCodec, tensorValues } from '@shardmesh/workloads'
import type { MeshNode } from '@shardmesh/node'
import type { NamedTensor } from '@shardmesh/workloads'

interface GraphBuilder {
  input(name: string, elemType: number, dims: Array<number | string>): string
  output(name: string, elemType: number, dims: Array<number | string>): void
  node(opType: string, inputs: string[], attributes?: Record<string, unknown>, output?: string): string
  scalar(value: number): string
  encode(meta: Record<string, unknown>): Uint8Array
}

/** `Y = 2X + 1` over float32 `X: [n, 3]`, built with the workloads' (internal) graph builder. */
async function affineModel (): Promise<Uint8Array> {
  const { GraphBuilder, ElemType } = await import(new URL('./embed/onnx-graph.js', import.meta.resolve('@shardmesh/workloads')).href) as {
    GraphBuilder: new (name: string) => GraphBuilder
    ElemType: { FLOAT: number }
  }
  const g = new GraphBuilder('affine')
  const x = g.input('X', ElemType.FLOAT, ['n', 3])
  g.node('Add', [g.node('Mul', [x, g.scalar(2)]), g.scalar(1)], {}, 'Y')
  g.output('Y', ElemType.FLOAT, ['n', 3])
  return g.encode({ producerName: 'shardmesh-test', producerVersion: '1', docString: '', opset: 13, irVersion: 8, metadata: {} })
}

function input (row: number[]): Uint8Array {
  const t: NamedTensor = { name: 'X', dtype: 'float32', dims: [1, 3], data: new Uint8Array(Float32Array.from(row).buffer) }
  return tensorMapCodec.encode([t])
}

describe('onnx jobs with verification, through the library over TCP', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const nodes: MeshNode[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
  let model: Uint8Array

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    model = await affineModel()
    for (let i = 0; i < 3; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-onnx-jobs-'))
      dirs.push(dataDir)
      nodes.push(await createMeshNode({
        dataDir,
        bootstrap: i === 0 ? [] : nodes[0].getMultiaddrs().map(ma => ma.toString()),
        capabilities: { nvidiaSmi: false },
        compute: { workloads: [onnx()], poolSize: 1 }
      }))
    }
  })

  after(async () => {
    process.off('unhandledRejection', onUnhandled)
    for (const node of nodes) {
      await node.stop()
    }
    await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true })))
  })

  afterEach(() => {
    assert.deepEqual(unhandled, [], 'an error escaped a job')
  })

  // decoded outputs arrive here as views into the Buffers TCP reads; the first run also ships the model
  for (const [verification, peers] of [['spot-check:1', [1, 2]], ['replicate:2', [0, 1]], ['replicate:2', [1, 2]]] as const) {
    it(`${verification} on ${(peers as readonly number[]).includes(0) ? 'this node and a peer' : 'two peers'}: every shard checked, outputs right`, async () => {
      const rows = Array.from({ length: 8 }, (_, i) => [i, -i / 3, 100 + i])
      const items = rows.map(r => Buffer.from(Buffer.from(input(r)).toString('base64'), 'base64'))
      const result = await nodes[0].services.compute.run({ workload: 'onnx', items, shardSize: 2, model }, {
        peers: peers.map(i => nodes[i].peerId),
        verification
      })
      assert.ok(result.shards.every(s => s.outcome === 'checked' && s.replicas.length === 2), JSON.stringify(result.shards))
      assert.deepEqual(result.disputes, [])
      result.outputs.forEach((o, i) => {
        const [y] = tensorMapCodec.decode(o)
        assert.deepEqual([...tensorValues(y) as Float32Array], rows[i].map(x => Math.fround(Math.fround(x * 2) + 1)))
      })
    })
  }
})
