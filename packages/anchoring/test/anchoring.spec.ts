import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ReceiptStore, checkReceiptProof, countersignReceipt, signReceipt } from '@shardmesh/receipts'
import { signerFromPrivateKey, silentLogger } from '@shardmesh/solana'
import { anchoring } from '../src/index.js'
import { STUB_GENESIS_HASH, StubLedger } from './utils/stub-ledger.js'
import type { Anchoring, AnchoringComponents, AnchoringEvents, AnchoringInit } from '../src/index.js'
import type { Counter, Metrics, PrivateKey, Startable } from '@libp2p/interface'

/** `count` distinct receipts signed by a worker and countersigned by a requester. */
async function countersigned (count: number): Promise<Uint8Array[]> {
  const workerKey = await generateKeyPair('Ed25519')
  const requesterKey = await generateKeyPair('Ed25519')
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const signed = await signReceipt(workerKey, {
      jobId: crypto.getRandomValues(new Uint8Array(16)),
      shardIndex: i,
      workload: 'echo',
      workloadVersion: '1.0.0',
      inputDigest: crypto.getRandomValues(new Uint8Array(32)),
      outputDigest: crypto.getRandomValues(new Uint8Array(32)),
      worker: peerIdFromPrivateKey(workerKey),
      requester: peerIdFromPrivateKey(requesterKey),
      startedAt: 1_000,
      finishedAt: 2_000,
      items: 1,
      cpuMicros: 10
    })
    out.push(await countersignReceipt(requesterKey, signed, { policy: 'none', outcome: 'accepted' }, { verified: true }))
  }
  return out
}

/** Metrics that remember what was registered and counted. */
function recordingMetrics (): { metrics: Metrics, counts: Map<string, number>, names: string[] } {
  const counts = new Map<string, number>()
  const names: string[] = []
  const metrics = {
    registerCounter (name: string): Counter {
      names.push(name)
      counts.set(name, 0)
      return { increment: (n = 1) => { counts.set(name, (counts.get(name) ?? 0) + n) }, reset: () => { counts.set(name, 0) } }
    },
    registerMetric (name: string): void {
      names.push(name)
    }
  }
  return { metrics: metrics as unknown as Metrics, counts, names }
}

type Service = Anchoring & Startable

async function nextEvent <K extends keyof AnchoringEvents> (service: Anchoring, name: K): Promise<AnchoringEvents[K]['detail']> {
  const [event] = await once(service, name)
  return (event as AnchoringEvents[K]).detail
}

