import assert from 'node:assert/strict'
import {
  AccountRole, address, appendTransactionMessageInstructions, createSolanaRpcSubscriptions, createTransactionMessage, generateKeyPairSigner,
  getAddressEncoder, getBase58Decoder, getSignatureFromTransaction, pipe, setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash, signTransactionMessageWithSigners
} from '@solana/kit'
import { airdrop, fundedSigner, post, sendAndConfirm, signMemo, startHarness } from './utils/harness.js'
import type { Harness, SignedTransaction } from './utils/harness.js'
import type { AccountSignerMeta, Address, Instruction, KeyPairSigner } from '@solana/kit'

const TOKEN_PROGRAM = address('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA')
const SYSTEM_PROGRAM = address('11111111111111111111111111111111')

/** System Program CreateAccount, built by hand. */
function createAccount (payer: KeyPairSigner, account: KeyPairSigner, lamports: bigint, space: number, owner: Address): Instruction {
  const data = new Uint8Array(52)
  const view = new DataView(data.buffer)
  view.setUint32(0, 0, true)
  view.setBigUint64(4, lamports, true)
  view.setBigUint64(12, BigInt(space), true)
  data.set(getAddressEncoder().encode(owner), 20)
  const accounts: AccountSignerMeta[] = [{ address: payer.address, role: AccountRole.WRITABLE_SIGNER, signer: payer }, { address: account.address, role: AccountRole.WRITABLE_SIGNER, signer: account }]
  return { programAddress: SYSTEM_PROGRAM, accounts, data }
}

/** A mint (InitializeMint2) and a token account of it for `owner` (InitializeAccount3), in one transaction. */
async function tokenAccountTransaction (h: Harness, payer: KeyPairSigner, mint: KeyPairSigner, account: KeyPairSigner, owner: Address): Promise<SignedTransaction> {
  const mintRent = await h.rpc.getMinimumBalanceForRentExemption(82n).send()
  const accountRent = await h.rpc.getMinimumBalanceForRentExemption(165n).send()
  const initMint = new Uint8Array(35)
  initMint.set([20, 6])
  initMint.set(getAddressEncoder().encode(payer.address), 2)
  const initAccount = new Uint8Array(33)
  initAccount[0] = 18
  initAccount.set(getAddressEncoder().encode(owner), 1)
  const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    m => setTransactionMessageFeePayerSigner(payer, m),
    m => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
    m => appendTransactionMessageInstructions([
      createAccount(payer, mint, mintRent, 82, TOKEN_PROGRAM),
      { programAddress: TOKEN_PROGRAM, accounts: [{ address: mint.address, role: AccountRole.WRITABLE }], data: initMint },
      createAccount(payer, account, accountRent, 165, TOKEN_PROGRAM),
      { programAddress: TOKEN_PROGRAM, accounts: [{ address: account.address, role: AccountRole.WRITABLE }, { address: mint.address, role: AccountRole.READONLY }], data: initAccount }
    ], m)
  )
  return signTransactionMessageWithSigners(message)
}

/** Iterate until `done` says so (start it before the notifications are due: kit drops what comes earlier). */
async function takeUntil <T> (iterable: AsyncIterable<T>, done: (item: T) => boolean): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) {
    out.push(item)
    if (done(item)) {
      return out
    }
  }
  throw new Error('the subscription ended')
}

