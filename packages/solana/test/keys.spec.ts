import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { getAddressDecoder, getBase58Decoder, signBytes, verifySignature } from '@solana/kit'
import { base58 } from '../src/address.js'
import { addressOfPeerId, loadKeypairFile, signerFromPrivateKey } from '../src/index.js'

function rejectsAs (name: string, text?: string) {
  return (err: any): boolean => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    if (text != null) {
      assert.ok(err.message.includes(text), err.message)
    }
    return true
  }
}

describe('keys', () => {
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-solana-keys-'))
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('a libp2p Ed25519 key is a Solana signer whose address is the PeerId key', async () => {
    const key = await generateKeyPair('Ed25519')
    const signer = await signerFromPrivateKey(key)
    const peerId = peerIdFromPrivateKey(key)
    assert.equal(signer.address, getBase58Decoder().decode(key.publicKey.raw))
    assert.equal(signer.address, addressOfPeerId(peerId))
    // and it signs as the libp2p key does (Ed25519 is deterministic)
    const data = new TextEncoder().encode('one key, two worlds')
    const signature = await signBytes(signer.keyPair.privateKey, data)
    assert.deepEqual(Uint8Array.from(signature), Uint8Array.from(await key.sign(data)))
    assert.ok(await verifySignature(signer.keyPair.publicKey, signature, data))
  })

  it('base58 without kit: the addresses kit decodes, leading zero bytes and all', async () => {
    const kit = getBase58Decoder()
    const addresses = getAddressDecoder()
    const cases: Uint8Array[] = [new Uint8Array(0), new Uint8Array(32), Uint8Array.of(0, 0, 1), Uint8Array.of(255), new Uint8Array(32).fill(255)]
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from((await generateKeyPair('Ed25519')).publicKey.raw)
      // keys whose first bytes are zero, as one in 256 real keys has
      bytes.fill(0, 0, i % 4)
      cases.push(bytes)
    }
    for (const bytes of cases) {
      assert.equal(base58(bytes), kit.decode(bytes), Array.from(bytes).join(','))
      if (bytes.length === 32) {
        assert.equal(base58(bytes), addresses.decode(bytes))
      }
    }
  })

  it('refuses keys that are not Ed25519', async () => {
    const key = await generateKeyPair('secp256k1')
    await assert.rejects(signerFromPrivateKey(key), rejectsAs('UnsupportedKeyError'))
    assert.throws(() => addressOfPeerId(peerIdFromPrivateKey(key)), rejectsAs('UnsupportedKeyError'))
  })

  it('loads a Solana CLI keypair file', async () => {
    const key = await generateKeyPair('Ed25519')
    const path = join(dir, 'id.json')
    await writeFile(path, JSON.stringify(Array.from(key.raw)))
    const signer = await loadKeypairFile(path)
    assert.equal(signer.address, addressOfPeerId(peerIdFromPrivateKey(key)))
  })

  it('names what is wrong with a keypair file', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const cases: Array<[string, string | Buffer, string]> = [
      ['not-json.json', 'hello', 'not JSON'],
      ['object.json', '{"a":1}', 'JSON array of 64'],
      ['short.json', JSON.stringify(Array.from(key.raw.subarray(0, 32))), 'an array of 32'],
      ['range.json', JSON.stringify([...Array.from(key.raw.subarray(0, 63)), 256]), 'from 0 to 255'],
      ['mismatch.json', JSON.stringify([...Array.from(key.raw.subarray(0, 32)), ...Array.from(other.raw.subarray(32))]), 'does not belong'],
      ['huge.json', Buffer.alloc(10_000, 0x20), 'byte limit']
    ]
    for (const [name, content, text] of cases) {
      const path = join(dir, name)
      await writeFile(path, content)
      await assert.rejects(loadKeypairFile(path), rejectsAs('InvalidKeypairFileError', text), name)
    }
    await mkdir(join(dir, 'a-dir'))
    await assert.rejects(loadKeypairFile(join(dir, 'a-dir')), rejectsAs('InvalidKeypairFileError'))
    await assert.rejects(loadKeypairFile(join(dir, 'missing.json')), rejectsAs('KeypairFileNotFoundError', 'missing.json'))
  })
})
