import assert from 'node:assert/strict'
import { AttestationLog } from '../src/attestation-log.js'
import { AttestationRejectedError } from '../src/errors.js'
import { T0, attest, newNode } from './fixtures.js'
import type { Node } from './fixtures.js'
import type { AttestationRejectReason } from '../src/types.js'

function refused (fn: () => void, reason: AttestationRejectReason): void {
  assert.throws(fn, (err: any) => {
    assert.ok(err instanceof AttestationRejectedError, String(err))
    assert.equal(err.reason, reason, err.message)
    return true
  })
}

describe('attestation log', () => {
  let a: Node
  let b: Node
  let c: Node
  let d: Node

  before(async () => {
    [a, b, c, d] = await Promise.all([newNode(), newNode(), newNode(), newNode()])
  })

  it('keeps attestations per subject, newest first', async () => {
    const log = new AttestationLog()
    const older = await attest(a, b.id, T0 - 2000)
    const newer = await attest(c, b.id, T0 - 1000)
    const other = await attest(a, c.id, T0)
    log.accept(newer, T0)
    log.accept(older, T0)
    log.accept(other, T0)
    assert.deepEqual(log.about(b.id.toString(), T0).map(x => x.id), [newer.id, older.id])
    assert.deepEqual(log.about(c.id.toString(), T0).map(x => x.id), [other.id])
    assert.deepEqual(log.about(d.id.toString(), T0), [])
    assert.equal(log.size, 3)
    assert.equal(log.list(T0).length, 3)
    assert.ok(log.has(older.id))
  })

  it('refuses a replay: the same attestation again', async () => {
    const log = new AttestationLog()
    const att = await attest(a, b.id, T0)
    log.accept(att, T0)
    refused(() => { log.accept(att, T0 + 1) }, 'replayed')
    assert.equal(log.size, 1)
  })

  it('refuses an attestation of a challenger no newer than one it holds for the same subject and workload', async () => {
    const log = new AttestationLog()
    log.accept(await attest(a, b.id, T0), T0)
    // same time, another nonce: a replay in all but bytes
    const same = await attest(a, b.id, T0)
    const older = await attest(a, b.id, T0 - 1)
    refused(() => { log.accept(same, T0) }, 'replayed')
    refused(() => { log.accept(older, T0) }, 'replayed')
    // another workload, or another challenger: not a replay
    log.accept(await attest(a, b.id, T0 - 1, { workload: 'other' }), T0)
    log.accept(await attest(c, b.id, T0 - 1), T0)
    assert.equal(log.size, 3)
  })

  it('a newer attestation of the same challenger, subject and workload replaces the older', async () => {
    const log = new AttestationLog()
    const first = await attest(a, b.id, T0 - 1000, { ok: false })
    const second = await attest(a, b.id, T0, { ok: true })
    log.accept(first, T0)
    log.accept(second, T0)
    assert.deepEqual(log.about(b.id.toString(), T0).map(x => x.id), [second.id])
    assert.equal(log.size, 1)
    assert.equal(log.has(first.id), false)
  })

  it('limits each challenger to its rate, in a sliding window', async () => {
    const log = new AttestationLog({ rate: { count: 3, windowMs: 1000 } })
    const subjects = [b, c, d]
    for (let i = 0; i < 3; i++) {
      log.accept(await attest(a, subjects[i].id, T0), T0 + i * 100)
    }
    const fourth = await attest(a, b.id, T0 + 1, { workload: 'w4' })
    refused(() => { log.accept(fourth, T0 + 300) }, 'rate-limited')
    // another challenger has its own budget
    log.accept(await attest(c, b.id, T0), T0 + 300)
    // the first one left the window at T0 + 1000
    log.accept(fourth, T0 + 1000)
    const fifth = await attest(a, c.id, T0 + 2, { workload: 'w5' })
    refused(() => { log.accept(fifth, T0 + 1050) }, 'rate-limited')
  })

  it('a replay costs the challenger nothing of its rate', async () => {
    const log = new AttestationLog({ rate: { count: 2, windowMs: 1000 } })
    const att = await attest(a, b.id, T0)
    log.accept(att, T0)
    for (let i = 0; i < 5; i++) {
      refused(() => { log.accept(att, T0) }, 'replayed')
    }
    log.accept(await attest(a, c.id, T0), T0)
  })

  it('restore is not rate limited', async () => {
    const log = new AttestationLog({ rate: { count: 1, windowMs: 1000 } })
    log.restore(await attest(a, b.id, T0), T0)
    log.restore(await attest(a, c.id, T0), T0)
    log.restore(await attest(a, d.id, T0), T0)
    assert.equal(log.size, 3)
  })

  it('keeps at most maxPerSubject per subject, dropping the oldest', async () => {
    const log = new AttestationLog({ maxPerSubject: 2 })
    const one = await attest(a, b.id, T0 - 3000)
    const two = await attest(c, b.id, T0 - 2000)
    const three = await attest(d, b.id, T0 - 1000)
    log.accept(one, T0)
    log.accept(two, T0)
    log.accept(three, T0)
    assert.deepEqual(log.about(b.id.toString(), T0).map(x => x.id), [three.id, two.id])
    assert.equal(log.size, 2)
  })

  it('keeps at most maxPerChallenger of one challenger about one subject', async () => {
    const log = new AttestationLog({ maxPerChallenger: 2 })
    const others = await attest(c, b.id, T0 - 5000)
    log.accept(others, T0)
    for (let i = 0; i < 4; i++) {
      log.accept(await attest(a, b.id, T0 - 4000 + i * 1000, { workload: `w${i}` }), T0)
    }
    const held = log.about(b.id.toString(), T0)
    assert.deepEqual(held.map(x => x.workload), ['w3', 'w2', 'sha256-batch'])
    assert.ok(held.some(x => x.id === others.id))
  })

  it('keeps at most maxSubjects subjects, dropping the least recently attested', async () => {
    const log = new AttestationLog({ maxSubjects: 2 })
    log.accept(await attest(a, b.id, T0), T0)
    log.accept(await attest(a, c.id, T0), T0)
    log.accept(await attest(c, b.id, T0), T0) // b attested again: c is now the oldest subject
    log.accept(await attest(a, d.id, T0), T0)
    assert.equal(log.about(c.id.toString(), T0).length, 0)
    assert.equal(log.about(b.id.toString(), T0).length, 2)
    assert.equal(log.about(d.id.toString(), T0).length, 1)
    assert.equal(log.size, 3)
  })

  it('drops attestations as they expire, and refuses expired ones', async () => {
    const log = new AttestationLog({ maxAgeMs: 10_000 })
    const att = await attest(a, b.id, T0)
    log.accept(att, T0)
    assert.equal(log.about(b.id.toString(), T0 + 10_000).length, 1)
    assert.equal(log.about(b.id.toString(), T0 + 10_001).length, 0)
    assert.equal(log.list(T0 + 10_001).length, 0)
    assert.equal(log.size, 0)
    refused(() => { log.accept(att, T0 + 10_001) }, 'expired')
  })
})
