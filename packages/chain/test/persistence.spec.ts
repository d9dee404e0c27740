import assert from 'node:assert/strict'
import fs from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSigner, getBase64EncodedWireTransaction, getSignatureFromTransaction } from '@solana/kit'
import { ChainLockedError, ChainLogCorruptError, EmbeddedChain } from '../src/index.js'
import { LAMPORTS_PER_SOL, airdrop, fundedSigner, memoInstruction, sendAndConfirm, signMemo, signOne, startHarness } from './utils/harness.js'
import type { Harness } from './utils/harness.js'

const RECIPIENT = '11111111111111111111111111111112'

describe('embedded chain: persistence', function () {
  this.timeout(30_000)

  describe('a restarted server', () => {
    let h: Harness

    beforeEach(async () => {
      h = await startHarness()
    })

    afterEach(async () => {
      await h.stop()
    })

    it('still serves every old transaction, keeps balances, continues its slots and lands new transactions', async () => {
      const payer = await fundedSigner(h, 4n)
      const memo = await signMemo(h, payer, 'before the restart')
      await sendAndConfirm(h, memo)
      const memoSignature = getSignatureFromTransaction(memo)
      const json = await h.rpc.getTransaction(memoSignature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send()
      const history = await h.rpc.getSignaturesForAddress(payer.address).send()
      const slot = await h.rpc.getSlot().send()
      const height = await h.rpc.getBlockHeight().send()
      const balance = (await h.rpc.getBalance(payer.address).send()).value
      const { value: oldLifetime } = await h.rpc.getLatestBlockhash().send()
      const genesisHash = await h.rpc.getGenesisHash().send()
      const oldUrl = h.server.url

      await h.restart()
      assert.notEqual(h.server.url, oldUrl)

      assert.deepEqual(await h.rpc.getTransaction(memoSignature, { encoding: 'json', maxSupportedTransactionVersion: 0 }).send(), json)
      const base64 = await h.rpc.getTransaction(memoSignature, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
      assert.deepEqual(base64?.transaction, [getBase64EncodedWireTransaction(memo), 'base64'])
      const { value: statuses } = await h.rpc.getSignatureStatuses([memoSignature, history[1].signature], { searchTransactionHistory: true }).send()
      assert.deepEqual(statuses.map(s => s?.slot), [history[0].slot, history[1].slot])
      assert.deepEqual(await h.rpc.getSignaturesForAddress(payer.address).send(), history)
      assert.equal((await h.rpc.getBalance(payer.address).send()).value, balance)
      assert.equal(await h.rpc.getSlot().send(), slot)
      assert.equal(await h.rpc.getBlockHeight().send(), height)
      assert.equal(await h.rpc.getGenesisHash().send(), genesisHash)
      // the blockhashes carry on: the latest one before the restart is still usable
      assert.equal((await h.rpc.isBlockhashValid(oldLifetime.blockhash).send()).value, true)

      const after = await signOne(payer, memoInstruction('after the restart', payer), oldLifetime)
      await sendAndConfirm(h, after)
      const [status] = (await h.rpc.getSignatureStatuses([getSignatureFromTransaction(after)]).send()).value
      assert.equal(status?.slot, slot + 1n)
      assert.equal((await h.rpc.getBalance(payer.address).send()).value, balance - 5000n)
      // a duplicate of a transaction from before the restart is still refused
      await assert.rejects(h.rpc.sendTransaction(getBase64EncodedWireTransaction(memo), { encoding: 'base64' }).send())
      // and airdrops (faucet state restored) work
      const fresh = await generateKeyPairSigner()
      await airdrop(h, fresh.address, 1n)
      assert.equal((await h.rpc.getBalance(fresh.address).send()).value, LAMPORTS_PER_SOL)
    })
  })

  describe('the chain log', () => {
    let dataDir: string

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-chain-log-'))
    })

    afterEach(async () => {
      await rm(dataDir, { recursive: true, force: true })
    })

    it('locks the data dir while a chain has it open', async () => {
      const chain = await EmbeddedChain.open({ dataDir })
      await assert.rejects(EmbeddedChain.open({ dataDir }), (err: Error) => err instanceof ChainLockedError)
      await chain.close()
      const again = await EmbeddedChain.open({ dataDir })
      await again.close()
    })

    it('takes over a lock left by a process that is gone', async () => {
      fs.writeFileSync(join(dataDir, 'LOCK'), '2147483646\n')
      const chain = await EmbeddedChain.open({ dataDir })
      await chain.close()
      assert.equal(fs.existsSync(join(dataDir, 'LOCK')), false)
    })

    it('drops a torn last record and keeps everything before it', async () => {
      const chain = await EmbeddedChain.open({ dataDir })
      const first = chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      const second = chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      await chain.close()
      const file = join(dataDir, 'chain.log')
      const size = fs.statSync(file).size
      fs.truncateSync(file, size - 10) // the second airdrop's record loses its end

      const reopened = await EmbeddedChain.open({ dataDir })
      assert.notEqual(reopened.getTransaction(first), null)
      assert.equal(reopened.getTransaction(second), null)
      assert.equal(reopened.getBalance(RECIPIENT), LAMPORTS_PER_SOL)
      assert.equal(reopened.slot, 1n)
      const third = reopened.airdrop(RECIPIENT, 2n * LAMPORTS_PER_SOL)
      await reopened.close()

      const last = await EmbeddedChain.open({ dataDir })
      assert.equal(last.getTransaction(third)?.slot, 2n)
      assert.equal(last.getBalance(RECIPIENT), 3n * LAMPORTS_PER_SOL)
      await last.close()
    })

    it('drops a torn last record inside the zeros the log grew ahead (a crash before close)', async () => {
      const chain = await EmbeddedChain.open({ dataDir })
      const first = chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      const second = chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      await chain.close()
      const file = join(dataDir, 'chain.log')
      const bytes = fs.readFileSync(file)
      bytes[bytes.length - 3] ^= 0xff // damage the last record...
      fs.writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(64 * 1024)])) // ...which is followed by zeros, as before close
      fs.writeFileSync(join(dataDir, 'LOCK'), `${process.pid}\n`) // and the lock a crashed chain of this process left

      const reopened = await EmbeddedChain.open({ dataDir })
      assert.notEqual(reopened.getTransaction(first), null)
      assert.equal(reopened.getTransaction(second), null)
      assert.equal(reopened.getBalance(RECIPIENT), LAMPORTS_PER_SOL)
      await reopened.close()
      assert.equal(fs.statSync(file).size < bytes.length, true, 'cut at the end of the last good record')
    })

    it('refuses a log whose damaged record is not the last one', async () => {
      const chain = await EmbeddedChain.open({ dataDir })
      chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      chain.airdrop(RECIPIENT, LAMPORTS_PER_SOL)
      await chain.close()
      const file = join(dataDir, 'chain.log')
      const bytes = fs.readFileSync(file)
      const genesisLength = bytes.readUInt32LE(0)
      bytes[8 + genesisLength + 8 + 5] ^= 0xff // inside the first transaction record
      fs.writeFileSync(file, bytes)
      await assert.rejects(EmbeddedChain.open({ dataDir }), (err: Error) => err instanceof ChainLogCorruptError)
      assert.equal(fs.existsSync(join(dataDir, 'LOCK')), false, 'a refused open leaves no lock behind')
    })
  })
})
