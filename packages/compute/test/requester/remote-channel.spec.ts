import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { SHARD_PROTOCOL } from '@shardmesh/protocol'
import { RemoteChannel } from '../../src/requester/channel.js'
import { quietLog } from './fake-channel.js'
import type { ConnectionManager } from '@libp2p/interface-internal'

describe('RemoteChannel', () => {
  it('opens its stream under a signal, and close() gives up a stream still being opened', async () => {
    const opens: Array<{ protocol: string | string[], signal?: AbortSignal }> = []
    const connectionManager = {
      // a peer that never answers: the open ends only when its signal aborts
      openStream: async (_peer: unknown, protocol: string | string[], options: { signal?: AbortSignal } = {}) => {
        opens.push({ protocol, signal: options.signal })
        return new Promise((resolve, reject) => {
          options.signal?.addEventListener('abort', () => { reject(options.signal?.reason as Error) }, { once: true })
        })
      }
    } as unknown as ConnectionManager
    const channel = new RemoteChannel(peerIdFromString('12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'), connectionManager, quietLog)
    const handle = channel.send({ jobId: new Uint8Array(16), shardIndex: 0, workload: 'echo', version: '1.0.0', input: new Uint8Array(0), idleTimeout: 60_000 })
    const failed = assert.rejects(handle.result, (err: any) => err.name === 'StreamClosedError')
    while (opens.length === 0) {
      await new Promise(resolve => setImmediate(resolve))
    }
    assert.equal(opens[0].protocol, SHARD_PROTOCOL)
    assert.ok(opens[0].signal != null, 'openStream was called without a signal')
    assert.equal(opens[0].signal.aborted, false)
    channel.close()
    assert.equal(opens[0].signal.aborted, true)
    assert.equal(opens[0].signal.reason.name, 'StreamClosedError')
    await failed
  })

  it('a stream that cannot open fails the shards waiting for it, and the channel stops trying', async () => {
    let opens = 0
    const connectionManager = {
      openStream: async () => {
        opens++
        throw new Error('no route to the peer')
      }
    } as unknown as ConnectionManager
    const channel = new RemoteChannel(peerIdFromString('12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'), connectionManager, quietLog)
    const attempt = { jobId: new Uint8Array(16), workload: 'echo', version: '1.0.0', input: new Uint8Array(0), idleTimeout: 60_000 }
    // three shards in one turn: their frames wait together for the stream
    const handles = [0, 1, 2].map(shardIndex => channel.send({ ...attempt, shardIndex }))
    for (const handle of handles) {
      await assert.rejects(handle.result, (err: any) => err.name === 'StreamClosedError' && /no route to the peer/.test(err.message))
    }
    const tried = opens
    // the frames went with their shards: nothing is left to write, so nothing opens again
    for (let i = 0; i < 50; i++) {
      await new Promise(resolve => setImmediate(resolve))
    }
    assert.equal(opens, tried)
    assert.ok(tried >= 1 && tried <= 3, `${tried} opens for one batch of frames`)
    channel.close()
  })
})
