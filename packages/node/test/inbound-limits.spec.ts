import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { InboundBudget } from '@shardmesh/protocol'
import { memoryNode, waitFor } from '@shardmesh/test-utils'
import { connectionsPerPeerGater, limitInboundStreams, resolveLimits } from '../src/inbound-limits.js'
import type { Libp2p, Stream } from '@libp2p/interface'

const PROTOCOL = '/shardmesh-test/limits/1.0.0'

describe('inbound limits', () => {
  describe('resolveLimits', () => {
    it('fills in the defaults: a quarter of the bytes per peer, and 64 streams (a quarter when less)', () => {
      const limits = resolveLimits({ inboundBytes: 64 * 1024 * 1024, inboundStreams: 100 })
      assert.equal(limits.peerInboundBytes, 16 * 1024 * 1024)
      assert.equal(limits.peerInboundStreams, 25)
      assert.equal(resolveLimits().peerInboundStreams, 64)
      assert.equal(limits.connectionsPerPeer, 4)
      assert.equal(limits.streamsPerConnection, 256)
      assert.equal(limits.streamWindow, 4 * 1024 * 1024)
      assert.equal(resolveLimits().inboundBytes, 256 * 1024 * 1024)
    })

    it('refuses a cap that is not a positive integer, naming it', () => {
      assert.throws(() => resolveLimits({ connectionsPerPeer: 0 }), /limits.connectionsPerPeer must be a positive integer/)
      assert.throws(() => resolveLimits({ inboundBytes: 1.5 }), /limits.inboundBytes/)
      assert.throws(() => resolveLimits({ streamWindow: 64 * 1024 }), /limits.streamWindow must be at least 262144/)
    })
  })

  describe('connectionsPerPeerGater', () => {
    it('refuses the connection past the cap and counts it on the protocol label "connection"', async () => {
      const counted: string[] = []
      const open = new Map<string, number>([['a', 1], ['b', 2]])
      const gater = connectionsPerPeerGater(2, peer => open.get(peer.toString()) ?? 0, () => ({ refused: (p, r) => { counted.push(`${p} ${r}`) } }))
      const peer = (id: string): any => ({ toString: () => id })
      assert.equal(await gater.denyInboundEncryptedConnection?.(peer('a'), undefined as any), false)
      assert.equal(await gater.denyInboundEncryptedConnection?.(peer('b'), undefined as any), true)
      assert.equal(await gater.denyInboundEncryptedConnection?.(peer('c'), undefined as any), false)
      assert.deepEqual(counted, ['connection connections-per-peer'])
    })
  })

  describe('limitInboundStreams, on two libp2p nodes in memory', function () {
    this.timeout(30_000)
    let server: Libp2p
    let client: Libp2p
    let other: Libp2p
    let refusals: string[]
    /** the streams the handler got, in order */
    let handled: Stream[]

    beforeEach(async () => {
      refusals = []
      handled = []
      server = await memoryNode({}, { start: false })
      const budget = new InboundBudget({ maxBytes: 1024 * 1024, maxStreams: 3, maxPeerStreams: 2, onRefused: (p, r) => { refusals.push(`${p} ${r}`) } })
      // before the start, as createMeshNode does: the handler is registered after it
      limitInboundStreams(server, budget)
      await server.start()
      await server.handle(PROTOCOL, (stream) => { handled.push(stream) }, { maxInboundStreams: 100 })
      client = await memoryNode({})
      other = await memoryNode({})
    })

    afterEach(async () => {
      await Promise.all([client?.stop(), other?.stop(), server?.stop()])
    })

    async function open (node: Libp2p): Promise<Stream> {
      return node.dialProtocol(server.getMultiaddrs(), PROTOCOL, { maxOutboundStreams: 100 })
    }

    /** The stream is reset by the server (it sends nothing back but the reset). */
    async function resetByServer (stream: Stream): Promise<boolean> {
      await waitFor(() => stream.status === 'open' ? undefined : true, 'the server to reset the stream', { timeout: 10_000, interval: 10 })
      return stream.status === 'reset' || stream.status === 'aborted'
    }

    it('runs the handler once per stream, refuses a peer past its share and the node past its total, and takes streams back when they close', async () => {
      const a1 = await open(client)
      const a2 = await open(client)
      await waitFor(() => handled.length === 2 ? true : undefined, 'two streams handled', { timeout: 10_000, interval: 10 })
      // the peer's third: over its share of 2
      const a3 = await open(client)
      assert.equal(await resetByServer(a3), true)
      assert.deepEqual(refusals, [`${PROTOCOL} peer-streams`])
      // another peer: one fits the node's 3, the next does not
      const b1 = await open(other)
      await waitFor(() => handled.length === 3 ? true : undefined, 'the other peer handled', { timeout: 10_000, interval: 10 })
      const b2 = await open(other)
      assert.equal(await resetByServer(b2), true)
      assert.deepEqual(refusals, [`${PROTOCOL} peer-streams`, `${PROTOCOL} streams`])
      // every accepted stream was handled once, by the server end of that stream
      assert.equal(handled.length, 3)
      assert.equal(new Set(handled).size, 3)
      // a closed stream gives its place back
      a1.abort(new Error('done'))
      await waitFor(() => handled[0].status !== 'open' ? true : undefined, 'the server end to close', { timeout: 10_000, interval: 10 })
      const a4 = await open(client)
      await waitFor(() => handled.length === 4 ? true : undefined, 'a fourth stream handled', { timeout: 10_000, interval: 10 })
      assert.equal(refusals.length, 2)
      for (const s of [a2, a4, b1]) {
        s.abort(new Error('done'))
      }
    })

    it('lets outbound streams of the node through, uncounted', async () => {
      await client.handle(PROTOCOL, () => {}, { maxInboundStreams: 100 })
      const streams: Stream[] = []
      for (let i = 0; i < 5; i++) {
        streams.push(await server.dialProtocol(client.getMultiaddrs(), PROTOCOL, { maxOutboundStreams: 100 }))
      }
      assert.ok(streams.every(s => s.status === 'open'))
      assert.deepEqual(refusals, [])
      assert.equal(server.getConnections(peerIdFromString(client.peerId.toString())).length >= 1, true)
    })
  })
})