describe('anchoring: the service with stub components and an in-memory ledger', function () {
  this.timeout(30_000)
  let dir: string
  let privateKey: PrivateKey
  const started: Service[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-anchoring-'))
    privateKey = await generateKeyPair('Ed25519')
  })

  afterEach(async () => {
    await Promise.all(started.splice(0).map(async s => s.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  async function start (init: AnchoringInit, components: Partial<AnchoringComponents> = {}): Promise<Service> {
    const service = anchoring(init)({ privateKey, logger: { forComponent: () => silentLogger() }, ...components }) as Service
    await service.start()
    started.push(service)
    return service
  }

  it('stores receipts durably, seals a full batch at once and anchors it; flush anchors the rest; each proof verifies', async () => {
    const ledger = new StubLedger()
    const service = await start({ dir, ledger, batchSize: 4, batchInterval: 60_000 })
    const anchored: string[] = []
    service.addEventListener('receipts:anchored', ({ detail }) => { anchored.push(detail.root) })
    const first = nextEvent(service, 'receipts:anchored')

    await service.store(await countersigned(6))
    assert.equal(service.count(), 6, 'stored when store() resolves')
    const batch = await first
    assert.deepEqual([batch.count, batch.fee], [4, 5_000n], 'the full batch, without a flush')

    await service.flush({ signal: AbortSignal.timeout(20_000) })
    const stats = service.stats()
    assert.deepEqual([stats.enabled, stats.anchoring, stats.receipts, stats.anchored, stats.batches, stats.anchoredBatches], [true, true, 6, 6, 2, 2])
    assert.equal(stats.address, ledger.address)
    assert.equal(stats.anchor?.feesLamports, 10_000n)
    assert.deepEqual(anchored, service.batches().map(b => b.root))
    assert.equal(ledger.submitted.length, 2)
    for (const r of service.list()) {
      const proof = service.proof(r.id) ?? assert.fail('no proof')
      await checkReceiptProof(proof)
      assert.equal(proof.anchor?.signature, r.anchor?.signature)
      assert.equal(proof.cluster, STUB_GENESIS_HASH, 'a proof names the cluster its anchor landed on')
    }
    await service.stop()
    assert.equal(ledger.closed, false, 'a ledger passed in is the caller\'s to close')
  })

  it('a failed attempt is reported, counted and retried', async () => {
    const ledger = new StubLedger({ failures: 1 })
    const { metrics, counts } = recordingMetrics()
    const service = await start({ dir, ledger, batchSize: 2, retryBase: 1 }, { metrics })
    const failed = nextEvent(service, 'receipts:anchor-failed')
    await service.store(await countersigned(2))
    assert.equal((await failed).error, 'Error: the stub ledger is down')
    await service.flush({ signal: AbortSignal.timeout(20_000) })
    const stats = service.stats()
    assert.equal(stats.anchored, 2)
    assert.equal(stats.anchor?.failures, 1)
    assert.equal(stats.anchor?.lastError, undefined, 'a success clears the last error')
    assert.equal(counts.get('shardmesh_receipts_anchor_failures_total'), 1)
  })

  it('counts under the same metric names', async () => {
    const { metrics, counts, names } = recordingMetrics()
    const service = await start({ dir, ledger: new StubLedger(), batchSize: 3 }, { metrics })
    assert.deepEqual(names, [
      'shardmesh_receipts_stored_total',
      'shardmesh_receipts_anchored_total',
      'shardmesh_receipts_anchor_fees_lamports_total',
      'shardmesh_receipts_anchor_failures_total',
      'shardmesh_receipts_unanchored'
    ])
    await service.store(await countersigned(3))
    await service.flush({ signal: AbortSignal.timeout(20_000) })
    assert.deepEqual(Object.fromEntries(counts), {
      shardmesh_receipts_stored_total: 3,
      shardmesh_receipts_anchored_total: 3,
      shardmesh_receipts_anchor_fees_lamports_total: 5_000,
      shardmesh_receipts_anchor_failures_total: 0
    })
  })

  it('after a restart, records the anchor an earlier run sent but did not record, and signs nothing new', async () => {
    const ledger = new StubLedger()
    // what a crash between sending and recording leaves: a sealed batch, a recorded attempt, a landed transaction
    const store = await ReceiptStore.open(dir)
    await store.addMany(await countersigned(3))
    const batch = await store.sealBatch() ?? assert.fail('nothing to seal')
    const prepared = await ledger.prepareAnchor(Buffer.from(batch.root, 'hex'), { count: batch.count })
    await store.recordAttempt(batch.root, prepared)
    await ledger.submit(prepared)
    await store.close()

    const service = await start({ dir, ledger, batchSize: 1000 })
    await service.flush({ signal: AbortSignal.timeout(20_000) })
    const [anchored] = service.batches()
    assert.equal(anchored.anchor?.signature, prepared.signature)
    assert.equal(ledger.prepared, 1, 'no second transaction for the batch')
  })

  it('without a ledger, stores and batches but does not anchor; flush says why', async () => {
    const service = await start({ dir })
    await service.store(await countersigned(2))
    assert.deepEqual([service.stats().enabled, service.stats().anchoring, service.stats().receipts], [true, false, 2])
    await assert.rejects(service.flush(), /no ledger/)
  })

  it('without a dir, stores nothing; flush says why', async () => {
    const service = await start({})
    await service.store(await countersigned(1))
    assert.deepEqual([service.stats().enabled, service.count(), service.list()], [false, 0, []])
    await assert.rejects(service.flush(), /no data dir/)
  })

  it('with an RPC URL, the node key signs the anchors', async () => {
    const service = await start({ dir, ledger: { rpcUrl: 'http://127.0.0.1:9' }, retryBase: 60_000 })
    const stats = service.stats()
    assert.equal(stats.address, (await signerFromPrivateKey(privateKey)).address)
    assert.equal(stats.rpcUrl, 'http://127.0.0.1:9')
  })
})
