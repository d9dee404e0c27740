import assert from 'node:assert/strict'
import { formatAge, formatRate, gpuClaim, shortPeerId, throughputClaim } from '../src/claims.js'
import { T0 } from './fixtures.js'
import type { Measurement } from '../src/types.js'

const BY = '12D3KooWLxN4d9sC5VsU1hF3tMR4mE1nQ1tY2kWvTfYjqzC4Xabc'

function measurement (over: Partial<Measurement> = {}): Measurement {
  return { workload: 'w', version: '1', itemsPerSec: 48, items: 64, by: BY, at: T0 - 3000, beyondCpu: false, source: 'attestation', ...over }
}

describe('claims', () => {
  describe('throughput', () => {
    const offer = { id: 'w', version: '1', throughput: 500 }

    it('is claimed until measured', () => {
      const claim = throughputClaim(offer, 4, undefined, T0)
      assert.equal(claim.status, 'claimed')
      assert.equal(claim.claimed, 500)
      assert.equal(claim.claimedPerSlot, 125)
      assert.equal(claim.measured, undefined)
      assert.equal(claim.reason, 'claims 125 items/s per slot; not measured')
    })

    it('is contradicted when the claim per slot is over 4 × the measured speed, and says by whom and when', () => {
      const m = measurement()
      const claim = throughputClaim(offer, 1, m, T0)
      assert.equal(claim.status, 'contradicted')
      assert.deepEqual(claim.measured, m)
      assert.equal(claim.measured?.by, BY, 'the full peer id is kept')
      assert.equal(claim.reason, 'claims 500 items/s per slot; measured 48 items/s by 12D3Ko…Xabc 3 s ago (over 4× off)')
    })

    it('is measured when the claim per slot is within 4 × the measured speed', () => {
      const claim = throughputClaim({ ...offer, throughput: 384 }, 2, measurement(), T0)
      assert.equal(claim.claimedPerSlot, 192)
      assert.equal(claim.status, 'measured')
      const own = throughputClaim({ ...offer, throughput: 40 }, 1, measurement({ source: 'self', at: T0 - 120_000 }), T0)
      assert.equal(own.status, 'measured')
      assert.equal(own.reason, 'claims 40 items/s per slot; measured 48 items/s by this node 2 min ago')
    })

    it('no claim and a measurement: measured', () => {
      const claim = throughputClaim({ ...offer, throughput: 0 }, 8, measurement(), T0)
      assert.equal(claim.status, 'measured')
      assert.equal(claim.claimed, 0)
      assert.match(claim.reason, /^claims no speed; measured 48 items\/s/)
    })

    it('a measurement of another workload or version is no measurement', () => {
      assert.equal(throughputClaim(offer, 1, measurement({ workload: 'v' }), T0).status, 'claimed')
      assert.equal(throughputClaim(offer, 1, measurement({ version: '2' }), T0).status, 'claimed')
    })

    it('survives nonsense figures', () => {
      const claim = throughputClaim({ ...offer, throughput: Number.NaN }, 0, undefined, T0)
      assert.equal(claim.claimed, 0)
      assert.equal(claim.claimedPerSlot, 0)
      assert.equal(throughputClaim({ ...offer, throughput: 10 }, -3, undefined, T0).claimedPerSlot, 10)
    })
  })

  describe('gpu', () => {
    const gpu = { vendor: 'nvidia', model: 'NVIDIA H100', memoryBytes: 80e9 }

    it('no GPU claimed', () => {
      assert.deepEqual(gpuClaim({ cpuCores: 8, gpus: [] }, [measurement({ beyondCpu: true })], T0), { count: 0, models: [], status: 'claimed', reason: 'no GPU claimed' })
    })

    it('more GPUs than one machine holds, or than it has CPU cores, is implausible', () => {
      const many = gpuClaim({ cpuCores: 128, gpus: Array.from({ length: 17 }, () => gpu) }, [], T0)
      assert.equal(many.status, 'implausible')
      assert.equal(many.count, 17)
      assert.deepEqual(many.models, ['NVIDIA H100'])
      const fewCores = gpuClaim({ cpuCores: 2, gpus: [gpu, gpu, gpu] }, [measurement({ beyondCpu: true })], T0)
      assert.equal(fewCores.status, 'implausible')
      assert.match(fewCores.reason, /more GPUs than its 2 CPU cores/)
      // a machine that cannot count its cores is not judged by them
      assert.equal(gpuClaim({ cpuCores: 0, gpus: [gpu] }, [], T0).status, 'claimed')
    })

    it('claimed without a speed beyond the CPUs, measured with one (the newest)', () => {
      assert.equal(gpuClaim({ cpuCores: 16, gpus: [gpu, gpu] }, [measurement()], T0).status, 'claimed')
      const newest = measurement({ beyondCpu: true, at: T0 - 1000, itemsPerSec: 900 })
      const claim = gpuClaim({ cpuCores: 16, gpus: [gpu, gpu] }, [measurement({ beyondCpu: true, at: T0 - 9000 }), newest, measurement()], T0)
      assert.equal(claim.status, 'measured')
      assert.equal(claim.count, 2)
      assert.deepEqual(claim.measured, newest)
      assert.equal(claim.reason, 'claims 2 GPUs (NVIDIA H100); measured 900 items/s of w@1, beyond its CPUs, by 12D3Ko…Xabc 1 s ago')
    })

    it('prints no control characters a peer put in a model name', () => {
      const claim = gpuClaim({ cpuCores: 16, gpus: [{ ...gpu, model: 'evil\u001b[2J' }] }, [], T0)
      assert.equal(claim.reason.includes('\u001b'), false)
    })
  })

  it('words peer ids, speeds and ages for people', () => {
    assert.equal(shortPeerId(BY), '12D3Ko…Xabc')
    assert.equal(shortPeerId('short'), 'short')
    assert.equal(formatRate(1234.56), '1235')
    assert.equal(formatRate(48.123), '48.1')
    assert.equal(formatRate(0.012345), '0.0123')
    assert.equal(formatAge(T0 - 500, T0), 'just now')
    assert.equal(formatAge(T0 - 3_000, T0), '3 s ago')
    assert.equal(formatAge(T0 - 3 * 3_600_000, T0), '3 h ago')
    assert.equal(formatAge(T0 - 2 * 86_400_000, T0), '2 d ago')
  })
})
