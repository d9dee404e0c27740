import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ATTESTATION_SIGNATURE_DOMAIN, ATTESTATION_TOPIC, Attestation, SignedAttestation, encodeItemList } from '@shardmesh/protocol'
import { memoryNode, waitFor } from '@shardmesh/test-utils'
import { TrustBook, signAttestation, verifyAttestation } from '@shardmesh/trust'
import { WorkloadRunner, echo, onnx, sleep } from '@shardmesh/workloads'
import { RemoteChannel } from '../src/requester/channel.js'
import { AttestationGossip, validateAttestationMessage } from '../src/trust/attestation-gossip.js'
import { calibrate } from '../src/trust/calibrate.js'
import { Challenger } from '../src/trust/challenger.js'
import { CHALLENGE_FRESHNESS, CHALLENGE_UNREACHABLE_RETRY } from '../src/trust/constants.js'
import { computeNode, stopAll } from './utils/nodes.js'
import type { ComputeNode } from './utils/nodes.js'
import type { ChallengerInit } from '../src/trust/challenger.js'
import type { AttemptHandle, PeerChannel, ShardAttempt } from '../src/requester/channel.js'
import type { Message, PublishResult, TopicValidatorFn } from '@libp2p/gossipsub'
import type { CounterGroup, Libp2p, Logger, PeerId, PrivateKey } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { VerifiedAttestation } from '@shardmesh/trust'
import type { Workload } from '@shardmesh/workloads'

const quietLog: Logger = Object.assign(() => {}, {
  enabled: false,
  error: () => {},
  trace: () => {},
  newScope: () => quietLog
}) as Logger

/** What a challenger needs of its own node's libp2p components. */
interface Grabbed {
  components: { peerId: PeerId, privateKey: PrivateKey, connectionManager: ConnectionManager }
}

/** A requester: a bare libp2p node on the memory transport whose components the challenger uses. */
type Requester = Libp2p<{ grab: Grabbed }>

/** echo under another id, for the GPU rule: a stand-in accelerator workload (the worker runs echo's kernel). */
function gpuEcho (cpuItemsPerSecPerCore: number): Workload<Uint8Array, Uint8Array> {
  return { ...echo(), id: 'gpu-echo', accelerator: 'gpu', cpuItemsPerSecPerCore }
}

/** Counts labelled increments, like a metrics CounterGroup. */
function counterGroup (): CounterGroup & { counts: Record<string, number> } {
  const counts: Record<string, number> = {}
  return {
    counts,
    increment (values: Record<string, number | true>) {
      for (const [label, value] of Object.entries(values)) {
        counts[label] = (counts[label] ?? 0) + (value === true ? 1 : value)
      }
    },
    reset () {}
  } as any
}

/** A channel wrapper that counts the shards sent through it. */
function counting (channel: PeerChannel, sent: ShardAttempt[]): PeerChannel {
  return {
    peerId: channel.peerId,
    local: false,
    send (attempt: ShardAttempt): AttemptHandle {
      sent.push(attempt)
      return channel.send(attempt)
    },
    close () { channel.close() }
  }
}

