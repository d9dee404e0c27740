import assert from 'node:assert/strict'
import { DEAD_AFTER, LIVENESS_ALIVE_FOR, SUSPECT_AFTER } from '../src/constants.js'
import { LivenessBook } from '../src/requester/liveness.js'
import type { LivenessChange, LivenessInit } from '../src/requester/liveness.js'

const T0 = 1_700_000_000_000

/** A book on a clock the test moves, and the changes it emitted, as `peer:previous>state@t`. */
function book (init: LivenessInit = {}): { book: LivenessBook, clock: { t: number }, changes: string[], details: LivenessChange[] } {
  const clock = { t: T0 }
  const b = new LivenessBook({ now: () => clock.t, ...init })
  const changes: string[] = []
  const details: LivenessChange[] = []
  b.addEventListener('liveness', (evt) => {
    details.push(evt.detail)
    changes.push(`${evt.detail.peerId}:${evt.detail.previous}>${evt.detail.state}@${evt.detail.at - T0}`)
  })
  return { book: b, clock, changes, details }
}

describe('LivenessBook', () => {
  it('has the defaults of the issue: suspect after 700 ms, dead after 1600 ms, alive 10 s after evidence', () => {
    assert.equal(SUSPECT_AFTER, 700)
    assert.equal(DEAD_AFTER, 1_600)
    assert.equal(LIVENESS_ALIVE_FOR, 10_000)
    const b = new LivenessBook()
    assert.equal(b.suspectAfter, SUSPECT_AFTER)
    assert.equal(b.deadAfter, DEAD_AFTER)
    assert.equal(b.aliveFor, LIVENESS_ALIVE_FOR)
  })

  it('finds a watched peer suspect past 700 ms of silence and dead past 1600 ms, in that order', () => {
    const { book: b, clock, changes, details } = book()
    const unwatch = b.watch('p')
    b.heard('p', 'heartbeat', 3)
    clock.t = T0 + 700
    b.check()
    assert.equal(b.view('p').state, 'alive', 'exactly 700 ms of silence is not yet suspect')
    clock.t = T0 + 701
    b.check()
    assert.equal(b.view('p').state, 'suspect')
    assert.equal(b.health('p'), 'suspect')
    clock.t = T0 + 1600
    b.check()
    assert.equal(b.view('p').state, 'suspect')
    clock.t = T0 + 1601
    b.check()
    b.check()
    const view = b.view('p')
    assert.equal(view.state, 'dead')
    assert.equal(view.since, T0 + 1601)
    assert.equal(view.evidence, 'heartbeat')
    assert.equal(view.ageMs, 1601)
    assert.equal(view.rttMs, 3)
    assert.equal(b.health('p'), 'dead')
    assert.deepEqual(changes, ['p:alive>suspect@701', 'p:suspect>dead@1601'])
    assert.deepEqual(details[1], { peerId: 'p', previous: 'suspect', state: 'dead', at: T0 + 1601 })
    unwatch()
  })

  it('goes through suspect when one check finds a peer silent past deadAfter at once', () => {
    const { book: b, clock, changes } = book()
    b.watch('p')
    clock.t = T0 + 5_000
    b.check()
    assert.deepEqual(changes, ['p:alive>suspect@5000', 'p:suspect>dead@5000'])
  })

  it('counts the silence of a peer never heard from from the start of its watch', () => {
    const { book: b, clock, changes } = book()
    clock.t = T0 + 60_000
    b.watch('p')
    assert.equal(b.view('p').state, 'alive')
    assert.equal(b.view('p').evidence, 'none')
    assert.equal(b.view('p').since, T0 + 60_000)
    clock.t = T0 + 60_801
    b.check()
    assert.deepEqual(changes, ['p:alive>suspect@60801'])
    assert.equal(b.silenceMs('p'), 801)
  })

  it('recovers a suspect or dead peer on fresh evidence', () => {
    const { book: b, clock, changes } = book()
    b.watch('p')
    b.heard('p', 'heartbeat')
    clock.t = T0 + 900
    b.check()
    clock.t = T0 + 950
    b.heard('p', 'heartbeat', 40)
    assert.equal(b.view('p').state, 'alive')
    assert.equal(b.view('p').since, T0 + 950)
    assert.equal(b.view('p').rttMs, 40)
    clock.t = T0 + 2_600
    b.check()
    clock.t = T0 + 2_700
    b.heard('p', 'result')
    assert.deepEqual(changes, ['p:alive>suspect@900', 'p:suspect>alive@950', 'p:alive>suspect@2600', 'p:suspect>dead@2600', 'p:dead>alive@2700'])
    const view = b.view('p')
    assert.equal(view.state, 'alive')
    assert.equal(view.evidence, 'result')
    assert.equal(view.ageMs, 0)
  })

  it('keeps a dead peer dead until fresh evidence, or an advert received after its death', () => {
    const { book: b, clock, changes } = book()
    const unwatch = b.watch('p')
    b.heard('p', 'heartbeat')
    clock.t = T0 + 2_000
    b.check()
    unwatch()
    // long after, with no news: still dead, whatever the clock says
    clock.t = T0 + 60_000
    b.check()
    assert.equal(b.view('p').state, 'dead')
    assert.equal(b.health('p'), 'dead')
    // an advert received before the death does not revive it
    assert.equal(b.view('p', { receivedAt: T0 + 1_000, issuedAt: T0 + 900 }).state, 'dead')
    // one received after it does, as 'advert' only
    const advert = { receivedAt: T0 + 59_000, issuedAt: T0 + 58_500 }
    assert.deepEqual(b.view('p', advert), { state: 'advert', evidence: 'advert', ageMs: 1_500, since: T0 + 59_000 })
    assert.equal(b.health('p', advert), 'alive')
    // view() with an advert changes nothing recorded
    assert.equal(b.view('p').state, 'dead')
    // recorded, the advert clears the verdict
    b.advertised('p', advert)
    assert.equal(b.view('p').state, 'advert')
    assert.equal(b.health('p'), 'alive')
    assert.deepEqual(changes, ['p:alive>suspect@2000', 'p:suspect>dead@2000', 'p:dead>advert@60000'])
  })

  it('keeps markDead sticky too, and a check does not undo it', () => {
    const { book: b, clock, changes } = book()
    b.heard('p', 'challenge')
    b.markDead('p')
    b.markDead('p')
    b.watch('p')
    clock.t = T0 + 100
    b.check()
    assert.equal(b.view('p').state, 'dead')
    b.heard('p', 'heartbeat')
    assert.equal(b.view('p').state, 'alive')
    assert.deepEqual(changes, ['p:alive>dead@0', 'p:dead>alive@100'])
  })

  it('does not let an advert clear the verdict of a peer its heartbeat judges', () => {
    const { book: b, clock, changes } = book()
    b.watch('p')
    clock.t = T0 + 900
    b.check()
    b.advertised('p', { receivedAt: T0 + 900, issuedAt: T0 + 900 })
    assert.equal(b.view('p').state, 'suspect')
    assert.deepEqual(changes, ['p:alive>suspect@900'])
  })

  it('derives the state of an unwatched peer from its evidence and adverts, with their ages', () => {
    const { book: b, clock, changes } = book()
    assert.deepEqual(b.view('never'), { state: 'unknown', evidence: 'none', ageMs: null, since: null })
    assert.deepEqual(b.view('never', { receivedAt: T0 - 200, issuedAt: T0 - 500 }), { state: 'advert', evidence: 'advert', ageMs: 500, since: T0 - 200 })
    // an issue time in the future is not believed: the advert is no younger than its receipt
    assert.equal(b.view('never', { receivedAt: T0 - 200, issuedAt: T0 + 10_000 }).ageMs, 200)
    assert.equal(b.health('never'), 'alive', 'no evidence is not held against a peer')
    // an advert without a usable receipt time is no evidence
    assert.equal(b.view('never', { receivedAt: Number.NaN, issuedAt: T0 }).state, 'unknown')
    b.advertised('never', { receivedAt: Number.NaN, issuedAt: T0 })
    assert.equal(b.size, 0)

    b.heard('p', 'challenge')
    clock.t = T0 + 10_000
    assert.deepEqual(b.view('p'), { state: 'alive', evidence: 'challenge', ageMs: 10_000, since: T0 })
    clock.t = T0 + 10_001
    assert.deepEqual(b.view('p'), { state: 'unknown', evidence: 'challenge', ageMs: 10_001, since: T0 + 10_000 })
    const advert = { receivedAt: T0 + 5_000, issuedAt: T0 + 4_000 }
    assert.deepEqual(b.view('p', advert), { state: 'advert', evidence: 'advert', ageMs: 6_001, since: T0 + 10_000 })
    b.advertised('p', advert)
    assert.equal(b.view('p').state, 'advert')
    // fresh evidence: alive again, since then
    clock.t = T0 + 20_000
    b.heard('p', 'result')
    assert.deepEqual(b.view('p'), { state: 'alive', evidence: 'result', ageMs: 0, since: T0 + 20_000 })
    assert.deepEqual(changes, [], 'derived states are not events')
  })

  it('keeps a peer suspect after its watch ends, until evidence or a later advert', () => {
    const { book: b, clock } = book()
    const unwatch = b.watch('p')
    clock.t = T0 + 1_000
    b.check()
    unwatch()
    clock.t = T0 + 30_000
    assert.equal(b.view('p').state, 'suspect')
    b.advertised('p', { receivedAt: T0 + 30_000, issuedAt: T0 + 29_000 })
    assert.equal(b.view('p').state, 'advert')
  })

  it('counts silence from an excuse: the watcher held its own ping up', () => {
    const { book: b, clock, changes } = book()
    b.watch('p')
    clock.t = T0 + 700
    b.excuse('p')
    clock.t = T0 + 1_400
    b.check()
    assert.deepEqual(changes, [])
    assert.equal(b.silenceMs('p'), 700)
    clock.t = T0 + 1_501
    b.check()
    assert.deepEqual(changes, ['p:alive>suspect@1501'])
    // an excuse is not evidence
    assert.equal(b.view('p').evidence, 'none')
    b.excuse('nobody')
    assert.equal(b.size, 1)
  })

  it('judges a peer watched twice until both watches end, and ignores a second unwatch', () => {
    const { book: b, clock, changes } = book()
    const first = b.watch('p')
    const second = b.watch('p')
    first()
    first()
    clock.t = T0 + 900
    b.check()
    assert.deepEqual(changes, ['p:alive>suspect@900'])
    second()
    clock.t = T0 + 5_000
    b.check()
    assert.deepEqual(changes, ['p:alive>suspect@900'], 'an unwatched peer is not judged')
  })

  it('forgets unwatched peers with no news for forgetAfter, never a watched one', () => {
    const { book: b, clock } = book({ forgetAfter: 60_000 })
    b.heard('old', 'heartbeat')
    b.watch('busy')
    clock.t = T0 + 30_000
    b.heard('recent', 'result')
    clock.t = T0 + 60_001
    b.check()
    assert.equal(b.size, 2)
    assert.deepEqual(b.view('old'), { state: 'unknown', evidence: 'none', ageMs: null, since: null })
    assert.notEqual(b.view('busy').state, 'unknown')
    assert.equal(b.view('recent').evidence, 'result')
  })

  it('keeps at most maxPeers, the least recently heard of and unwatched going first', () => {
    const { book: b, clock } = book({ maxPeers: 3 })
    b.watch('w')
    for (const peer of ['a', 'b', 'c', 'd', 'e']) {
      clock.t += 10
      b.heard(peer, 'heartbeat')
      assert.ok(b.size <= 3)
    }
    assert.equal(b.size, 3)
    assert.equal(b.view('w').state, 'alive', 'the watched peer stays')
    assert.equal(b.view('a').state, 'unknown')
    assert.equal(b.view('d').state, 'alive')
    assert.equal(b.view('e').state, 'alive')
    // every peer watched: the least recently touched goes even so, the bound holds
    const full = book({ maxPeers: 2 }).book
    full.watch('x')
    full.watch('y')
    full.watch('z')
    assert.equal(full.size, 2)
  })

  it('refuses thresholds that make no sense', () => {
    assert.throws(() => new LivenessBook({ suspectAfter: 1000, deadAfter: 500 }), RangeError)
    assert.throws(() => new LivenessBook({ deadAfter: 0 }), RangeError)
    assert.throws(() => new LivenessBook({ maxPeers: Number.NaN }), RangeError)
  })
})
