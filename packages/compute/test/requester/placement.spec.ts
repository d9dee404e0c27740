import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { echo } from '@shardmesh/workloads'
import * as C from '../../src/constants.js'
import { HOARD_FACTOR, MIN_SCORE, defaultPlacement, earnedPlacement, planOf, windowCap } from '../../src/requester/placement.js'
import { evidence, measured, score } from './evidence.js'
import { FakeChannel } from './fake-channel.js'
import type { CandidateEvidence, PlacementCandidate, PlacementJob, PlacementPlan } from '../../src/requester/placement.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

const JOB: PlacementJob = { workload: echo(), verification: 'none' }

describe('requester: earned placement', () => {
  let key: PrivateKey
  let self: PeerId

  before(async () => {
    key = await generateKeyPair('Ed25519')
    self = peerIdFromPrivateKey(key)
  })

  async function candidate (fields: Partial<CandidateEvidence> = {}, slots = 2): Promise<PlacementCandidate> {
    return { channel: await FakeChannel.create(self), slots, evidence: evidence(fields) }
  }

  function local (slots = 4): PlacementCandidate {
    return { channel: new FakeChannel(key, self, () => 'echo', true), slots }
  }

  function place (candidates: PlacementCandidate[], job: Partial<PlacementJob> = {}, options?: Parameters<typeof earnedPlacement>[0]): PlacementPlan {
    return planOf(earnedPlacement(options).place(candidates, { ...JOB, ...job }))
  }

  function id (c: PlacementCandidate): string {
    return c.channel.peerId.toString()
  }

  describe('exclusions, each with its reason', () => {
    it('dead: its heartbeat went silent, and when it was last heard', async () => {
      const dead = await candidate({ liveness: { state: 'dead', evidence: 'heartbeat', ageMs: 2500, since: 0 } })
      const plan = place([dead])
      assert.deepEqual(plan.peers, [])
      assert.equal(plan.excluded.length, 1)
      assert.equal(plan.excluded[0].peerId, id(dead))
      assert.equal(plan.excluded[0].reason, 'dead')
      assert.match(plan.excluded[0].detail, /^dead: .*last heartbeat 2\.5 s ago/)
    })

    it('suspect', async () => {
      const suspect = await candidate({ liveness: { state: 'suspect', evidence: 'heartbeat', ageMs: 900, since: 0 } })
      const plan = place([suspect])
      assert.deepEqual(plan.excluded.map(e => [e.peerId, e.reason]), [[id(suspect), 'suspect']])
      assert.match(plan.excluded[0].detail, /^suspect: /)
    })

    it('stale: no direct evidence lately and an advert older than half its validity; not when either is fresh', async () => {
      const stale = await candidate({ liveness: { state: 'advert', evidence: 'advert', ageMs: 40_000, since: 0 }, advertAgeMs: 40_000, advertTtlMs: 60_000 })
      const youngAdvert = await candidate({ liveness: { state: 'advert', evidence: 'advert', ageMs: 20_000, since: 0 }, advertAgeMs: 20_000, advertTtlMs: 60_000 })
      const aliveOldAdvert = await candidate({ advertAgeMs: 50_000, advertTtlMs: 60_000 })
      const plan = place([stale, youngAdvert, aliveOldAdvert])
      assert.deepEqual(plan.excluded.map(e => [e.peerId, e.reason]), [[id(stale), 'stale']])
      assert.match(plan.excluded[0].detail, /advert is 40 s old, more than half of its 60 s validity/)
      assert.deepEqual(plan.peers.map(p => p.channel), [youngAdvert.channel, aliveOldAdvert.channel])
    })

    it('failed-challenge: a wrong answer or a bad receipt (a timed-out challenge is no lie)', async () => {
      const wrong = await candidate({ challenge: { verdict: 'wrong-answer', detail: 'item 3 differs' } })
      const badReceipt = await candidate({ challenge: { verdict: 'bad-receipt' } })
      const timedOut = await candidate({ challenge: { verdict: 'timeout' } })
      const plan = place([wrong, badReceipt, timedOut])
      assert.deepEqual(plan.excluded.map(e => [e.peerId, e.reason]), [[id(wrong), 'failed-challenge'], [id(badReceipt), 'failed-challenge']])
      assert.match(plan.excluded[0].detail, /a wrong answer \(item 3 differs\)/)
      assert.match(plan.excluded[1].detail, /a bad receipt/)
      assert.deepEqual(plan.peers.map(p => p.channel), [timedOut.channel])
    })

    it('probation: excluded when nothing would check its results; under spot-check or replicate it works, every result verified', async () => {
      const onProbation = await candidate({ score: score(0.5, { probation: true, probationProgress: { passed: 1, needed: 3 } }) })
      const none = place([onProbation], { verification: 'none' })
      assert.deepEqual(none.excluded.map(e => e.reason), ['probation'])
      assert.match(none.excluded[0].detail, /passed 1 of 3 challenges since.*verification is none/)
      // no verification named: none
      assert.deepEqual(place([onProbation], { verification: undefined }).excluded.map(e => e.reason), ['probation'])
      for (const verification of ['spot-check', 'replicate'] as const) {
        const plan = place([onProbation], { verification })
        assert.deepEqual(plan.excluded, [])
        assert.equal(plan.peers[0].mustVerify, true)
      }
    })

    it('low-score: below minScore (the job\'s own first), with the reasons of the score', async () => {
      const low = await candidate({ score: score(0.2, { reasons: ['lost 3 disputes'] }) })
      const fair = await candidate({ score: score(0.3) })
      const plan = place([low, fair])
      assert.ok(MIN_SCORE > 0.2 && MIN_SCORE < 0.3)
      assert.deepEqual(plan.excluded.map(e => [e.peerId, e.reason]), [[id(low), 'low-score']])
      assert.equal(plan.excluded[0].detail, 'score 0.20 < 0.25: lost 3 disputes')
      assert.deepEqual(place([low, fair], {}, { minScore: 0.1 }).excluded, [])
      assert.deepEqual(place([low, fair], { minScore: 0.4 }, { minScore: 0.1 }).excluded.map(e => e.peerId), [id(low), id(fair)])
    })

    it('one reason per peer, the first in order: dead before stale, failed-challenge, probation and low-score', async () => {
      const everything = await candidate({
        liveness: { state: 'dead', evidence: 'heartbeat', ageMs: 5000, since: 0 },
        advertAgeMs: 59_000,
        challenge: { verdict: 'wrong-answer' },
        score: score(0.01, { probation: true })
      })
      const failedAndLow = await candidate({ challenge: { verdict: 'bad-receipt' }, score: score(0.01, { probation: true }) })
      const probationAndLow = await candidate({ score: score(0.01, { probation: true }) })
      const plan = place([everything, failedAndLow, probationAndLow])
      assert.deepEqual(plan.excluded.map(e => e.reason), ['dead', 'failed-challenge', 'probation'])
    })

    it('never this node, which keeps its slots as its window', async () => {
      const me = local(6)
      const plan = place([me], { minScore: 0.99 })
      assert.deepEqual(plan.excluded, [])
      assert.deepEqual(plan.peers.map(p => [p.channel, p.window, p.mustVerify]), [[me.channel, 6, undefined]])
    })

    it('a candidate with no evidence is used (as the default placement would), unmeasured', async () => {
      const bare: PlacementCandidate = { channel: await FakeChannel.create(self), slots: 8 }
      const plan = place([bare])
      assert.deepEqual(plan.peers.map(p => [p.channel, p.window]), [[bare.channel, 1]])
    })
  })

  it('orders by score, then measured speed, then as found; this node first', async () => {
    const a = await candidate({ score: score(0.6) })
    const b = await candidate({ score: score(0.9) })
    const c = await candidate({ score: score(0.6), measured: measured(50) })
    const d = await candidate({ score: score(0.6), measured: measured(50) })
    const e = await candidate({ score: score(0.6), measured: measured(80) })
    const me = local()
    const plan = place([a, b, c, me, d, e])
    assert.deepEqual(plan.peers.map(p => p.channel), [me, b, e, c, d, a].map(x => x.channel))
  })

  it('first windows: unmeasured peers start small, measured ones at what they earned, never past their claimed slots + PIPELINE_DEPTH', async () => {
    const unmeasured = await candidate({}, 500)
    const measuredNoHistory = await candidate({ measured: measured(10) }, 8)
    const earned = await candidate({ measured: measured(10), earnedWindow: 4 }, 8)
    const earnedTooMuch = await candidate({ measured: measured(10), earnedWindow: 40 }, 8)
    const unknownSlots = await candidate({ measured: measured(10), earnedWindow: 40 }, 0)
    const plan = place([unmeasured, measuredNoHistory, earned, earnedTooMuch, unknownSlots])
    const windows = new Map(plan.peers.map(p => [p.channel, p.window]))
    assert.equal(windows.get(unmeasured.channel), 1)
    assert.equal(windows.get(measuredNoHistory.channel), 1)
    assert.equal(windows.get(earned.channel), 4)
    assert.equal(windows.get(earnedTooMuch.channel), 8 + C.PIPELINE_DEPTH)
    assert.equal(windows.get(unknownSlots.channel), C.UNKNOWN_PEER_SLOTS + C.PIPELINE_DEPTH)
    assert.equal(planOf(earnedPlacement({ initialWindow: 3 }).place([unmeasured], JOB)).peers[0].window, 3)
  })

  describe('the window gradient', () => {
    it('grows by one per result while the round trip per item stays flat, up to claimed slots + PIPELINE_DEPTH', async () => {
      const peer = await candidate({}, 3)
      const policy = earnedPlacement()
      let window = planOf(policy.place([peer], JOB)).peers[0].window
      const windows = [window]
      for (let i = 0; i < 6; i++) {
        // 8 items in 400 ms, every time: nothing queues
        window = policy.window({ peerId: id(peer), window, outcome: 'result', roundTripMs: 400, items: 8 })
        windows.push(window)
      }
      assert.deepEqual(windows, [1, 2, 3, 4, 4, 4, 4])
      assert.equal(windowCap(3), 4)
    })

    it('shrinks in proportion when the round trip per item grows (the worker queues what it holds)', async () => {
      const peer = await candidate({ measured: measured(20), earnedWindow: 8 }, 16)
      const policy = earnedPlacement()
      let window = planOf(policy.place([peer], JOB)).peers[0].window
      assert.equal(window, 8)
      // the baseline: 50 ms per item
      window = policy.window({ peerId: id(peer), window, outcome: 'result', roundTripMs: 50, items: 1 })
      assert.equal(window, 9)
      // then each item takes four times as long: the recent average (0.5 weight) is 125, 2.5x the baseline
      window = policy.window({ peerId: id(peer), window, outcome: 'result', roundTripMs: 200, items: 1 })
      // (the baseline rose 2% of the way toward the recent figure: 51.5) 9 x 1.5 x 51.5 / 125 = 5.6
      assert.equal(window, 5)
      const cut = window
      window = policy.window({ peerId: id(peer), window, outcome: 'result', roundTripMs: 200, items: 1 })
      assert.ok(window < cut, `${window} < ${cut}`)
      // never below 1
      for (let i = 0; i < 10; i++) {
        window = policy.window({ peerId: id(peer), window, outcome: 'result', roundTripMs: 10_000, items: 1 })
      }
      assert.equal(window, 1)
    })

    it('holds between 1.5x and 2x the baseline', async () => {
      const peer = await candidate({ measured: measured(20), earnedWindow: 3 }, 8)
      const policy = earnedPlacement()
      planOf(policy.place([peer], JOB))
      assert.equal(policy.window({ peerId: id(peer), window: 3, outcome: 'result', roundTripMs: 100 }), 4)
      // recent: (100 + 260) / 2 = 180, 1.8x
      assert.equal(policy.window({ peerId: id(peer), window: 4, outcome: 'result', roundTripMs: 260 }), 4)
    })

    it('a busy answer takes one off, a failure halves it, never below 1', async () => {
      const peer = await candidate({ measured: measured(20), earnedWindow: 6 }, 8)
      const policy = earnedPlacement()
      planOf(policy.place([peer], JOB))
      assert.equal(policy.window({ peerId: id(peer), window: 6, outcome: 'busy', roundTripMs: 5 }), 5)
      assert.equal(policy.window({ peerId: id(peer), window: 5, outcome: 'failure', roundTripMs: 5 }), 2)
      assert.equal(policy.window({ peerId: id(peer), window: 1, outcome: 'failure', roundTripMs: 5 }), 1)
      assert.equal(policy.window({ peerId: id(peer), window: 1, outcome: 'busy', roundTripMs: 5 }), 1)
    })

    it('this node keeps its slots whatever its round trips', async () => {
      const me = local(4)
      const policy = earnedPlacement()
      planOf(policy.place([me], JOB))
      assert.equal(policy.window({ peerId: id(me), window: 4, outcome: 'result', roundTripMs: 10 }), 4)
      assert.equal(policy.window({ peerId: id(me), window: 4, outcome: 'result', roundTripMs: 10_000 }), 4)
    })

    it(`a peer whose work in flight would take more than ${HOARD_FACTOR}x what the others need loses window down to what its rate justifies`, async () => {
      const fast = await candidate({ measured: measured(10), earnedWindow: 2 }, 2)
      const hoarder = await candidate({ measured: measured(10), earnedWindow: 10 }, 500)
      const policy = earnedPlacement()
      planOf(policy.place([fast, hoarder], JOB))
      // the honest peer: 100 ms a shard
      policy.window({ peerId: id(fast), window: 2, outcome: 'result', roundTripMs: 100 })
      // the hoarder: a flat 1000 ms a shard with 10 in flight (its baseline, so the gradient alone would grow it)
      // is 10 shards a second: in 4 x 100 ms it finishes 4
      assert.equal(policy.window({ peerId: id(hoarder), window: 10, outcome: 'result', roundTripMs: 1000 }), 4)
      // one at a time, 1000 ms each: window 1
      assert.equal(policy.window({ peerId: id(hoarder), window: 4, outcome: 'result', roundTripMs: 1000 * 4 }), 1)
      // the honest peer is no hoarder and keeps growing
      assert.equal(policy.window({ peerId: id(fast), window: 2, outcome: 'result', roundTripMs: 100 }), 3)
    })

    it('placing a job again seeds windows from the evidence, not from the last job', async () => {
      const peer = await candidate({ measured: measured(10), earnedWindow: 2 }, 8)
      const policy = earnedPlacement()
      planOf(policy.place([peer], JOB))
      assert.equal(policy.window({ peerId: id(peer), window: 2, outcome: 'result', roundTripMs: 100 }), 3)
      const again = planOf(policy.place([{ ...peer, evidence: evidence({ measured: measured(10), earnedWindow: 5 }) }], JOB))
      assert.equal(again.peers[0].window, 5)
    })
  })

  it('planOf: a bare list excludes nobody; a plan is itself', async () => {
    const c = await candidate()
    const list = defaultPlacement().place([c], JOB)
    assert.ok(Array.isArray(list))
    assert.deepEqual(planOf(list), { peers: [{ channel: c.channel, window: windowCap(2) }], excluded: [] })
    const plan: PlacementPlan = { peers: [], excluded: [{ peerId: 'x', reason: 'banned', detail: 'no' }] }
    assert.equal(planOf(plan), plan)
  })
})
