import assert from 'node:assert/strict'
import { createSolanaRpc, generateKeyPairSigner, getTransactionDecoder, getTransactionEncoder } from '@solana/kit'
import { InvalidTransactionError } from '@shardmesh/solana'
import { ChainTransactionError, EmbeddedChain, startChainServer } from '../src/index.js'
import { LAMPORTS_PER_SOL, memoInstruction, randomBlockhash, signOne } from './utils/harness.js'
import type { RecentBlockhash, SlotEvent, TransactionEvent } from '../src/index.js'
import type { Blockhash, KeyPairSigner, Signature } from '@solana/kit'

const RECIPIENT = '11111111111111111111111111111112'

describe('EmbeddedChain', function () {
  this.timeout(30_000)
  let chain: EmbeddedChain
  let payer: KeyPairSigner

  beforeEach(async () => {
    chain = await EmbeddedChain.open()
    payer = await generateKeyPairSigner()
    chain.airdrop(payer.address, 10n * LAMPORTS_PER_SOL)
  })

  afterEach(async () => {
    await chain.close()
  })

  async function memoWire (text: string, lifetime: RecentBlockhash = chain.latestBlockhash()): Promise<Uint8Array> {
    const tx = await signOne(payer, memoInstruction(text, payer), { blockhash: lifetime.blockhash as Blockhash, lastValidBlockHeight: lifetime.lastValidBlockHeight })
    return Uint8Array.from(getTransactionEncoder().encode(tx))
  }

  async function messageBytes (blockhash: string): Promise<Uint8Array> {
    const wire = await memoWire('fee', { blockhash, lastValidBlockHeight: 0n })
    return Uint8Array.from(getTransactionDecoder().decode(wire).messageBytes)
  }

  function refusal (call: () => unknown): ChainTransactionError {
    try {
      call()
    } catch (err) {
      assert.ok(err instanceof ChainTransactionError, String(err))
      return err
    }
    assert.fail('expected a refusal')
  }

  it('accepts any of the last 150 blockhashes and refuses older ones with BlockhashNotFound', async () => {
    const old = chain.latestBlockhash()
    const height = chain.blockHeight
    assert.equal(old.lastValidBlockHeight, height + 150n)
    const early = await memoWire('signed early', old)
    const late = await memoWire('signed early, sent late', old)
    for (let i = 0; i < 149; i++) {
      chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
    }
    assert.equal(chain.feeForMessage(await messageBytes(old.blockhash)), 5000n)
    chain.sendTransaction(early) // lands at the last valid block height
    assert.equal(chain.blockHeight, old.lastValidBlockHeight)
    assert.equal(chain.isBlockhashValid(old.blockhash), false)
    const err = refusal(() => chain.sendTransaction(late))
    assert.equal(err.transactionError, 'BlockhashNotFound')
    assert.equal(err.message, 'Blockhash not found')
    assert.equal(chain.blockHeight, height + 150n, 'a refused transaction makes no block')
    assert.equal(chain.feeForMessage(await messageBytes(old.blockhash)), null)
  })

  it('refuses a blockhash it never issued, and bytes that are no transaction', async () => {
    const slot = chain.slot
    const unknown = await memoWire('unknown blockhash', { blockhash: randomBlockhash(), lastValidBlockHeight: 1000n })
    assert.equal(refusal(() => chain.sendTransaction(unknown)).transactionError, 'BlockhashNotFound')
    assert.throws(() => chain.sendTransaction(new Uint8Array([1, 2, 3])), (err: Error) => err instanceof InvalidTransactionError)
    assert.throws(() => chain.sendTransaction(new Uint8Array(1233)), { name: 'TransactionTooLargeError' })
    assert.equal(chain.slot, slot)
  })

  it('emits a slot and a transaction event per landed transaction', async () => {
    const slots: SlotEvent[] = []
    const transactions: TransactionEvent[] = []
    chain.on('slot', event => slots.push(event))
    chain.on('transaction', event => transactions.push(event))
    const before = chain.slot
    const signature = chain.sendTransaction(await memoWire('event'))
    assert.deepEqual(slots, [{ slot: before + 1n, parent: before, root: before + 1n }])
    assert.equal(transactions.length, 1)
    assert.equal(transactions[0].record.signature, signature)
    assert.deepEqual(transactions[0].accounts.map(a => a.address), [payer.address])
    assert.equal(transactions[0].accounts[0].lamports, 10n * LAMPORTS_PER_SOL - 5000n)
  })

  it('records airdrops as faucet transfers and keeps the exact wire bytes of every transaction', async () => {
    const [airdrop] = chain.signaturesForAddress(payer.address)
    const record = chain.getTransaction(airdrop.signature)
    assert.ok(record != null)
    assert.deepEqual(record.accountKeys.slice(0, 2), [chain.faucetAddress, payer.address])
    assert.equal(record.fee, 5000n)
    assert.deepEqual(record.postBalances.slice(0, 2), [record.preBalances[0] - 10n * LAMPORTS_PER_SOL - 5000n, 10n * LAMPORTS_PER_SOL])
    const wire = await memoWire('exact')
    const signature = chain.sendTransaction(wire)
    assert.deepEqual(chain.getTransaction(signature)?.wire, wire)
    assert.deepEqual(chain.signatureStatus(signature), { slot: chain.slot, blockHeight: chain.blockHeight, err: null })
  })

  it('pages signaturesForAddress newest first with limit, before and until', async () => {
    const signatures = [chain.signaturesForAddress(payer.address)[0].signature]
    for (let i = 0; i < 5; i++) {
      signatures.push(chain.sendTransaction(await memoWire(`page ${i}`)))
    }
    const newestFirst = [...signatures].reverse()
    assert.deepEqual(chain.signaturesForAddress(payer.address).map(s => s.signature), newestFirst)
    assert.deepEqual(chain.signaturesForAddress(payer.address, { limit: 2 }).map(s => s.signature), newestFirst.slice(0, 2))
    assert.deepEqual(chain.signaturesForAddress(payer.address, { before: newestFirst[1], limit: 2 }).map(s => s.signature), newestFirst.slice(2, 4))
    assert.deepEqual(chain.signaturesForAddress(payer.address, { until: newestFirst[3] }).map(s => s.signature), newestFirst.slice(0, 3))
    assert.equal(chain.signaturesForAddress(payer.address)[0].memo, '[6] page 4')
  })

  it('answers getSignatureStatuses without searchTransactionHistory only for the last 300 blocks', async () => {
    const server = await startChainServer({ port: 0, chain })
    try {
      const rpc = createSolanaRpc(server.url)
      const signature = chain.sendTransaction(await memoWire('aging')) as Signature
      for (let i = 0; i < 300; i++) {
        chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      }
      assert.equal((await rpc.getSignatureStatuses([signature]).send()).value[0]?.confirmationStatus, 'finalized')
      chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      assert.equal((await rpc.getSignatureStatuses([signature]).send()).value[0], null)
      assert.equal((await rpc.getSignatureStatuses([signature], { searchTransactionHistory: true }).send()).value[0]?.confirmationStatus, 'finalized')
    } finally {
      await server.close()
    }
  })

  it('refuses airdrops it cannot make', async () => {
    assert.throws(() => chain.airdrop('not an address', 1n), { name: 'InvalidAirdropError' })
    assert.throws(() => chain.airdrop(RECIPIENT, 0n), { name: 'InvalidAirdropError' })
    assert.throws(() => chain.airdrop(chain.faucetAddress, 1n), { name: 'InvalidAirdropError' })
    // below the rent-exempt minimum for a new account: the transfer would fail, so it is refused
    const err = refusal(() => chain.airdrop((RECIPIENT.slice(0, -1) + '3'), 1n))
    assert.deepEqual(err.transactionError, { InsufficientFundsForRent: { account_index: 1 } })
  })

  it('refuses a fee payer that cannot pay the fee and stay rent-exempt, charging nothing', async () => {
    const poor = await generateKeyPairSigner()
    chain.airdrop(poor.address, chain.minimumBalanceForRentExemption(0))
    const tx = await signOne(poor, memoInstruction('too poor', poor), { blockhash: chain.latestBlockhash().blockhash as Blockhash, lastValidBlockHeight: 0n })
    const slot = chain.slot
    const err = refusal(() => chain.sendTransaction(Uint8Array.from(getTransactionEncoder().encode(tx)), { skipPreflight: true }))
    // Solana's fee-payer check: paying the fee would leave it below the rent-exempt minimum
    assert.deepEqual(err.transactionError, { InsufficientFundsForRent: { account_index: 0 } })
    assert.equal(chain.getBalance(poor.address), chain.minimumBalanceForRentExemption(0))
    assert.equal(chain.slot, slot)
  })

  it('is closed after close()', async () => {
    await chain.close()
    assert.throws(() => chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL), { name: 'ChainClosedError' })
  })
})
