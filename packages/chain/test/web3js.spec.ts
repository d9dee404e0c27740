import assert from 'node:assert/strict'
import {
  Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction, TransactionInstruction, sendAndConfirmTransaction
} from '@solana/web3.js'
import { startHarness } from './utils/harness.js'
import type { Harness } from './utils/harness.js'
import type { Logs } from '@solana/web3.js'

const MEMO_PROGRAM = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr')

/** The first value `register` hands its callback (register it before the event is due). */
function next <T> (register: (callback: (value: T) => void) => number): { id: number, value: Promise<T> } {
  let resolve: (value: T) => void = () => {}
  const value = new Promise<T>(r => { resolve = r })
  return { id: register(v => { resolve(v) }), value }
}

describe('embedded chain server: the classic @solana/web3.js 1.x Connection', function () {
  this.timeout(30_000)
  let h: Harness
  let connection: Connection
  const errors: unknown[][] = []
  const consoleError = console.error

  beforeEach(async () => {
    h = await startHarness()
    // the default WebSocket endpoint: the RPC port + 1, as on solana-test-validator
    connection = new Connection(h.server.url, 'confirmed')
    errors.length = 0
    // web3.js logs each refused subscribe call here (and re-sends it at once, forever)
    console.error = (...args: unknown[]) => { errors.push(args) }
  })

  afterEach(async () => {
    console.error = consoleError
    // close web3.js's socket normally first (1000): on the server's 1001 it would reconnect forever
    const socket = (connection as unknown as { _rpcWebSocket: { close(): void, once(event: string, listener: () => void): void, socket?: { readyState: number } } })._rpcWebSocket
    if (socket.socket != null && socket.socket.readyState < 2) {
      const closed = new Promise<void>(resolve => { socket.once('close', resolve) })
      socket.close()
      await closed
    }
    await h.stop()
  })

  async function airdrop (to: PublicKey, sol = 2): Promise<string> {
    const signature = await connection.requestAirdrop(to, sol * LAMPORTS_PER_SOL)
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash()
    const { value } = await connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, 'confirmed')
    assert.equal(value.err, null)
    return signature
  }

  it('airdrops, transfers and lands a memo, confirming over the port+1 WebSocket; getTransaction and getSignaturesForAddress', async () => {
    const payer = Keypair.generate()
    const to = Keypair.generate()
    await airdrop(payer.publicKey)
    assert.equal(await connection.getBalance(payer.publicKey), 2 * LAMPORTS_PER_SOL)

    const transfer = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to.publicKey, lamports: LAMPORTS_PER_SOL / 2 }))
    const transferSignature = await sendAndConfirmTransaction(connection, transfer, [payer], { commitment: 'confirmed' })
    assert.equal(await connection.getBalance(to.publicKey), LAMPORTS_PER_SOL / 2)

    const memo = new Transaction().add(new TransactionInstruction({ programId: MEMO_PROGRAM, keys: [{ pubkey: payer.publicKey, isSigner: true, isWritable: false }], data: Buffer.from('web3.js memo') }))
    const memoSignature = await sendAndConfirmTransaction(connection, memo, [payer], { commitment: 'confirmed' })

    const got = await connection.getTransaction(memoSignature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
    assert.ok(got != null)
    assert.equal(got.meta?.err, null)
    assert.ok(got.meta?.logMessages?.some(line => line.includes('web3.js memo')))
    const parsed = await connection.getParsedTransaction(memoSignature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
    assert.equal((parsed?.transaction.message.instructions[0] as { parsed?: unknown }).parsed, 'web3.js memo')

    const history = await connection.getSignaturesForAddress(payer.publicKey)
    assert.deepEqual(history.map(entry => entry.signature).slice(0, 2), [memoSignature, transferSignature])
    assert.equal(history[0].memo, '[12] web3.js memo')
    assert.deepEqual(errors, [])
  })

  it('onLogs receives a memo\'s logs (all and mentions); getBlock, getBlocks, getBlockTime agree', async () => {
    const payer = Keypair.generate()
    await airdrop(payer.publicKey)
    const all = next<Logs>(callback => connection.onLogs('all', logs => { if (logs.logs.some(line => line.includes('watched memo'))) callback(logs) }, 'confirmed'))
    const mentions = next<Logs>(callback => connection.onLogs(payer.publicKey, logs => { callback(logs) }, 'confirmed'))
    // the subscriptions are in place once web3.js has its ids: a slot notification proves the socket is up
    const slot = next<number>(callback => connection.onSlotChange(info => { callback(info.slot) }))
    await airdrop(Keypair.generate().publicKey, 1)
    await slot.value

    const memo = new Transaction().add(new TransactionInstruction({ programId: MEMO_PROGRAM, keys: [{ pubkey: payer.publicKey, isSigner: true, isWritable: false }], data: Buffer.from('watched memo') }))
    const signature = await sendAndConfirmTransaction(connection, memo, [payer], { commitment: 'confirmed' })
    const [logs, mentioned] = await Promise.all([all.value, mentions.value])
    assert.equal(logs.signature, signature)
    assert.equal(logs.err, null)
    assert.equal(mentioned.signature, signature)
    await connection.removeOnLogsListener(all.id)
    await connection.removeOnLogsListener(mentions.id)
    await connection.removeSlotChangeListener(slot.id)

    const landed = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
    assert.ok(landed != null)
    const block = await connection.getBlock(landed.slot, { maxSupportedTransactionVersion: 0 })
    assert.ok(block != null)
    assert.deepEqual(block.transactions.map(tx => tx.transaction.signatures[0]), [signature])
    assert.equal(block.parentSlot, landed.slot - 1)
    assert.equal(await connection.getBlockTime(landed.slot), block.blockTime)
    const blocks = await connection.getBlocks(0)
    assert.deepEqual(blocks, Array.from({ length: landed.slot + 1 }, (_, i) => i))
    const fees = await connection.getRecentPrioritizationFees()
    assert.ok(fees.length > 0 && fees.every(fee => fee.prioritizationFee === 0))
    assert.deepEqual(errors, [])
  })

  it('every subscription web3.js makes is served: no refused subscribe call (web3.js would re-send it forever)', async () => {
    const payer = Keypair.generate()
    const to = Keypair.generate()
    await airdrop(payer.publicKey)
    const account = next<unknown>(callback => connection.onAccountChange(to.publicKey, callback, { commitment: 'confirmed' }))
    const program = next<{ accountId: PublicKey }>(callback => connection.onProgramAccountChange(SystemProgram.programId, callback, { commitment: 'confirmed', filters: [{ dataSize: 0 }] }))
    const slotUpdate = next<{ type: string }>(callback => connection.onSlotUpdate(update => { if (update.type === 'root') callback(update) }))
    const root = next<number>(callback => connection.onRootChange(callback))
    const logs = next<Logs>(callback => connection.onLogs(to.publicKey, callback, 'confirmed'))
    const slot = next<number>(callback => connection.onSlotChange(info => { callback(info.slot) }))
    await airdrop(Keypair.generate().publicKey, 1)
    await slot.value // the socket is up and subscribed

    const transfer = new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to.publicKey, lamports: LAMPORTS_PER_SOL / 4 }))
    const signature = await sendAndConfirmTransaction(connection, transfer, [payer], { commitment: 'confirmed' })
    const [, changed, update] = await Promise.all([account.value, program.value, slotUpdate.value, root.value])
    assert.ok(changed.accountId instanceof PublicKey)
    assert.equal(update.type, 'root')
    assert.equal((await logs.value).signature, signature)
    await connection.removeAccountChangeListener(account.id)
    await connection.removeProgramAccountChangeListener(program.id)
    await connection.removeSlotUpdateListener(slotUpdate.id)
    await connection.removeRootChangeListener(root.id)
    await connection.removeOnLogsListener(logs.id)
    await connection.removeSlotChangeListener(slot.id)

    // getProgramAccounts and getTokenAccountsByOwner parse in web3.js's own schema
    const owned = await connection.getProgramAccounts(SystemProgram.programId, { filters: [{ dataSize: 0 }], encoding: 'base64' })
    assert.ok(owned.some(entry => entry.pubkey.equals(to.publicKey)))
    const tokens = await connection.getTokenAccountsByOwner(to.publicKey, { programId: new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA') })
    assert.deepEqual(tokens.value, [])
    assert.deepEqual(errors, [], 'web3.js logged no refused call')
  })
})
