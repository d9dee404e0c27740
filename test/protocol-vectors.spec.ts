import assert from 'node:assert/strict'
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { VECTORS_FILE, computeVectors } from './fixtures/protocol-vectors/generate.js'
import type { Vectors } from './fixtures/protocol-vectors/generate.js'

const DOC = new URL('../../docs/PROTOCOL.md', import.meta.url)

/** Every string in `value`, with its path (`receipt.id`, `merkle.path[0]`). */
function strings (value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') {
    return [[path, value]]
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => strings(v, `${path}[${i}]`))
  }
  if (typeof value === 'object' && value != null) {
    return Object.entries(value).flatMap(([k, v]) => strings(v, path === '' ? k : `${path}.${k}`))
  }
  return []
}

function ed25519Verify (publicKeyHex: string, dataHex: string, signatureHex: string): boolean {
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' })
  return verify(null, Buffer.from(dataHex, 'hex'), key, Buffer.from(signatureHex, 'hex'))
}

describe('protocol test vectors (docs/PROTOCOL.md)', () => {
  let stored: Vectors
  let doc: string

  before(async () => {
    stored = JSON.parse(await readFile(VECTORS_FILE, 'utf8'))
    doc = await readFile(DOC, 'utf8')
  })

  it('the code computes every vector of vectors.json', async () => {
    assert.deepEqual(await computeVectors(), stored, 'the protocol changed: if on purpose, run node test/dist/fixtures/protocol-vectors/generate.js and update docs/PROTOCOL.md')
  })

  it('docs/PROTOCOL.md states every vector', () => {
    const missing = strings(stored).filter(([, value]) => !doc.includes(value.trimEnd())).map(([path]) => path)
    assert.deepEqual(missing, [], `docs/PROTOCOL.md lacks the vectors ${missing.join(', ')}`)
  })

  it('the vectors hold together as the document says (node:crypto only)', () => {
    const { keys, receipt, advert, attestation, memo, merkle, dhtKey } = stored as any
    const sha256 = (hex: string): string => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')
    // signatures: Ed25519 over the stated input, with the key of the stated seed's peer
    assert.ok(ed25519Verify(keys.worker.publicKey, advert.signatureInput, advert.signature))
    assert.ok(ed25519Verify(keys.worker.publicKey, receipt.workerSignatureInput, receipt.workerSignature))
    assert.ok(ed25519Verify(keys.requester.publicKey, receipt.countersignatureInput, receipt.requesterSignature))
    assert.ok(ed25519Verify(keys.requester.publicKey, attestation.signatureInput, attestation.signature))
    // signed inputs: domain ‖ payload; the countersignature puts the receipt's length (u32 BE) after the domain
    assert.equal(advert.signatureInput, Buffer.from('shardmesh:advert:v1').toString('hex') + advert.payload)
    assert.equal(receipt.workerSignatureInput, Buffer.from('shardmesh:receipt:v1').toString('hex') + receipt.receipt)
    const length = (receipt.receipt.length / 2).toString(16).padStart(8, '0')
    assert.equal(receipt.countersignatureInput, Buffer.from('shardmesh:countersign:v1').toString('hex') + length + receipt.receipt + receipt.verification)
    assert.equal(attestation.signatureInput, Buffer.from('shardmesh:attestation:v1').toString('hex') + attestation.payload)
    // ids and digests
    assert.equal(receipt.id, sha256(receipt.receipt))
    assert.equal(dhtKey.keySha256, sha256(Buffer.from(dhtKey.key).toString('hex')))
    assert.equal(dhtKey.cidBytes, '01551220' + dhtKey.keySha256)
    for (const k of [keys.worker, keys.requester]) {
      assert.equal(k.publicKeyProtobuf, '08011220' + k.publicKey)
      assert.equal(k.peerIdMultihash, '0024' + k.publicKeyProtobuf)
    }
    // the Merkle tree of 3 leaves: root = node(node(l0, l1), l2)
    const node = (a: string, b: string): string => sha256('01' + a + b)
    assert.equal(merkle.root, node(node(merkle.leaves[0], merkle.leaves[1]), merkle.leaves[2]))
    assert.equal(merkle.leaves[0], sha256('00' + receipt.signedReceipt))
    assert.equal(memo.text, `shardmesh:v1:${merkle.root as string}:3`)
    // a group of three: the worker signs domain ‖ u32be(3) ‖ the root over the Receipt bytes, the
    // requester domain ‖ u32be(3) ‖ the root over u32be(len) ‖ Receipt ‖ Verification of each
    const { receiptGroup: g } = stored as any
    assert.equal(g.workerLeaves[0], sha256('00' + receipt.receipt))
    assert.equal(g.workerRoot, node(node(g.workerLeaves[0], g.workerLeaves[1]), g.workerLeaves[2]))
    assert.equal(g.workerSignatureInput, Buffer.from('shardmesh:receipt-group:v1').toString('hex') + '00000003' + g.workerRoot)
    assert.ok(ed25519Verify(keys.worker.publicKey, g.workerSignatureInput, g.workerSignature))
    assert.deepEqual(g.workerPath1, [g.workerLeaves[0], g.workerLeaves[2]])
    assert.equal(g.countersignedLeaves[0], sha256('00' + length + receipt.receipt + receipt.verification))
    assert.equal(g.requesterRoot, node(node(g.countersignedLeaves[0], g.countersignedLeaves[1]), g.countersignedLeaves[2]))
    assert.equal(g.countersignatureInput, Buffer.from('shardmesh:countersign-group:v1').toString('hex') + '00000003' + g.requesterRoot)
    assert.ok(ed25519Verify(keys.requester.publicKey, g.countersignatureInput, g.requesterSignature))
    assert.deepEqual(g.requesterPath1, [g.countersignedLeaves[0], g.countersignedLeaves[2]])
    // fields 7 and 8 of the SignedReceipt: GroupPath { index 1, count 3, path }
    const groupPath = (path: string[]): string => {
      const body = '0801' + '1003' + path.map(h => '1a20' + h).join('')
      return (body.length / 2).toString(16).padStart(2, '0') + body
    }
    assert.ok(g.signedReceipt1.endsWith('3a' + groupPath(g.workerPath1) + '42' + groupPath(g.requesterPath1)), 'fields 7 and 8 close the SignedReceipt')
    assert.equal(memo.bytes, Buffer.from(memo.text).toString('hex'))
  })
})
