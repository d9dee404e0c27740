import assert from 'node:assert/strict'
import { generateKeyPairSigner } from '@solana/kit'
import { anchorMemo } from '@shardmesh/receipts'
import { RpcLedger, defaultWsUrl } from '@shardmesh/solana'
import { failingMemoTransaction } from './utils/anchors.js'
import { advanceBlocks, closedPort, deadWsUrl, fund, randomRoot, randomSignature, startDroppingProxy, startStockVersionProxy, startTestChain } from './utils/test-chain.js'
import type { AnchorMeta, LedgerCallOptions, PreparedAnchor, RpcLedgerInit } from '@shardmesh/solana'
import type { TestChain } from './utils/test-chain.js'
import type { Base64EncodedWireTransaction, KeyPairSigner } from '@solana/kit'

function rejectsAs (name: string, field?: string, value?: string) {
  return (err: any): boolean => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    if (field != null) {
      assert.equal(err[field], value, err.message)
    }
    return true
  }
}

describe('RpcLedger (against the embedded chain over HTTP)', function () {
  this.timeout(60_000)
  let chain: TestChain
  let node: KeyPairSigner
  const ledgers: RpcLedger[] = []

  function ledger (init: Partial<RpcLedgerInit> = {}): RpcLedger {
    const created = new RpcLedger({ rpcUrl: chain.url, wsUrl: chain.wsUrl, signer: node, pollInterval: 50, ...init })
    ledgers.push(created)
    return created
  }

  before(async () => {
    chain = await startTestChain()
    node = await generateKeyPairSigner()
    await fund(chain.rpc, node.address)
  })

  after(async () => {
    await Promise.all(ledgers.map(async l => { await l.close() }))
    await chain?.stop()
  })

  it('derives the WebSocket url from the RPC url', () => {
    assert.equal(defaultWsUrl('http://127.0.0.1:8899'), 'ws://127.0.0.1:8899/')
    assert.equal(defaultWsUrl('https://api.devnet.solana.com'), 'wss://api.devnet.solana.com/')
  })

  it('anchors a root, and reads it back with its memo and the node as a verified signer', async () => {
    const l = ledger()
    const root = randomRoot()
    const before = await l.blockHeight()
    const result = await l.anchor(root, { count: 3 })
    assert.match(result.signature, /^[1-9A-HJ-NP-Za-km-z]{64,88}$/)
    assert.equal(typeof result.slot, 'bigint')
    assert.ok(await l.blockHeight() > before)

    const record = await l.lookup(result.signature)
    assert.ok(record != null)
    assert.equal(record.signature, result.signature)
    assert.equal(record.slot, result.slot)
    assert.deepEqual(record.memos, [anchorMemo(root, 3)])
    assert.deepEqual(record.signers, [node.address])
    assert.equal(record.err, null)
    assert.equal(record.fee, 5000n)

    assert.deepEqual(await l.status(result.signature), { state: 'landed', slot: result.slot, err: null })
    const verified = await l.verifyAnchor(result.signature, root, 3, node.address)
    assert.equal(verified.signature, result.signature)
  })

  it('names each rejected anchor check', async () => {
    const l = ledger()
    const root = randomRoot()
    const { signature } = await l.anchor(root, { count: 2 })

    await assert.rejects(l.verifyAnchor(signature, randomRoot(), 2, node.address), rejectsAs('AnchorVerificationError', 'check', 'memo-mismatch'))
    await assert.rejects(l.verifyAnchor(signature, root, 3, node.address), rejectsAs('AnchorVerificationError', 'check', 'memo-mismatch'))
    await assert.rejects(l.verifyAnchor(randomSignature(), root, 2, node.address), rejectsAs('AnchorVerificationError', 'check', 'transaction-not-found'))
    await assert.rejects(l.verifyAnchor('not a signature', root, 2, node.address), rejectsAs('AnchorVerificationError', 'check', 'transaction-not-found'))
    assert.equal(await l.lookup(randomSignature()), undefined)
    assert.deepEqual(await l.status(randomSignature()), { state: 'unknown' })

    // the same memo, written by another key: anyone can write any memo
    const other = await generateKeyPairSigner()
    await fund(chain.rpc, other.address)
    const forged = await ledger({ signer: other }).anchor(root, { count: 2 })
    await assert.rejects(l.verifyAnchor(forged.signature, root, 2, node.address), rejectsAs('AnchorVerificationError', 'check', 'memo-signer'))
    await ledger({ signer: other }).verifyAnchor(forged.signature, root, 2, other.address)
  })

  it('a memo transaction that fails preflight is rejected; landed anyway, it does not count', async () => {
    const l = ledger()
    const root = randomRoot()
    const memo = anchorMemo(root, 1)
    const { value: blockhash } = await chain.rpc.getLatestBlockhash().send()
    const failing = await failingMemoTransaction(memo, node, blockhash)
    const prepared: PreparedAnchor = { ...failing, lastValidBlockHeight: blockhash.lastValidBlockHeight, memo }
    await assert.rejects(l.submit(prepared), rejectsAs('TransactionRejectedError', 'signature', failing.signature))
    assert.deepEqual(await l.status(failing.signature), { state: 'unknown' })

    await chain.rpc.sendTransaction(failing.wire as Base64EncodedWireTransaction, { encoding: 'base64', skipPreflight: true }).send()
    const record = await l.lookup(failing.signature)
    assert.ok(record != null && record.err != null)
    assert.deepEqual(record.memos, [memo])
    assert.deepEqual(record.signers, [node.address])
    await assert.rejects(l.verifyAnchor(failing.signature, root, 1, node.address), rejectsAs('AnchorVerificationError', 'check', 'transaction-failed'))
    await assert.rejects(l.submit(prepared), rejectsAs('TransactionFailedError', 'signature', failing.signature))
  })

  it('anchors with a separate fee payer: two signers, twice the fee', async () => {
    const payer = await generateKeyPairSigner()
    await fund(chain.rpc, payer.address)
    const l = ledger({ feePayer: payer })
    assert.equal(l.address, node.address)
    assert.equal(l.feePayerAddress, payer.address)
    const root = randomRoot()
    const nodeBefore = (await chain.rpc.getBalance(node.address).send()).value
    const { signature } = await l.anchor(root, { count: 1 })
    const record = await l.lookup(signature)
    assert.ok(record != null)
    assert.equal(record.fee, 10_000n)
    assert.deepEqual(new Set(record.signers), new Set([node.address, payer.address]))
    await l.verifyAnchor(signature, root, 1, node.address)
    // the node key signed but did not pay
    assert.equal((await chain.rpc.getBalance(node.address).send()).value, nodeBefore)
  })

  it('an unfunded fee payer gets UnfundedAccountError naming its address and how to fund it', async () => {
    const broke = await generateKeyPairSigner()
    const l = ledger({ signer: broke })
    await assert.rejects(l.anchor(randomRoot(), { count: 1 }), (err: any) => {
      assert.equal(err.name, 'UnfundedAccountError', err.message)
      assert.equal(err.code, 'ERR_UNFUNDED_ACCOUNT')
      assert.equal(err.address, broke.address)
      assert.equal(err.balance, 0n)
      assert.ok(err.message.includes(broke.address), err.message)
      // the embedded chain says it is one in getVersion: shardmesh's own command funds it
      assert.ok(err.message.includes(`shardmesh chain airdrop ${broke.address} --solana-rpc ${chain.url}`), err.message)
      return true
    })
    // a funded signer with an unfunded fee payer: the payer is the one named
    const l2 = ledger({ feePayer: broke })
    await assert.rejects(l2.anchor(randomRoot(), { count: 1 }), rejectsAs('UnfundedAccountError', 'address', broke.address))
    // any other cluster (getVersion as a stock validator answers it): the solana CLI's command
    const proxy = await startStockVersionProxy(chain.url)
    try {
      const elsewhere = new RpcLedger({ rpcUrl: proxy.url, wsUrl: chain.wsUrl, signer: broke, pollInterval: 50 })
      ledgers.push(elsewhere)
      await assert.rejects(elsewhere.anchor(randomRoot(), { count: 1 }), (err: any) => {
        assert.equal(err.name, 'UnfundedAccountError', err.message)
        assert.ok(err.message.includes(`solana airdrop 1 ${broke.address} --url ${proxy.url}`), err.message)
        return true
      })
    } finally {
      await proxy.close()
    }
  })

  it('an RPC that cannot be reached is RpcUnreachableError naming the URL and the network error, not "fetch failed"', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`
    const l = new RpcLedger({ rpcUrl: url, signer: node })
    ledgers.push(l)
    for (const call of [async () => l.blockHeight(), async () => l.lookup(randomSignature()), async () => l.prepareAnchor(randomRoot(), { count: 1 })]) {
      await assert.rejects(call(), (err: any) => {
        assert.equal(err.name, 'RpcUnreachableError', err.message)
        assert.equal(err.code, 'ERR_RPC_UNREACHABLE')
        assert.equal(err.url, url)
        assert.equal(err.reason, 'ECONNREFUSED')
        assert.equal(err.message, `the Solana RPC at ${url} is unreachable: connect ECONNREFUSED ${url.slice('http://'.length)}`)
        return true
      })
    }
    // an abort stays an abort
    await assert.rejects(l.blockHeight({ signal: AbortSignal.abort(new Error('stop')) }), /stop/)
  })

  it('a transaction whose blockhash expired throws BlockhashExpiredError; anchor() recovers by preparing again', async () => {
    const l = ledger()
    const root = randomRoot()
    const stale = await l.prepareAnchor(root, { count: 1 })
    const ticker = await generateKeyPairSigner()
    await fund(chain.rpc, ticker.address)
    const height = await l.blockHeight()
    await advanceBlocks(chain.rpc, ticker, Number(stale.lastValidBlockHeight - height) + 1)
    assert.ok(await l.blockHeight() > stale.lastValidBlockHeight)

    await assert.rejects(l.submit(stale), (err: any) => {
      assert.equal(err.name, 'BlockhashExpiredError', err.message)
      assert.equal(err.signature, stale.signature)
      assert.equal(err.lastValidBlockHeight, stale.lastValidBlockHeight)
      return true
    })
    assert.deepEqual(await l.status(stale.signature), { state: 'unknown' })

    // anchor() whose first transaction is the stale one
    class StaleFirst extends RpcLedger {
      prepared = 0
      override async prepareAnchor (root: Uint8Array, meta: AnchorMeta, options?: LedgerCallOptions): Promise<PreparedAnchor> {
        return this.prepared++ === 0 ? stale : await super.prepareAnchor(root, meta, options)
      }
    }
    const recovering = new StaleFirst({ rpcUrl: chain.url, wsUrl: chain.wsUrl, signer: node, pollInterval: 50 })
    ledgers.push(recovering)
    const result = await recovering.anchor(root, { count: 1 })
    assert.equal(recovering.prepared, 2)
    assert.notEqual(result.signature, stale.signature)
    await l.verifyAnchor(result.signature, root, 1, node.address)
  })

  it('confirms by polling when the WebSocket is dead', async () => {
    const l = ledger({ wsUrl: await deadWsUrl() })
    const root = randomRoot()
    const { signature } = await l.anchor(root, { count: 7 })
    await l.verifyAnchor(signature, root, 7, node.address)
  })

  it('with a dead WebSocket and a dropped transaction, the poller resends it and confirms', async () => {
    const proxy = await startDroppingProxy(chain.url, 1)
    try {
      const l = ledger({ rpcUrl: proxy.url, wsUrl: await deadWsUrl(), resendInterval: 100 })
      const root = randomRoot()
      const prepared = await l.prepareAnchor(root, { count: 1 })
      const result = await l.submit(prepared)
      assert.deepEqual(proxy.dropped, [prepared.wire])
      assert.equal(result.signature, prepared.signature)
      await l.verifyAnchor(result.signature, root, 1, node.address)
    } finally {
      await proxy.close()
    }
  })

  it('retries a send that failed in transport', async () => {
    const proxy = await startDroppingProxy(chain.url, 3, 'fail')
    try {
      const l = ledger({ rpcUrl: proxy.url })
      const root = randomRoot()
      const result = await l.anchor(root, { count: 1 })
      assert.equal(proxy.dropped.length, 3)
      await l.verifyAnchor(result.signature, root, 1, node.address)
    } finally {
      await proxy.close()
    }
  })

  it('a transaction that never lands expires while polling (BlockhashExpiredError)', async () => {
    const proxy = await startDroppingProxy(chain.url, Infinity)
    try {
      const l = ledger({ rpcUrl: proxy.url, wsUrl: await deadWsUrl(), resendInterval: 100 })
      const prepared = await l.prepareAnchor(randomRoot(), { count: 1 })
      const submitted = l.submit(prepared)
      submitted.catch(() => {})
      const ticker = await generateKeyPairSigner()
      await fund(chain.rpc, ticker.address)
      await advanceBlocks(chain.rpc, ticker, Number(prepared.lastValidBlockHeight - await l.blockHeight()) + 1)
      await assert.rejects(submitted, rejectsAs('BlockhashExpiredError', 'signature', prepared.signature))
      assert.ok(proxy.dropped.length >= 1)
      assert.deepEqual(await l.status(prepared.signature), { state: 'unknown' })
    } finally {
      await proxy.close()
    }
  })

  it('confirms by subscription when the poller is (all but) off', async () => {
    const proxy = await startDroppingProxy(chain.url, 1)
    try {
      const l = ledger({ rpcUrl: proxy.url, wsUrl: chain.wsUrl, pollInterval: 3_600_000 })
      const prepared = await l.prepareAnchor(randomRoot(), { count: 1 })
      const submitted = l.submit(prepared)
      // the ledger's send was dropped; the transaction lands by another route, and only the subscription can tell
      while (proxy.dropped.length === 0) {
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      await chain.rpc.sendTransaction(prepared.wire as Base64EncodedWireTransaction, { encoding: 'base64' }).send()
      const result = await submitted
      assert.deepEqual(await l.status(prepared.signature), { state: 'landed', slot: result.slot, err: null })
    } finally {
      await proxy.close()
    }
  })

  it('submitting the same prepared anchor twice lands it once', async () => {
    const l = ledger()
    const prepared = await l.prepareAnchor(randomRoot(), { count: 1 })
    const first = await l.submit(prepared)
    const again = await l.submit(prepared)
    assert.equal(again.signature, first.signature)
    assert.equal(again.slot, first.slot)
  })

  it('aborts a call with the caller\'s signal, and refuses calls after close', async () => {
    const l = ledger({ wsUrl: await deadWsUrl() })
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(l.anchor(randomRoot(), { count: 1 }, { signal: controller.signal }), /stop/)
    await l.close()
    await assert.rejects(l.anchor(randomRoot(), { count: 1 }), rejectsAs('LedgerClosedError'))
  })

  it('measures anchors per second (reported, not asserted)', async function () {
    const l = ledger()
    const n = 40
    let start = performance.now()
    for (let i = 0; i < n; i++) {
      await l.anchor(randomRoot(), { count: i + 1 })
    }
    const sequential = n / ((performance.now() - start) / 1000)
    start = performance.now()
    await Promise.all(Array.from({ length: n }, async (_, i) => l.anchor(randomRoot(), { count: i + 1 })))
    const concurrent = n / ((performance.now() - start) / 1000)
    if (process.env.SHARDMESH_REPORT != null) {
      console.log(`      anchors/s through RpcLedger over HTTP: ${sequential.toFixed(1)} sequential, ${concurrent.toFixed(1)} with ${n} concurrent`)
    }
    assert.ok(sequential > 0 && concurrent > 0)
  })
})
