import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeReceipt, decodeSignedReceipt, encodeReceipt, encodeSignedReceipt, sha256 } from '@shardmesh/protocol'
import { MerkleTree, countersignReceipt, signReceipt } from '@shardmesh/receipts'
import { RpcLedger, RpcUnreachableError, addressOfPeerId, describeVerificationFailure, signerFromPrivateKey, verifyReceiptProof } from '@shardmesh/solana'
import { fund, randomRoot, randomSignature, startTestChain } from './utils/test-chain.js'
import type { TestChain } from './utils/test-chain.js'
import type { PrivateKey } from '@libp2p/interface'
import type { ReceiptProof } from '@shardmesh/receipts'

/** Asserts that verification failed at `check`, as the CLI would print it. */
function failsAt (check: string) {
  return (err: any): boolean => {
    const failure = describeVerificationFailure(err)
    assert.equal(failure.check, check, `expected ${check}, got ${failure.check}: ${failure.message}`)
    assert.equal(failure.message, err.message)
    return true
  }
}

describe('verifyReceiptProof (receipts anchored on the embedded chain)', function () {
  this.timeout(60_000)
  let chain: TestChain
  let workerKey: PrivateKey
  let requesterKey: PrivateKey
  let otherKey: PrivateKey
  let requesterLedger: RpcLedger
  let otherLedger: RpcLedger
  let receipts: Uint8Array[]
  let workerOnly: Uint8Array
  let tree: MerkleTree
  let proof: ReceiptProof

  async function makeReceipt (shardIndex: number): Promise<{ signed: Uint8Array, countersigned: Uint8Array }> {
    const signed = await signReceipt(workerKey, {
      jobId: new Uint8Array(16).fill(7),
      shardIndex,
      workload: 'ocr-rec',
      workloadVersion: '1.0.0',
      inputDigest: sha256(Uint8Array.of(shardIndex, 1)),
      outputDigest: sha256(Uint8Array.of(shardIndex, 2)),
      worker: peerIdFromPrivateKey(workerKey),
      requester: peerIdFromPrivateKey(requesterKey),
      startedAt: 1_717_000_000_000,
      finishedAt: 1_717_000_000_500,
      items: 10,
      cpuMicros: 123_456
    })
    return { signed, countersigned: await countersignReceipt(requesterKey, signed, { policy: 'sample', outcome: 'accepted' }) }
  }

  /** The proof for leaf 1 with one thing changed. */
  function variant (change: Partial<ReceiptProof>): ReceiptProof {
    return { ...proof, ...change }
  }

  before(async () => {
    chain = await startTestChain()
    workerKey = await generateKeyPair('Ed25519')
    requesterKey = await generateKeyPair('Ed25519')
    otherKey = await generateKeyPair('Ed25519')
    requesterLedger = new RpcLedger({ rpcUrl: chain.url, signer: await signerFromPrivateKey(requesterKey), pollInterval: 50 })
    otherLedger = new RpcLedger({ rpcUrl: chain.url, signer: await signerFromPrivateKey(otherKey), pollInterval: 50 })
    await fund(chain.rpc, requesterLedger.address)
    await fund(chain.rpc, otherLedger.address)

    const made = await Promise.all([0, 1, 2].map(makeReceipt))
    receipts = made.map(m => m.countersigned)
    workerOnly = made[1].signed
    tree = MerkleTree.fromLeaves(receipts)
    const anchor = await requesterLedger.anchor(tree.root, { count: receipts.length })
    proof = { receipt: receipts[1], root: tree.root, count: receipts.length, index: 1, path: tree.proof(1), anchor }
  })

  after(async () => {
    await requesterLedger?.close()
    await otherLedger?.close()
    await chain?.stop()
  })

  it('accepts a countersigned receipt in a batch anchored by its requester', async () => {
    assert.equal(requesterLedger.address, addressOfPeerId(peerIdFromPrivateKey(requesterKey)))
    const { receipt, anchor } = await verifyReceiptProof(proof, requesterLedger)
    assert.equal(receipt.shardIndex, 1)
    assert.ok(receipt.requester.equals(peerIdFromPrivateKey(requesterKey)))
    assert.equal(anchor.signature, proof.anchor?.signature)
    assert.equal(anchor.slot, proof.anchor?.slot)
    assert.ok(anchor.signers.includes(requesterLedger.address))
    // any ledger reading the same chain agrees: the verifier needs no key of its own
    await verifyReceiptProof(variant({ receipt: receipts[0], index: 0, path: tree.proof(0) }), otherLedger)
  })

  it('rejects a tampered receipt field', async () => {
    const signed = decodeSignedReceipt(receipts[1])
    const receipt = decodeReceipt(signed.receipt)
    const tampered = encodeSignedReceipt({ ...signed, receipt: encodeReceipt({ ...receipt, items: receipt.items + 1 }) })
    await assert.rejects(verifyReceiptProof(variant({ receipt: tampered }), requesterLedger), failsAt('bad-worker-signature'))
  })

  it('rejects a wrong worker signature', async () => {
    const signed = decodeSignedReceipt(receipts[1])
    const wrong = encodeSignedReceipt({ ...signed, workerSignature: await otherKey.sign(signed.receipt) })
    await assert.rejects(verifyReceiptProof(variant({ receipt: wrong }), requesterLedger), failsAt('bad-worker-signature'))
  })

  it('rejects a receipt the requester has not countersigned', async () => {
    await assert.rejects(verifyReceiptProof(variant({ receipt: workerOnly }), requesterLedger), failsAt('missing-countersignature'))
  })

  it('rejects a proof whose path does not lead to its root', async () => {
    await assert.rejects(verifyReceiptProof(variant({ root: randomRoot() }), requesterLedger), failsAt('merkle-path'))
    await assert.rejects(verifyReceiptProof(variant({ index: 2 }), requesterLedger), failsAt('merkle-path'))
  })

  it('rejects a proof without an anchor', async () => {
    await assert.rejects(verifyReceiptProof(variant({ anchor: undefined }), requesterLedger), failsAt('not-anchored'))
  })

  it('rejects an anchor transaction that anchors another root', async () => {
    const elsewhere = await requesterLedger.anchor(randomRoot(), { count: 3 })
    await assert.rejects(verifyReceiptProof(variant({ anchor: elsewhere }), requesterLedger), failsAt('memo-mismatch'))
  })

  it('rejects the right memo signed by another key', async () => {
    // anyone can write this memo; only the requester's counts
    const impostor = await otherLedger.anchor(tree.root, { count: receipts.length })
    await assert.rejects(verifyReceiptProof(variant({ anchor: impostor }), requesterLedger), failsAt('memo-signer'))
  })

  it('rejects an anchor transaction that does not exist', async () => {
    await assert.rejects(verifyReceiptProof(variant({ anchor: { signature: randomSignature(), slot: 1n } }), requesterLedger), failsAt('transaction-not-found'))
  })

  it('describeVerificationFailure names an unreachable RPC "rpc-unreachable"', () => {
    const err = new RpcUnreachableError('http://127.0.0.1:9', new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) }))
    assert.deepEqual(describeVerificationFailure(err), { check: 'rpc-unreachable', message: 'the Solana RPC at http://127.0.0.1:9 is unreachable: connect ECONNREFUSED 127.0.0.1:9' })
  })

  it('describeVerificationFailure names anything else "error"', () => {
    assert.deepEqual(describeVerificationFailure(new Error('boom')), { check: 'error', message: 'boom' })
    assert.deepEqual(describeVerificationFailure('boom'), { check: 'error', message: 'boom' })
  })
})
