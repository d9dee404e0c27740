import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { anchoring } from '@shardmesh/anchoring'
import { EmbeddedChain, EmbeddedLedger } from '@shardmesh/chain'
import { countersignReceipt, signReceipt } from '@shardmesh/receipts'
import { MAX_ANCHOR_PAYMENTS, MAX_TRANSACTION_SIZE, RENT_EXEMPT_MINIMUM, addressOfPeerId, signerFromPrivateKey, silentLogger } from '@shardmesh/solana'
import type { Anchoring } from '@shardmesh/anchoring'
import type { PrivateKey, Startable } from '@libp2p/interface'

const SOL = 1_000_000_000n
const PRICE = 7n

/**
 * A batch that owes more workers than one transaction can pay, anchored on the real (embedded)
 * chain: the anchoring service splits it into batches of at most MAX_ANCHOR_PAYMENTS payees, each
 * anchor transaction is under the 1232-byte limit, and every worker's balance grows by exactly
 * what its receipts owe.
 */
describe('settlement on the chain: a batch owing many workers is split, every transaction under the limit', function () {
  this.timeout(120_000)
  let dir: string
  let chain: EmbeddedChain
  let service: Anchoring & Startable

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-settlement-split-'))
    chain = await EmbeddedChain.open()
  })

  after(async () => {
    await service?.stop()
    await chain?.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** A requester's key, funded on the chain, and its anchoring service there (started; batches sealed only by flush). */
  async function fundedAnchorer (at: string): Promise<{ node: PrivateKey, signer: Awaited<ReturnType<typeof signerFromPrivateKey>>, ledger: EmbeddedLedger, anchorer: Anchoring & Startable }> {
    const node = await generateKeyPair('Ed25519')
    const signer = await signerFromPrivateKey(node)
    chain.airdrop(signer.address, 10n * SOL)
    const ledger = new EmbeddedLedger({ chain, signer })
    const anchorer = anchoring({ dir: at, ledger, batchSize: 10_000, batchInterval: 3_600_000 })({ privateKey: node, logger: { forComponent: () => silentLogger() } }) as Anchoring & Startable
    await anchorer.start()
    return { node, signer, ledger, anchorer }
  }

  /** A receipt of `items` echo items by `worker` for `requester`, at PRICE an item, countersigned as accepted. */
  async function paidReceipt (worker: PrivateKey, requester: PrivateKey, job: number, shardIndex: number, items: number): Promise<Uint8Array> {
    const signed = await signReceipt(worker, {
      jobId: new Uint8Array(16).fill(job),
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
      lamportsPerItem: PRICE
    })
    return countersignReceipt(requester, signed, { policy: 'none', outcome: 'accepted' }, { verified: true })
  }

  it('splits 2 × MAX_ANCHOR_PAYMENTS + 3 payees into 3 anchors, each paying its own batch exactly', async () => {
    const { node, signer, ledger, anchorer } = await fundedAnchorer(dir)
    service = anchorer

    const workers: PrivateKey[] = []
    for (let i = 0; i < 2 * MAX_ANCHOR_PAYMENTS + 3; i++) {
      const key = await generateKeyPair('Ed25519')
      workers.push(key)
      // an account that exists: any payment to it lands (a new one needs the rent-exempt minimum)
      chain.airdrop(addressOfPeerId(peerIdFromPrivateKey(key)), SOL)
    }
    const before = new Map(workers.map(w => [addressOfPeerId(peerIdFromPrivateKey(w)), chain.getBalance(addressOfPeerId(peerIdFromPrivateKey(w)))]))
    const owed = new Map<string, bigint>()
    const receipts: Uint8Array[] = []
    for (const [i, worker] of workers.entries()) {
      const items = 1 + (i % 5)
      receipts.push(await paidReceipt(worker, node, 9, i, items))
      owed.set(addressOfPeerId(peerIdFromPrivateKey(worker)), BigInt(items) * PRICE)
    }
    const payerBefore = chain.getBalance(signer.address)
    await service.store(receipts)
    await service.flush({ signal: AbortSignal.timeout(60_000) })

    const batches = service.batches()
    assert.equal(batches.length, 3)
    let fees = 0n
    for (const batch of batches) {
      const signature = batch.anchor?.signature ?? assert.fail('not anchored')
      const tx = chain.getTransaction(signature) ?? assert.fail('no transaction')
      assert.ok(tx.wire.byteLength <= MAX_TRANSACTION_SIZE, `${tx.wire.byteLength} bytes`)
      const record = await ledger.verifyAnchor(signature, Buffer.from(batch.root, 'hex'), batch.count, signer.address)
      assert.ok(record.transfers.length <= MAX_ANCHOR_PAYMENTS)
      assert.equal(record.transfers.length, batch.count, 'one receipt per worker here: one transfer per receipt')
      fees += record.fee
    }
    for (const [address, lamports] of owed) {
      assert.equal(chain.getBalance(address), (before.get(address) ?? 0n) + lamports, address)
    }
    const total = [...owed.values()].reduce((a, b) => a + b, 0n)
    assert.equal(chain.getBalance(signer.address), payerBefore - total - fees)
  })

  it('a payment too small to open a payee\'s account does not hold the proof back: the batch is anchored without it, and it stays owed', async () => {
    const { node, signer, ledger, anchorer: own } = await fundedAnchorer(join(dir, 'rent'))
    try {
      const funded = await generateKeyPair('Ed25519')
      const fresh = await generateKeyPair('Ed25519')
      const fundedAddress = addressOfPeerId(peerIdFromPrivateKey(funded))
      const freshAddress = addressOfPeerId(peerIdFromPrivateKey(fresh))
      chain.airdrop(fundedAddress, SOL)
      const receipts: Uint8Array[] = []
      for (const [i, worker] of [funded, fresh].entries()) {
        receipts.push(await paidReceipt(worker, node, 8, i, 3))
      }
      await own.store(receipts)
      await own.flush({ signal: AbortSignal.timeout(60_000) })
      const [batch] = own.batches()
      const signature = batch.anchor?.signature ?? assert.fail('not anchored')
      const record = await ledger.verifyAnchor(signature, Buffer.from(batch.root, 'hex'), batch.count, signer.address)
      // the funded worker is paid; the one without an account is not, and its 21 lamports stay owed
      assert.deepEqual(record.transfers, [{ from: signer.address, to: fundedAddress, lamports: 3n * PRICE }])
      assert.equal(chain.getBalance(fundedAddress), SOL + 3n * PRICE)
      assert.equal(chain.getBalance(freshAddress), 0n)
      assert.ok(3n * PRICE < RENT_EXEMPT_MINIMUM)
    } finally {
      await own.stop()
    }
  })
})
