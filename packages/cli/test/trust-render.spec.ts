import assert from 'node:assert/strict'
import { pickPeer, renderFound, renderPeers } from '../src/commands/peers.js'
import { seconds, shortId } from '../src/format.js'
import { renderPlan } from '../src/job/plan.js'
import { formatGpus, formatLiveness, formatScore, formatSlots, formatThroughput, renderWhy } from '../src/trust.js'
import type { PeerRow, PeerTrustJson, PlanResponse } from '@shardmesh/control'

const A = '12D3KooWHbkKh1QwGkySDizaTtLaKcbryMoaxqYG9Ffr9J8cyTaK'
const B = '12D3KooWA1v39Txjgaf9HSKfTPGzE6sMvkQdygtU6MmBLomJhtAu'
const NOW = 1_000_000

function trust (fields: Partial<PeerTrustJson> = {}): PeerTrustJson {
  return {
    peerId: A,
    liveness: { state: 'alive', evidence: 'heartbeat', ageMs: 400, since: NOW - 60_000, rttMs: 3 },
    score: {
      value: 0.93,
      probation: false,
      evidence: { 'shard-accepted': 12, 'shard-failed': 0, 'shard-timeout': 0, unresponsive: 0, 'dispute-won': 0, 'dispute-lost': 0, 'challenge-passed': 2, 'challenge-failed': 0, 'challenge-timeout': 0.5 },
      attestations: { count: 3, weight: 1.25 },
      reasons: ['passed 2 challenges', '12 shards accepted'],
      lastEvidenceAt: NOW - 2_000
    },
    workloads: [{
      workload: 'sleep',
      version: '1.0.0',
      claimed: 800,
      claimedPerSlot: 200,
      status: 'measured',
      measured: { workload: 'sleep', version: '1.0.0', itemsPerSec: 95, items: 16, by: B, at: NOW - 5_000, beyondCpu: false, source: 'self' },
      reason: 'within tolerance of the measured speed'
    }],
    gpus: { count: 0, models: [], status: 'claimed', reason: 'no GPU claimed' },
    slots: { claimed: 4, earned: [{ workload: 'sleep', window: 2 }] },
    ...fields
  }
}

function row (peerId: string, t: PeerTrustJson | null, fields: Partial<PeerRow> = {}): PeerRow {
  return {
    peerId,
    seq: 3,
    issuedAt: NOW - 12_000,
    expiresAt: NOW + 48_000,
    ageMs: 12_000,
    receivedAt: NOW - 11_900,
    localIssuedAt: NOW - 12_000,
    heldUntil: NOW + 48_000,
    firstSeenAt: NOW - 100_000,
    source: 'gossip',
    hardware: { cpuModel: 'AMD EPYC', cpuCores: 16, memoryBytes: 2 ** 34, platform: 'linux', arch: 'x64', gpus: [] },
    workloads: [{ id: 'sleep', version: '1.0.0', throughput: 800 }],
    models: [],
    loadPermille: 250,
    freeSlots: 3,
    totalSlots: 4,
    priceHint: '',
    addrs: [],
    trust: t,
    connected: true,
    ...fields
  }
}

