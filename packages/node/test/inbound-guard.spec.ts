import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { INBOUND_REFUSED_METRIC, InboundGuard, InboundRefusedError, TokenBucket, constants } from '../src/index.js'
import { memoryMeshNode } from './utils/cluster.js'
import type { GuardedRegistrar } from '../src/inbound-guard.js'
import type { MeshNode } from '../src/index.js'
import type { ComponentLogger, Connection, Stream, StreamHandler } from '@libp2p/interface'

/** A logger that says nothing. */
const quiet = { forComponent: () => Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) } as unknown as ComponentLogger

/** A registrar that keeps what was registered, as libp2p's does. */
class FakeRegistrar implements GuardedRegistrar {
  readonly handlers = new Map<string, StreamHandler>()
  async handle (protocol: string, handler: StreamHandler): Promise<void> {
    this.handlers.set(protocol, handler)
  }
}

/** A stream that records whether it was aborted, and why. */
function fakeStream (): Stream & { aborted?: Error } {
  const stream = { aborted: undefined as Error | undefined, abort (err: Error) { stream.aborted = err } }
  return stream as unknown as Stream & { aborted?: Error }
}

function fakeConnection (peer: string): Connection {
  return { remotePeer: { toString: () => peer } } as unknown as Connection
}

function guardOf (init: ConstructorParameters<typeof InboundGuard>[1]): { guard: InboundGuard, registrar: FakeRegistrar } {
  const registrar = new FakeRegistrar()
  return { guard: new InboundGuard({ registrar, logger: quiet }, init), registrar }
}

