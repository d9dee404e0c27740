import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyReceipt } from '@shardmesh/receipts'
import { ECHO_MAX_ITEM_BYTES, charAccuracy, echo, embed, embedTextCodec, generateOcrLines, ocrLineCodec, ocrRec } from '@shardmesh/workloads'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'
import type { JobResult } from '../src/index.js'

/** Shard sizes from one item per shard to more than the whole job. */
function shardSizes (items: number): number[] {
  return [1, 2, 3, 7, items + 1]
}

function hex (outputs: Uint8Array[]): string[] {
  return outputs.map(o => Buffer.from(o).toString('hex'))
}

describe('compute: sharded output equals the unsharded output', function () {
  this.timeout(60_000)
  let nodes: ComputeNode[]
  let cacheDir: string

  /** Run on the two workers (never on the requester, which offers nothing). */
  async function run (workload: string, items: Uint8Array[], shardSize: number, peers = nodes.slice(1)): Promise<JobResult> {
    return nodes[0].services.compute.run({ workload, items, shardSize }, { peers: peers.map(n => n.peerId) })
  }

  /** The reference: the whole input as one shard on one node. */
  async function reference (workload: string, items: Uint8Array[]): Promise<Uint8Array[]> {
    const result = await run(workload, items, items.length, [nodes[1]])
    assert.equal(result.shards.length, 1)
    return result.outputs
  }

  before(async function () {
    // the workers share one cache, so the embed model is generated once
    cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-sharding-'))
    const workloads = (): any[] => [echo(), embed(), ocrRec()]
    nodes = await computeNodes([
      { workloads: workloads(), offer: [] },
      { workloads: workloads(), cacheDir },
      { workloads: workloads(), cacheDir }
    ])
  })

  after(async () => {
    await stopAll(nodes ?? [])
    await rm(cacheDir, { recursive: true, force: true })
  })

  it('echo: every shard size gives the same outputs, in order, with one countersigned receipt per shard', async () => {
    const items = bytes(23)
    const expected = hex(await reference('echo', items))
    assert.deepEqual(expected, hex(items))
    for (const size of shardSizes(items.length)) {
      const result = await run('echo', items, size)
      assert.deepEqual(hex(result.outputs), expected, `shard size ${size}`)
      assert.equal(result.shards.length, Math.ceil(items.length / size))
      assert.deepEqual(result.shards.map(s => s.index), result.shards.map((_, i) => i))
      assert.equal(result.shards.reduce((n, s) => n + s.items, 0), items.length)
      assert.equal(result.receipts.length, result.shards.length)
      const indexes = new Set<number>()
      for (const bytes of result.receipts) {
        const receipt = await verifyReceipt(bytes, { requester: nodes[0].peerId })
        indexes.add(receipt.shardIndex)
        assert.equal(Buffer.from(receipt.jobId).toString('hex'), result.jobId)
      }
      assert.equal(indexes.size, result.shards.length)
    }
  })

  it('echo: an empty job completes with no output', async () => {
    const result = await run('echo', [], 4)
    assert.deepEqual(result.outputs, [])
    assert.deepEqual(result.shards, [])
  })

  it('echo: shards of several MiB (over libp2p\'s default 4 MiB read buffer) go through', async () => {
    const items = Array.from({ length: 6 }, (_, i) => new Uint8Array(ECHO_MAX_ITEM_BYTES - 64).fill(i + 1))
    const result = await run('echo', items, 6)
    assert.equal(result.outputs.length, 6)
    result.outputs.forEach((o, i) => { assert.ok(Buffer.from(o).equals(Buffer.from(items[i])), `item ${i}`) })
  })

  it('embed: vectors are the same bits whatever the shard size', async () => {
    const sentences = [
      'The quick brown fox jumps over the lazy dog.', 'hello world', '', 'Peer-to-peer compute without a coordinator.',
      'a', 'Numbers like 42 and 3.14 are tokens too.', 'Ça va? Très bien!', 'the river '.repeat(40),
      'Short.', 'Embeddings of similar sentences point the same way.'
    ]
    const items = sentences.map(s => embedTextCodec.encode(s))
    const expected = hex(await reference('embed', items))
    assert.equal(expected.length, items.length)
    assert.equal(new Set(expected).size, items.length)
    for (const size of shardSizes(items.length)) {
      const result = await run('embed', items, size)
      assert.deepEqual(hex(result.outputs), expected, `shard size ${size}`)
    }
  })

  it('ocr-rec: text (and confidence) is the same whatever the shard size', async () => {
    const { images, truth } = await generateOcrLines({ count: 6, seed: 7 })
    const expected = await reference('ocr-rec', images)
    const lines = expected.map(o => ocrLineCodec.decode(o))
    // the reference really read the lines
    const accuracy = charAccuracy(truth, lines.map(l => l.text), { ignoreSpaces: true })
    assert.ok(accuracy > 0.9, `accuracy ${accuracy}: ${JSON.stringify(lines.map(l => l.text))}`)
    for (const size of shardSizes(images.length)) {
      const result = await run('ocr-rec', images, size)
      assert.deepEqual(result.outputs.map(o => ocrLineCodec.decode(o).text), lines.map(l => l.text), `shard size ${size}`)
      assert.deepEqual(hex(result.outputs), hex(expected), `shard size ${size}`)
    }
  })
})
