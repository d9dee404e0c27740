import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { encodeItemList, sha256 } from '@shardmesh/protocol'
import { owedLamports, signReceipt, verifyReceipt } from '@shardmesh/receipts'
import { echo } from '@shardmesh/workloads'
import { checkResult } from '../src/requester/result-check.js'
import { bytes, computeNodes, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'

describe('compute: a paid job (--pay): the price travels in the request and is signed in every receipt', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]

  afterEach(async () => {
    await stopAll(nodes ?? [])
  })

  it('every receipt, remote worker and this node alike, states the price the job asked; each owes items × price', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }, { workloads: [echo()] }])
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(10), shardSize: 3 }, { peers: [nodes[0].peerId, nodes[1].peerId], pay: { lamportsPerItem: 1_000n } })
    assert.equal(result.receipts.length, 4)
    const workers = new Set<string>()
    let owed = 0n
    for (const bytes of result.receipts) {
      const r = await verifyReceipt(bytes, { requester: nodes[0].peerId })
      assert.equal(r.lamportsPerItem, 1_000n)
      workers.add(r.worker.toString())
      owed += owedLamports(r)
      if (r.worker.equals(nodes[1].peerId)) {
        assert.equal(owedLamports(r), BigInt(r.items) * 1_000n)
      }
    }
    assert.ok(workers.has(nodes[1].peerId.toString()), 'the remote worker did shards')
    assert.ok(owed > 0n)
  })

  it('an unpaid job\'s receipts state no price', async () => {
    nodes = await computeNodes([{ workloads: [echo()], offer: [] }, { workloads: [echo()] }])
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(4), shardSize: 2 }, { peers: [nodes[1].peerId] })
    for (const bytes of result.receipts) {
      assert.equal((await verifyReceipt(bytes)).lamportsPerItem, 0n)
    }
  })

  it('a worker that signs another price has its results refused; the job completes on an honest worker', async () => {
    nodes = await computeNodes([
      { workloads: [echo()], offer: [] },
      { workloads: [echo()], faults: { wrongPrice: 1n } },
      { workloads: [echo()] }
    ])
    const result = await nodes[0].services.compute.run({ workload: 'echo', items: bytes(8), shardSize: 2 }, { peers: [nodes[1].peerId, nodes[2].peerId], pay: { lamportsPerItem: 500n } })
    for (const bytes of result.receipts) {
      const r = await verifyReceipt(bytes)
      assert.equal(r.lamportsPerItem, 500n)
      assert.ok(r.worker.equals(nodes[2].peerId), 'only the honest worker\'s receipts were accepted')
    }
    const liar = result.peers.find(p => p.peerId === nodes[1].peerId.toString())
    assert.ok(liar == null || liar.shards === 0, 'the liar completed no shard')
  })

  it('refuses a price that is not a positive, safe bigint before any work', async () => {
    nodes = await computeNodes([{ workloads: [echo()] }])
    for (const lamportsPerItem of [0n, -5n, BigInt(Number.MAX_SAFE_INTEGER) + 1n, 5 as unknown as bigint]) {
      await assert.rejects(nodes[0].services.compute.run({ workload: 'echo', items: bytes(2) }, { pay: { lamportsPerItem } }), RangeError)
    }
  })

  it('checkResult refuses a receipt whose price is not the one asked, as a bad result', async () => {
    const worker = await generateKeyPair('Ed25519')
    const requester = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const input = encodeItemList([Uint8Array.of(1)])
    const output = encodeItemList([Uint8Array.of(1)])
    const jobId = new Uint8Array(16).fill(3)
    const receipt = async (price: bigint): Promise<Uint8Array> => signReceipt(worker, {
      jobId, shardIndex: 0, workload: 'echo', workloadVersion: echo().version, inputDigest: sha256(input), outputDigest: sha256(output),
      worker: peerIdFromPrivateKey(worker), requester, startedAt: 1, finishedAt: 2, items: 1, cpuMicros: 1, lamportsPerItem: price
    })
    const check = async (signed: bigint, asked?: bigint): Promise<unknown> => checkResult(echo(), {
      jobId, requester, worker: peerIdFromPrivateKey(worker), shardIndex: 0, input, items: 1, output, receipt: await receipt(signed), lamportsPerItem: asked
    })
    await check(7n, 7n)
    await check(0n)
    const bad = (err: any): boolean => err.name === 'BadResultError' && /price/.test(err.message)
    await assert.rejects(check(6n, 7n), bad)
    await assert.rejects(check(7n), bad)
    await assert.rejects(check(0n, 7n), bad)
  })
})
