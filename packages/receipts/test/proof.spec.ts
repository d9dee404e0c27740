import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { MAX_SIGNED_RECEIPT_BYTES } from '@shardmesh/protocol'
import { base58btc } from 'multiformats/bases/base58'
import {
  InvalidReceiptProofError, MAX_RECEIPT_PROOF_BYTES, MerkleTree, RECEIPT_PROOF_FORMAT, anchorMemo, checkReceiptProof,
  decodeReceiptProof, encodeReceiptProof, parseAnchorMemo
} from '../src/index.js'
import { hex, makePeers, makeReceipts, uncountersigned } from './utils/receipts.js'
import type { ReceiptProof, ReceiptProofRejection } from '../src/index.js'
import type { Peers } from './utils/receipts.js'

function txSignature (firstByte = 7): string {
  const bytes = randomBytes(64)
  bytes[0] = firstByte
  return base58btc.baseEncode(bytes)
}

function rejected (reason: ReceiptProofRejection, field?: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, 'InvalidReceiptProofError', `expected InvalidReceiptProofError, got ${err?.name}: ${err?.message}`)
    assert.ok(err instanceof InvalidReceiptProofError)
    assert.equal(err.code, 'ERR_INVALID_RECEIPT_PROOF')
    assert.equal(err.reason, reason, err.message)
    assert.equal(err.field, field, err.message)
    return true
  }
}

