import '@shardmesh/protocol/polyfill'
import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import {
  MAX_SHARD_FRAME_BYTES, SHARD_PROTOCOL, decodeClientFrame, decodeItemList, decodeWorkerFrame, encodeClientFrame, encodeItemList, encodeWorkerFrame
} from '@shardmesh/protocol'
import { waitFor } from '@shardmesh/test-utils'
import { sleep } from '@shardmesh/workloads'
import { DEAD_AFTER, HEARTBEAT_INTERVAL, STREAM_READ_BUFFER_BYTES } from '../src/constants.js'
import { PeerUnresponsiveError, StreamClosedError } from '../src/errors.js'
import { RemoteChannel } from '../src/requester/channel.js'
import { LivenessBook } from '../src/requester/liveness.js'
import { serveShards } from '../src/worker/serve.js'
import { quietLog } from './requester/fake-channel.js'
import { bytes, computeNodes, stopAll, texts } from './utils/nodes.js'
import type { ShardAttempt } from '../src/requester/channel.js'
import type { ShardExecutor, ShardOutput } from '../src/worker/executor.js'
import type { ServeShardsOptions } from '../src/worker/serve.js'
import type { ComputeNode } from './utils/nodes.js'
import type { Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { ClientFrame } from '@shardmesh/protocol'

/** One shard of `items` for `workload`, abandoned only after 10 minutes without progress. */
function attempt (workload: string, items: Uint8Array[]): ShardAttempt {
  return { jobId: new Uint8Array(16), shardIndex: 0, workload, version: '1.0.0', input: encodeItemList(items), idleTimeout: 600_000 }
}

/**
 * A channel from `from` to `to` over their real libp2p connection, heartbeating into a book of
 * its own, and the changes that book emitted as `previous>state`.
 */
function channelTo (from: ComputeNode, to: ComputeNode, heartbeatInterval?: number): { channel: RemoteChannel, book: LivenessBook, changes: string[] } {
  const book = new LivenessBook()
  const changes: string[] = []
  book.addEventListener('liveness', (evt) => {
    changes.push(`${evt.detail.peerId === to.peerId.toString() ? '' : `${evt.detail.peerId}:`}${evt.detail.previous}>${evt.detail.state}`)
  })
  const connectionManager = {
    openStream: async (peer: any, protocol: string, options: any) => from.dialProtocol(peer, protocol, options)
  } as unknown as ConnectionManager
  return { channel: new RemoteChannel(to.peerId, connectionManager, quietLog, { liveness: book, heartbeatInterval }), book, changes }
}

/** Replace `node`'s shard handler with `handler`, which gets each frame of each stream. */
async function rawWorker (node: ComputeNode, onFrame: (frame: ClientFrame, reply: (bytes: Uint8Array) => Promise<void>) => void): Promise<Stream[]> {
  const streams: Stream[] = []
  await node.unhandle(SHARD_PROTOCOL)
  await node.handle(SHARD_PROTOCOL, async (stream) => {
    streams.push(stream)
    const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
    try {
      while (true) {
        onFrame(decodeClientFrame((await lp.read()).subarray()), async (bytes) => { await lp.write(bytes) })
      }
    } catch {
      // the requester gave the stream up
    }
  })
  return streams
}

describe('liveness: the heartbeat of a shard stream', function () {
  // a shard longer than DEAD_AFTER, on a loaded machine: the ceiling only stops a hung test
  this.timeout(20_000)
  let nodes: ComputeNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a healthy worker running a shard longer than DEAD_AFTER answers its pings: never suspect, the shard completes', async () => {
    nodes = await computeNodes([{ workloads: [sleep()], offer: [] }, { workloads: [sleep({ msPerItem: DEAD_AFTER + 600 })] }])
    const { channel, book, changes } = channelTo(nodes[0], nodes[1])
    try {
      // one item: the worker sends no progress until it is done, only pongs
      const items = bytes(1)
      const output = await channel.send(attempt('sleep', items)).result
      assert.deepEqual(texts(decodeItemList(output.output).items), texts(items))
      assert.deepEqual(changes, [], 'the worker was never suspect')
      const view = book.view(nodes[1].peerId.toString())
      assert.equal(view.state, 'alive')
      assert.equal(view.evidence, 'result')
      assert.ok(view.rttMs != null, 'pongs were timed')
      assert.equal(channel.health(), 'alive')
    } finally {
      channel.close()
    }
  })

  it('a frozen worker (connection open, no FIN, no answer) fails the shard with PeerUnresponsiveError: suspect, then dead', async () => {
    nodes = await computeNodes([{ workloads: [sleep()], offer: [] }, { workloads: [sleep()] }])
    const frames: ClientFrame[] = []
    // a worker that reads every frame and answers none: a SIGSTOPped process, seen from the wire
    const streams = await rawWorker(nodes[1], (frame) => { frames.push(frame) })
    const { channel, changes } = channelTo(nodes[0], nodes[1])
    try {
      const first = channel.send(attempt('sleep', bytes(1)))
      await assert.rejects(first.result, (err: any) => {
        assert.ok(err instanceof PeerUnresponsiveError, `${err.name}: ${err.message}`)
        assert.equal(err.code, 'ERR_PEER_UNRESPONSIVE')
        assert.match(err.message, new RegExp(`${nodes[1].peerId.toString()} sent nothing for \\d+ ms`))
        return true
      })
      assert.deepEqual(changes, ['alive>suspect', 'suspect>dead'])
      assert.equal(channel.health(), 'dead')
      assert.ok(frames.some(f => f.request != null))
      assert.ok(frames.some(f => f.ping != null), 'the requester pinged')

      // the frozen stream is given up, not reused: the next shard opens a new one
      await waitFor(() => streams[0].status !== 'open', 'the frozen stream aborted')
      const second = channel.send(attempt('sleep', bytes(1)))
      await waitFor(() => streams.length === 2, 'a second stream')
      channel.close()
      await assert.rejects(second.result, StreamClosedError)
    } finally {
      channel.close()
    }
  })

  it('pings only while a shard is in flight, and never without a liveness book', async () => {
    nodes = await computeNodes([{ workloads: [sleep()], offer: [] }, { workloads: [sleep()] }])
    let pings = 0
    /** answers the request the worker holds */
    const held: { answer?: () => Promise<void> } = {}
    const release = async (): Promise<void> => { await held.answer?.() }
    await rawWorker(nodes[1], (frame, reply) => {
      if (frame.ping != null) {
        pings++
        void reply(encodeWorkerFrame({ pong: { seq: frame.ping.seq } })).catch(() => {})
      } else if (frame.request != null) {
        const { id, input } = frame.request
        held.answer = async () => { await reply(encodeWorkerFrame({ result: { id, output: input, receipt: new Uint8Array(0) } })) }
      }
    })
    const interval = 50
    const { channel, book } = channelTo(nodes[0], nodes[1], interval)
    try {
      const handle = channel.send(attempt('sleep', bytes(1)))
      await waitFor(() => held.answer != null && pings >= 3, 'pings while the shard is in flight')
      assert.equal(book.view(nodes[1].peerId.toString()).evidence, 'heartbeat')
      await release()
      await handle.result
      const after = pings
      // several heartbeats pass with nothing in flight
      await new Promise(resolve => setTimeout(resolve, interval * 6))
      assert.ok(pings <= after + 1, `an idle channel pinged: ${pings - after} pings`)
      assert.equal(book.view(nodes[1].peerId.toString()).evidence, 'result')
    } finally {
      channel.close()
    }

    // the three-argument channel of before: no book, no heartbeat, health always alive
    pings = 0
    held.answer = undefined
    const plain = new RemoteChannel(nodes[1].peerId, {
      openStream: async (peer: any, protocol: string, options: any) => nodes[0].dialProtocol(peer, protocol, options)
    } as unknown as ConnectionManager, quietLog)
    try {
      const handle = plain.send(attempt('sleep', bytes(1)))
      await waitFor(() => held.answer != null, 'the request')
      await new Promise(resolve => setTimeout(resolve, HEARTBEAT_INTERVAL * 3))
      await release()
      await handle.result
      assert.equal(pings, 0)
      assert.equal(plain.health(), 'alive')
    } finally {
      plain.close()
    }
  })
})

