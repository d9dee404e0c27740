import assert from 'node:assert/strict'
import {
  compileTransaction,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getBase64Decoder,
  getSignatureFromTransaction,
  appendTransactionMessageInstruction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash
} from '@solana/kit'
import {
  LAMPORTS_PER_SOL, MEMO_PROGRAM, airdrop, fundedSigner, memoInstruction, randomBlockhash, sendAndConfirm, signMemo, signOne,
  startHarness, transferInstruction
} from './utils/harness.js'
import type { Harness } from './utils/harness.js'
import type { Signature, TransactionMessageBytesBase64 } from '@solana/kit'

describe('embedded chain server: the stock kit client', function () {
  this.timeout(30_000)
  let h: Harness

  beforeEach(async () => {
    h = await startHarness()
  })

  afterEach(async () => {
    await h.stop()
  })

  it('airdrops to a fresh key with airdropFactory, and getBalance shows it', async () => {
    const key = await generateKeyPairSigner()
    assert.equal((await h.rpc.getBalance(key.address).send()).value, 0n)
    const signature = await airdrop(h, key.address, 3n)
    assert.equal((await h.rpc.getBalance(key.address).send()).value, 3n * LAMPORTS_PER_SOL)
    // the airdrop is a real transfer from the faucet, with history
    const tx = await h.rpc.getTransaction(signature as Signature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(tx != null)
    assert.equal(tx.meta?.err, null)
    assert.equal(tx.transaction.message.accountKeys[1], key.address)
  })

  it('sends a transfer with sendAndConfirmTransaction; balances move by the amount and the fee', async () => {
    const payer = await fundedSigner(h, 5n)
    const to = await generateKeyPairSigner()
    const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
    const tx = await signOne(payer, transferInstruction(payer, to.address, 1_000_000_000n), lifetime, 'legacy')
    await sendAndConfirm(h, tx)
    assert.equal((await h.rpc.getBalance(to.address).send()).value, 1_000_000_000n)
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, 5n * LAMPORTS_PER_SOL - 1_000_000_000n - 5000n)
    const got = await h.rpc.getTransaction(getSignatureFromTransaction(tx), { encoding: 'json' }).send()
    assert.ok(got != null)
    assert.equal(got.meta?.fee, 5000n)
    assert.deepEqual(got.meta?.preBalances.slice(0, 2), [5n * LAMPORTS_PER_SOL, 0n])
    assert.deepEqual(got.meta?.postBalances.slice(0, 2), [5n * LAMPORTS_PER_SOL - 1_000_000_000n - 5000n, 1_000_000_000n])
    assert.equal('version' in got, false, 'no version field without maxSupportedTransactionVersion')
  })

  it('lands an SPL Memo and serves it back by getTransaction in json and base64', async () => {
    const payer = await fundedSigner(h)
    const text = 'shardmesh:v1:héllo memo'
    const tx = await signMemo(h, payer, text)
    await sendAndConfirm(h, tx)
    const signature = getSignatureFromTransaction(tx)

    const json = await h.rpc.getTransaction(signature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(json != null)
    assert.equal(json.version, 0)
    assert.equal(json.meta?.err, null)
    assert.deepEqual(json.meta?.status, { Ok: null })
    assert.equal(json.meta?.fee, 5000n)
    assert.deepEqual(json.meta?.loadedAddresses, { writable: [], readonly: [] })
    assert.ok((json.meta?.computeUnitsConsumed ?? 0n) > 0n)
    assert.ok(json.meta?.logMessages?.some(line => line.includes(text)))
    assert.deepEqual(json.transaction.signatures, [signature])
    const message = json.transaction.message
    assert.deepEqual(message.header, { numRequiredSignatures: 1, numReadonlySignedAccounts: 0, numReadonlyUnsignedAccounts: 1 })
    assert.equal(message.instructions.length, 1)
    const instruction = message.instructions[0]
    assert.equal(message.accountKeys[instruction.programIdIndex], MEMO_PROGRAM)
    assert.deepEqual(instruction.accounts.map(i => message.accountKeys[i]), [payer.address])
    assert.equal(new TextDecoder().decode(getBase58Encoder().encode(instruction.data) as Uint8Array), text)
    assert.equal(message.recentBlockhash, (tx.lifetimeConstraint as { blockhash: string }).blockhash)
    assert.deepEqual('addressTableLookups' in message ? message.addressTableLookups : undefined, [])
    assert.equal(typeof json.blockTime, 'bigint')

    const base64 = await h.rpc.getTransaction(signature, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(base64 != null)
    assert.deepEqual(base64.transaction, [getBase64EncodedWireTransaction(tx), 'base64'])
    assert.equal(base64.slot, json.slot)

    const parsed = await h.rpc.getTransaction(signature, { encoding: 'jsonParsed', maxSupportedTransactionVersion: 0 }).send()
    assert.deepEqual(parsed?.transaction.message.instructions[0], { parsed: text, program: 'spl-memo', programId: MEMO_PROGRAM, stackHeight: null })

    const [status] = (await h.rpc.getSignatureStatuses([signature]).send()).value
    assert.deepEqual(status, { slot: json.slot, confirmations: null, err: null, status: { Ok: null }, confirmationStatus: 'finalized' })

    const list = await h.rpc.getSignaturesForAddress(payer.address).send()
    assert.equal(list[0].signature, signature)
    assert.equal(list[0].memo, `[${Buffer.byteLength(text)}] ${text}`)
    assert.equal(list[0].confirmationStatus, 'finalized')
    assert.equal(list.length, 2, 'the memo and the airdrop')
  })

  it('advances the slot, the block height and the blockhash by one per transaction', async () => {
    const payer = await fundedSigner(h)
    const slot = await h.rpc.getSlot().send()
    const height = await h.rpc.getBlockHeight().send()
    const { value: before, context } = await h.rpc.getLatestBlockhash().send()
    assert.equal(context.slot, slot)
    assert.equal(before.lastValidBlockHeight, height + 150n)
    for (let i = 0; i < 3; i++) {
      await sendAndConfirm(h, await signMemo(h, payer, `tick ${i}`))
    }
    assert.equal(await h.rpc.getSlot().send(), slot + 3n)
    assert.equal(await h.rpc.getBlockHeight().send(), height + 3n)
    const { value: after } = await h.rpc.getLatestBlockhash().send()
    assert.notEqual(after.blockhash, before.blockhash)
    assert.equal(after.lastValidBlockHeight, height + 3n + 150n)
    // the older blockhash is still usable, as on a cluster
    assert.equal((await h.rpc.isBlockhashValid(before.blockhash).send()).value, true)
    assert.equal((await h.rpc.isBlockhashValid(randomBlockhash()).send()).value, false)
    const epoch = await h.rpc.getEpochInfo().send()
    assert.equal(epoch.absoluteSlot, slot + 3n)
    assert.equal(epoch.blockHeight, height + 3n)
  })

  it('lands 10 concurrent senders that all fetched the same blockhash', async () => {
    const payers = await Promise.all(Array.from({ length: 10 }, async () => generateKeyPairSigner()))
    for (const payer of payers) {
      await airdrop(h, payer.address, 1n)
    }
    const lifetimes = await Promise.all(payers.map(async () => (await h.rpc.getLatestBlockhash().send()).value))
    assert.equal(new Set(lifetimes.map(l => l.blockhash)).size, 1)
    const txs = await Promise.all(payers.map(async (payer, i) => signOne(payer, memoInstruction(`concurrent ${i}`, payer), lifetimes[i])))
    await Promise.all(txs.map(async tx => { await sendAndConfirm(h, tx) }))
    const { value } = await h.rpc.getSignatureStatuses(txs.map(getSignatureFromTransaction)).send()
    assert.ok(value.every(s => s?.err === null))
    assert.equal(new Set(value.map(s => s?.slot)).size, 10, 'one slot each')
  })

  it('notifies signature, slot and account subscriptions', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'watched')
    const signature = getSignatureFromTransaction(tx)
    const abort = new AbortController()
    try {
      const signatures = await h.rpcSubscriptions.signatureNotifications(signature, { commitment: 'confirmed' }).subscribe({ abortSignal: abort.signal })
      const slots = await h.rpcSubscriptions.slotNotifications().subscribe({ abortSignal: abort.signal })
      const accounts = await h.rpcSubscriptions.accountNotifications(payer.address, { encoding: 'base64' }).subscribe({ abortSignal: abort.signal })
      const first = async <T>(iterable: AsyncIterable<T>): Promise<T> => {
        for await (const item of iterable) {
          return item
        }
        throw new Error('ended')
      }
      // kit delivers only what arrives once iteration has started: start before sending
      const waiting = Promise.all([first(signatures), first(slots), first(accounts)])
      const slot = await h.rpc.getSlot().send()
      await h.rpc.sendTransaction(getBase64EncodedWireTransaction(tx), { encoding: 'base64' }).send()
      const [landed, nextSlot, account] = await waiting
      assert.deepEqual(landed.value, { err: null })
      assert.equal(landed.context.slot, slot + 1n)
      assert.deepEqual(nextSlot, { parent: slot, root: slot + 1n, slot: slot + 1n })
      assert.equal(account.value.lamports, 10n * LAMPORTS_PER_SOL - 5000n)
      assert.deepEqual(account.value.data, ['', 'base64'])

      // a signature that already landed is notified too (another commitment: kit would reuse the ended
      // subscription for identical params)
      const late = await h.rpcSubscriptions.signatureNotifications(signature, { commitment: 'finalized' }).subscribe({ abortSignal: abort.signal })
      assert.deepEqual((await first(late)).value, { err: null })
    } finally {
      abort.abort()
    }
  })

  it('answers the account, fee and chain queries', async () => {
    const payer = await fundedSigner(h, 2n)
    const info = await h.rpc.getAccountInfo(payer.address, { encoding: 'base64' }).send()
    assert.deepEqual(info.value, { data: ['', 'base64'], executable: false, lamports: 2n * LAMPORTS_PER_SOL, owner: '11111111111111111111111111111111', rentEpoch: 18446744073709551615n, space: 0n })
    assert.equal((await h.rpc.getAccountInfo((await generateKeyPairSigner()).address, { encoding: 'base64' }).send()).value, null)
    const memo = await h.rpc.getAccountInfo(MEMO_PROGRAM, { encoding: 'base64' }).send()
    assert.equal(memo.value?.executable, true)
    assert.equal(await h.rpc.getMinimumBalanceForRentExemption(0n).send(), 890_880n)

    const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
    const compiled = compileTransaction(pipe(
      createTransactionMessage({ version: 0 }),
      m => setTransactionMessageFeePayerSigner(payer, m),
      m => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
      m => appendTransactionMessageInstruction(memoInstruction('fee?', payer), m)
    ))
    const messageBase64 = getBase64Decoder().decode(compiled.messageBytes) as TransactionMessageBytesBase64
    assert.equal((await h.rpc.getFeeForMessage(messageBase64).send()).value, 5000n)

    assert.equal(await h.rpc.getHealth().send(), 'ok')
    assert.equal(typeof (await h.rpc.getVersion().send())['solana-core'], 'string')
    assert.equal(await h.rpc.getGenesisHash().send(), h.server.chain.genesisHash)
    // the faucet's 500 million SOL is past 2^53 lamports: it must come back exact
    assert.equal((await h.rpc.getBalance(h.server.chain.faucetAddress as any).send()).value, h.server.chain.getBalance(h.server.chain.faucetAddress))
  })

  it('simulates without landing', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'only simulated')
    const slot = await h.rpc.getSlot().send()
    const { value } = await h.rpc.simulateTransaction(getBase64EncodedWireTransaction(tx), { encoding: 'base64' }).send()
    assert.equal(value.err, null)
    assert.ok((value.unitsConsumed ?? 0n) > 0n)
    assert.ok(value.logs?.some(line => line.includes('only simulated')))
    assert.equal(await h.rpc.getSlot().send(), slot)
    assert.equal((await h.rpc.getSignatureStatuses([getSignatureFromTransaction(tx)]).send()).value[0], null)
  })
})
