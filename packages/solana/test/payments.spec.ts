import assert from 'node:assert/strict'
import { anchorMemo } from '@shardmesh/receipts'
import {
  appendTransactionMessageInstructions, blockhash, createTransactionMessage, generateKeyPairSigner, getBase64EncodedWireTransaction, pipe,
  setTransactionMessageFeePayerSigner, setTransactionMessageLifetimeUsingBlockhash, signTransactionMessageWithSigners
} from '@solana/kit'
import {
  MAX_ANCHOR_PAYMENTS, MAX_TRANSACTION_SIZE, SYSTEM_PROGRAM_ADDRESS, anchorTransactionSize, buildAnchorTransaction, getMemoInstruction,
  getTransferInstruction, parseTransaction
} from '../src/index.js'
import type { Payment } from '../src/index.js'
import type { KeyPairSigner } from '@solana/kit'

const BLOCKHASH = { blockhash: blockhash('EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N'), lastValidBlockHeight: 150n }
/** the longest memo an anchor writes: a count of MAX_BATCH_RECEIPTS (65536, 5 digits) */
const LONGEST_MEMO = anchorMemo(new Uint8Array(32).fill(0xab), 65_536)

function sizeOf (wire: string): number {
  return Buffer.byteLength(wire, 'base64')
}

async function payees (n: number): Promise<Payment[]> {
  const out: Payment[] = []
  for (let i = 0; i < n; i++) {
    out.push({ to: (await generateKeyPairSigner()).address, lamports: BigInt(1000 + i) })
  }
  return out
}

describe('anchor transactions that pay workers', () => {
  let node: KeyPairSigner
  let payer: KeyPairSigner

  before(async () => {
    node = await generateKeyPairSigner()
    payer = await generateKeyPairSigner()
  })

  it('puts one System transfer per payee, from the node key, after the memo; they read back', async () => {
    const payments = await payees(3)
    const prepared = await buildAnchorTransaction({ memo: 'shardmesh:v1:test:3', signer: node, feePayer: payer, blockhash: BLOCKHASH, payments })
    const parsed = parseTransaction(Buffer.from(prepared.wire, 'base64'))
    assert.deepEqual(parsed.memos, ['shardmesh:v1:test:3'])
    assert.deepEqual(parsed.transfers, payments.map(p => ({ from: node.address, to: p.to, lamports: p.lamports })))
    assert.deepEqual(parsed.signers.sort(), [node.address, payer.address].sort())
    // no payments: no transfers, and the transaction is the memo alone
    const plain = await buildAnchorTransaction({ memo: 'shardmesh:v1:test:3', signer: node, blockhash: BLOCKHASH })
    assert.deepEqual(parseTransaction(Buffer.from(plain.wire, 'base64')).transfers, [])
  })

  it('computes the transaction size exactly, and MAX_ANCHOR_PAYMENTS is the most that fit', async () => {
    const all = await payees(MAX_ANCHOR_PAYMENTS)
    for (const n of [0, 1, 2, 5, MAX_ANCHOR_PAYMENTS]) {
      for (const feePayer of [undefined, payer]) {
        const prepared = await buildAnchorTransaction({ memo: LONGEST_MEMO, signer: node, feePayer, blockhash: BLOCKHASH, payments: all.slice(0, n) })
        assert.equal(sizeOf(prepared.wire), anchorTransactionSize(n, { separateFeePayer: feePayer != null }), `${n} payees, fee payer ${feePayer != null}`)
        assert.ok(sizeOf(prepared.wire) <= MAX_TRANSACTION_SIZE)
      }
    }
    assert.ok(anchorTransactionSize(MAX_ANCHOR_PAYMENTS + 1, { separateFeePayer: true }) > MAX_TRANSACTION_SIZE)
    assert.equal(MAX_ANCHOR_PAYMENTS, 17)
  })

  it('one payee more than the limit makes a transaction the cluster would refuse', async () => {
    // built by hand, past buildAnchorTransaction's check: it is over the packet limit
    const extra = await payees(MAX_ANCHOR_PAYMENTS + 1)
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      m => setTransactionMessageFeePayerSigner(payer, m),
      m => setTransactionMessageLifetimeUsingBlockhash(BLOCKHASH, m),
      m => appendTransactionMessageInstructions([getMemoInstruction(LONGEST_MEMO, node), ...extra.map(p => getTransferInstruction(node, p.to as any, p.lamports))], m)
    )
    const wire = getBase64EncodedWireTransaction(await signTransactionMessageWithSigners(message))
    assert.equal(sizeOf(wire), anchorTransactionSize(MAX_ANCHOR_PAYMENTS + 1, { separateFeePayer: true }))
    assert.ok(sizeOf(wire) > MAX_TRANSACTION_SIZE)
    await assert.rejects(buildAnchorTransaction({ memo: 'm', signer: node, blockhash: BLOCKHASH, payments: extra }), RangeError)
  })

  it('refuses payments that are not positive u64 amounts to distinct addresses other than the payer', async () => {
    const [a, b] = await payees(2)
    const build = async (payments: Payment[]): Promise<unknown> => buildAnchorTransaction({ memo: 'm', signer: node, blockhash: BLOCKHASH, payments })
    await assert.rejects(build([{ ...a, lamports: 0n }]), RangeError)
    await assert.rejects(build([{ ...a, lamports: 1n << 64n }]), RangeError)
    await assert.rejects(build([a, { ...a, lamports: 5n }]), RangeError)
    await assert.rejects(build([{ to: node.address, lamports: 5n }]), RangeError)
    await assert.rejects(build([{ to: 'not an address', lamports: 5n }]))
    await build([a, b])
  })

  it('reads only transfers whose sender signed, and ignores other System instructions', async () => {
    const [a] = await payees(1)
    const stranger = await generateKeyPairSigner()
    // a transfer from a key that signs too: read
    const both = pipe(
      createTransactionMessage({ version: 0 }),
      m => setTransactionMessageFeePayerSigner(node, m),
      m => setTransactionMessageLifetimeUsingBlockhash(BLOCKHASH, m),
      m => appendTransactionMessageInstructions([
        getTransferInstruction(stranger, a.to as any, 5n),
        // a System instruction that is not Transfer (CreateAccount's discriminator, 0)
        { programAddress: SYSTEM_PROGRAM_ADDRESS as any, accounts: [], data: new Uint8Array(12) }
      ], m)
    )
    const wire = Buffer.from(getBase64EncodedWireTransaction(await signTransactionMessageWithSigners(both)), 'base64')
    const parsed = parseTransaction(wire)
    assert.deepEqual(parsed.transfers, [{ from: stranger.address, to: a.to, lamports: 5n }])
    // the sender's signature (the second: fee payer first) broken: its transfer is not read
    const forged = Buffer.from(wire)
    forged[1 + 64 + 10] ^= 1
    const read = parseTransaction(forged)
    assert.deepEqual(read.signers, [node.address])
    assert.deepEqual(read.transfers, [])
  })
})
