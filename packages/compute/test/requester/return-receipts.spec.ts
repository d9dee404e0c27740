import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { verifyReceipt } from '@shardmesh/receipts'
import { echo } from '@shardmesh/workloads'
import { JobRun } from '../../src/requester/job-run.js'
import { FakeChannel, quietLog } from './fake-channel.js'
import type { JobRunInit } from '../../src/requester/job-run.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

function items (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`item-${i}`))
}

describe('requester: countersigned receipts go back to their workers', () => {
  let key: PrivateKey
  let self: PeerId

  before(async () => {
    key = await generateKeyPair('Ed25519')
    self = peerIdFromPrivateKey(key)
  })

  function job (channels: FakeChannel[], init: Partial<JobRunInit> = {}): JobRun {
    return new JobRun({
      jobId: new Uint8Array(16).fill(9),
      workload: echo(),
      items: items(6),
      shardSize: 1,
      peers: channels.map(channel => ({ channel, window: 2 })),
      self,
      privateKey: key,
      policy: { kind: 'none' },
      maxRetries: 3,
      idleTimeout: 30_000,
      queueTimeout: 60_000,
      hedge: false,
      log: quietLog,
      ...init
    })
  }

  it('replicate:3 with a liar: each agreeing worker gets exactly its own countersigned receipts, after they were stored; the loser gets none', async () => {
    const liar = await FakeChannel.create(self, attempt => [new Uint8Array([0xff, attempt.shardIndex])])
    const honest = [await FakeChannel.create(self), await FakeChannel.create(self)]
    const events: string[] = []
    const stored = new Set<string>()
    const channels = [honest[0], liar, honest[1]]
    for (const channel of channels) {
      const deliver = channel.deliver.bind(channel)
      channel.deliver = (delivery) => {
        // every receipt given back was stored before
        assert.ok(delivery.receipts.every(r => stored.has(Buffer.from(r).toString('hex'))), 'delivered before it was stored')
        events.push(`deliver ${delivery.shardIndex}`)
        deliver(delivery)
      }
    }
    const result = await job(channels, {
      policy: { kind: 'replicate', k: 3 },
      receiptSink: {
        store: async (receipts) => {
          receipts.forEach(r => stored.add(Buffer.from(r).toString('hex')))
        }
      }
    }).run()
    assert.equal(result.receipts.length, 12)
    assert.deepEqual(liar.delivered, [])
    for (const channel of honest) {
      const mine = []
      for (const bytes of result.receipts) {
        const r = await verifyReceipt(bytes, { requester: self })
        if (r.worker.equals(channel.peerId)) {
          mine.push(bytes)
        }
      }
      assert.equal(mine.length, 6)
      const delivered = channel.delivered
      assert.deepEqual(delivered.map(d => d.receipts.length), [1, 1, 1, 1, 1, 1], 'one delivery per shard, its own receipt only')
      assert.deepEqual(new Set(delivered.flatMap(d => d.receipts).map(r => Buffer.from(r).toString('hex'))), new Set(mine.map(r => Buffer.from(r).toString('hex'))))
      for (const d of delivered) {
        assert.deepEqual(d.jobId, new Uint8Array(16).fill(9))
        const r = await verifyReceipt(d.receipts[0], { requireCountersignature: true, worker: channel.peerId, requester: self })
        assert.equal(r.shardIndex, d.shardIndex)
      }
    }
    assert.equal(events.length, 12)
  })

  it('returnReceipts: false gives nothing back; a channel without deliver (or one that throws) does not fail the job', async () => {
    const quiet = [await FakeChannel.create(self), await FakeChannel.create(self)]
    await job(quiet, { returnReceipts: false }).run()
    assert.deepEqual(quiet.flatMap(c => c.delivered), [])

    const throwing = await FakeChannel.create(self)
    throwing.deliver = () => { throw new Error('the stream is gone') }
    const bare = await FakeChannel.create(self)
    Object.defineProperty(bare, 'deliver', { value: undefined })
    const result = await job([throwing, bare]).run()
    assert.equal(result.receipts.length, 6)
  })
})