describe('challenges', function () {
  this.timeout(30_000)
  let requester: Requester
  let workers: ComputeNode[] = []
  let runner: WorkloadRunner
  let cacheDir: string
  let trust: TrustBook
  const channels = new Map<string, PeerChannel>()
  const published: VerifiedAttestation[] = []
  const heard: string[] = []

  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-challenge-'))
    runner = new WorkloadRunner({ cacheDir, size: 1 })
  })

  after(async () => {
    await runner.close()
    await rm(cacheDir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    requester = await memoryNode({ grab: (components: any): Grabbed => ({ components }) }, { name: 'requester' })
    trust = await TrustBook.open({ self: requester.peerId.toString() })
    published.length = 0
    heard.length = 0
  })

  afterEach(async () => {
    for (const channel of channels.values()) {
      channel.close()
    }
    channels.clear()
    await stopAll(workers)
    workers = []
    await requester.stop()
  })

  function channel (peer: PeerId): PeerChannel {
    let c = channels.get(peer.toString())
    if (c == null) {
      c = new RemoteChannel(peer, requester.services.grab.components.connectionManager, quietLog)
      channels.set(peer.toString(), c)
    }
    return c
  }

  function challenger (over: Partial<ChallengerInit> = {}): Challenger {
    const { peerId, privateKey } = requester.services.grab.components
    return new Challenger({
      self: peerId,
      privateKey,
      trust,
      channel,
      recompute: async (workload, items, signal) => (await runner.run(workload, items, { signal })).outputs,
      hardware: () => ({ cpuCores: 4 }),
      liveness: { heard: (peer) => { heard.push(peer) } },
      publish: (a) => { published.push(a) },
      log: quietLog,
      ...over
    })
  }

  async function worker (faults?: { wrongAnswers?: boolean }, workloads: Array<Workload<any, any>> = [echo(), gpuEcho(1)]): Promise<ComputeNode> {
    const node = await computeNode({ workloads, faults })
    workers.push(node)
    await requester.dial(node.getMultiaddrs())
    return node
  }

  it('an honest worker passes: measured, recorded, attested', async () => {
    const honest = await worker()
    const verdicts = counterGroup()
    const names: string[] = []
    const metrics = { registerCounterGroup: (name: string) => { names.push(name); return verdicts } } as any
    const outcome = await challenger({ metrics }).challenge(honest.peerId, echo())
    assert.equal(outcome.verdict, 'passed', outcome.detail)
    assert.deepEqual(names, ['shardmesh_trust_challenges_total'])
    assert.deepEqual(verdicts.counts, { passed: 1 })
    assert.equal(outcome.ok, true)
    assert.equal(outcome.peerId, honest.peerId.toString())
    assert.equal(outcome.workload, 'echo@1.0.0')
    assert.equal(outcome.items, 8)
    assert.ok(outcome.itemsPerSec != null && outcome.itemsPerSec > 0)
    assert.ok(outcome.roundTripMs != null && outcome.roundTripMs >= 0)
    assert.equal(outcome.beyondCpu, false, 'echo claims no accelerator')

    const measured = trust.measured(honest.peerId.toString(), 'echo', '1.0.0')
    assert.equal(measured?.source, 'self')
    assert.equal(measured?.itemsPerSec, outcome.itemsPerSec)
    assert.equal(measured?.items, 8)
    const score = trust.score(honest.peerId.toString())
    assert.ok(score.evidence['challenge-passed'] > 0.99)
    assert.equal(score.probation, false)
    assert.deepEqual(heard, [honest.peerId.toString()])

    assert.ok(outcome.attestation != null)
    assert.deepEqual(published, [outcome.attestation])
    const verified = await verifyAttestation(outcome.attestation.bytes, { from: requester.peerId })
    assert.ok(verified.challenger.equals(requester.peerId))
    assert.ok(verified.subject.equals(honest.peerId))
    assert.equal(verified.ok, true)
    assert.equal(verified.workload, 'echo')
    assert.equal(verified.items, 8)
    assert.equal(verified.itemsPerSec, outcome.itemsPerSec)
  })

  it('sends fresh random input each time, as an ordinary shard 0 of a random job', async () => {
    const honest = await worker()
    const sent: ShardAttempt[] = []
    const c = challenger({ channel: (peer) => counting(channel(peer), sent) })
    assert.equal((await c.challenge(honest.peerId, echo())).verdict, 'passed')
    assert.equal((await c.challenge(honest.peerId, echo())).verdict, 'passed')
    assert.equal(sent.length, 2)
    assert.equal(sent[0].shardIndex, 0)
    assert.equal(sent[0].jobId.byteLength, 16)
    assert.notDeepEqual(sent[0].jobId, sent[1].jobId)
    assert.notDeepEqual(sent[0].input, sent[1].input)
    assert.notDeepEqual(sent[0].input, encodeItemList(Array.from({ length: 8 }, () => new Uint8Array(32))), 'not the fixed calibration input')
  })

  it('a worker that returns wrong answers fails: probation, and an attestation that says so', async () => {
    const liar = await worker({ wrongAnswers: true })
    const outcome = await challenger().challenge(liar.peerId, echo())
    assert.equal(outcome.verdict, 'wrong-answer', outcome.detail)
    assert.equal(outcome.ok, false)
    assert.match(outcome.detail ?? '', /item 0 of 8 differs/)
    const score = trust.score(liar.peerId.toString())
    assert.equal(score.probation, true)
    assert.ok(score.evidence['challenge-failed'] > 0.99)
    assert.equal(trust.measured(liar.peerId.toString(), 'echo', '1.0.0'), undefined, 'a wrong answer measures nothing')
    assert.ok(outcome.attestation != null)
    const verified = await verifyAttestation(outcome.attestation.bytes, { from: requester.peerId })
    assert.equal(verified.ok, false)
    assert.equal(verified.itemsPerSec, 0)
    assert.deepEqual(published, [outcome.attestation])
  })

  it('a peer without the shard protocol, or one that cannot be dialled, is unreachable: nothing recorded', async () => {
    const bare = await memoryNode({}, { name: 'bare' })
    try {
      await requester.dial(bare.getMultiaddrs())
      const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const c = challenger()
      for (const peer of [bare.peerId, stranger]) {
        const outcome = await c.challenge(peer, echo())
        assert.equal(outcome.verdict, 'unreachable', outcome.detail)
        assert.equal(outcome.ok, false)
        assert.equal(outcome.attestation, undefined)
        const score = trust.score(peer.toString())
        assert.equal(Object.values(score.evidence).reduce((a, b) => a + b, 0), 0)
      }
      assert.deepEqual(published, [])

      // ensureMeasured tries an unreachable peer again only after a while
      let now = Date.now()
      const sent: ShardAttempt[] = []
      const again = challenger({ now: () => now, channel: (peer) => counting(channel(peer), sent) })
      assert.equal((await again.ensureMeasured([stranger], echo())).get(stranger.toString())?.verdict, 'unreachable')
      assert.equal((await again.ensureMeasured([stranger], echo())).get(stranger.toString())?.verdict, 'unreachable')
      assert.equal(sent.length, 1)
      now += CHALLENGE_UNREACHABLE_RETRY
      await again.ensureMeasured([stranger], echo())
      assert.equal(sent.length, 2)
    } finally {
      await bare.stop()
    }
  })

  it('no answer by the deadline is a timeout, recorded as such', async () => {
    const slow = await worker(undefined, [sleep({ msPerItem: 60_000 })])
    const outcome = await challenger({ deadlineMs: 300 }).challenge(slow.peerId, sleep({ msPerItem: 1 }))
    assert.equal(outcome.verdict, 'timeout', outcome.detail)
    assert.ok(trust.score(slow.peerId.toString()).evidence['challenge-timeout'] > 0.99)
    assert.equal(outcome.attestation, undefined)
  })

  it('a result whose receipt is not the peer\'s is a bad receipt', async () => {
    const honest = await worker()
    const forged: PeerChannel = {
      peerId: honest.peerId,
      local: false,
      send: (attempt) => ({
        result: Promise.resolve({ output: attempt.input, receipt: new Uint8Array(40).fill(7) }),
        cancel: () => {}
      }),
      close: () => {}
    }
    const outcome = await challenger({ channel: () => forged }).challenge(honest.peerId, echo())
    assert.equal(outcome.verdict, 'bad-receipt', outcome.detail)
    assert.match(outcome.detail ?? '', /receipt/)
    assert.equal(trust.score(honest.peerId.toString()).probation, true)
    assert.equal(outcome.attestation, undefined)
  })

  it('skips, recording nothing, what is not the peer\'s fault: a throwing compare, a failed recomputation, a model workload, itself', async () => {
    const honest = await worker()
    const throwing = { ...echo(), compare: () => { throw new Error('compare bug') } }
    const peer = honest.peerId.toString()
    let outcome = await challenger().challenge(honest.peerId, throwing)
    assert.equal(outcome.verdict, 'skipped')
    assert.match(outcome.detail ?? '', /compare bug/)
    outcome = await challenger({ recompute: async () => { throw new Error('pool gone') } }).challenge(honest.peerId, echo())
    assert.equal(outcome.verdict, 'skipped')
    assert.match(outcome.detail ?? '', /pool gone/)
    outcome = await challenger().challenge(honest.peerId, onnx())
    assert.equal(outcome.verdict, 'skipped')
    outcome = await challenger().challenge(requester.peerId, echo())
    assert.equal(outcome.verdict, 'skipped')
    assert.equal(Object.values(trust.score(peer).evidence).reduce((a, b) => a + b, 0), 0)
    assert.deepEqual(published, [])
  })

  it('the GPU rule: a speed beyond the claimed CPUs is evidence of a GPU, one within them is not', async () => {
    const gpu = await worker()
    const c = challenger({ hardware: () => ({ cpuCores: 2 }) })
    const low = await c.challenge(gpu.peerId, gpuEcho(1e-6))
    assert.equal(low.verdict, 'passed', low.detail)
    assert.equal(low.beyondCpu, true)
    assert.equal(trust.measured(gpu.peerId.toString(), 'gpu-echo', '1.0.0')?.beyondCpu, true)
    assert.equal((await verifyAttestation(low.attestation!.bytes)).beyondCpu, true)

    const high = await c.challenge(gpu.peerId, gpuEcho(1e12))
    assert.equal(high.verdict, 'passed', high.detail)
    assert.equal(high.beyondCpu, false)
    // without a claimed core count there is no CPU bound to be beyond
    const unknown = await challenger({ hardware: () => undefined }).challenge(gpu.peerId, gpuEcho(1e-6))
    assert.equal(unknown.beyondCpu, false)
  })

  it('ensureMeasured challenges each peer once per freshness window, skipping itself and measured peers', async () => {
    const [a, b, d] = [await worker(), await worker(), await worker()]
    let now = Date.now()
    const sent: ShardAttempt[] = []
    const c = challenger({ now: () => now, channel: (peer) => counting(channel(peer), sent) })
    // d was measured by this node a moment ago (a timed real shard): no challenge needed
    trust.measure(d.peerId.toString(), { workload: 'echo', version: '1.0.0', itemsPerSec: 100, items: 8, at: now, beyondCpu: false })

    const first = await c.ensureMeasured([requester.peerId, a.peerId, b.peerId, d.peerId, a.peerId], echo())
    assert.deepEqual([...first.keys()].sort(), [a.peerId.toString(), b.peerId.toString()].sort())
    assert.equal(first.get(a.peerId.toString())?.verdict, 'passed')
    assert.equal(sent.length, 2)

    now += CHALLENGE_FRESHNESS - 1
    const again = await c.ensureMeasured([a.peerId, b.peerId, d.peerId], echo())
    assert.equal(sent.length, 2, 'nothing re-challenged within the window')
    assert.equal(again.get(a.peerId.toString()), first.get(a.peerId.toString()))
    assert.equal(again.has(d.peerId.toString()), false)

    now += 2
    const later = await c.ensureMeasured([a.peerId, d.peerId], echo())
    assert.equal(sent.length, 4, 'both challenged once the window passed')
    assert.equal(later.get(a.peerId.toString())?.verdict, 'passed')
    assert.notEqual(later.get(a.peerId.toString()), first.get(a.peerId.toString()))

    assert.equal((await c.ensureMeasured([a.peerId], onnx())).size, 0, 'a model workload is not challenged')
  })

  it('random challenges: active peers are challenged at random times, never twice at once', async () => {
    const slow = await worker(undefined, [sleep({ msPerItem: 60_000 }), echo()])
    const honest = await worker()
    let draws = 0
    const sent: ShardAttempt[] = []
    const c = challenger({
      meanIntervalMs: 5,
      channel: (peer) => counting(channel(peer), sent),
      random: (n) => { draws++; return new Uint8Array(n).map(() => Math.floor(Math.random() * 256)) }
    })
    c.start(() => [{ peer: slow.peerId, workload: sleep({ msPerItem: 1 }) }, { peer: requester.peerId, workload: echo() }])
    try {
      await waitFor(() => sent.length > 0, 'a random challenge', { timeout: 10_000 })
      // the timer keeps firing; the slow peer's challenge is still in flight, so it is not challenged again
      const seen = draws
      await waitFor(() => draws > seen + 40, 'more random draws', { timeout: 10_000 })
      assert.equal(sent.length, 1)
      assert.ok(sent.every(s => s.workload === 'sleep'))

      c.start(() => [{ peer: honest.peerId, workload: echo() }])
      await waitFor(() => trust.score(honest.peerId.toString()).evidence['challenge-passed'] > 1.9, 'random challenges of the honest peer', { timeout: 10_000 })
    } finally {
      c.stop()
    }
    const count = sent.length
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(sent.length, count, 'no challenge after stop()')
  })
})