describe('embedded chain server: blocks, logs, program and token accounts (kit)', function () {
  this.timeout(30_000)
  let h: Harness

  beforeEach(async () => {
    h = await startHarness()
  })

  afterEach(async () => {
    await h.stop()
  })

  it('getBlock serves the transaction that landed in a slot, in json, base64, signatures and none', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'in a block')
    await sendAndConfirm(h, tx)
    const signature = getSignatureFromTransaction(tx)
    const landed = await h.rpc.getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(landed != null)
    const slot = landed.slot

    const full = await h.rpc.getBlock(slot, { encoding: 'json', transactionDetails: 'full', maxSupportedTransactionVersion: 0, rewards: true }).send()
    assert.ok(full != null)
    assert.equal(full.parentSlot, slot - 1n)
    assert.equal(full.blockTime, landed.blockTime)
    assert.deepEqual(full.rewards, [])
    assert.equal(full.transactions.length, 1)
    assert.deepEqual(full.transactions[0].transaction.signatures, [signature])
    assert.equal(full.transactions[0].version, 0)
    assert.ok(full.transactions[0].meta?.logMessages?.some(line => line.includes('in a block')))
    // blockhashes chain: this block's previous is its parent's own
    const parent = await h.rpc.getBlock(slot - 1n, { transactionDetails: 'none', rewards: false, maxSupportedTransactionVersion: 0 }).send()
    assert.ok(parent != null)
    assert.equal(full.previousBlockhash, parent.blockhash)
    assert.equal('transactions' in parent, false)
    assert.equal('rewards' in parent, false)

    const b64 = await h.rpc.getBlock(slot, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(b64 != null)
    assert.equal(b64.transactions[0].transaction[1], 'base64')
    const signatures = await h.rpc.getBlock(slot, { transactionDetails: 'signatures', maxSupportedTransactionVersion: 0 }).send()
    assert.deepEqual(signatures?.signatures, [signature])

    // a v0 transaction without maxSupportedTransactionVersion: the validator's -32015
    const refused = await post(h.server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getBlock', params: [Number(slot)] }))
    assert.equal(refused.body.error.code, -32015)
    // the genesis block
    const genesis = await h.rpc.getBlock(0n, { maxSupportedTransactionVersion: 0 }).send()
    assert.ok(genesis != null)
    assert.deepEqual(genesis.transactions, [])
    assert.equal(genesis.blockHeight, 0n)
  })

  it('a slot the chain has not reached has no block: -32004, for getBlock and getBlockTime', async () => {
    const { body } = await post(h.server.url, JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'getBlock', params: [1000] },
      { jsonrpc: '2.0', id: 2, method: 'getBlockTime', params: [1000] },
      { jsonrpc: '2.0', id: 3, method: 'getBlocks', params: [0, 2_000_000] }
    ]))
    assert.deepEqual(body[0].error, { code: -32004, message: 'Block not available for slot 1000' })
    assert.deepEqual(body[1].error, { code: -32004, message: 'Block not available for slot 1000' })
    assert.equal(body[2].error.code, -32602)
  })

  it('getBlocks, getBlocksWithLimit and getBlockTime over the slots landed so far', async () => {
    const key = await generateKeyPairSigner()
    await airdrop(h, key.address, 1n)
    await airdrop(h, key.address, 1n)
    const slot = await h.rpc.getSlot().send()
    assert.deepEqual(await h.rpc.getBlocks(0n).send(), Array.from({ length: Number(slot) + 1 }, (_, i) => BigInt(i)))
    assert.deepEqual(await h.rpc.getBlocks(1n, 1n).send(), [1n])
    assert.deepEqual(await h.rpc.getBlocks(slot + 5n).send(), [])
    assert.deepEqual(await h.rpc.getBlocksWithLimit(slot - 1n, 10).send(), [slot - 1n, slot])
    const time = await h.rpc.getBlockTime(slot).send()
    const block = await h.rpc.getBlock(slot, { maxSupportedTransactionVersion: 0, transactionDetails: 'none' }).send()
    assert.equal(time, block?.blockTime)
  })

  it('getRecentPrioritizationFees: a zero fee for each recent slot (no fee market locally)', async () => {
    assert.deepEqual(await h.rpc.getRecentPrioritizationFees().send(), [])
    const key = await generateKeyPairSigner()
    await airdrop(h, key.address, 1n)
    const fees = await h.rpc.getRecentPrioritizationFees([key.address]).send()
    assert.deepEqual(fees, [{ slot: 1n, prioritizationFee: 0n }])
  })

  it('logsNotifications: all, and mentions of one address; logsSubscribe is WebSocket-only', async () => {
    const payer = await fundedSigner(h)
    const other = await generateKeyPairSigner()
    const abort = new AbortController()
    try {
      const all = await h.rpcSubscriptions.logsNotifications('all', { commitment: 'confirmed' }).subscribe({ abortSignal: abort.signal })
      const mine = await h.rpcSubscriptions.logsNotifications({ mentions: [payer.address] }, { commitment: 'confirmed' }).subscribe({ abortSignal: abort.signal })
      // kit delivers only what arrives once iteration has started: start before sending
      const tx = await signMemo(h, payer, 'logged memo')
      const signature = getSignatureFromTransaction(tx)
      const seenAll = takeUntil(all, note => note.value.signature === signature)
      const seenMine = takeUntil(mine, note => note.value.signature === signature)
      // a transaction not naming payer: only "all" sees it
      await airdrop(h, other.address, 1n)
      await sendAndConfirm(h, tx)
      const notes = await seenAll
      assert.equal(notes.length, 2)
      const last = notes[1]
      assert.equal(last.value.err, null)
      assert.ok(last.value.logs.some(line => line.includes('logged memo')))
      assert.equal(last.context.slot, (await h.rpc.getSlot().send()))
      assert.deepEqual((await seenMine).map(note => note.value.signature), [signature], 'the airdrop to another key does not mention payer')
    } finally {
      abort.abort()
    }
    const { body } = await post(h.server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'logsSubscribe', params: ['all'] }))
    assert.equal(body.error.code, -32601, 'subscriptions are WebSocket-only')
  })

  it('getProgramAccounts with dataSize, memcmp and dataSlice, and getTokenAccountsByOwner by mint and by program', async () => {
    const payer = await fundedSigner(h)
    const owner = await generateKeyPairSigner()
    const mint = await generateKeyPairSigner()
    const account = await generateKeyPairSigner()
    await sendAndConfirm(h, await tokenAccountTransaction(h, payer, mint, account, owner.address))

    const all = await h.rpc.getProgramAccounts(TOKEN_PROGRAM, { encoding: 'base64' }).send()
    assert.deepEqual(all.map(a => a.pubkey).sort(), [mint.address, account.address].sort())
    const accounts = await h.rpc.getProgramAccounts(TOKEN_PROGRAM, {
      encoding: 'base64',
      dataSlice: { offset: 32, length: 32 },
      filters: [{ dataSize: 165n }, { memcmp: { offset: 0n, bytes: mint.address as string as never, encoding: 'base58' } }]
    }).send()
    assert.equal(accounts.length, 1)
    assert.equal(accounts[0].pubkey, account.address)
    assert.equal(getBase58Decoder().decode(Buffer.from(accounts[0].account.data[0], 'base64')), owner.address, 'the slice is the token account owner')
    const none = await h.rpc.getProgramAccounts(TOKEN_PROGRAM, { encoding: 'base64', filters: [{ dataSize: 1n }] }).send()
    assert.deepEqual(none, [])

    const byMint = await h.rpc.getTokenAccountsByOwner(owner.address, { mint: mint.address }, { encoding: 'base64' }).send()
    assert.deepEqual(byMint.value.map(a => a.pubkey), [account.address])
    const byProgram = await h.rpc.getTokenAccountsByOwner(owner.address, { programId: TOKEN_PROGRAM }, { encoding: 'base64' }).send()
    assert.deepEqual(byProgram.value.map(a => a.pubkey), [account.address])
    const notOwner = await h.rpc.getTokenAccountsByOwner(payer.address, { programId: TOKEN_PROGRAM }, { encoding: 'base64' }).send()
    assert.deepEqual(notOwner.value, [])
    const { body } = await post(h.server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getTokenAccountsByOwner', params: [owner.address, { programId: SYSTEM_PROGRAM }] }))
    assert.deepEqual(body.error, { code: -32602, message: 'Invalid param: unrecognized Token program id' })
  })

  it('kit subscribes on the port+1 WebSocket as well', async () => {
    assert.ok(h.server.pubsubUrl != null)
    assert.equal(Number(new URL(h.server.pubsubUrl).port), Number(new URL(h.server.url).port) + 1)
    const subscriptions = createSolanaRpcSubscriptions(h.server.pubsubUrl)
    const abort = new AbortController()
    try {
      const slots = await subscriptions.slotNotifications().subscribe({ abortSignal: abort.signal })
      const first = takeUntil(slots, () => true)
      const key = await generateKeyPairSigner()
      await airdrop(h, key.address, 1n)
      assert.equal((await first)[0].slot, 1n)
    } finally {
      abort.abort()
    }
  })
})
