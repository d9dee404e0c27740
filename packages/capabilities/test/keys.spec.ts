import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidCapabilityKeyError, capabilityKey, capabilityKeyToCid, modelCidOfBytes, modelCidOfDigest, parseCapabilityKey } from '../src/index.js'

describe('capability keys', () => {
  describe('parseCapabilityKey', () => {
    it('splits valid keys of each kind', () => {
      assert.deepEqual(parseCapabilityKey('workload:ocr-rec'), { kind: 'workload', value: 'ocr-rec' })
      assert.deepEqual(parseCapabilityKey('gpu:nvidia'), { kind: 'gpu', value: 'nvidia' })
      const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
      assert.deepEqual(parseCapabilityKey(`model:${cid}`), { kind: 'model', value: cid })
      assert.deepEqual(parseCapabilityKey('workload:My_Model.v2@1+cpu/x=y'), { kind: 'workload', value: 'My_Model.v2@1+cpu/x=y' })
      assert.equal(parseCapabilityKey(`workload:${'a'.repeat(200)}`).value.length, 200)
    })

    it('rejects bad keys with InvalidCapabilityKeyError', () => {
      const bad = [
        '', 'workload', 'workload:', ':ocr', 'cpu:x86', 'Workload:ocr', ' workload:ocr', 'workload :ocr',
        'workload:ocr rec', 'workload:a:b', 'workload:ocr\n', 'workload:ünïcode', `workload:${'a'.repeat(201)}`, 'gpu:'
      ]
      for (const key of bad) {
        assert.throws(() => parseCapabilityKey(key), (err: any) => {
          assert.ok(err instanceof InvalidCapabilityKeyError, key)
          assert.equal(err.name, 'InvalidCapabilityKeyError')
          assert.equal(err.code, 'ERR_INVALID_CAPABILITY_KEY')
          return true
        }, JSON.stringify(key))
      }
    })

    it('keeps the echoed key short in the error message', () => {
      assert.throws(() => parseCapabilityKey(`nope:${'x'.repeat(10_000)}`), (err: any) => err.message.length < 200)
    })
  })

  it('capabilityKey builds and checks a key', () => {
    assert.equal(capabilityKey('workload', 'echo'), 'workload:echo')
    assert.throws(() => capabilityKey('workload', 'has space'), InvalidCapabilityKeyError)
    assert.throws(() => capabilityKey('gpu', ''), InvalidCapabilityKeyError)
  })

  describe('capabilityKeyToCid', () => {
    it('is CIDv1, raw codec, sha256 of the UTF-8 key', async () => {
      for (const key of ['workload:ocr-rec', 'gpu:nvidia', 'model:bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy']) {
        const cid = await capabilityKeyToCid(key)
        assert.equal(cid.version, 1)
        assert.equal(cid.code, raw.code)
        assert.equal(cid.multihash.code, sha256.code)
        // independently of the implementation: node's own sha256
        const digest = createHash('sha256').update(key, 'utf8').digest()
        assert.deepEqual(cid.multihash.digest, new Uint8Array(digest))
        // and equal to what any other multiformats user computes
        const expected = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(key)))
        assert.ok(cid.equals(expected))
        assert.equal(cid.toString(), expected.toString())
      }
    })

    it('different keys give different CIDs; the same key the same CID', async () => {
      const a = await capabilityKeyToCid('workload:a')
      assert.ok(a.equals(await capabilityKeyToCid('workload:a')))
      assert.ok(!a.equals(await capabilityKeyToCid('workload:b')))
      assert.ok(!a.equals(await capabilityKeyToCid('model:a')))
    })

    it('refuses an invalid key', async () => {
      await assert.rejects(capabilityKeyToCid('workload:'), InvalidCapabilityKeyError)
      await assert.rejects(capabilityKeyToCid('ocr-rec'), InvalidCapabilityKeyError)
    })
  })

  it('modelCidOfBytes is CIDv1, raw, sha256 of the bytes', async () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5])
    const cid = await modelCidOfBytes(bytes)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, raw.code)
    assert.deepEqual(cid.multihash.digest, new Uint8Array(createHash('sha256').update(bytes).digest()))
    assert.ok(cid.toString().startsWith('bafkrei'))
  })

  it('modelCidOfDigest names the same model from the hex sha256 of its bytes', async () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5])
    const digest = createHash('sha256').update(bytes).digest('hex')
    assert.ok(modelCidOfDigest(digest).equals(await modelCidOfBytes(bytes)))
  })
})
