import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { base58btc } from 'multiformats/bases/base58'
import {
  InvalidKeyError, constants, exportSolanaKeypair, importSolanaKeypair, loadOrCreatePrivateKey, loadPrivateKey, solanaAddress, writePrivateKey
} from '../src/index.js'

function isInvalidKey (err: any): boolean {
  assert.ok(err instanceof InvalidKeyError, `expected InvalidKeyError, got ${err?.name}: ${err?.message}`)
  assert.equal(err.name, 'InvalidKeyError')
  assert.equal(err.code, 'ERR_INVALID_KEY')
  return true
}

describe('node keys', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(os.tmpdir(), 'shardmesh-keys-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  describe('loadOrCreatePrivateKey', () => {
    it('creates an Ed25519 key file with mode 0600, and loads the same key after', async () => {
      const dataDir = join(dir, 'data')
      const key = await loadOrCreatePrivateKey(dataDir)
      assert.equal(key.type, 'Ed25519')

      const path = join(dataDir, constants.KEY_FILE)
      const info = await stat(path)
      assert.ok(info.isFile())
      assert.equal(info.mode & 0o777, 0o600)
      assert.deepEqual(new Uint8Array(await readFile(path)), privateKeyToProtobuf(key))
      // written atomically: no temp file left behind
      assert.deepEqual(await readdir(dataDir), [constants.KEY_FILE])

      const again = await loadOrCreatePrivateKey(dataDir)
      assert.ok(again.equals(key))
      assert.ok(peerIdFromPrivateKey(again).equals(peerIdFromPrivateKey(key)))
    })

    it('two data dirs get two different keys', async () => {
      const a = await loadOrCreatePrivateKey(join(dir, 'a'))
      const b = await loadOrCreatePrivateKey(join(dir, 'b'))
      assert.ok(!peerIdFromPrivateKey(a).equals(peerIdFromPrivateKey(b)))
    })

    it('a corrupt key file is InvalidKeyError and is not overwritten', async () => {
      const path = join(dir, constants.KEY_FILE)
      await writeFile(path, 'not a key')
      await assert.rejects(loadOrCreatePrivateKey(dir), isInvalidKey)
      assert.equal(await readFile(path, 'utf8'), 'not a key')
    })

    it('a key file holding a non-Ed25519 key is InvalidKeyError', async () => {
      await writeFile(join(dir, constants.KEY_FILE), privateKeyToProtobuf(await generateKeyPair('secp256k1')))
      await assert.rejects(loadOrCreatePrivateKey(dir), isInvalidKey)
    })

    it('writePrivateKey replaces the node key and refuses non-Ed25519 keys', async () => {
      const first = await loadOrCreatePrivateKey(dir)
      const replacement = await generateKeyPair('Ed25519')
      await writePrivateKey(dir, replacement)
      const loaded = await loadOrCreatePrivateKey(dir)
      assert.ok(loaded.equals(replacement))
      assert.ok(!loaded.equals(first))
      assert.equal((await stat(join(dir, constants.KEY_FILE))).mode & 0o777, 0o600)
      await assert.rejects(writePrivateKey(dir, await generateKeyPair('secp256k1')), isInvalidKey)
    })
  })

  describe('loadPrivateKey', () => {
    it('loads the key a data dir holds, and creates nothing where there is none', async () => {
      const key = await loadOrCreatePrivateKey(join(dir, 'data'))
      assert.ok((await loadPrivateKey(join(dir, 'data'))).equals(key))
      await assert.rejects(loadPrivateKey(join(dir, 'typo')), (err: any) => {
        assert.equal(err.name, 'KeyNotFoundError')
        assert.equal(err.code, 'ERR_KEY_NOT_FOUND')
        assert.match(err.message, /no node key in .*typo/)
        return true
      })
      assert.deepEqual(await readdir(dir), ['data'])
      await writeFile(join(dir, 'data', constants.KEY_FILE), 'junk')
      await assert.rejects(loadPrivateKey(join(dir, 'data')), isInvalidKey)
    })
  })

  describe('Solana keypair form', () => {
    it('exportSolanaKeypair gives 64 byte values: seed then public key', async () => {
      const key = await generateKeyPair('Ed25519')
      const pair = exportSolanaKeypair(key)
      assert.equal(pair.length, 64)
      assert.ok(pair.every(v => Number.isInteger(v) && v >= 0 && v <= 255))
      assert.deepEqual(pair.slice(32), [...key.publicKey.raw])
    })

    it('import(export(key)) is the same key and peer id, from the array or the JSON text', async () => {
      const key = await generateKeyPair('Ed25519')
      const pair = exportSolanaKeypair(key)
      for (const input of [pair, JSON.stringify(pair), `${JSON.stringify(pair, null, 2)}\n`]) {
        const imported = await importSolanaKeypair(input)
        assert.ok(imported.equals(key))
        assert.ok(peerIdFromPrivateKey(imported).equals(peerIdFromPrivateKey(key)))
      }
    })

    it('a keypair whose public half does not match its secret half is InvalidKeyError', async () => {
      const pair = exportSolanaKeypair(await generateKeyPair('Ed25519'))
      const other = exportSolanaKeypair(await generateKeyPair('Ed25519'))
      await assert.rejects(importSolanaKeypair([...pair.slice(0, 32), ...other.slice(32)]), isInvalidKey)
      const flipped = [...pair]
      flipped[63] ^= 1
      await assert.rejects(importSolanaKeypair(flipped), isInvalidKey)
    })

    it('wrong length, out-of-range values and non-JSON are InvalidKeyError', async () => {
      const pair = exportSolanaKeypair(await generateKeyPair('Ed25519'))
      const bad: Array<string | number[]> = [
        pair.slice(0, 63), [...pair, 0], [], pair.slice(0, 32),
        [...pair.slice(0, 63), 256], [...pair.slice(0, 63), -1], [...pair.slice(0, 63), 1.5],
        'not json', '{"a":1}', '"string"', '', JSON.stringify(pair.map(String)), JSON.stringify(pair).slice(0, -1)
      ]
      for (const input of bad) {
        await assert.rejects(importSolanaKeypair(input), isInvalidKey, JSON.stringify(input).slice(0, 80))
      }
    })

    it('exportSolanaKeypair refuses a non-Ed25519 key', async () => {
      const secp = await generateKeyPair('secp256k1')
      assert.throws(() => exportSolanaKeypair(secp), isInvalidKey)
    })
  })

  describe('solanaAddress', () => {
    it('is the base58 of the raw Ed25519 public key, for a key and for its peer id', async () => {
      const key = await generateKeyPair('Ed25519')
      const expected = base58btc.baseEncode(key.publicKey.raw)
      assert.equal(solanaAddress(key.publicKey), expected)

      const peerId = peerIdFromPrivateKey(key)
      assert.equal(solanaAddress(peerId), expected)
      // the peer id carries the same 32 bytes: parse it back from its string form
      const parsed = peerIdFromString(peerId.toString())
      assert.deepEqual(parsed.publicKey?.raw, key.publicKey.raw)
      assert.equal(solanaAddress(parsed), expected)
      assert.deepEqual(base58btc.baseDecode(solanaAddress(parsed)), key.publicKey.raw)
      assert.equal(base58btc.baseDecode(expected).byteLength, 32)
    })

    it('a non-Ed25519 key or peer id is InvalidKeyError', async () => {
      const secp = await generateKeyPair('secp256k1')
      assert.throws(() => solanaAddress(secp.publicKey), isInvalidKey)
      assert.throws(() => solanaAddress(peerIdFromPrivateKey(secp)), isInvalidKey)
    })
  })
})