describe('receipt proof', () => {
  let peers: Peers
  let receipts: Uint8Array[]
  let tree: MerkleTree

  before(async () => {
    peers = await makePeers()
    receipts = await makeReceipts(peers, 11)
    tree = MerkleTree.fromLeaves(receipts)
  })

  function proofOf (index: number, anchored = true): ReceiptProof {
    const proof: ReceiptProof = { receipt: receipts[index], root: tree.root, count: tree.size, index, path: tree.proof(index) }
    if (anchored) {
      proof.anchor = { signature: txSignature(), slot: 123_456_789_012n }
    }
    return proof
  }

  /** The JSON of a valid proof, to break one field at a time. */
  function json (): any {
    return JSON.parse(encodeReceiptProof(proofOf(6)))
  }

  describe('file format', () => {
    it('round-trips every field, with and without an anchor', () => {
      for (const proof of [proofOf(6), proofOf(0, false)]) {
        const text = encodeReceiptProof(proof)
        const decoded = decodeReceiptProof(text)
        assert.equal(hex(decoded.receipt), hex(proof.receipt))
        assert.equal(hex(decoded.root), hex(proof.root))
        assert.equal(decoded.count, proof.count)
        assert.equal(decoded.index, proof.index)
        assert.deepEqual(decoded.path.map(hex), proof.path.map(hex))
        assert.deepEqual(decoded.anchor, proof.anchor)
        // bytes decode the same as text
        assert.deepEqual(decodeReceiptProof(new TextEncoder().encode(text)), decoded)
      }
    })

    it('writes the documented JSON', () => {
      const proof = proofOf(6)
      const file = JSON.parse(encodeReceiptProof(proof))
      assert.deepEqual(file, {
        format: RECEIPT_PROOF_FORMAT,
        receipt: Buffer.from(proof.receipt).toString('base64'),
        batch: { root: hex(tree.root), count: 11, index: 6, path: proof.path.map(hex) },
        anchor: { signature: proof.anchor!.signature, slot: '123456789012' }
      })
      assert.equal(file.format, 'shardmesh-receipt-proof/1')
    })

    it('accepts a signature with a leading zero byte (86 base58 characters) and a slot of 2^64 - 1', () => {
      const file = json()
      file.anchor.signature = txSignature(0)
      file.anchor.slot = '18446744073709551615'
      const decoded = decodeReceiptProof(JSON.stringify(file))
      assert.equal(decoded.anchor?.slot, 2n ** 64n - 1n)
    })

    it('refuses a file over MAX_RECEIPT_PROOF_BYTES with MessageTooLargeError', () => {
      const text = JSON.stringify({ ...json(), padding: 'x'.repeat(MAX_RECEIPT_PROOF_BYTES) })
      assert.throws(() => decodeReceiptProof(text), (err: any) => err.name === 'MessageTooLargeError')
      assert.throws(() => decodeReceiptProof(new Uint8Array(MAX_RECEIPT_PROOF_BYTES + 1)), (err: any) => err.name === 'MessageTooLargeError')
    })

    const cases: Array<[string, (file: any) => unknown, ReceiptProofRejection, string | undefined]> = [
      ['not JSON', () => '{"format":', 'undecodable', undefined],
      ['not an object', () => [1, 2], 'undecodable', 'proof'],
      ['another format', f => ({ ...f, format: 'shardmesh-receipt-proof/2' }), 'unsupported-format', 'format'],
      ['no format', f => ({ ...f, format: undefined }), 'unsupported-format', 'format'],
      ['receipt not base64', f => ({ ...f, receipt: 'not base64!' }), 'undecodable', 'receipt'],
      ['receipt base64 without padding', f => ({ ...f, receipt: f.receipt.replace(/=+$/, '') + (f.receipt.endsWith('=') ? '' : 'A') }), 'undecodable', 'receipt'],
      ['receipt empty', f => ({ ...f, receipt: '' }), 'undecodable', 'receipt'],
      ['receipt a number', f => ({ ...f, receipt: 5 }), 'undecodable', 'receipt'],
      ['receipt too large', f => ({ ...f, receipt: Buffer.alloc(MAX_SIGNED_RECEIPT_BYTES + 1).toString('base64') }), 'undecodable', 'receipt'],
      ['no batch', f => ({ ...f, batch: undefined }), 'undecodable', 'batch'],
      ['root short', f => ({ ...f, batch: { ...f.batch, root: f.batch.root.slice(2) } }), 'undecodable', 'batch.root'],
      ['root not hex', f => ({ ...f, batch: { ...f.batch, root: 'zz' + f.batch.root.slice(2) } }), 'undecodable', 'batch.root'],
      ['count 0', f => ({ ...f, batch: { ...f.batch, count: 0, index: 0 } }), 'undecodable', 'batch.count'],
      ['count fractional', f => ({ ...f, batch: { ...f.batch, count: 11.5 } }), 'undecodable', 'batch.count'],
      ['count a string', f => ({ ...f, batch: { ...f.batch, count: '11' } }), 'undecodable', 'batch.count'],
      ['index = count', f => ({ ...f, batch: { ...f.batch, index: 11 } }), 'undecodable', 'batch.index'],
      ['index negative', f => ({ ...f, batch: { ...f.batch, index: -1 } }), 'undecodable', 'batch.index'],
      ['path not a list', f => ({ ...f, batch: { ...f.batch, path: f.batch.path[0] } }), 'undecodable', 'batch.path'],
      ['path of 65', f => ({ ...f, batch: { ...f.batch, path: new Array(65).fill(f.batch.path[0]) } }), 'undecodable', 'batch.path'],
      ['path element long', f => ({ ...f, batch: { ...f.batch, path: [f.batch.path[0], f.batch.path[1] + '00'] } }), 'undecodable', 'batch.path[1]'],
      ['anchor not an object', f => ({ ...f, anchor: 'x' }), 'undecodable', 'anchor'],
      ['anchor signature of 32 bytes', f => ({ ...f, anchor: { ...f.anchor, signature: base58btc.baseEncode(randomBytes(32)) } }), 'undecodable', 'anchor.signature'],
      ['anchor signature of 65 bytes', f => ({ ...f, anchor: { ...f.anchor, signature: base58btc.baseEncode(Buffer.concat([Buffer.of(9), randomBytes(64)])) } }), 'undecodable', 'anchor.signature'],
      ['anchor signature not base58', f => ({ ...f, anchor: { ...f.anchor, signature: '0' + f.anchor.signature.slice(1) } }), 'undecodable', 'anchor.signature'],
      ['slot a number', f => ({ ...f, anchor: { ...f.anchor, slot: 5 } }), 'undecodable', 'anchor.slot'],
      ['slot negative', f => ({ ...f, anchor: { ...f.anchor, slot: '-5' } }), 'undecodable', 'anchor.slot'],
      ['slot with a leading zero', f => ({ ...f, anchor: { ...f.anchor, slot: '05' } }), 'undecodable', 'anchor.slot'],
      ['slot over 2^64 - 1', f => ({ ...f, anchor: { ...f.anchor, slot: '18446744073709551616' } }), 'undecodable', 'anchor.slot']
    ]
    for (const [name, mutate, reason, field] of cases) {
      it(`refuses ${name}`, () => {
        const mutated = mutate(json())
        const text = typeof mutated === 'string' ? mutated : JSON.stringify(mutated)
        assert.throws(() => decodeReceiptProof(text), rejected(reason, field))
      })
    }

    it('refuses bytes that are not UTF-8', () => {
      assert.throws(() => decodeReceiptProof(Uint8Array.of(0x7b, 0xff, 0x7d)), rejected('undecodable'))
    })
  })

  describe('anchor memo', () => {
    it('is shardmesh:v1:<root hex>:<count> and parses back', () => {
      const memo = anchorMemo(tree.root, 11)
      assert.equal(memo, `shardmesh:v1:${hex(tree.root)}:11`)
      const parsed = parseAnchorMemo(memo)
      assert.ok(parsed != null)
      assert.equal(hex(parsed.root), hex(tree.root))
      assert.equal(parsed.count, 11)
    })

    it('anchorMemo refuses a root that is not 32 bytes or a count below 1', () => {
      assert.throws(() => anchorMemo(new Uint8Array(31), 1), RangeError)
      assert.throws(() => anchorMemo(tree.root, 0), RangeError)
      assert.throws(() => anchorMemo(tree.root, 1.5), RangeError)
    })

    it('parseAnchorMemo refuses anything but the exact form', () => {
      const root = hex(tree.root)
      for (const memo of [
        `shardmesh:v1:${root.toUpperCase()}:11`, `shardmesh:v1:${root}:0`, `shardmesh:v1:${root}:011`,
        `shardmesh:v1:${root}:11 `, `shardmesh:v2:${root}:11`, `shardmesh:v1:${root.slice(2)}:11`,
        `shardmesh:v1:${root}`, `shardmesh:v1:${root}:99999999999999999`, `x shardmesh:v1:${root}:11`, ''
      ]) {
        assert.equal(parseAnchorMemo(memo), undefined, memo)
      }
    })
  })

  describe('checkReceiptProof', () => {
    it('returns the verified receipt of a valid proof, after a round trip through the file', async () => {
      for (let index = 0; index < receipts.length; index++) {
        const receipt = await checkReceiptProof(decodeReceiptProof(encodeReceiptProof(proofOf(index))))
        assert.equal(receipt.shardIndex, index)
        assert.equal(receipt.countersigned, true)
      }
    })

    it('names a broken Merkle path: another index, count, root or path, or another receipt', async () => {
      const good = proofOf(6)
      const other = await makeReceipts(peers, 1, {}, 99)
      const flipped = good.path.map(p => p.slice())
      flipped[1][0] ^= 1
      const cases: Array<[string, ReceiptProof]> = [
        ['index', { ...good, index: 5 }],
        ['count of the last leaf', { ...proofOf(10), count: 12 }],
        ['root', { ...good, root: MerkleTree.fromLeaves(receipts.slice(1)).root }],
        ['flipped path', { ...good, path: flipped }],
        ['short path', { ...good, path: good.path.slice(1) }],
        ['path of 7', { ...good, path: proofOf(7).path }],
        ['receipt 7', { ...good, receipt: receipts[7] }],
        ['receipt of another batch', { ...good, receipt: other[0] }]
      ]
      for (const [name, bad] of cases) {
        await assert.rejects(checkReceiptProof(bad), rejected('merkle-path'), name)
      }
    })

    it('leaves the count of a leaf other than the last to the anchor: the memo binds it to the root', async () => {
      // RFC 9162 verification checks a path against the size only up to the leaf's right edge:
      // leaf 6 of 11's path also passes as leaf 6 of 12 under the same root. The anchored memo
      // states the count beside the root, so the chain check compares both
      const proof = proofOf(6)
      await checkReceiptProof({ ...proof, count: 12 })
      assert.notEqual(anchorMemo(proof.root, 12), anchorMemo(proof.root, proof.count))
    })

    it('names the failed signature check of the receipt itself', async () => {
      const plain = await uncountersigned(peers, { shardIndex: 6 })
      const t = MerkleTree.fromLeaves([plain])
      await assert.rejects(checkReceiptProof({ receipt: plain, root: t.root, count: 1, index: 0, path: [] }),
        (err: any) => err.name === 'InvalidReceiptError' && err.reason === 'missing-countersignature')
      const tampered = receipts[6].slice()
      tampered[tampered.length - 3] ^= 1
      await assert.rejects(checkReceiptProof({ ...proofOf(6), receipt: tampered }), (err: any) => err.name === 'InvalidReceiptError')
    })

    it('honours an aborted signal', async () => {
      await assert.rejects(checkReceiptProof(proofOf(1), { signal: AbortSignal.abort() }), (err: any) => err.name === 'AbortError')
    })
  })
})
