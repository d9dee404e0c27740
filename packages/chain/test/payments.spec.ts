import assert from 'node:assert/strict'
import { anchorMemo } from '@shardmesh/receipts'
import { RpcLedger } from '@shardmesh/solana'
import { address, generateKeyPairSigner } from '@solana/kit'
import { EmbeddedChain, EmbeddedLedger } from '../src/index.js'
import { fund, randomRoot, startTestChain } from './utils/test-chain.js'
import type { TestChain } from './utils/test-chain.js'
import type { Ledger } from '@shardmesh/solana'
import type { KeyPairSigner } from '@solana/kit'

const SOL = 1_000_000_000n
/** more than the rent-exempt minimum of an empty account (890,880 lamports), so that a new payee account may be created */
const PAY = 1_000_000n

/**
 * The anchor of one test: a root and two payments, then what the ledger reads back and how the
 * balances moved (payer: the payments and the fee; each payee: exactly its payment).
 */
async function anchorAndPay (ledger: Ledger, node: KeyPairSigner, balance: (address: string) => Promise<bigint>): Promise<void> {
  const a = (await generateKeyPairSigner()).address
  const b = (await generateKeyPairSigner()).address
  const before = { node: await balance(node.address), a: await balance(a), b: await balance(b) }
  const root = randomRoot()
  const payments = [{ to: a, lamports: PAY }, { to: b, lamports: 2n * PAY + 7n }]
  const result = await ledger.anchor(root, { count: 3, payments })
  const record = await ledger.verifyAnchor(result.signature, root, 3, node.address)
  assert.deepEqual(record.memos, [anchorMemo(root, 3)])
  assert.deepEqual(record.transfers, payments.map(p => ({ from: node.address, to: p.to, lamports: p.lamports })))
  assert.equal(await balance(a), before.a + PAY)
  assert.equal(await balance(b), before.b + 2n * PAY + 7n)
  assert.equal(await balance(node.address), before.node - 3n * PAY - 7n - record.fee)
}

describe('settlement: anchors that pay workers land their transfers', function () {
  this.timeout(60_000)

  describe('EmbeddedLedger', () => {
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

    it('pays each payee exactly, in the anchor transaction, read back as transfers', async () => {
      await anchorAndPay(ledger, node, async (a) => chain.getBalance(a))
    })

    it('with a separate fee payer, the node key pays the workers and the fee payer the fee', async () => {
      const feePayer = await generateKeyPairSigner()
      chain.airdrop(feePayer.address, SOL)
      const l = new EmbeddedLedger({ chain, signer: node, feePayer })
      const worker = (await generateKeyPairSigner()).address
      const before = { node: chain.getBalance(node.address), fee: chain.getBalance(feePayer.address) }
      const root = randomRoot()
      const { signature } = await l.anchor(root, { count: 1, payments: [{ to: worker, lamports: PAY }] })
      const record = await l.verifyAnchor(signature, root, 1, node.address)
      assert.equal(chain.getBalance(node.address), before.node - PAY)
      assert.equal(chain.getBalance(feePayer.address), before.fee - record.fee)
      assert.equal(chain.getBalance(worker), PAY)
      await l.close()
    })

    it('a node key without the lamports to pay fails to anchor, loudly, and nothing moves', async () => {
      const poor = await generateKeyPairSigner()
      chain.airdrop(poor.address, 10_000_000n)
      const l = new EmbeddedLedger({ chain, signer: poor })
      const worker = (await generateKeyPairSigner()).address
      await assert.rejects(l.anchor(randomRoot(), { count: 1, payments: [{ to: worker, lamports: SOL }] }), (err: any) => {
        assert.equal(err.name, 'UnfundedAccountError', err.message)
        // the node key is named, with what it must pay
        assert.equal(err.address, poor.address)
        assert.equal(err.payments, SOL)
        assert.match(err.message, /node key .* cannot pay the 1000000000 lamports the anchor transaction pays its workers/)
        return true
      })
      assert.equal(chain.getBalance(worker), 0n)
      await l.close()
    })

    it('a payment too small to open a new payee account fails the anchor (rent): the anchor is not made', async () => {
      const worker = (await generateKeyPairSigner()).address
      // refused as made (no funds of the node's would help), named by the chain's reason
      await assert.rejects(ledger.anchor(randomRoot(), { count: 1, payments: [{ to: worker, lamports: 10n }] }), (err: any) => {
        assert.equal(err.name, 'TransactionRejectedError', err.message)
        assert.match(err.message, /account \(1\) with insufficient funds for rent/)
        return true
      })
      assert.equal(chain.getBalance(worker), 0n)
      // once the account exists, any amount is paid
      chain.airdrop(worker, SOL)
      const root = randomRoot()
      const { signature } = await ledger.anchor(root, { count: 1, payments: [{ to: worker, lamports: 10n }] })
      assert.deepEqual((await ledger.verifyAnchor(signature, root, 1, node.address)).transfers, [{ from: node.address, to: worker, lamports: 10n }])
      assert.equal(chain.getBalance(worker), SOL + 10n)
    })
  })

  describe('RpcLedger (the chain over HTTP)', () => {
    let chain: TestChain
    let node: KeyPairSigner
    let ledger: RpcLedger

    before(async () => {
      chain = await startTestChain()
      node = await generateKeyPairSigner()
      await fund(chain.rpc, node.address)
      ledger = new RpcLedger({ rpcUrl: chain.url, wsUrl: chain.wsUrl, signer: node, pollInterval: 50 })
    })

    after(async () => {
      await ledger?.close()
      await chain?.stop()
    })

    it('pays each payee exactly, in the anchor transaction, read back as transfers', async () => {
      await anchorAndPay(ledger, node, async (a) => (await chain.rpc.getBalance(address(a), { commitment: 'confirmed' }).send()).value)
    })

    it('a node key without the lamports to pay is named, with what it must pay; a too-small payment to a new account is refused', async () => {
      const poor = await generateKeyPairSigner()
      await fund(chain.rpc, poor.address, 1n)
      const l = new RpcLedger({ rpcUrl: chain.url, wsUrl: chain.wsUrl, signer: poor, pollInterval: 50 })
      try {
        const worker = (await generateKeyPairSigner()).address
        await assert.rejects(l.anchor(randomRoot(), { count: 1, payments: [{ to: worker, lamports: 2n * SOL }] }), (err: any) => {
          assert.equal(err.name, 'UnfundedAccountError', err.message)
          assert.equal(err.address, poor.address)
          assert.equal(err.payments, 2n * SOL)
          assert.match(err.message, /shardmesh chain airdrop/)
          return true
        })
        await assert.rejects(l.anchor(randomRoot(), { count: 1, payments: [{ to: worker, lamports: 10n }] }), (err: any) => {
          assert.equal(err.name, 'TransactionRejectedError', err.message)
          assert.match(err.message, /insufficient funds for rent/)
          return true
        })
      } finally {
        await l.close()
      }
    })
  })
})
