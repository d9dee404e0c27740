import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { InvalidCapabilityKeyError, matchesRequirement, requirementKeys, signAdvert } from '../src/index.js'
import { NOW, cidOf, content } from './utils/fixtures.js'
import type { PeerEntry } from '../src/index.js'
import type { CID } from 'multiformats/cid'

describe('match', () => {
  let entry: PeerEntry
  let model: CID

  before(async () => {
    model = await cidOf('model-a')
    const c = await content({
      workloads: [{ id: 'ocr-rec', version: '1.0.0', throughput: 30 }, { id: 'echo', version: '0.1.0', throughput: 0 }],
      models: [model],
      freeSlots: 3
    })
    c.hardware = { ...c.hardware, memoryBytes: 64 * 2 ** 30 }
    const advert = await signAdvert(await generateKeyPair('Ed25519'), c, { seq: 1, issuedAt: NOW, ttl: 10_000 })
    entry = { ...advert, receivedAt: NOW, localIssuedAt: NOW, heldUntil: NOW + 10_000, firstSeenAt: NOW, source: 'gossip' }
  })

  describe('matchesRequirement', () => {
    it('an empty requirement matches any peer', () => {
      assert.equal(matchesRequirement(entry, {}), true)
    })

    it('checks each stated field', () => {
      const cases: Array<[object, boolean]> = [
        [{ workload: 'ocr-rec' }, true],
        [{ workload: 'ocr-det' }, false],
        [{ workload: 'ocr-rec', workloadVersion: '1.0.0' }, true],
        [{ workload: 'ocr-rec', workloadVersion: '2.0.0' }, false],
        // the version belongs to the named workload, not to any workload
        [{ workload: 'ocr-rec', workloadVersion: '0.1.0' }, false],
        [{ model: model.toString() }, true],
        [{ model: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' }, false],
        [{ gpu: 'nvidia' }, true],
        [{ gpu: 'amd' }, false],
        [{ minFreeSlots: 3 }, true],
        [{ minFreeSlots: 4 }, false],
        [{ minMemoryBytes: 64 * 2 ** 30 }, true],
        [{ minMemoryBytes: 64 * 2 ** 30 + 1 }, false],
        [{ workload: 'echo', gpu: 'nvidia', minFreeSlots: 1, model: model.toString() }, true],
        [{ workload: 'echo', gpu: 'nvidia', minFreeSlots: 10 }, false]
      ]
      for (const [req, expected] of cases) {
        assert.equal(matchesRequirement(entry, req), expected, JSON.stringify(req))
      }
    })

    it('a peer without GPUs never matches a GPU requirement', () => {
      const noGpu = { ...entry, hardware: { ...entry.hardware, gpus: [] } }
      assert.equal(matchesRequirement(noGpu, { gpu: 'nvidia' }), false)
      assert.equal(matchesRequirement(noGpu, { workload: 'echo' }), true)
    })
  })

  describe('requirementKeys', () => {
    it('lists the DHT keys, most specific first', () => {
      assert.deepEqual(requirementKeys({ gpu: 'nvidia', workload: 'ocr-rec', model: model.toString(), minFreeSlots: 2 }), [
        `model:${model.toString()}`, 'workload:ocr-rec', 'gpu:nvidia'
      ])
      assert.deepEqual(requirementKeys({ gpu: 'nvidia', workload: 'echo' }), ['workload:echo', 'gpu:nvidia'])
    })

    it('a requirement with no capability fields has no keys', () => {
      assert.deepEqual(requirementKeys({}), [])
      assert.deepEqual(requirementKeys({ minFreeSlots: 1, minMemoryBytes: 1, workloadVersion: '1' }), [])
    })

    it('an invalid value is InvalidCapabilityKeyError', () => {
      assert.throws(() => requirementKeys({ workload: 'two words' }), InvalidCapabilityKeyError)
    })
  })
})