describe('own calibration', function () {
  this.timeout(30_000)

  it('measures each workload on one slot, skips model workloads, and collects errors', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-calibrate-'))
    const runner = new WorkloadRunner({ cacheDir, size: 1 })
    try {
      const broken = { ...echo(), id: 'broken', calibration: async () => { throw new Error('no input today') } }
      let t = 0
      const { speeds, errors } = await calibrate([echo(), sleep({ msPerItem: 5 }), onnx(), broken], runner, { clock: () => (t += 250) })
      assert.deepEqual([...speeds.keys()].sort(), ['echo@1.0.0', 'sleep@1.0.0'])
      // each timed run takes 250 ms on this clock: 1 item in 0.25 s
      assert.deepEqual(speeds.get('echo@1.0.0'), { itemsPerSec: 4, items: 1, ms: 250 })
      assert.deepEqual([...errors.keys()], ['broken@1.0.0'])
      assert.match(errors.get('broken@1.0.0')?.message ?? '', /no input today/)
    } finally {
      await runner.close()
      await rm(cacheDir, { recursive: true, force: true })
    }
  })
})

/** Encode and sign an attestation by hand, checking nothing (what a hostile peer can send). */
async function handSigned (signer: PrivateKey, challenger: PeerId, subject: PeerId, at: number): Promise<Uint8Array> {
  const payload = Attestation.encode({
    challenger: challenger.toMultihash().bytes,
    subject: subject.toMultihash().bytes,
    workload: 'echo',
    version: '1.0.0',
    items: 8,
    itemsPerSec: 100,
    ok: true,
    beyondCpu: false,
    at: BigInt(at),
    nonce: new Uint8Array(16).fill(1)
  })
  const signature = await signer.sign(new Uint8Array([...new TextEncoder().encode(ATTESTATION_SIGNATURE_DOMAIN), ...payload]))
  return SignedAttestation.encode({ payload, publicKey: publicKeyToProtobuf(signer.publicKey) as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer> })
}

