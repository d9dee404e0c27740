import '@shardmesh/protocol/polyfill'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { MAX_SHARD_FRAME_BYTES, decodeWorkerFrame, encodeClientFrame, sha256 } from '@shardmesh/protocol'
import { countersignReceipt, signReceipt } from '@shardmesh/receipts'
import { STREAM_READ_BUFFER_BYTES } from '../../src/constants.js'
import { WorkerReceipts } from '../../src/worker/receipts.js'
import { serveShards } from '../../src/worker/serve.js'
import { quietLog } from '../requester/fake-channel.js'
import type { CountersignedOutcome } from '../../src/worker/receipts.js'
import type { ShardExecutor } from '../../src/worker/executor.js'
import type { ServeShardsOptions } from '../../src/worker/serve.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const JOB = new Uint8Array(16).fill(3)

describe('worker: countersigned receipts sent back', () => {
  let workerKey: PrivateKey
  let requesterKey: PrivateKey
  let otherKey: PrivateKey
  let worker: PeerId
  let requester: PeerId
  let other: PeerId

  before(async () => {
    [workerKey, requesterKey, otherKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    worker = peerIdFromPrivateKey(workerKey)
    requester = peerIdFromPrivateKey(requesterKey)
    other = peerIdFromPrivateKey(otherKey)
  })

  /** A receipt of shard `shardIndex` signed by `by` (as its worker) for `forRequester`. */
  async function signed (shardIndex: number, by = workerKey, forRequester = requester): Promise<Uint8Array> {
    const now = Date.now()
    return signReceipt(by, {
      jobId: JOB,
      shardIndex,
      workload: 'echo',
      workloadVersion: '1.0.0',
      inputDigest: sha256(Uint8Array.of(1)),
      outputDigest: sha256(Uint8Array.of(2)),
      worker: peerIdFromPrivateKey(by),
      requester: forRequester,
      startedAt: now,
      finishedAt: now,
      items: 1,
      cpuMicros: 0
    })
  }

  async function countersigned (receipt: Uint8Array, by = requesterKey): Promise<Uint8Array> {
    return countersignReceipt(by, receipt, { policy: 'none', outcome: 'accepted' }, { verified: true })
  }

  /** serveShards for `requester` with these worker receipts; every frame's outcome in order. */
  async function serving (receipts: WorkerReceipts): Promise<{ send(shardIndex: number, list: Uint8Array[]): Promise<void>, next(): Promise<CountersignedOutcome>, lp: ReturnType<typeof lpStream>, stop(): void }> {
    const [outbound, inbound] = await streamPair()
    const shutdown = new AbortController()
    const outcomes: CountersignedOutcome[] = []
    const waiting: Array<(o: CountersignedOutcome) => void> = []
    const options: ServeShardsOptions = {
      executor: { receipts, execute: async () => { throw new Error('no shard here') } } as unknown as ShardExecutor,
      models: {} as unknown as ServeShardsOptions['models'],
      requester,
      log: quietLog,
      signal: shutdown.signal,
      progressInterval: 100,
      modelTimeout: 1000,
      idleTimeout: 30_000,
      inflightModels: new Map(),
      onCountersigned: (outcome) => {
        const w = waiting.shift()
        if (w != null) {
          w(outcome)
        } else {
          outcomes.push(outcome)
        }
      }
    }
    void serveShards(inbound, options)
    const lp = lpStream(outbound, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
    return {
      lp,
      send: async (shardIndex, list) => { await lp.write(encodeClientFrame({ countersigned: { jobId: JOB, shardIndex, receipts: list } })) },
      next: async () => {
        const o = outcomes.shift()
        return o ?? new Promise(resolve => waiting.push(resolve))
      },
      stop: () => { shutdown.abort() }
    }
  }

  it('keeps a valid countersigned receipt of its own work, and refuses every other with its reason', async () => {
    const sink: Uint8Array[][] = []
    const receipts = new WorkerReceipts({ self: worker, sink: { store: async (list) => { sink.push(list) } }, log: quietLog })
    const mine = await signed(0)
    receipts.remember(mine, requester)
    const forOther = await signed(1, workerKey, other)
    receipts.remember(forOther, other)
    const remembered = await signed(2)
    receipts.remember(remembered, requester)
    const s = await serving(receipts)
    try {
      const refusals: Array<[number, Uint8Array[], string]> = [
        [0, [mine], 'invalid'], // not countersigned
        [0, [await countersigned(await signed(0, otherKey))], 'not-signed-here'], // another worker's
        [5, [await countersigned(await signed(5))], 'not-signed-here'], // never signed here
        [1, [await countersigned(forOther, otherKey)], 'wrong-requester'], // signed for another requester than the stream's peer
        [0, [await countersigned(mine, otherKey)], 'invalid'], // countersigned by a key that is not the requester it names
        [2, [await countersigned(mine)], 'wrong-shard'], // a valid receipt under another shard's name
        [0, [new Uint8Array(5000)], 'too-large'],
        [0, [Uint8Array.of(1, 2, 3)], 'undecodable']
      ]
      for (const [shard, list, reason] of refusals) {
        await s.send(shard, list)
        const outcome = await s.next()
        assert.deepEqual(outcome.stored, [], reason)
        assert.deepEqual(outcome.refused.map(r => r.reason), [reason])
      }
      assert.deepEqual(sink, [], 'nothing refused was stored')
      const good = await countersigned(mine)
      await s.send(0, [good])
      assert.equal((await s.next()).stored.length, 1)
      assert.deepEqual(sink, [[good]])
      // the same receipt again is not stored twice
      await s.send(0, [good])
      assert.deepEqual((await s.next()).refused.map(r => r.reason), ['not-signed-here'])
      // one remembered for this requester still comes through after all that
      await s.send(2, [await countersigned(remembered)])
      assert.equal((await s.next()).stored.length, 1)
      assert.equal(sink.length, 2)
    } finally {
      s.stop()
    }
  })

  it('a frame with more receipts than a shard may have replicas does not decode: the stream ends', async () => {
    const receipts = new WorkerReceipts({ self: worker, sink: { store: async () => {} }, log: quietLog })
    const s = await serving(receipts)
    try {
      await s.send(0, Array.from({ length: 8 }, () => Uint8Array.of(1)))
      const frame = decodeWorkerFrame((await s.lp.read()).subarray())
      assert.equal(frame.error?.id, 0)
      assert.equal(frame.error?.code, 'ERR_MESSAGE_TOO_LARGE')
    } finally {
      s.stop()
    }
  })

  it('remembers a bounded number of signed receipts, forgetting the oldest; without a sink it remembers none', async () => {
    const receipts = new WorkerReceipts({ self: worker, sink: { store: async () => {} }, log: quietLog, max: 2 })
    const list = [await signed(0), await signed(1), await signed(2)]
    list.forEach(r => { receipts.remember(r, requester) })
    assert.equal(receipts.remembered, 2)
    const first = await receipts.keep(JOB, 0, [await countersigned(list[0])], requester)
    assert.deepEqual(first.refused.map(r => r.reason), ['not-signed-here'])
    const last = await receipts.keep(JOB, 2, [await countersigned(list[2])], requester)
    assert.equal(last.stored.length, 1)

    const off = new WorkerReceipts({ self: worker, log: quietLog })
    off.remember(list[0], requester)
    assert.equal(off.enabled, false)
    assert.equal(off.remembered, 0)
  })

  it('watch() counts the receipts signed from then on until their countersigned copy is kept (a draining worker waits for them)', async () => {
    const receipts = new WorkerReceipts({ self: worker, sink: { store: async () => {} }, log: quietLog })
    const before = await signed(0)
    receipts.remember(before, requester)
    assert.equal(receipts.awaiting, 0, 'nothing is counted before watch()')
    receipts.watch()
    const during = [await signed(1), await signed(2)]
    during.forEach(r => { receipts.remember(r, requester) })
    assert.equal(receipts.awaiting, 2)
    // a refused copy is still awaited; a kept one is not
    await receipts.keep(JOB, 1, [await countersigned(during[0], otherKey)], requester)
    assert.equal(receipts.awaiting, 2)
    assert.equal((await receipts.keep(JOB, 1, [await countersigned(during[0])], requester)).stored.length, 1)
    assert.equal(receipts.awaiting, 1)
    await receipts.keep(JOB, 0, [await countersigned(before)], requester)
    assert.equal(receipts.awaiting, 1, 'a receipt signed before watch() is not counted')
    await receipts.keep(JOB, 2, [await countersigned(during[1])], requester)
    assert.equal(receipts.awaiting, 0)

    const off = new WorkerReceipts({ self: worker, log: quietLog })
    off.watch()
    off.remember(before, requester)
    assert.equal(off.awaiting, 0, 'a worker that keeps nothing awaits nothing')
  })

  it('a sink that fails stores nothing, and the receipt may come again', async () => {
    let fail = true
    const kept: Uint8Array[] = []
    const receipts = new WorkerReceipts({ self: worker, sink: { store: async (list) => { if (fail) throw new Error('disk full'); kept.push(...list) } }, log: quietLog })
    const mine = await signed(0)
    receipts.remember(mine, requester)
    const good = await countersigned(mine)
    assert.deepEqual((await receipts.keep(JOB, 0, [good], requester)).refused.map(r => r.reason), ['store-failed'])
    fail = false
    assert.equal((await receipts.keep(JOB, 0, [good], requester)).stored.length, 1)
    assert.deepEqual(kept, [good])
  })
})
