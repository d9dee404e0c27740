import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EVIDENCE_HALF_LIFE, MAX_ATTESTATION_AGE, TRUST_FILE_VERSION } from '../src/constants.js'
import { AttestationRejectedError } from '../src/errors.js'
import { TrustBook } from '../src/trust-book.js'
import { T0, attest, newNode } from './fixtures.js'
import type { Node } from './fixtures.js'
import type { TrustBookInit } from '../src/trust-book.js'

function near (actual: number, expected: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`)
}

describe('trust book', () => {
  let s: Node
  let x: Node
  let y: Node
  let z: Node
  let good: Node
  let low: Node
  let clock: { t: number }

  before(async () => {
    [s, x, y, z, good, low] = await Promise.all([newNode(), newNode(), newNode(), newNode(), newNode(), newNode()])
  })

  beforeEach(() => {
    clock = { t: T0 }
  })

  async function open (init: Partial<TrustBookInit> = {}): Promise<TrustBook> {
    return TrustBook.open({ self: s.id.toString(), now: () => clock.t, ...init })
  }

  describe('evidence and decay', () => {
    it('knows nothing about a new peer: score 0.5, no reasons', async () => {
      const book = await open()
      const score = book.score(x.id.toString())
      assert.equal(score.value, 0.5)
      assert.equal(score.probation, false)
      assert.deepEqual(score.reasons, [])
      assert.equal(score.lastEvidenceAt, undefined)
      assert.equal(score.evidence['shard-accepted'], 0)
      assert.deepEqual(book.peers(), [])
    })

    it('ignores evidence about itself', async () => {
      const book = await open()
      book.record(s.id.toString(), 'dispute-lost')
      book.measure(s.id.toString(), { workload: 'w', version: '1', itemsPerSec: 5, items: 1, at: T0, beyondCpu: false })
      book.setEarnedWindow(s.id.toString(), 'w', 4)
      assert.equal(book.score(s.id.toString()).value, 0.5)
      assert.equal(book.score(s.id.toString()).probation, false)
      assert.deepEqual(book.peers(), [])
    })

    it('scores good and bad evidence with their weights (Beta posterior mean)', async () => {
      const book = await open()
      const peer = x.id.toString()
      for (let i = 0; i < 6; i++) {
        book.record(peer, 'shard-accepted')
      }
      book.record(peer, 'challenge-passed')
      book.record(peer, 'shard-failed')
      book.record(peer, 'challenge-timeout')
      // good 6 + 3, bad 1 + 0.5
      near(book.score(peer).value, (9 + 1) / (9 + 1.5 + 2))
      assert.equal(book.score(peer).lastEvidenceAt, T0)
      assert.deepEqual(book.peers(), [peer])
    })

    it('halves evidence after each half-life', async () => {
      const book = await open()
      const peer = x.id.toString()
      book.record(peer, 'shard-accepted', 4)
      assert.equal(book.score(peer).evidence['shard-accepted'], 4)
      near(book.score(peer).value, 5 / 6)
      clock.t = T0 + EVIDENCE_HALF_LIFE
      near(book.score(peer).evidence['shard-accepted'], 2, 'after one half-life')
      near(book.score(peer).value, 3 / 4)
      clock.t = T0 + 2 * EVIDENCE_HALF_LIFE
      near(book.score(peer).evidence['shard-accepted'], 1, 'after two half-lives')
      // new evidence adds to the decayed count
      book.record(peer, 'shard-accepted')
      near(book.score(peer).evidence['shard-accepted'], 2, 'after another record')
      clock.t = T0 + 3 * EVIDENCE_HALF_LIFE
      near(book.score(peer).evidence['shard-accepted'], 1, 'and one more half-life')
    })

    it('honours a custom half-life', async () => {
      const book = await open({ halfLifeMs: 1000 })
      book.record(x.id.toString(), 'shard-failed', 8)
      clock.t = T0 + 3000
      near(book.score(x.id.toString()).evidence['shard-failed'], 1)
    })

    it('a clock that went back never makes evidence grow', async () => {
      const book = await open()
      book.record(x.id.toString(), 'shard-accepted')
      clock.t = T0 - EVIDENCE_HALF_LIFE
      assert.equal(book.score(x.id.toString()).evidence['shard-accepted'], 1)
      book.record(x.id.toString(), 'shard-accepted')
      assert.equal(book.score(x.id.toString()).evidence['shard-accepted'], 2)
    })

    it('says why, most important first', async () => {
      const book = await open()
      const peer = x.id.toString()
      for (let i = 0; i < 12; i++) {
        book.record(peer, 'shard-accepted')
      }
      book.record(peer, 'shard-timeout')
      book.record(peer, 'dispute-lost')
      book.record(peer, 'dispute-lost')
      assert.deepEqual(book.score(peer).reasons, [
        'on probation: 0 of 3 challenges passed',
        'lost 2 disputes',
        '12 shards accepted',
        '1 shard timed out'
      ])
    })
  })

  describe('probation (the liar path)', () => {
    it('a lost dispute puts a peer on probation with a low score; 3 passed challenges end it, not fewer', async () => {
      const book = await open()
      const liar = x.id.toString()
      book.record(liar, 'shard-accepted')
      book.record(liar, 'shard-accepted')
      // challenges passed before the lie do not count towards probation
      book.record(liar, 'challenge-passed')
      book.record(liar, 'dispute-lost')
      let score = book.score(liar)
      assert.equal(score.probation, true)
      assert.deepEqual(score.probationProgress, { passed: 0, needed: 3 })
      near(score.value, (5 + 1) / (5 + 10 + 2))
      assert.ok(score.value < 0.4)
      assert.equal(score.reasons[0], 'on probation: 0 of 3 challenges passed')
      assert.ok(score.reasons.includes('lost 1 dispute'))

      book.record(liar, 'challenge-passed')
      book.record(liar, 'challenge-passed')
      score = book.score(liar)
      assert.equal(score.probation, true, 'still on probation after 2 challenges')
      assert.deepEqual(score.probationProgress, { passed: 2, needed: 3 })
      assert.equal(score.reasons[0], 'on probation: 2 of 3 challenges passed')

      book.record(liar, 'challenge-passed')
      score = book.score(liar)
      assert.equal(score.probation, false)
      assert.equal(score.probationProgress, undefined)
      assert.ok(!score.reasons.some(r => r.startsWith('on probation')))
      assert.ok(score.reasons.includes('passed 4 challenges'))
    })

    it('a failed challenge starts it again, and its detail is told', async () => {
      const book = await open({ probationChallenges: 2 })
      const liar = x.id.toString()
      book.record(liar, 'dispute-lost')
      book.record(liar, 'challenge-passed')
      book.record(liar, 'challenge-failed', 1, 'wrong answer')
      const score = book.score(liar)
      assert.equal(score.probation, true)
      assert.deepEqual(score.probationProgress, { passed: 0, needed: 2 })
      assert.ok(score.reasons.includes('failed 1 challenge (wrong answer)'), score.reasons.join('; '))
      book.record(liar, 'challenge-passed')
      book.record(liar, 'challenge-passed')
      assert.equal(book.score(liar).probation, false)
    })

    it('probation does not decay', async () => {
      const book = await open()
      book.record(x.id.toString(), 'dispute-lost')
      clock.t += 100 * EVIDENCE_HALF_LIFE
      assert.equal(book.score(x.id.toString()).probation, true)
    })
  })

  describe('attestations', () => {
    /** A book where `good` passed 3 challenges of ours (score 10/11) and `low` failed 3 shards (0.2). */
    async function bookWithAttesters (init: Partial<TrustBookInit> = {}): Promise<TrustBook> {
      const book = await open(init)
      for (let i = 0; i < 3; i++) {
        book.record(good.id.toString(), 'challenge-passed')
        book.record(low.id.toString(), 'shard-failed')
      }
      return book
    }

    const goodWeight = (10 / 11 - 0.5) * 2 * 0.5

    it('weighs nothing from an attester with a low score', async () => {
      const book = await bookWithAttesters()
      book.addAttestation(await attest(low, x.id, T0, { ok: false }))
      const score = book.score(x.id.toString())
      assert.equal(score.value, 0.5)
      assert.deepEqual(score.attestations, { count: 0, weight: 0 })
      assert.deepEqual(score.reasons, ['1 attestation from peers not trusted (not counted)'])
    })

    it('weighs nothing from an unknown attester', async () => {
      const book = await bookWithAttesters()
      book.addAttestation(await attest(z, x.id, T0, { ok: false }))
      assert.equal(book.score(x.id.toString()).value, 0.5)
    })

    it('counts a failed challenge attested by a good attester as bad × 10, weighted by its score', async () => {
      const book = await bookWithAttesters()
      book.addAttestation(await attest(good, x.id, T0, { ok: false }))
      const score = book.score(x.id.toString())
      near(score.value, 1 / (2 + 10 * goodWeight))
      assert.equal(score.attestations.count, 1)
      near(score.attestations.weight, goodWeight)
      assert.deepEqual(score.reasons, ['1 attestation from trusted peers (1 of a failed challenge)'])
      assert.equal(score.probation, false, 'only own evidence puts a peer on probation')
    })

    it('counts a passed challenge attested by a good attester as good', async () => {
      const book = await bookWithAttesters()
      book.addAttestation(await attest(good, y.id, T0, { ok: true }))
      near(book.score(y.id.toString()).value, (1 + goodWeight) / (2 + goodWeight))
      assert.equal(book.score(y.id.toString()).lastEvidenceAt, T0)
    })

    it('an attester on probation weighs nothing', async () => {
      const book = await bookWithAttesters()
      for (let i = 0; i < 20; i++) {
        book.record(good.id.toString(), 'shard-accepted')
      }
      book.record(good.id.toString(), 'dispute-lost')
      assert.ok(book.score(good.id.toString()).value > 0.6)
      book.addAttestation(await attest(good, x.id, T0, { ok: false }))
      assert.equal(book.score(x.id.toString()).value, 0.5)
    })

    it('does not count its own attestations again', async () => {
      const book = await bookWithAttesters()
      book.record(x.id.toString(), 'challenge-passed')
      const before = book.score(x.id.toString())
      book.addAttestation(await attest(s, x.id, T0, { ok: true }))
      assert.equal(book.attestations.size, 1)
      assert.deepEqual(book.score(x.id.toString()), before)
    })

    it('keeps attestations about itself, and they change nothing', async () => {
      const book = await bookWithAttesters()
      book.addAttestation(await attest(good, s.id, T0, { ok: false }))
      assert.equal(book.attestations.about(s.id.toString(), T0).length, 1)
      const score = book.score(s.id.toString())
      assert.equal(score.value, 0.5)
      assert.deepEqual(score.attestations, { count: 0, weight: 0 })
      assert.deepEqual(book.peers().sort(), [good.id.toString(), low.id.toString()].sort())
    })

    it('refuses a replay through the log', async () => {
      const book = await bookWithAttesters()
      const att = await attest(good, x.id, T0)
      book.addAttestation(att)
      assert.throws(() => { book.addAttestation(att) }, (err: any) => err instanceof AttestationRejectedError && err.reason === 'replayed')
    })

    it('an attestation weighs less as it ages, and nothing once expired', async () => {
      const book = await bookWithAttesters({ halfLifeMs: 1000 * EVIDENCE_HALF_LIFE })
      book.addAttestation(await attest(good, x.id, T0, { ok: false }))
      const fresh = book.score(x.id.toString()).attestations.weight
      clock.t = T0 + MAX_ATTESTATION_AGE
      const old = book.score(x.id.toString()).attestations.weight
      assert.ok(old < fresh && old > 0)
      clock.t = T0 + MAX_ATTESTATION_AGE + 1
      assert.equal(book.score(x.id.toString()).attestations.count, 0)
    })
  })

  describe('measurements and windows', () => {
    it('measured() is the fastest of the newest own measurements', async () => {
      const book = await open()
      const peer = x.id.toString()
      const speeds = [50, 30, 40, 10]
      speeds.forEach((itemsPerSec, i) => {
        book.measure(peer, { workload: 'w', version: '1', itemsPerSec, items: 64, at: T0 + i, beyondCpu: false })
      })
      const m = book.measured(peer, 'w', '1')
      assert.equal(m?.itemsPerSec, 40, 'the 50 is older than the last 3')
      assert.equal(m?.source, 'self')
      assert.equal(m?.by, s.id.toString())
      assert.equal(book.measured(peer, 'w', '2'), undefined)
      assert.equal(book.measurements(peer).length, 4)
      assert.deepEqual(book.measurements(peer).map(m => m.itemsPerSec), [10, 40, 30, 50])
    })

    it('keeps at most 8 measurements per workload', async () => {
      const book = await open()
      for (let i = 0; i < 20; i++) {
        book.measure(x.id.toString(), { workload: 'w', version: '1', itemsPerSec: i, items: 1, at: T0 + i, beyondCpu: false })
      }
      assert.equal(book.measurements(x.id.toString()).length, 8)
    })

    it('falls back to a measurement attested by a trusted peer, never by an untrusted one', async () => {
      const book = await open()
      for (let i = 0; i < 3; i++) {
        book.record(good.id.toString(), 'challenge-passed')
      }
      book.addAttestation(await attest(good, y.id, T0 - 5000, { itemsPerSec: 77, beyondCpu: true }))
      book.addAttestation(await attest(z, x.id, T0 - 5000, { itemsPerSec: 999 }))
      const m = book.measured(y.id.toString(), 'sha256-batch', '1.0.0')
      assert.deepEqual(m, { workload: 'sha256-batch', version: '1.0.0', itemsPerSec: 77, items: 64, by: good.id.toString(), at: T0 - 5000, beyondCpu: true, source: 'attestation' })
      assert.equal(book.measured(x.id.toString(), 'sha256-batch', '1.0.0'), undefined)
      assert.equal(book.measurements(y.id.toString()).length, 1)
      // an own measurement wins
      book.measure(y.id.toString(), { workload: 'sha256-batch', version: '1.0.0', itemsPerSec: 20, items: 8, at: T0 - 60_000, beyondCpu: false })
      assert.equal(book.measured(y.id.toString(), 'sha256-batch', '1.0.0')?.source, 'self')
    })

    it('ignores measurements that are not numbers', async () => {
      const book = await open()
      book.measure(x.id.toString(), { workload: 'w', version: '1', itemsPerSec: Number.NaN, items: 1, at: T0, beyondCpu: false })
      book.measure(x.id.toString(), { workload: '', version: '1', itemsPerSec: 1, items: 1, at: T0, beyondCpu: false })
      assert.deepEqual(book.measurements(x.id.toString()), [])
    })

    it('remembers earned windows per peer and workload', async () => {
      const book = await open()
      assert.equal(book.earnedWindow(x.id.toString(), 'w'), undefined)
      book.setEarnedWindow(x.id.toString(), 'w', 6)
      book.setEarnedWindow(x.id.toString(), 'v', 0.2)
      assert.equal(book.earnedWindow(x.id.toString(), 'w'), 6)
      assert.equal(book.earnedWindow(x.id.toString(), 'v'), 1)
      assert.equal(book.earnedWindow(y.id.toString(), 'w'), undefined)
    })

    it('keeps at most maxPeers, forgetting those touched longest ago, liars last', async () => {
      const book = await open({ maxPeers: 2 })
      book.record(x.id.toString(), 'dispute-lost')
      clock.t += 1
      book.record(y.id.toString(), 'shard-accepted')
      clock.t += 1
      book.record(z.id.toString(), 'shard-accepted')
      assert.deepEqual(book.peers().sort(), [x.id.toString(), z.id.toString()].sort())
      clock.t += 1
      book.record(good.id.toString(), 'shard-accepted')
      assert.deepEqual(book.peers().sort(), [x.id.toString(), good.id.toString()].sort())
    })
  })

  describe('persistence', () => {
    let dir: string
    let file: string

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shardmesh-trust-'))
      file = join(dir, 'trust.json')
    })

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('a book closed and opened again remembers everything', async () => {
      const book = await open({ file })
      for (let i = 0; i < 3; i++) {
        book.record(good.id.toString(), 'challenge-passed')
      }
      book.record(x.id.toString(), 'shard-accepted', 5)
      book.record(x.id.toString(), 'challenge-failed', 1, 'bad receipt')
      book.record(x.id.toString(), 'challenge-passed')
      book.measure(x.id.toString(), { workload: 'w', version: '1', itemsPerSec: 12.5, items: 64, at: T0 - 10, beyondCpu: true })
      book.setEarnedWindow(x.id.toString(), 'w', 7)
      book.addAttestation(await attest(good, y.id, T0 - 1000, { itemsPerSec: 33 }))
      // writes are coalesced: nothing is on disk yet
      assert.equal(existsSync(file), false)
      const before = { x: book.score(x.id.toString()), y: book.score(y.id.toString()), m: book.measured(y.id.toString(), 'sha256-batch', '1.0.0') }
      await book.close()

      const data = JSON.parse(await readFile(file, 'utf8'))
      assert.equal(data.version, TRUST_FILE_VERSION)

      const again = await open({ file })
      assert.deepEqual(again.score(x.id.toString()), before.x)
      assert.deepEqual(again.score(y.id.toString()), before.y)
      assert.deepEqual(again.measured(y.id.toString(), 'sha256-batch', '1.0.0'), before.m)
      assert.equal(again.measured(x.id.toString(), 'w', '1')?.itemsPerSec, 12.5)
      assert.equal(again.measured(x.id.toString(), 'w', '1')?.beyondCpu, true)
      assert.equal(again.earnedWindow(x.id.toString(), 'w'), 7)
      assert.equal(again.attestations.size, 1)
      assert.equal(again.score(x.id.toString()).probationProgress?.passed, 1)
      assert.ok(again.score(x.id.toString()).reasons.includes('failed 1 challenge (bad receipt)'))

      // decay goes on across the restart, from the time of the evidence
      clock.t = T0 + EVIDENCE_HALF_LIFE
      near(again.score(x.id.toString()).evidence['shard-accepted'], 2.5)
      await again.close()
    })

    it('flush() writes now; nothing to write, nothing written', async () => {
      const book = await open({ file })
      await book.flush()
      assert.equal(existsSync(file), false)
      book.record(x.id.toString(), 'shard-accepted')
      await book.flush()
      assert.equal(existsSync(file), true)
      await book.close()
    })

    it('drops expired and tampered attestations when it loads', async () => {
      const book = await open({ file })
      for (let i = 0; i < 3; i++) {
        book.record(good.id.toString(), 'challenge-passed')
      }
      book.addAttestation(await attest(good, y.id, T0 - 1000))
      book.addAttestation(await attest(good, x.id, T0 - 1000))
      await book.close()
      const data = JSON.parse(await readFile(file, 'utf8'))
      const bytes = Buffer.from(data.attestations[0], 'base64')
      bytes[bytes.length - 1] ^= 1
      data.attestations[0] = bytes.toString('base64')
      data.attestations.push('not base64!')
      await writeFile(file, JSON.stringify(data))
      const tampered = await open({ file })
      assert.equal(tampered.attestations.size, 1)
      assert.equal(tampered.peers().includes(good.id.toString()), true, 'the rest of the book is kept')
      clock.t = T0 + MAX_ATTESTATION_AGE
      const later = await open({ file })
      assert.equal(later.attestations.size, 0)
    })

    const corrupt: Array<[string, (valid: any) => unknown]> = [
      ['not JSON', () => '{"version": 1, "peers": ['],
      ['another version', valid => ({ ...valid, version: 99 })],
      ['an array', () => []],
      ['peers not a list', valid => ({ ...valid, peers: {} })],
      ['a peer id that is no peer id', valid => ({ ...valid, peers: [{ ...valid.peers[0], id: 'mallory' }] })],
      ['a negative count', valid => ({ ...valid, peers: [{ ...valid.peers[0], counts: { 'shard-accepted': -5 } }] })],
      ['an unknown kind of evidence', valid => JSON.stringify(valid).replace('"counts":{', '"counts":{"__proto__":{"x":1},')],
      ['a kind of evidence from Object.prototype', valid => JSON.stringify(valid).replace('"counts":{', '"counts":{"constructor":1,')],
      ['a count that is a string', valid => ({ ...valid, peers: [{ ...valid.peers[0], counts: { 'dispute-lost': '1' } }] })],
      ['a bad probation', valid => ({ ...valid, peers: [{ ...valid.peers[0], probation: { since: 0, passed: -1, cause: 'dispute-lost' } }] })],
      ['a measurement without speed', valid => ({ ...valid, peers: [{ ...valid.peers[0], measurements: [{ workload: 'w', version: '1', items: 1, at: 1, beyondCpu: false }] }] })],
      ['a window of zero', valid => ({ ...valid, peers: [{ ...valid.peers[0], windows: [{ workload: 'w', window: 0, at: 1 }] }] })],
      ['a repeated peer', valid => ({ ...valid, peers: [valid.peers[0], valid.peers[0]] })],
      ['attestations that are not strings', valid => ({ ...valid, attestations: [1, 2] })]
    ]

    for (const [name, make] of corrupt) {
      it(`a corrupt file (${name}) is kept aside as <file>.corrupt and the book starts empty`, async () => {
        const book = await open({ file })
        book.record(x.id.toString(), 'dispute-lost')
        await book.close()
        const valid = JSON.parse(await readFile(file, 'utf8'))
        const content = make(valid)
        const text = typeof content === 'string' ? content : JSON.stringify(content)
        await writeFile(file, text)

        const reopened = await open({ file })
        assert.deepEqual(reopened.peers(), [])
        assert.equal(reopened.score(x.id.toString()).probation, false)
        assert.equal(existsSync(file), false)
        assert.equal(await readFile(`${file}.corrupt`, 'utf8'), text)
        // and it writes a good one again
        reopened.record(y.id.toString(), 'shard-accepted')
        await reopened.close()
        const fresh = await open({ file })
        assert.deepEqual(fresh.peers(), [y.id.toString()])
      })
    }

    it('a directory where the file should be does not make open throw', async () => {
      const book = await open({ file: dir })
      assert.deepEqual(book.peers(), [])
    })
  })
})
