import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sha256 } from '@shardmesh/protocol'
import { MerkleTree, anchorMemo, countersignReceipt, signReceipt } from '@shardmesh/receipts'
import { generateKeyPairSigner } from '@solana/kit'
import { RpcLedger, describeVerificationFailure, signerFromPrivateKey, verifyReceiptProof } from '@shardmesh/solana'
import { EmbeddedChain, EmbeddedLedger, startChainServer } from '../src/index.js'
import { failingMemoTransaction } from './utils/anchors.js'
import { randomRoot, randomSignature } from './utils/test-chain.js'
import type { AnchorMeta, LedgerCallOptions, PreparedAnchor } from '@shardmesh/solana'
import type { KeyPairSigner } from '@solana/kit'

function rejectsAs (name: string, field?: string, value?: string) {
  return (err: any): boolean => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    if (field != null) {
      assert.equal(err[field], value, err.message)
    }
    return true
  }
}

const SOL = 1_000_000_000n

describe('EmbeddedLedger (the chain in process)', function () {
  this.timeout(60_000)
  let chain: EmbeddedChain
  let node: KeyPairSigner
  let ledger: EmbeddedLedger

  before(async () => {
    chain = await EmbeddedChain.open()
    node = await generateKeyPairSigner()
    chain.airdrop(node.address, 10n * SOL)
    ledger = new EmbeddedLedger({ chain, signer: node })
  })

  after(async () => {
    await ledger?.close()
    await chain?.close()
  })

  it('anchors a root and verifies it, with the fee it paid', async () => {
    const root = randomRoot()
    const result = await ledger.anchor(root, { count: 4 })
    assert.equal(result.fee, 5000n)
    assert.deepEqual(await ledger.status(result.signature), { state: 'landed', slot: result.slot, err: null })
    const record = await ledger.verifyAnchor(result.signature, root, 4, node.address)
    assert.deepEqual(record.memos, [anchorMemo(root, 4)])
    assert.deepEqual(record.signers, [node.address])
    assert.equal(await ledger.blockHeight(), chain.blockHeight)
  })

  it('names each rejected anchor check', async () => {
    const root = randomRoot()
    const { signature } = await ledger.anchor(root, { count: 1 })
    await assert.rejects(ledger.verifyAnchor(signature, randomRoot(), 1, node.address), rejectsAs('AnchorVerificationError', 'check', 'memo-mismatch'))
    await assert.rejects(ledger.verifyAnchor(randomSignature(), root, 1, node.address), rejectsAs('AnchorVerificationError', 'check', 'transaction-not-found'))
    const other = await generateKeyPairSigner()
    chain.airdrop(other.address, SOL)
    const forged = await new EmbeddedLedger({ chain, signer: other }).anchor(root, { count: 1 })
    await assert.rejects(ledger.verifyAnchor(forged.signature, root, 1, node.address), rejectsAs('AnchorVerificationError', 'check', 'memo-signer'))

    // the right memo and signer in a transaction that failed (the memo program wants every account to sign)
    const failed = await failingMemoTransaction(anchorMemo(root, 1), node, chain.latestBlockhash())
    chain.sendTransaction(Buffer.from(failed.wire, 'base64'), { skipPreflight: true })
    const record = await ledger.lookup(failed.signature)
    assert.ok(record?.err != null)
    assert.deepEqual(record.signers, [node.address])
    await assert.rejects(ledger.verifyAnchor(failed.signature, root, 1, node.address), rejectsAs('AnchorVerificationError', 'check', 'transaction-failed'))
  })

  it('a separate fee payer pays 10,000 lamports for the two signatures', async () => {
    const payer = await generateKeyPairSigner()
    chain.airdrop(payer.address, SOL)
    const l = new EmbeddedLedger({ chain, signer: node, feePayer: payer })
    const root = randomRoot()
    const result = await l.anchor(root, { count: 2 })
    assert.equal(result.fee, 10_000n)
    assert.equal(chain.getBalance(payer.address), SOL - 10_000n)
    await ledger.verifyAnchor(result.signature, root, 2, node.address)
  })

  it('an unfunded fee payer gets UnfundedAccountError naming its address', async () => {
    const broke = await generateKeyPairSigner()
    const l = new EmbeddedLedger({ chain, signer: broke, rpcUrl: 'http://127.0.0.1:8899' })
    await assert.rejects(l.anchor(randomRoot(), { count: 1 }), (err: any) => {
      assert.equal(err.name, 'UnfundedAccountError', err.message)
      assert.equal(err.balance, 0n)
      assert.ok(err.message.includes(`shardmesh chain airdrop ${broke.address} --solana-rpc http://127.0.0.1:8899`), err.message)
      return true
    })
  })

  it('an expired blockhash throws BlockhashExpiredError; anchor() prepares again', async () => {
    const root = randomRoot()
    const stale = await ledger.prepareAnchor(root, { count: 1 })
    const ticker = await generateKeyPairSigner()
    while (chain.blockHeight <= stale.lastValidBlockHeight) {
      chain.airdrop(ticker.address, SOL) // each airdrop is a block
    }
    await assert.rejects(ledger.submit(stale), rejectsAs('BlockhashExpiredError', 'signature', stale.signature))

    class StaleFirst extends EmbeddedLedger {
      prepared = 0
      override async prepareAnchor (root: Uint8Array, meta: AnchorMeta, options?: LedgerCallOptions): Promise<PreparedAnchor> {
        return this.prepared++ === 0 ? stale : await super.prepareAnchor(root, meta, options)
      }
    }
    const recovering = new StaleFirst({ chain, signer: node })
    const result = await recovering.anchor(root, { count: 1 })
    assert.equal(recovering.prepared, 2)
    await ledger.verifyAnchor(result.signature, root, 1, node.address)
  })

  it('resubmitting a landed anchor returns where it landed', async () => {
    const prepared = await ledger.prepareAnchor(randomRoot(), { count: 1 })
    const first = await ledger.submit(prepared)
    assert.deepEqual(await ledger.submit(prepared), first)
  })

  it('what it anchors, an RpcLedger on the served chain verifies (and a receipt proof with it)', async () => {
    const server = await startChainServer({ port: 0, chain })
    const rpcLedger = new RpcLedger({ rpcUrl: server.url, signer: node, pollInterval: 50 })
    try {
      const workerKey = await generateKeyPair('Ed25519')
      const requesterKey = await generateKeyPair('Ed25519')
      const signed = await signReceipt(workerKey, {
        jobId: new Uint8Array(16).fill(1),
        shardIndex: 0,
        workload: 'embed',
        workloadVersion: '1',
        inputDigest: sha256(Uint8Array.of(1)),
        outputDigest: sha256(Uint8Array.of(2)),
        worker: peerIdFromPrivateKey(workerKey),
        requester: peerIdFromPrivateKey(requesterKey),
        startedAt: 1,
        finishedAt: 2,
        items: 1,
        cpuMicros: 1
      })
      const receipt = await countersignReceipt(requesterKey, signed, { policy: 'none', outcome: 'accepted' })
      const tree = MerkleTree.fromLeaves([receipt])
      const requester = await signerFromPrivateKey(requesterKey)
      chain.airdrop(requester.address, SOL)
      const anchor = await new EmbeddedLedger({ chain, signer: requester }).anchor(tree.root, { count: 1 })
      const proof = { receipt, root: tree.root, count: 1, index: 0, path: tree.proof(0), anchor }
      const viaRpc = await verifyReceiptProof(proof, rpcLedger)
      const inProcess = await verifyReceiptProof(proof, ledger)
      assert.deepEqual(viaRpc.anchor, inProcess.anchor)
      // and the node's own anchor is not the requester's
      const { signature } = await ledger.anchor(tree.root, { count: 1 })
      await assert.rejects(verifyReceiptProof({ ...proof, anchor: { signature, slot: 0n } }, rpcLedger), (err: any) => describeVerificationFailure(err).check === 'memo-signer')
    } finally {
      await rpcLedger.close()
      await server.close()
    }
  })

  it('refuses calls after close, and leaves the chain open', async () => {
    const l = new EmbeddedLedger({ chain, signer: node })
    await l.close()
    await assert.rejects(l.anchor(randomRoot(), { count: 1 }), rejectsAs('LedgerClosedError'))
    await ledger.anchor(randomRoot(), { count: 1 })
  })
})
