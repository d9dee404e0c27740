import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReceiptStore, decodeReceiptProof, encodeReceiptProof, parseAnchorMemo } from '@shardmesh/receipts'
import { startChainServer } from '@shardmesh/chain'
import { RpcLedger, parseTransaction, signerFromPrivateKey, verifyReceiptProof } from '@shardmesh/solana'
import { echo } from '@shardmesh/workloads'
import { address, createSolanaRpc, generateKeyPairSigner, lamports } from '@solana/kit'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportSolanaKeypair, loadOrCreatePrivateKey, solanaAddress } from '../src/index.js'
import { memoryMeshNode } from './utils/cluster.js'
import { waitFor } from '@shardmesh/test-utils'
import type { MeshNode, MeshNodeOptions } from '../src/index.js'
import type { ChainServer } from '@shardmesh/chain'

function bytes (n: number, tag = 'x'): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${tag}-${i}`))
}

describe('receipts: stored before acknowledgement, batched and anchored over JSON-RPC', function () {
  this.timeout(60_000)
  let dir: string
  let server: ChainServer
  let worker: MeshNode
  const nodes: MeshNode[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-node-receipts-'))
    server = await startChainServer({ port: 0, dataDir: join(dir, 'chain') })
    worker = await memoryMeshNode({}, { compute: { workloads: [echo()], poolSize: 1 } })
    nodes.push(worker)
  })

  after(async () => {
    await Promise.all(nodes.map(async n => n.stop()))
    await server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function fund (addr: string): Promise<void> {
    const rpc = createSolanaRpc(server.url)
    const sig = await rpc.requestAirdrop(address(addr), lamports(1_000_000_000n)).send()
    await waitFor(async () => (await rpc.getSignatureStatuses([sig]).send()).value[0] != null, 'the airdrop')
  }

  async function requester (name: string, options: Partial<MeshNodeOptions['receipts']> = {}, fundIt = true): Promise<MeshNode> {
    const dataDir = join(dir, name)
    const key = await loadOrCreatePrivateKey(dataDir)
    if (fundIt) {
      await fund(solanaAddress(peerIdFromPrivateKey(key)))
    }
    const node = await memoryMeshNode({}, {
      dataDir,
      bootstrap: worker.getMultiaddrs().map(String),
      compute: { workloads: [echo()] },
      receipts: { ledger: { rpcUrl: server.url, wsUrl: server.wsUrl }, batchSize: 4, batchInterval: 60_000, retryBase: 50, ...options }
    })
    nodes.push(node)
    return node
  }

  /** anchors signed by `addr` on the chain, by memo root */
  async function anchorsBy (addr: string): Promise<Map<string, string[]>> {
    const rpc = createSolanaRpc(server.url)
    const out = new Map<string, string[]>()
    for (const s of await rpc.getSignaturesForAddress(address(addr)).send()) {
      const tx = await rpc.getTransaction(s.signature, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
      const parsed = parseTransaction(Buffer.from(tx?.transaction[0] ?? '', 'base64'))
      for (const memo of parsed.memos) {
        const m = parseAnchorMemo(memo)
        if (m != null && parsed.signers.includes(addr)) {
          const root = Buffer.from(m.root).toString('hex')
          out.set(root, [...(out.get(root) ?? []), s.signature])
        }
      }
    }
    return out
  }

  it('stores every countersigned receipt, seals full batches on its own, anchors the rest on flush, and each proof verifies', async () => {
    const node = await requester('a')
    const result = await node.services.compute.run({ workload: 'echo', items: bytes(10), shardSize: 1 }, { peers: [worker.peerId] })
    // acknowledged = stored: the job resolved only after every receipt was on disk
    assert.equal(node.services.receipts.list({ jobId: result.jobId }).length, 10)
    // 4 per batch: two batches fill up and are anchored without a flush
    await waitFor(() => node.services.receipts.stats().anchoredBatches === 2, 'two full batches anchored', { timeout: 20_000 })
    assert.equal(node.services.receipts.stats().anchored, 8)
    await node.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    const stats = node.services.receipts.stats()
    assert.deepEqual([stats.receipts, stats.anchored, stats.batches, stats.anchoredBatches], [10, 10, 3, 3])
    assert.equal(node.services.receipts.list({ peer: worker.peerId.toString() }).length, 10)
    assert.equal(node.services.receipts.list({ anchored: false }).length, 0)

    // a reader: anyone can verify, with any key of its own
    const ledger = new RpcLedger({ rpcUrl: server.url, signer: await generateKeyPairSigner() })
    try {
      for (const r of node.services.receipts.list()) {
        const proof = decodeReceiptProof(encodeReceiptProof(node.services.receipts.proof(r.id) ?? assert.fail('no proof')))
        const { anchor } = await verifyReceiptProof(proof, ledger)
        assert.equal(anchor.signature, r.anchor?.signature)
        assert.equal(anchor.fee, 5_000n)
      }
    } finally {
      await ledger.close()
    }
    const onChain = await anchorsBy(solanaAddress(node.peerId))
    assert.equal(onChain.size, 3)
    assert.ok([...onChain.values()].every(sigs => sigs.length === 1))
  })

  it('the total of anchor fees it reports survives a restart, like the counts', async () => {
    const first = await requester('fees')
    await first.services.compute.run({ workload: 'echo', items: bytes(6, 'fees'), shardSize: 1 }, { peers: [worker.peerId] })
    await first.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    const before = first.services.receipts.stats()
    assert.deepEqual([before.anchored, before.anchoredBatches, before.anchor?.feesLamports], [6, 2, 10_000n])
    await first.stop()
    nodes.splice(nodes.indexOf(first), 1)

    const again = await requester('fees', {}, false)
    const after = again.services.receipts.stats()
    assert.deepEqual([after.anchored, after.anchoredBatches, after.anchor?.feesLamports], [6, 2, 10_000n])
  })

  /**
   * Run a job on a fresh requester `name`, stop it, then do what its anchoring loop does up to
   * a crash: seal the batch, sign its anchor and record the attempt (and send it, if `send`).
   */
  async function crashedAttempt (name: string, items: number, send: boolean): Promise<{ root: string, signature: string }> {
    const dataDir = join(dir, name)
    const node = await requester(name, { batchSize: 1000 })
    const result = await node.services.compute.run({ workload: 'echo', items: bytes(items, name), shardSize: 1 }, { peers: [worker.peerId] })
    assert.equal(result.receipts.length, items)
    await node.stop()
    nodes.splice(nodes.indexOf(node), 1)
    const store = await ReceiptStore.open(join(dataDir, 'receipts'))
    const batch = await store.sealBatch() ?? assert.fail('nothing to seal')
    const ledger = new RpcLedger({ rpcUrl: server.url, wsUrl: server.wsUrl, signer: await signerFromPrivateKey(await loadOrCreatePrivateKey(dataDir)) })
    try {
      const prepared = await ledger.prepareAnchor(Buffer.from(batch.root, 'hex'), { count: batch.count })
      await store.recordAttempt(batch.root, prepared)
      if (send) {
        await ledger.submit(prepared)
      }
      return { root: batch.root, signature: prepared.signature }
    } finally {
      await ledger.close()
      await store.close()
    }
  }

  it('after a restart, finds an anchor it sent but did not record, and anchors nothing twice', async () => {
    // what a crash between sending and recording leaves: a sealed batch, a recorded attempt, a landed transaction
    const { root, signature } = await crashedAttempt('b', 5, true)

    const again = await requester('b', { batchSize: 1000 }, false)
    await again.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    const [anchored] = again.services.receipts.batches()
    assert.equal(anchored.anchor?.signature, signature)
    const onChain = await anchorsBy(solanaAddress(again.peerId))
    assert.deepEqual(onChain.get(root), [signature])
  })

  it('signs a new anchor when the recorded one expired unsent', async () => {
    const { root, signature } = await crashedAttempt('c', 3, false)
    // 151 blocks later the recorded transaction can never land
    const rpc = createSolanaRpc(server.url)
    const filler = (await generateKeyPairSigner()).address
    for (let i = 0; i < 151; i++) {
      await rpc.requestAirdrop(filler, lamports(10_000_000n)).send()
    }
    const again = await requester('c', { batchSize: 1000 }, false)
    await again.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    const [anchored] = again.services.receipts.batches()
    assert.ok(anchored.anchor != null)
    assert.notEqual(anchored.anchor.signature, signature)
    assert.deepEqual((await anchorsBy(solanaAddress(again.peerId))).get(root), [anchored.anchor.signature])
  })

  it('with a fee-payer keypair file, that account pays and the node key still signs every memo', async () => {
    const payer = await generateKeyPair('Ed25519')
    const file = join(dir, 'payer.json')
    await writeFile(file, JSON.stringify(exportSolanaKeypair(payer)))
    const payerAddress = solanaAddress(peerIdFromPrivateKey(payer))
    await fund(payerAddress)
    // the node key itself holds nothing
    const node = await requester('e', { batchSize: 2, ledger: { rpcUrl: server.url, wsUrl: server.wsUrl, feePayerKeypair: file } }, false)
    await node.services.compute.run({ workload: 'echo', items: bytes(2, 'e'), shardSize: 1 }, { peers: [worker.peerId] })
    await node.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    const [batch] = node.services.receipts.batches()
    assert.equal(batch.anchor?.fee, 10_000n, 'two signatures: the payer and the node')
    const reader = new RpcLedger({ rpcUrl: server.url, signer: await generateKeyPairSigner() })
    try {
      const [r] = node.services.receipts.list()
      const { anchor } = await verifyReceiptProof(node.services.receipts.proof(r.id) ?? assert.fail('no proof'), reader)
      assert.deepEqual(new Set(anchor.signers), new Set([payerAddress, solanaAddress(node.peerId)]))
    } finally {
      await reader.close()
    }
    const rpc = createSolanaRpc(server.url)
    assert.equal((await rpc.getBalance(address(solanaAddress(node.peerId))).send()).value, 0n)
  })

  it('an unfunded node keeps its receipts, retries, and says why it cannot anchor', async () => {
    const node = await requester('d', { batchSize: 1 }, false)
    await node.services.compute.run({ workload: 'echo', items: bytes(2, 'd'), shardSize: 1 }, { peers: [worker.peerId] })
    await assert.rejects(node.services.receipts.flush({ signal: AbortSignal.timeout(1_500) }))
    const stats = node.services.receipts.stats()
    assert.equal(stats.receipts, 2)
    assert.equal(stats.anchored, 0)
    assert.ok((stats.anchor?.failures ?? 0) >= 1)
    assert.match(stats.anchor?.lastError ?? '', /UnfundedAccountError/)
    assert.match(stats.anchor?.lastError ?? '', new RegExp(solanaAddress(node.peerId)))
    // the chain is a shardmesh chain: the hint is shardmesh's command
    assert.ok((stats.anchor?.lastError ?? '').includes(`shardmesh chain airdrop ${solanaAddress(node.peerId)} --solana-rpc ${server.url}`), stats.anchor?.lastError)
    // funded later, it anchors what waited
    await fund(solanaAddress(node.peerId))
    await node.services.receipts.flush({ signal: AbortSignal.timeout(20_000) })
    assert.equal(node.services.receipts.stats().anchored, 2)
  })
})