function gossip (from: PeerId, data: Uint8Array): Message {
  return { type: 'signed', from, topic: ATTESTATION_TOPIC, data, sequenceNumber: 1n, signature: new Uint8Array(64), key: undefined as any }
}

describe('attestation gossip', () => {
  let keys: PrivateKey[]
  let ids: PeerId[]

  before(async () => {
    keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    ids = keys.map(key => peerIdFromPrivateKey(key))
  })

  it('accepts a valid attestation into the trust book, ignores a replay and its own, rejects forgeries, self-attestations and the wrong publisher', async () => {
    const [self, a, b] = ids
    const trust = await TrustBook.open({ self: self.toString() })
    const rejected = counterGroup()
    const context = { trust, self, log: quietLog, rejected }
    const valid = await signAttestation(keys[1], { subject: b, workload: 'echo', version: '1.0.0', items: 8, itemsPerSec: 100, ok: true, beyondCpu: false })

    assert.equal(await validateAttestationMessage(gossip(a, valid.bytes), context), TopicValidatorResult.Accept)
    assert.deepEqual(trust.attestations.about(b.toString()).map(x => x.id), [valid.id])

    assert.equal(await validateAttestationMessage(gossip(a, valid.bytes), context), TopicValidatorResult.Ignore)
    assert.equal(rejected.counts.replayed, 1)

    const forged = valid.bytes.slice()
    forged[forged.length - 1] ^= 0xff
    assert.equal(await validateAttestationMessage(gossip(a, forged), context), TopicValidatorResult.Reject)

    const selfAttested = await handSigned(keys[1], a, a, Date.now())
    assert.equal(await validateAttestationMessage(gossip(a, selfAttested), context), TopicValidatorResult.Reject)
    assert.equal(rejected.counts['self-attestation'], 1)

    const other = await signAttestation(keys[1], { subject: b, workload: 'embed', version: '1.0.0', items: 8, itemsPerSec: 10, ok: true, beyondCpu: false })
    assert.equal(await validateAttestationMessage(gossip(b, other.bytes), context), TopicValidatorResult.Reject)
    assert.equal(rejected.counts['not-sender'], 1)

    const own = await signAttestation(keys[0], { subject: b, workload: 'echo', version: '1.0.0', items: 8, itemsPerSec: 100, ok: true, beyondCpu: false })
    assert.equal(await validateAttestationMessage(gossip(self, own.bytes), context), TopicValidatorResult.Ignore)
    assert.equal(rejected.counts.own, 1)

    assert.equal(await validateAttestationMessage({ type: 'unsigned', topic: ATTESTATION_TOPIC, data: valid.bytes }, context), TopicValidatorResult.Reject)
    assert.equal(await validateAttestationMessage(gossip(a, new Uint8Array([1, 2, 3])), context), TopicValidatorResult.Reject)
    assert.equal(trust.attestations.size, 1, 'only the valid one was kept')
    assert.equal(Object.values(rejected.counts).reduce((x, y) => x + y, 0), 7)
  })

  it('subscribes with its validator, publishes the bytes, and logs rather than throws when nobody listens', async () => {
    const [self] = ids
    const topicValidators = new Map<string, TopicValidatorFn>()
    const subscribed: string[] = []
    const sentTo: Uint8Array[] = []
    let fail = false
    const pubsub = {
      topicValidators,
      subscribe: (topic: string) => { subscribed.push(topic) },
      unsubscribe: (topic: string) => { subscribed.splice(subscribed.indexOf(topic), 1) },
      publish: async (_topic: string, data: Uint8Array): Promise<PublishResult> => {
        if (fail) {
          throw new Error('NoPeersSubscribedToTopic')
        }
        sentTo.push(data)
        return { recipients: [] }
      }
    }
    const logged: string[] = []
    const log = Object.assign((fmt: string) => { logged.push(fmt) }, { enabled: true, error: () => {}, trace: () => {}, newScope: () => log }) as unknown as Logger
    const gossiper = new AttestationGossip({ pubsub, trust: await TrustBook.open({ self: self.toString() }), self, log })
    gossiper.start()
    assert.deepEqual(subscribed, [ATTESTATION_TOPIC])
    assert.equal(topicValidators.get(ATTESTATION_TOPIC), gossiper.validate)
    const attestation = await signAttestation(keys[0], { subject: ids[1], workload: 'echo', version: '1.0.0', items: 8, itemsPerSec: 1, ok: true, beyondCpu: false })
    gossiper.publish(attestation)
    await waitFor(() => sentTo.length === 1, 'the publish')
    assert.deepEqual(sentTo[0], attestation.bytes)
    fail = true
    gossiper.publish(attestation)
    await waitFor(() => logged.some(line => line.includes('not published')), 'the failure logged')
    gossiper.stop()
    assert.deepEqual(subscribed, [])
    assert.equal(topicValidators.size, 0)
  })
})