describe('how the CLI shows what a node knows of a peer', () => {
  it('liveness is a state with the age of its evidence, never a bare "online"', () => {
    assert.equal(formatLiveness({ state: 'alive', evidence: 'heartbeat', ageMs: 400, since: 0 }), 'alive 0.4s (heartbeat)')
    assert.equal(formatLiveness({ state: 'suspect', evidence: 'heartbeat', ageMs: 1_100, since: 0 }), 'suspect 1.1s')
    assert.equal(formatLiveness({ state: 'dead', evidence: 'heartbeat', ageMs: 3_200, since: 0 }), 'dead 3.2s')
    assert.equal(formatLiveness({ state: 'advert', evidence: 'advert', ageMs: 12_000, since: 0 }), 'advert 12s')
    assert.equal(formatLiveness({ state: 'unknown', evidence: 'none', ageMs: null, since: null }), 'unknown')
  })

  it('ages read at a glance', () => {
    assert.deepEqual([400, 9_949, 12_000, 300_000, 3 * 3_600_000].map(seconds), ['0.4s', '9.9s', '12s', '5m', '3h'])
  })

  it('a score says probation; each figure says claimed, measured or contradicted; GPUs say their status', () => {
    assert.equal(formatScore(trust().score), '0.93')
    assert.equal(formatScore({ ...trust().score, value: 0.08, probation: true }), '0.08 probation')
    const measured = trust().workloads[0]
    assert.equal(formatThroughput(measured), 'sleep 200/s claimed; 95/s measured')
    assert.equal(formatThroughput({ ...measured, claimed: 2000, claimedPerSlot: 500, status: 'contradicted' }), 'sleep 500/s claimed; 95/s measured contradicted')
    assert.equal(formatThroughput({ ...measured, status: 'claimed', measured: undefined }), 'sleep 200/s claimed')
    assert.equal(formatThroughput({ ...measured, claimed: 0, claimedPerSlot: 0 }), 'sleep no claim; 95/s measured')
    assert.equal(formatGpus(8, Array(8).fill('NVIDIA H100 80GB HBM3'), 'implausible'), '8x NVIDIA H100 80GB HBM3 (implausible)')
    assert.equal(formatGpus(0, [], 'claimed'), '-')
  })

  it('slots are free/claimed with the window earned in this node\'s jobs', () => {
    assert.equal(formatSlots(row(A, trust())), '3/4 win 2')
    assert.equal(formatSlots(row(A, trust({ slots: { claimed: 500, earned: [{ workload: 'sleep', window: 1 }, { workload: 'echo', window: 3 }] } }))), '3/500 win sleep:1,echo:3')
    assert.equal(formatSlots(row(A, null)), '3/4')
  })

  it('the peer table: short id, liveness, score, claims with their status, slots, load, advert age', () => {
    const text = renderPeers([row(A, trust()), row(B, null)])
    const [header, , a, b] = text.split('\n')
    assert.deepEqual(header.split(/\s{2,}/), ['peer', 'liveness', 'score', 'workloads (items/s a slot)', 'gpus', 'slots', 'load', 'advert'])
    assert.deepEqual(a.split(/\s{2,}/), [shortId(A), 'alive 0.4s (heartbeat)', '0.93', 'sleep 200/s claimed; 95/s measured', '-', '3/4 win 2', '25%', '12s'])
    // the node could not say: the advert's figures are claims, nothing more
    assert.deepEqual(b.split(/\s{2,}/), [shortId(B), '-', '-', 'sleep 200/s claimed', '-', '3/4', '25%', '12s'])
  })

  it('--find says how many unverified GPU claims it left out, and how to see them', () => {
    const res = { elapsedMs: 12, peers: [], omittedClaims: 1 }
    assert.match(renderFound(res, 'gpu:nvidia', false), /^gpu:nvidia: 0 peers in 12 ms\n\n1 peer only claiming such a GPU .* left out: add --claimed to list them$/)
    assert.equal(renderFound(res, 'gpu:nvidia', true), 'gpu:nvidia: 0 peers in 12 ms')
  })

  it('--why finds a peer by id, prefix or the short form, and refuses an ambiguous one', () => {
    const rows = [row(A, trust()), row(B, null)]
    assert.equal(pickPeer(rows, A).peerId, A)
    assert.equal(pickPeer(rows, shortId(B)).peerId, B)
    assert.equal(pickPeer(rows, '12D3KooWH').peerId, A)
    assert.throws(() => pickPeer(rows, '12D3KooW'), { name: 'UsageError', message: /matches 2 peers/ })
    assert.throws(() => pickPeer(rows, '12D3KooWZ'), /no peer 12D3KooWZ in the node's peer table/)
  })

  it('--why prints the score reasons, evidence counts, measurements and liveness in full', () => {
    const text = renderWhy(row(A, trust({ score: { ...trust().score, value: 0.08, probation: true, probationProgress: { passed: 1, needed: 3 } } })), NOW)
    assert.match(text, /^liveness {2}alive \(newest evidence: heartbeat, 0\.4s ago, in this state for 60s, heartbeat round trip 3 ms\)$/m)
    assert.match(text, /^score {5}0\.08, newest evidence 2\.0s ago$/m)
    assert.match(text, /^probation 1 of 3 challenges passed since; it gets no unverified work/m)
    assert.match(text, /^ {10}- passed 2 challenges$/m)
    assert.match(text, /^evidence {2}shard-accepted 12, challenge-passed 2, challenge-timeout 0\.5 /m)
    assert.match(text, /^attested {2}3 attestations from others counted, weight 1\.25$/m)
    assert.match(text, /sleep@1\.0\.0: measured; claimed 800\/s for the node, 200\/s a slot/)
    assert.match(text, /measured 95\/s a slot over 16 items, by this node, 5\.0s ago/)
    assert.match(text, /^gpus {6}none claimed: no GPU claimed$/m)
    assert.match(text, /^slots {5}4 claimed, 3 free in its advert; earned window sleep 2$/m)
  })

  it('job plan lists every peer considered: used with its window, or excluded with its reason and detail', () => {
    const report: PlanResponse = {
      workload: 'sleep@1.0.0',
      verification: 'none',
      minScore: 0.25,
      peers: [
        { peerId: B, local: false, used: false, reason: 'low-score', detail: 'score 0.12 < 0.25: lost 3 disputes' },
        { peerId: A, local: false, used: true, window: 2, trust: trust() }
      ]
    }
    const [head, , header, , a, b] = renderPlan(report).split('\n')
    assert.equal(head, 'plan: sleep@1.0.0, verification none, min score 0.25: 2 peers considered, 1 used, 1 excluded')
    assert.deepEqual(header.split(/\s{2,}/), ['peer', 'placement', 'score', 'liveness', 'measured', 'detail'])
    assert.deepEqual(a.split(/\s{2,}/), [shortId(A), 'used, window 2', '0.93', 'alive 0.4s (heartbeat)', '95/s'])
    assert.deepEqual(b.split(/\s{2,}/), [shortId(B), 'excluded: low-score', '-', '-', '-', 'score 0.12 < 0.25: lost 3 disputes'])
  })
})