describe('inbound guard', () => {
  describe('TokenBucket', () => {
    it('gives a burst of `streams`, then one token per interval/streams of the clock', () => {
      const bucket = new TokenBucket({ streams: 4, interval: 1000 }, 0)
      const taken = Array.from({ length: 6 }, () => bucket.take(0))
      assert.deepEqual(taken, [true, true, true, true, false, false])
      // 249 ms: not yet a whole token back; 250 ms: one
      assert.equal(bucket.take(249), false)
      assert.equal(bucket.take(250), true)
      assert.equal(bucket.take(250), false)
      // a long idle time refills to the burst, never beyond
      assert.equal(bucket.available(1_000_000), 4)
    })

    it('a clock that goes back refills nothing', () => {
      const bucket = new TokenBucket({ streams: 2, interval: 1000 }, 10_000)
      assert.ok(bucket.take(10_000))
      assert.ok(bucket.take(10_000))
      assert.equal(bucket.take(5_000), false)
      // and the time it went back is not counted twice when it comes forward again
      assert.equal(bucket.take(10_000), false)
      assert.equal(bucket.take(10_500), true)
    })

    it('a malformed rate is a RangeError', () => {
      for (const rate of [{ streams: 0, interval: 1000 }, { streams: 1, interval: 0 }, { streams: Number.NaN, interval: 1 }, { streams: 1, interval: Infinity }]) {
        assert.throws(() => new TokenBucket(rate, 0), RangeError)
      }
      assert.throws(() => guardOf({ rateLimits: { protocols: { '/a': { streams: -1, interval: 1 } } } }), RangeError)
    })
  })

  describe('InboundGuard', () => {
    it('limits each (peer, protocol) apart, counts each refusal by protocol and reason, in the registry too', async () => {
      let clock = 0
      const registry = new Registry()
      const { guard } = guardOf({ rateLimits: { default: { streams: 2, interval: 1000 }, protocols: { '/big': { streams: 5, interval: 1000 } } }, registry, now: () => clock })
      const results = (peer: string, protocol: string, n: number): boolean[] => Array.from({ length: n }, () => guard.admit(peer, protocol))
      assert.deepEqual(results('A', '/a', 3), [true, true, false])
      // another protocol of the same peer, another peer on the same protocol: buckets of their own
      assert.deepEqual(results('A', '/b', 2), [true, true])
      assert.deepEqual(results('B', '/a', 2), [true, true])
      assert.deepEqual(results('A', '/big', 6), [true, true, true, true, true, false])
      clock = 500
      assert.deepEqual(results('A', '/a', 2), [true, false])
      assert.deepEqual(guard.refusals().sort((x, y) => x.protocol.localeCompare(y.protocol)), [
        { protocol: '/a', reason: 'rate', count: 2 },
        { protocol: '/big', reason: 'rate', count: 1 }
      ])
      guard.refused('/shard', 'denied')
      const text = await registry.metrics()
      assert.match(text, new RegExp(`^# HELP ${INBOUND_REFUSED_METRIC} Inbound streams, messages or connections this node refused`, 'm'))
      assert.match(text, /^shardmesh_inbound_refused_total\{protocol="\/a",reason="rate"\} 2$/m)
      assert.match(text, /^shardmesh_inbound_refused_total\{protocol="\/big",reason="rate"\} 1$/m)
      assert.match(text, /^shardmesh_inbound_refused_total\{protocol="\/shard",reason="denied"\} 1$/m)
    })

    it('off: `rateLimits: false` for all, `false` for one protocol', () => {
      const none = guardOf({ rateLimits: false, now: () => 0 }).guard
      const one = guardOf({ rateLimits: { default: { streams: 1, interval: 1000 }, protocols: { '/free': false } }, now: () => 0 }).guard
      for (let i = 0; i < 10_000; i++) {
        assert.ok(none.admit('A', '/a'))
        assert.ok(one.admit('A', '/free'))
      }
      assert.equal(none.trackedPeers, 0)
      assert.ok(one.admit('A', '/limited'))
      assert.equal(one.admit('A', '/limited'), false)
      assert.deepEqual(none.rateOf('/a'), undefined)
      assert.deepEqual(guardOf({}).guard.rateOf('/anything'), constants.INBOUND_STREAM_RATE)
    })

    it('keeps the buckets of at most maxPeers peers, forgetting the least recently seen', () => {
      const { guard } = guardOf({ rateLimits: { default: { streams: 1, interval: 60_000 } }, maxPeers: 2, now: () => 0 })
      assert.ok(guard.admit('A', '/a'))
      assert.ok(guard.admit('B', '/a'))
      // A seen again (refused: its bucket is kept), so B is now the least recently seen
      assert.equal(guard.admit('A', '/a'), false)
      assert.ok(guard.admit('C', '/a'))
      assert.equal(guard.trackedPeers, 2)
      // B was forgotten: a full bucket again; A was kept: still empty
      assert.equal(guard.admit('A', '/a'), false)
      assert.ok(guard.admit('B', '/a'))
      // a flood of new peer ids never grows past the bound
      for (let i = 0; i < 10_000; i++) {
        guard.admit(`peer-${i}`, '/a')
      }
      assert.equal(guard.trackedPeers, 2)
    })

    it('wraps every handler registered after it: a stream past the rate is aborted and its handler never runs', async () => {
      const { guard, registrar } = guardOf({ rateLimits: { default: { streams: 2, interval: 60_000 } }, now: () => 0 })
      const calls: string[] = []
      await registrar.handle('/p', (_stream, connection) => { calls.push(connection.remotePeer.toString()) })
      const handler = registrar.handlers.get('/p')
      assert.ok(handler != null)
      const streams = Array.from({ length: 3 }, () => fakeStream())
      for (const stream of streams) {
        await handler(stream, fakeConnection('A'))
      }
      await handler(fakeStream(), fakeConnection('B'))
      assert.deepEqual(calls, ['A', 'A', 'B'])
      assert.equal(streams[0].aborted, undefined)
      const refusal = streams[2].aborted
      assert.ok(refusal instanceof InboundRefusedError)
      assert.equal(refusal.reason, 'rate')
      assert.equal(refusal.code, 'ERR_INBOUND_REFUSED')
      assert.deepEqual(guard.refusals(), [{ protocol: '/p', reason: 'rate', count: 1 }])
      // one guard per registrar: a second would count every stream twice
      assert.throws(() => new InboundGuard({ registrar, logger: quiet }), /already has an inbound guard/)
    })
  })

  describe('the registrar\'s middleware lists', () => {
    it('are handed out as copies: what libp2p pushes onto one for a stream is not kept for the next', () => {
      const stored = new Map<string, unknown[]>()
      const registrar = Object.assign(new FakeRegistrar(), {
        use: (protocol: string, middleware: unknown[]) => { stored.set(protocol, middleware) },
        getMiddleware: (protocol: string) => stored.get(protocol) ?? []
      })
      void new InboundGuard({ registrar: registrar as unknown as GuardedRegistrar, logger: quiet })
      const first = (): void => {}
      registrar.use('/p', [first])
      // as libp2p 3.3's connection does for each inbound stream
      for (let i = 0; i < 3; i++) {
        const list = registrar.getMiddleware('/p')
        list.push(() => {})
        assert.equal(list.length, 2)
      }
      assert.deepEqual(stored.get('/p'), [first])
    })
  })

  describe('in a mesh node (memory transport)', function () {
    this.timeout(60_000)
    const PROTOCOL = '/shardmesh-test/echo/1.0.0'
    let dir: string
    let victim: MeshNode
    let flooder: MeshNode
    let honest: MeshNode
    let registry: Registry
    const served: string[] = []

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'shardmesh-guard-'))
      registry = new Registry()
      // the clock of the buckets stands still: exactly 3 streams per peer on the test protocol
      victim = await memoryMeshNode({}, {
        dataDir: dir,
        metricsRegistry: registry,
        rateLimits: { protocols: { [PROTOCOL]: { streams: 3, interval: 60_000 } } },
        inbound: { now: () => 0 }
      })
      await victim.handle(PROTOCOL, async (stream, connection) => {
        served.push(connection.remotePeer.toString())
        stream.send(new TextEncoder().encode('ok'))
        await stream.close()
      })
      flooder = await memoryMeshNode({})
      honest = await memoryMeshNode({})
    })

    after(async () => {
      await Promise.all([victim, flooder, honest].map(async n => n?.stop()))
      await rm(dir, { recursive: true, force: true })
    })

    /** Open a stream and read its first message: 'ok' when served, the error's name when it was reset. */
    async function ask (node: MeshNode): Promise<string> {
      try {
        const stream = await node.dialProtocol(victim.getMultiaddrs(), PROTOCOL, { signal: AbortSignal.timeout(20_000) })
        // the victim answers 'ok' in one message (a refused stream is reset instead: the read throws)
        for await (const chunk of stream) {
          await stream.close()
          return new TextDecoder().decode(chunk.subarray())
        }
        return 'ended'
      } catch (err: any) {
        return err.name
      }
    }

    it('a peer past its rate on a protocol is reset, counted in /metrics; another peer is still served', async () => {
      const answers: string[] = []
      for (let i = 0; i < 6; i++) {
        answers.push(await ask(flooder))
      }
      assert.deepEqual(answers.slice(0, 3), ['ok', 'ok', 'ok'])
      for (const answer of answers.slice(3)) {
        assert.notEqual(answer, 'ok')
      }
      assert.deepEqual(served, Array(3).fill(flooder.peerId.toString()))
      assert.equal(await ask(honest), 'ok')
      assert.equal(served.length, 4)
      assert.deepEqual(victim.services.inbound.refusals(), [{ protocol: PROTOCOL, reason: 'rate', count: 3 }])
      assert.match(await registry.metrics(), /^shardmesh_inbound_refused_total\{protocol="\/shardmesh-test\/echo\/1\.0\.0",reason="rate"\} 3$/m)
      // every protocol the node handles (libp2p's and shardmesh's) is behind the guard
      const registrar = (victim as unknown as { components: { registrar: { getHandler(p: string): { handler: object } } } }).components.registrar
      const protocols = victim.getProtocols()
      for (const expected of ['/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/shardmesh/kad/1.0.0', '/meshsub/1.1.0', '/shardmesh/caps/1.0.0', '/shardmesh/shard/1.0.0', '/shardmesh/receipt-proofs/1.0.0', '/shardmesh/receipt-batches/1.0.0', PROTOCOL]) {
        assert.ok(protocols.includes(expected), `${expected} not handled: ${protocols.join(', ')}`)
      }
      for (const protocol of protocols) {
        assert.equal((registrar.getHandler(protocol).handler as Record<symbol, unknown>)[Symbol.for('@shardmesh/inbound-guard/handler')], protocol, `${protocol} is not guarded`)
      }
      assert.ok(victim.services.inbound.trackedPeers >= 2)
    })
  })
})
