import assert from 'node:assert/strict'
import {
  AccountRole, address, appendTransactionMessageInstruction, createTransactionMessage, generateKeyPairSigner,
  getBase64EncodedWireTransaction, pipe, setTransactionMessageFeePayerSigner, setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners
} from '@solana/kit'
import {
  MAX_TRANSACTION_SIZE, MEMO_V1_PROGRAM_ADDRESS, buildAnchorTransaction, parseTransaction
} from '../src/index.js'
import type { KeyPairSigner } from '@solana/kit'

const BLOCKHASH = { blockhash: 'EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N', lastValidBlockHeight: 150n }

function bytesOf (wire: string): Uint8Array {
  return Uint8Array.from(Buffer.from(wire, 'base64'))
}

function rejectsAs (name: string) {
  return (err: any): boolean => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    return true
  }
}

describe('anchor transactions', () => {
  let node: KeyPairSigner
  let payer: KeyPairSigner

  before(async () => {
    node = await generateKeyPairSigner()
    payer = await generateKeyPairSigner()
  })

  it('builds a signed one-memo transaction that reads back with its memo and signer', async () => {
    const prepared = await buildAnchorTransaction({ memo: 'shardmesh:v1:test:1', signer: node, blockhash: BLOCKHASH })
    assert.equal(prepared.memo, 'shardmesh:v1:test:1')
    assert.equal(prepared.lastValidBlockHeight, 150n)
    const parsed = parseTransaction(bytesOf(prepared.wire))
    assert.equal(parsed.signature, prepared.signature)
    assert.deepEqual(parsed.signers, [node.address])
    assert.deepEqual(parsed.memos, ['shardmesh:v1:test:1'])
    assert.equal(parsed.feePayer, node.address)
    assert.equal(parsed.lifetimeToken, BLOCKHASH.blockhash)
  })

  it('with a separate fee payer, both sign and the fee payer signature is the id', async () => {
    const prepared = await buildAnchorTransaction({ memo: 'm', signer: node, feePayer: payer, blockhash: BLOCKHASH })
    const parsed = parseTransaction(bytesOf(prepared.wire))
    assert.equal(parsed.feePayer, payer.address)
    assert.equal(parsed.signature, prepared.signature)
    assert.deepEqual(new Set(parsed.signers), new Set([node.address, payer.address]))
    // the same signer passed twice is one signer
    const same = parseTransaction(bytesOf((await buildAnchorTransaction({ memo: 'm', signer: node, feePayer: node, blockhash: BLOCKHASH })).wire))
    assert.deepEqual(same.signers, [node.address])
  })

  it('does not list a signer whose signature was forged', async () => {
    const prepared = await buildAnchorTransaction({ memo: 'm', signer: node, feePayer: payer, blockhash: BLOCKHASH })
    const wire = bytesOf(prepared.wire)
    // wire: compact length (1 byte), then 64-byte signatures in account order: fee payer, then the memo signer
    const forged = wire.slice()
    forged[1 + 64 + 10] ^= 0x01
    const parsed = parseTransaction(forged)
    assert.deepEqual(parsed.signers, [payer.address])
    assert.deepEqual(parsed.memos, ['m'])
    // a changed message invalidates every signature
    const tampered = wire.slice()
    tampered[tampered.length - 2] ^= 0x01 // the memo text, before the (empty) lookup table list
    assert.deepEqual(parseTransaction(tampered).signers, [])
  })

  it('refuses a transaction over 1232 bytes, building or parsing', async () => {
    await assert.rejects(buildAnchorTransaction({ memo: 'x'.repeat(1200), signer: node, blockhash: BLOCKHASH }), rejectsAs('TransactionTooLargeError'))
    assert.throws(() => parseTransaction(new Uint8Array(MAX_TRANSACTION_SIZE + 1)), rejectsAs('TransactionTooLargeError'))
  })

  it('throws InvalidTransactionError on garbage', async () => {
    const prepared = bytesOf((await buildAnchorTransaction({ memo: 'm', signer: node, blockhash: BLOCKHASH })).wire)
    const garbage = [
      new Uint8Array(0),
      Uint8Array.of(0),
      Uint8Array.of(1, 2, 3),
      new Uint8Array(200).fill(0xff),
      prepared.subarray(0, prepared.length - 3),
      Uint8Array.from([...prepared, 0])
    ]
    for (const bytes of garbage) {
      assert.throws(() => parseTransaction(bytes), rejectsAs('InvalidTransactionError'), `${bytes.length} bytes`)
    }
  })

  it('reads memos of the v1 memo program too, and nothing from other programs', async () => {
    const data = new TextEncoder().encode('old memo')
    const message = pipe(
      createTransactionMessage({ version: 'legacy' }),
      m => setTransactionMessageFeePayerSigner(node, m),
      m => setTransactionMessageLifetimeUsingBlockhash({ blockhash: BLOCKHASH.blockhash as any, lastValidBlockHeight: 1n }, m),
      m => appendTransactionMessageInstruction({ programAddress: address(MEMO_V1_PROGRAM_ADDRESS), accounts: [{ address: node.address, role: AccountRole.READONLY_SIGNER, signer: node }], data } as any, m),
      m => appendTransactionMessageInstruction({ programAddress: address('11111111111111111111111111111111'), data: new TextEncoder().encode('not a memo') }, m)
    )
    const wire = getBase64EncodedWireTransaction(await signTransactionMessageWithSigners(message))
    const parsed = parseTransaction(bytesOf(wire))
    assert.deepEqual(parsed.memos, ['old memo'])
    assert.deepEqual(parsed.signers, [node.address])
  })
})