describe('liveness: the worker answers pings', () => {
  /** serveShards on the inbound end of a stream pair; the executor answers at once. */
  async function serving (pingInterval?: number): Promise<{ lp: ReturnType<typeof lpStream>, shutdown: AbortController, served: Promise<void> }> {
    const [outbound, inbound] = await streamPair()
    const shutdown = new AbortController()
    const execute = async (): Promise<ShardOutput> => ({ output: Uint8Array.of(1), receipt: new Uint8Array(0) })
    const options: ServeShardsOptions = {
      executor: { execute } as unknown as ShardExecutor,
      models: {} as unknown as ServeShardsOptions['models'],
      requester: peerIdFromString('12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'),
      log: quietLog,
      signal: shutdown.signal,
      progressInterval: 100,
      modelTimeout: 1000,
      idleTimeout: 60_000,
      inflightModels: new Map(),
      pingInterval
    }
    const served = serveShards(inbound, options)
    return { lp: lpStream(outbound, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES }), shutdown, served }
  }

  const request = { id: 1, jobId: new Uint8Array(16), shardIndex: 0, workload: 'echo', version: '1.0.0', input: new Uint8Array(0), model: new Uint8Array(0), timeoutMs: 0 }

  it('answers a ping with a pong of the same seq', async () => {
    const { lp, shutdown, served } = await serving()
    try {
      await lp.write(encodeClientFrame({ ping: { seq: 0xffff_fff0 } }))
      assert.deepEqual(decodeWorkerFrame((await lp.read()).subarray()).pong, { seq: 0xffff_fff0 })
    } finally {
      shutdown.abort()
      await served
    }
  })

  it('ignores pings faster than its rate limit, and goes on serving shards', async () => {
    const { lp, shutdown, served } = await serving(3_600_000)
    try {
      await lp.write(encodeClientFrame({ ping: { seq: 1 } }))
      await lp.write(encodeClientFrame({ ping: { seq: 2 } }))
      await lp.write(encodeClientFrame({ request }))
      const frames = [decodeWorkerFrame((await lp.read()).subarray()), decodeWorkerFrame((await lp.read()).subarray())]
      assert.deepEqual(frames.map(f => f.pong?.seq ?? (f.result != null ? 'result' : 'other')), [1, 'result'])
    } finally {
      shutdown.abort()
      await served
    }
  })
})
