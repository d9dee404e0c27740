import assert from 'node:assert/strict'
import {
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__JSON_RPC__INVALID_PARAMS,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED,
  SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  isSolanaError
} from '@solana/kit'
import {
  LAMPORTS_PER_SOL, fundedSigner, memoInstruction, randomBlockhash, sendAndConfirm, signMemo, signOne, startHarness, transferInstruction
} from './utils/harness.js'
import type { Harness, SignedTransaction } from './utils/harness.js'
import type { Base64EncodedWireTransaction, SolanaErrorCode } from '@solana/kit'

describe('embedded chain server: refused transactions', function () {
  this.timeout(30_000)
  let h: Harness

  beforeEach(async () => {
    h = await startHarness()
  })

  afterEach(async () => {
    await h.stop()
  })

  async function send (tx: SignedTransaction | Base64EncodedWireTransaction, skipPreflight = false): Promise<unknown> {
    const wire = typeof tx === 'string' ? tx : getBase64EncodedWireTransaction(tx)
    return h.rpc.sendTransaction(wire, { encoding: 'base64', skipPreflight }).send()
  }

  /** the rejection of `promise`, checked to be a kit preflight failure caused by `cause` */
  async function preflightFailure (promise: Promise<unknown>, cause: SolanaErrorCode): Promise<any> {
    const err: any = await promise.then(() => assert.fail('expected a refusal'), (e: unknown) => e)
    assert.ok(isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE), String(err))
    assert.ok(isSolanaError(err.cause, cause), `cause ${String(err.cause)}`)
    return err
  }

  it('refuses an unknown blockhash with BlockhashNotFound, and nothing changes', async () => {
    const payer = await fundedSigner(h)
    const slot = await h.rpc.getSlot().send()
    const tx = await signOne(payer, memoInstruction('nowhere', payer), { blockhash: randomBlockhash(), lastValidBlockHeight: 1000n })
    await preflightFailure(send(tx), SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND)
    // skipPreflight does not make it land: the chain answers at once rather than dropping it
    await preflightFailure(send(tx, true), SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND)
    assert.equal(await h.rpc.getSlot().send(), slot)
    assert.equal((await h.rpc.getSignatureStatuses([getSignatureFromTransaction(tx)], { searchTransactionHistory: true }).send()).value[0], null)
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, 10n * LAMPORTS_PER_SOL)
  })

  it('refuses an unfunded fee payer with AccountNotFound and a clear message', async () => {
    const poor = await generateKeyPairSigner()
    const tx = await signMemo(h, poor, 'no lamports')
    const err = await preflightFailure(send(tx), SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND)
    assert.match(err.context.__serverMessage ?? err.message, /simulation failed|no record of a prior credit/i)
    assert.equal((await h.rpc.getSignatureStatuses([getSignatureFromTransaction(tx)], { searchTransactionHistory: true }).send()).value[0], null)
  })

  it('refuses a duplicate with AlreadyProcessed', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'once')
    await sendAndConfirm(h, tx)
    const slot = await h.rpc.getSlot().send()
    await preflightFailure(send(tx), SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED)
    await preflightFailure(send(tx, true), SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED)
    assert.equal(await h.rpc.getSlot().send(), slot)
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, 10n * LAMPORTS_PER_SOL - 5000n)
  })

  it('refuses a transaction over 1232 bytes', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'x'.repeat(1200))
    const wire = getBase64EncodedWireTransaction(tx)
    assert.ok(Buffer.byteLength(wire, 'base64') > 1232)
    const err: any = await send(wire).then(() => assert.fail('expected a refusal'), (e: unknown) => e)
    assert.ok(isSolanaError(err, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS), String(err))
    assert.match(err.context.__serverMessage, /too large/)
    // the largest memo that fits does land
    const fits = await signMemo(h, payer, 'x'.repeat(1232 - (Buffer.byteLength(wire, 'base64') - 1200)))
    assert.equal(Buffer.byteLength(getBase64EncodedWireTransaction(fits), 'base64'), 1232)
    await sendAndConfirm(h, fits)
  })

  it('refuses a bad signature with the signature verification error', async () => {
    const payer = await fundedSigner(h)
    const tx = await signMemo(h, payer, 'tampered')
    const bytes = Buffer.from(getBase64EncodedWireTransaction(tx), 'base64')
    bytes[bytes.indexOf('tampered') + 1] ^= 1 // a byte of the memo: the signature no longer matches
    const err: any = await send(bytes.toString('base64') as Base64EncodedWireTransaction).then(() => assert.fail('expected a refusal'), (e: unknown) => e)
    assert.ok(isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE), String(err))
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, 10n * LAMPORTS_PER_SOL)
  })

  it('refuses a failing transaction in preflight; with skipPreflight it lands with its error and pays the fee', async () => {
    const payer = await fundedSigner(h, 1n)
    const to = await generateKeyPairSigner()
    const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
    const tx = await signOne(payer, transferInstruction(payer, to.address, 5n * LAMPORTS_PER_SOL), lifetime)
    const err = await preflightFailure(send(tx), SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)
    assert.ok(Array.isArray(err.context.logs) && err.context.logs.some((line: string) => line.includes('insufficient lamports')))
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, LAMPORTS_PER_SOL)

    const signature = await send(tx, true)
    assert.equal(signature, getSignatureFromTransaction(tx))
    const [status] = (await h.rpc.getSignatureStatuses([getSignatureFromTransaction(tx)]).send()).value
    // kit's client turns every number it parses into a bigint
    assert.deepEqual(status?.err, { InstructionError: [0n, { Custom: 1n }] })
    assert.deepEqual(status?.status, { Err: { InstructionError: [0n, { Custom: 1n }] } })
    const got = await h.rpc.getTransaction(getSignatureFromTransaction(tx), { encoding: 'json', maxSupportedTransactionVersion: 0 }).send()
    assert.deepEqual(got?.meta?.err, { InstructionError: [0n, { Custom: 1n }] })
    assert.equal(got?.meta?.fee, 5000n)
    assert.equal((await h.rpc.getBalance(payer.address).send()).value, LAMPORTS_PER_SOL - 5000n)
    assert.equal((await h.rpc.getBalance(to.address).send()).value, 0n)
  })
})
