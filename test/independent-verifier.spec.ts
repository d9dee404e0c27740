import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { startChainServer } from '@shardmesh/chain'
import { verifyProofOverRpc } from '@shardmesh/cli'
import { decodeReceipt, decodeSignedReceipt, encodeReceipt, encodeSignedReceipt, encodeItemList, sha256 } from '@shardmesh/protocol'
import { ReceiptStore, countersignReceipt, countersignReceipts, decodeReceiptProof, encodeReceiptProof, signReceipt, signReceipts } from '@shardmesh/receipts'
import { RpcLedger, signerFromPrivateKey } from '@shardmesh/solana'
import { address, createSolanaRpc, lamports } from '@solana/kit'
import { ProofCheckError, rpcCall, verifyProof } from './independent-verifier/verify.js'
import { runCli } from './utils/run-cli.js'
import type { Check } from './independent-verifier/verify.js'
import type { PrivateKey } from '@libp2p/interface'
import type { ReceiptFields } from '@shardmesh/receipts'

/**
 * Proofs from a real receipt store, anchored on a real (embedded) chain served over JSON-RPC,
 * checked by the verifier in ./independent-verifier, which imports nothing of shardmesh and
 * was written from docs/PROTOCOL.md. Then shardmesh's own `receipts verify` on slot and cluster.
 */
