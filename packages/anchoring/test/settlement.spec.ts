import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { countersignReceipt, decodeTrustedReceipt, signReceipt } from '@shardmesh/receipts'
import { MAX_ANCHOR_PAYMENTS, addressOfPeerId, silentLogger } from '@shardmesh/solana'
import { anchoring } from '../src/index.js'
import { StubLedger } from './utils/stub-ledger.js'
import type { Anchoring } from '../src/index.js'
import type { PrivateKey, Startable } from '@libp2p/interface'

/** A receipt of `items` items at `price` lamports each by `worker`, countersigned by `requester` with `outcome`. */
async function receipt (worker: PrivateKey, requester: PrivateKey, shardIndex: number, items: number, price: bigint, outcome: 'accepted' | 'checked' | 'disputed' = 'accepted'): Promise<Uint8Array> {
  const signed = await signReceipt(worker, {
    jobId: new Uint8Array(16).fill(7),
    shardIndex,
    workload: 'echo',
    workloadVersion: '1.0.0',
    inputDigest: new Uint8Array(32).fill(1),
    outputDigest: new Uint8Array(32).fill(2),
    worker: peerIdFromPrivateKey(worker),
    requester: peerIdFromPrivateKey(requester),
    startedAt: 1_000,
    finishedAt: 2_000,
    items,
    cpuMicros: 10,
    lamportsPerItem: price
  })
  return countersignReceipt(requester, signed, { policy: 'none', outcome }, { verified: true })
}

describe('anchoring: settlement (the anchor pays the workers what their receipts are owed)', function () {
  this.timeout(60_000)
  let dir: string
  let node: PrivateKey
  let service: Anchoring & Startable

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-settlement-'))
    node = await generateKeyPair('Ed25519')
  })

  afterEach(async () => {
    await service?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('pays each worker the sum it is owed in the batch\'s anchor; a batch owing too many workers is split', async () => {
    const ledger = new StubLedger({ address: addressOfPeerId(peerIdFromPrivateKey(node)) })
    service = anchoring({ dir, ledger, batchSize: 1000, batchInterval: 3_600_000 })({ privateKey: node, logger: { forComponent: () => silentLogger() } }) as Anchoring & Startable
    await service.start()
    const workers: PrivateKey[] = []
    for (let i = 0; i < MAX_ANCHOR_PAYMENTS + 3; i++) {
      workers.push(await generateKeyPair('Ed25519'))
    }
    const receipts: Uint8Array[] = []
    const owed = new Map<string, bigint>()
    let shard = 0
    for (const [i, worker] of workers.entries()) {
      // two paid receipts each (3 and i+1 items at 100 lamports), one unpaid, one disputed
      receipts.push(await receipt(worker, node, shard++, 3, 100n))
      receipts.push(await receipt(worker, node, shard++, i + 1, 100n, 'checked'))
      receipts.push(await receipt(worker, node, shard++, 5, 0n))
      receipts.push(await receipt(worker, node, shard++, 5, 100n, 'disputed'))
      owed.set(addressOfPeerId(peerIdFromPrivateKey(worker)), BigInt(3 + i + 1) * 100n)
    }
    await service.store(receipts)
    await service.flush({ signal: AbortSignal.timeout(30_000) })

    const batches = service.batches()
    assert.equal(batches.length, 2, 'split in two: one anchor cannot pay them all')
    assert.equal(batches.reduce((n, b) => n + b.count, 0), receipts.length)
    const paid = new Map<string, bigint>()
    for (const batch of batches) {
      const signature = batch.anchor?.signature ?? assert.fail('not anchored')
      const payments = ledger.payments.get(signature) ?? assert.fail('no payments recorded')
      assert.ok(payments.length <= MAX_ANCHOR_PAYMENTS, `${payments.length} payees in one anchor`)
      // in address order, each payee once
      assert.deepEqual(payments.map(p => p.to), [...new Set(payments.map(p => p.to))].sort())
      for (const p of payments) {
        paid.set(p.to, (paid.get(p.to) ?? 0n) + p.lamports)
      }
      // the lookup reads them back as transfers from the node key
      const record = await ledger.lookup(signature) ?? assert.fail('no record')
      assert.deepEqual(record.transfers, payments.map(p => ({ from: ledger.address, to: p.to, lamports: p.lamports })))
      // each payment is what the batch's own receipts owe
      const inBatch = new Map<string, bigint>()
      for (const id of batch.receiptIds) {
        const r = decodeTrustedReceipt(service.get(id)?.bytes ?? assert.fail('missing receipt'))
        if (r.lamportsPerItem > 0n && r.verification?.outcome !== 'disputed') {
          const to = addressOfPeerId(r.worker)
          inBatch.set(to, (inBatch.get(to) ?? 0n) + BigInt(r.items) * r.lamportsPerItem)
        }
      }
      assert.deepEqual(new Map(payments.map(p => [p.to, p.lamports])), inBatch)
    }
    assert.deepEqual(new Map([...paid].sort()), new Map([...owed].sort()), 'every worker paid exactly what it is owed, over the batches')
  })

  it('a failed send is retried with the same signed transaction: the batch is paid once', async () => {
    const ledger = new StubLedger({ failures: 2, address: addressOfPeerId(peerIdFromPrivateKey(node)) })
    service = anchoring({ dir, ledger, batchSize: 1000, batchInterval: 3_600_000, retryBase: 1 })({ privateKey: node, logger: { forComponent: () => silentLogger() } }) as Anchoring & Startable
    await service.start()
    const worker = await generateKeyPair('Ed25519')
    await service.store([await receipt(worker, node, 0, 4, 25n), await receipt(worker, node, 1, 2, 25n)])
    await service.flush({ signal: AbortSignal.timeout(30_000) })
    const [batch] = service.batches()
    assert.equal(ledger.prepared, 1, 'signed once: the recorded attempt was sent again')
    assert.deepEqual(ledger.submitted, [batch.anchor?.signature])
    assert.deepEqual(ledger.payments.get(batch.anchor?.signature ?? ''), [{ to: addressOfPeerId(peerIdFromPrivateKey(worker)), lamports: 150n }])
  })

  it('pays nothing for unpaid receipts, nor for receipts another requester countersigned', async () => {
    const ledger = new StubLedger({ address: addressOfPeerId(peerIdFromPrivateKey(node)) })
    service = anchoring({ dir, ledger, batchSize: 1000, batchInterval: 3_600_000 })({ privateKey: node, logger: { forComponent: () => silentLogger() } }) as Anchoring & Startable
    await service.start()
    const worker = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    await service.store([await receipt(worker, node, 0, 4, 0n), await receipt(worker, other, 1, 4, 50n)])
    await service.flush({ signal: AbortSignal.timeout(30_000) })
    const [batch] = service.batches()
    assert.deepEqual(ledger.payments.get(batch.anchor?.signature ?? ''), [])
  })
})
