import '@shardmesh/protocol/polyfill'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { MAX_SHARD_FRAME_BYTES, decodeWorkerFrame, encodeClientFrame } from '@shardmesh/protocol'
import { STREAM_READ_BUFFER_BYTES } from '../../src/constants.js'
import { serveShards } from '../../src/worker/serve.js'
import { quietLog } from '../requester/fake-channel.js'
import type { ShardExecutor, ShardOutput } from '../../src/worker/executor.js'
import type { ServeShardsOptions } from '../../src/worker/serve.js'
import type { Stream } from '@libp2p/interface'

const DEADLINE = 25

/** serveShards on the inbound end of a stream pair, with an executor the test answers. */
async function serving (execute: ShardExecutor['execute']): Promise<{ outbound: Stream, inbound: Stream, served: Promise<void>, shutdown: AbortController }> {
  const [outbound, inbound] = await streamPair()
  const shutdown = new AbortController()
  const options: ServeShardsOptions = {
    executor: { execute } as unknown as ShardExecutor,
    models: {} as unknown as ServeShardsOptions['models'],
    requester: peerIdFromString('12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'),
    log: quietLog,
    signal: shutdown.signal,
    progressInterval: 100,
    modelTimeout: 1000,
    idleTimeout: DEADLINE,
    inflightModels: new Map()
  }
  return { outbound, inbound, served: serveShards(inbound, options), shutdown }
}

describe('serveShards', () => {
  it('closes an inbound shard stream that sends nothing at its deadline', async () => {
    const { outbound, inbound, served, shutdown } = await serving(async () => { throw new Error('no shard was sent') })
    try {
      await once(outbound, 'close')
      await served
      assert.equal(inbound.status, 'aborted')
    } finally {
      shutdown.abort()
    }
  })

  it('keeps a stream open while its shard runs, and closes it at the deadline after the result', async () => {
    const events: string[] = []
    let finish: ((output: ShardOutput) => void) | undefined
    let onStarted: (() => void) | undefined
    const started = new Promise<void>(resolve => { onStarted = resolve })
    const { outbound, served, shutdown } = await serving(async () => {
      events.push('shard started')
      onStarted?.()
      return new Promise<ShardOutput>(resolve => { finish = resolve })
    })
    const closed = once(outbound, 'close').then(() => { events.push('closed') })
    const lp = lpStream(outbound, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: STREAM_READ_BUFFER_BYTES })
    try {
      await lp.write(encodeClientFrame({
        request: { id: 1, jobId: new Uint8Array(16), shardIndex: 0, workload: 'echo', version: '1.0.0', input: new Uint8Array(0), model: new Uint8Array(0), timeoutMs: 0 }
      }))
      await started
      // several deadlines pass while the shard runs
      await new Promise(resolve => setTimeout(resolve, DEADLINE * 4))
      events.push('shard finished')
      finish?.({ output: Uint8Array.from([1, 2, 3]), receipt: new Uint8Array(0) })
      const frame = decodeWorkerFrame((await lp.read()).subarray())
      assert.deepEqual(frame.result?.output, Uint8Array.from([1, 2, 3]))
      events.push('result')
      await closed
      await served
      assert.deepEqual(events, ['shard started', 'shard finished', 'result', 'closed'])
    } finally {
      shutdown.abort()
    }
  })
})