describe('an independent verifier (docs/PROTOCOL.md only) checks proofs from a receipt store', function () {
  this.timeout(120_000)
  let dir: string
  let server: Awaited<ReturnType<typeof startChainServer>>
  let workerKey: PrivateKey
  let requesterKey: PrivateKey
  let requesterLedger: RpcLedger
  let otherLedger: RpcLedger
  let genesisHash: string
  /** proof files of the three receipts of the anchored batch */
  let files: string[]
  /** the proof of leaf 1, parsed */
  let proof: any
  let txBase64: any
  let txJson: any
  /** a transaction the requester signed with another batch's memo; one another key signed with this memo */
  let otherMemoTx: { signature: string, tx: any }
  let otherSignerTx: { signature: string, tx: any }
  /** the proof of a receipt its worker anchored itself (`anchor.by: "worker"`), and its transaction */
  let workerProof: string
  let workerTx: any
  let workerLedger: RpcLedger

  async function getTransaction (signature: string, encoding: 'base64' | 'json'): Promise<any> {
    return rpcCall(server.url, 'getTransaction', [signature, { encoding, maxSupportedTransactionVersion: 0, commitment: 'confirmed' }])
  }

  function rejectsAt (check: Check, fn: () => unknown): void {
    assert.throws(fn, (err: any) => {
      assert.ok(err instanceof ProofCheckError, `expected a ProofCheckError, got ${String(err)}`)
      assert.equal(err.check, check, err.message)
      return true
    })
  }

  /** The proof of leaf 1 with `change` applied to a copy of it. */
  function tampered (change: (p: any) => void): string {
    const copy = structuredClone(proof)
    change(copy)
    return JSON.stringify(copy)
  }

  /** The proof of leaf 1 with its SignedReceipt changed. */
  function withReceipt (change: (signed: ReturnType<typeof decodeSignedReceipt>) => Uint8Array): string {
    return tampered(p => { p.receipt = Buffer.from(change(decodeSignedReceipt(Buffer.from(proof.receipt, 'base64')))).toString('base64') })
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-independent-verifier-'))
    server = await startChainServer({ port: 0, dataDir: join(dir, 'chain') })
    const rpc = createSolanaRpc(server.url)
    genesisHash = await rpc.getGenesisHash().send()
    workerKey = await generateKeyPair('Ed25519')
    requesterKey = await generateKeyPair('Ed25519')
    const otherKey = await generateKeyPair('Ed25519')
    requesterLedger = new RpcLedger({ rpcUrl: server.url, signer: await signerFromPrivateKey(requesterKey), pollInterval: 50 })
    otherLedger = new RpcLedger({ rpcUrl: server.url, signer: await signerFromPrivateKey(otherKey), pollInterval: 50 })
    for (const ledger of [requesterLedger, otherLedger]) {
      await rpc.requestAirdrop(address(ledger.address), lamports(10_000_000_000n)).send()
    }

    // six shards: the worker signs, the requester countersigns and stores them, seals and anchors
    // a batch. Shards 0-2 are signed one by one, 3-5 as one group by each party (PROTOCOL.md §6)
    const store = await ReceiptStore.open(join(dir, 'receipts'))
    const countersigned: Uint8Array[] = []
    const fieldsOf = (i: number): ReceiptFields => ({
      jobId: new Uint8Array(16).fill(3),
      shardIndex: i,
      workload: 'ocr-rec',
      workloadVersion: '1.0.0',
      inputDigest: sha256(encodeItemList([Uint8Array.of(i)])),
      outputDigest: sha256(encodeItemList([Uint8Array.of(i, i)])),
      worker: peerIdFromPrivateKey(workerKey),
      requester: peerIdFromPrivateKey(requesterKey),
      startedAt: 1_717_000_000_000,
      finishedAt: 1_717_000_000_250,
      items: 1,
      cpuMicros: 1000
    })
    for (const i of [0, 1, 2]) {
      const signed = await signReceipt(workerKey, fieldsOf(i))
      countersigned.push(await countersignReceipt(requesterKey, signed, { policy: 'spot-check:0.1', outcome: 'accepted' }))
    }
    const group = signReceipts(workerKey, [3, 4, 5].map(fieldsOf))
    countersigned.push(...await countersignReceipts(requesterKey, group.map(receipt => ({ receipt, verification: { policy: 'spot-check:0.1', outcome: 'accepted' } }))))
    const stored = await store.addMany(countersigned)
    const batch = await store.sealBatch()
    assert.ok(batch != null)
    const anchor = await requesterLedger.anchor(Buffer.from(batch.root, 'hex'), { count: batch.count })
    await store.recordAnchor(batch.root, anchor)
    // the store does not record the cluster (yet): the proof file gets it from getGenesisHash
    files = stored.map(s => encodeReceiptProof({ ...store.proof(s.id)!, cluster: genesisHash }))
    await store.close()
    proof = JSON.parse(files[1])

    const otherMemo = await requesterLedger.anchor(sha256(Uint8Array.of(9)), { count: 3 })
    const otherSigner = await otherLedger.anchor(Buffer.from(batch.root, 'hex'), { count: batch.count })
    txBase64 = await getTransaction(anchor.signature, 'base64')
    txJson = await getTransaction(anchor.signature, 'json')
    otherMemoTx = { signature: otherMemo.signature, tx: await getTransaction(otherMemo.signature, 'base64') }
    otherSignerTx = { signature: otherSigner.signature, tx: await getTransaction(otherSigner.signature, 'base64') }

    // the worker holds the same countersigned receipts; its requester delivered no anchor, so it anchors them itself
    workerLedger = new RpcLedger({ rpcUrl: server.url, signer: await signerFromPrivateKey(workerKey), pollInterval: 50 })
    await rpc.requestAirdrop(address(workerLedger.address), lamports(1_000_000_000n)).send()
    const workerStore = await ReceiptStore.open(join(dir, 'worker-receipts'))
    const held = await workerStore.addMany(countersigned, { role: 'worker' })
    const own = await workerStore.sealBatch({ role: 'worker' })
    assert.ok(own != null)
    const ownAnchor = await workerLedger.anchor(Buffer.from(own.root, 'hex'), { count: own.count })
    await workerStore.recordAnchor(own.root, { ...ownAnchor, cluster: genesisHash })
    workerProof = encodeReceiptProof(workerStore.proof(held[0].id)!)
    await workerStore.close()
    workerTx = await getTransaction(ownAnchor.signature, 'base64')
  })

  after(async () => {
    await requesterLedger?.close()
    await otherLedger?.close()
    await workerLedger?.close()
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('verifies every proof of the batch, from the transaction in base64 and in json encoding', async () => {
    for (const file of files) {
      const parsed = JSON.parse(file)
      const tx = await getTransaction(parsed.anchor.signature, 'base64')
      const verified = verifyProof(file, tx, genesisHash)
      assert.equal(verified.root, parsed.batch.root)
      assert.equal(verified.slot, BigInt(parsed.anchor.slot))
      assert.equal(verified.requesterAddress, requesterLedger.address)
      assert.equal(verified.policy, 'spot-check:0.1')
      assert.equal(verified.outcome, 'accepted')
    }
    const verified = verifyProof(files[1], txJson, genesisHash)
    // the receipt id: sha256 of the Receipt bytes, as shardmesh names it
    assert.equal(verified.receiptId, Buffer.from(sha256(decodeSignedReceipt(Buffer.from(proof.receipt, 'base64')).receipt)).toString('hex'))
  })

  it('checks a receipt signed in a group by the path it carries: a doctored path, index or verdict is refused', () => {
    const file = files[4]
    const parsed = JSON.parse(file)
    const signed = decodeSignedReceipt(Buffer.from(parsed.receipt, 'base64'))
    assert.deepEqual([signed.workerGroup?.index, signed.workerGroup?.count, signed.requesterGroup?.index, signed.requesterGroup?.count], [1, 3, 1, 3])
    assert.equal(verifyProof(file, txBase64, genesisHash).outcome, 'accepted')
    const change = (edit: (s: typeof signed) => Uint8Array): string => JSON.stringify({ ...parsed, receipt: Buffer.from(edit(structuredClone(signed))).toString('base64') })
    const flipped = (path: Uint8Array[]): Uint8Array[] => path.map((h, i) => i === 0 ? Uint8Array.from(h, (b, j) => j === 0 ? b ^ 1 : b) : h)
    rejectsAt('worker-signature', () => verifyProof(change(s => encodeSignedReceipt({ ...s, workerGroup: { ...s.workerGroup!, path: flipped(s.workerGroup!.path) } })), txBase64, genesisHash))
    rejectsAt('worker-signature', () => verifyProof(change(s => encodeSignedReceipt({ ...s, workerGroup: { ...s.workerGroup!, index: 0 } })), txBase64, genesisHash))
    rejectsAt('worker-signature', () => verifyProof(change(s => encodeSignedReceipt({ ...s, workerGroup: undefined })), txBase64, genesisHash))
    rejectsAt('countersignature', () => verifyProof(change(s => encodeSignedReceipt({ ...s, requesterGroup: { ...s.requesterGroup!, path: flipped(s.requesterGroup!.path) } })), txBase64, genesisHash))
    rejectsAt('countersignature', () => verifyProof(change(s => encodeSignedReceipt({ ...s, verification: { policy: 'spot-check:0.1', outcome: 'checked' } })), txBase64, genesisHash))
  })

  it('rejects tampered receipt bytes (worker-signature)', () => {
    rejectsAt('worker-signature', () => verifyProof(withReceipt(s => {
      const r = decodeReceipt(s.receipt)
      return encodeSignedReceipt({ ...s, receipt: encodeReceipt({ ...r, items: r.items + 1 }) })
    }), txBase64, genesisHash))
  })

  it('rejects a tampered worker signature (worker-signature)', () => {
    rejectsAt('worker-signature', () => verifyProof(withReceipt(s => {
      const sig = Uint8Array.from(s.workerSignature)
      sig[0] ^= 1
      return encodeSignedReceipt({ ...s, workerSignature: sig })
    }), txBase64, genesisHash))
  })

  it('rejects a tampered countersignature (countersignature)', () => {
    rejectsAt('countersignature', () => verifyProof(withReceipt(s => {
      const sig = Uint8Array.from(s.requesterSignature)
      sig[0] ^= 1
      return encodeSignedReceipt({ ...s, requesterSignature: sig })
    }), txBase64, genesisHash))
  })

  it('rejects a tampered verdict under the countersignature (countersignature)', () => {
    rejectsAt('countersignature', () => verifyProof(withReceipt(s => encodeSignedReceipt({ ...s, verification: { policy: 'none', outcome: 'accepted' } })), txBase64, genesisHash))
  })

  it('rejects a tampered path sibling (merkle-path)', () => {
    rejectsAt('merkle-path', () => verifyProof(tampered(p => { p.batch.path[0] = (p.batch.path[0][0] === '0' ? '1' : '0') + p.batch.path[0].slice(1) }), txBase64, genesisHash))
  })

  it('rejects a tampered index (merkle-path)', () => {
    rejectsAt('merkle-path', () => verifyProof(tampered(p => { p.batch.index = 2 }), txBase64, genesisHash))
  })

  it('rejects a tampered root (merkle-path)', () => {
    rejectsAt('merkle-path', () => verifyProof(tampered(p => { p.batch.root = Buffer.from(sha256(Uint8Array.of(1))).toString('hex') }), txBase64, genesisHash))
  })

  it('rejects a transaction whose memo was altered (transaction-signature)', () => {
    const wire = Buffer.from(txBase64.transaction[0], 'base64')
    const at = wire.indexOf(Buffer.from('shardmesh:v1:'))
    assert.ok(at > 0)
    wire[at + 13] = wire[at + 13] === 0x30 ? 0x31 : 0x30
    rejectsAt('transaction-signature', () => verifyProof(files[1], { ...txBase64, transaction: [wire.toString('base64'), 'base64'] }, genesisHash))
  })

  it('rejects an anchor transaction that carries another memo (memo)', () => {
    rejectsAt('memo', () => verifyProof(tampered(p => { p.anchor.signature = otherMemoTx.signature }), otherMemoTx.tx, genesisHash))
  })

  it('rejects an anchor transaction the requester did not sign (requester-signed)', () => {
    rejectsAt('requester-signed', () => verifyProof(tampered(p => { p.anchor.signature = otherSignerTx.signature }), otherSignerTx.tx, genesisHash))
  })

  it('verifies a proof its worker anchored itself (anchor.by "worker"), and holds each side to its own signature (worker-signed, requester-signed)', async () => {
    const parsed = JSON.parse(workerProof)
    assert.equal(parsed.anchor.by, 'worker')
    const verified = verifyProof(workerProof, workerTx, genesisHash)
    assert.equal(verified.anchoredBy, 'worker')
    // the requester's anchor is not the worker's to claim, nor the worker's the requester's
    rejectsAt('worker-signed', () => verifyProof(tampered(p => { p.anchor.by = 'worker' }), txBase64, genesisHash))
    rejectsAt('requester-signed', () => verifyProof(JSON.stringify({ ...parsed, anchor: { signature: parsed.anchor.signature, slot: parsed.anchor.slot } }), workerTx, genesisHash))
    rejectsAt('format', () => verifyProof(tampered(p => { p.anchor.by = 'someone' }), txBase64, genesisHash))
    // shardmesh's own check agrees
    const file = join(dir, 'worker-proof.json')
    await writeFile(file, workerProof)
    const result = await runCli(['receipts', 'verify', file, '--solana-rpc', server.url, '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).ok, true)
  })

  it('rejects a transaction that is not the one the proof names (transaction)', () => {
    rejectsAt('transaction', () => verifyProof(files[1], otherMemoTx.tx, genesisHash))
  })

  it('rejects a tampered slot (slot)', () => {
    rejectsAt('slot', () => verifyProof(tampered(p => { p.anchor.slot = (BigInt(p.anchor.slot) + 1n).toString() }), txBase64, genesisHash))
  })

  it('rejects a tampered cluster (cluster)', () => {
    rejectsAt('cluster', () => verifyProof(tampered(p => { p.cluster = '11111111111111111111111111111111' }), txBase64, genesisHash))
  })

  describe('shardmesh receipts verify', () => {
    it('checks the slot and the cluster, naming the failed check', async () => {
      const ok = await verifyProofOverRpc(decodeReceiptProof(files[1]), { rpcUrl: server.url })
      assert.ok(ok.ok, ok.ok ? '' : JSON.stringify(ok.failure))
      assert.equal(ok.report.cluster, genesisHash)
      const slot = await verifyProofOverRpc(decodeReceiptProof(tampered(p => { p.anchor.slot = '1' })), { rpcUrl: server.url })
      assert.equal(slot.ok ? 'ok' : slot.failure.check, 'slot')
      const cluster = await verifyProofOverRpc(decodeReceiptProof(tampered(p => { p.cluster = '11111111111111111111111111111111' })), { rpcUrl: server.url })
      assert.equal(cluster.ok ? 'ok' : cluster.failure.check, 'cluster')
      // a proof without a cluster (older files) still verifies
      const old = await verifyProofOverRpc(decodeReceiptProof(tampered(p => { delete p.cluster })), { rpcUrl: server.url })
      assert.ok(old.ok, old.ok ? '' : JSON.stringify(old.failure))
    })

    it('prints FAILED check slot for a proof file whose slot was changed', async () => {
      const file = join(dir, 'slot.json')
      await writeFile(file, tampered(p => { p.anchor.slot = (BigInt(p.anchor.slot) + 1n).toString() }))
      const res = await runCli(['receipts', 'verify', file, '--solana-rpc', server.url])
      assert.equal(res.code, 1, res.stderr)
      assert.match(res.stdout, /^FAILED check slot: /m)
    })
  })
})
