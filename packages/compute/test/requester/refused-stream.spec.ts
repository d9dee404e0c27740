import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { encodeWorkerFrame } from '@shardmesh/protocol'
import { encodeFrames } from '../../src/frames.js'
import { RemoteChannel } from '../../src/requester/channel.js'
import { quietLog } from './fake-channel.js'
import type { ConnectionManager } from '@libp2p/interface-internal'

/** A worker's end as the requester sees it: what it sends is recorded; `answer` delivers frames. */
class WorkerStream extends EventTarget {
  status = 'open'
  sent: Uint8Array[] = []
  aborted?: Error
  send (data: Uint8Array): boolean { this.sent.push(data); return true }
  abort (err: Error): void { this.aborted = err; this.status = 'aborted' }
  async close (): Promise<void> { this.status = 'closed' }
  answer (frame: Parameters<typeof encodeWorkerFrame>[0]): void {
    const evt = new Event('message') as Event & { data: Uint8Array }
    evt.data = encodeFrames([encodeWorkerFrame(frame)])
    this.dispatchEvent(evt)
  }
}

async function refusedWith (code: string, message: string): Promise<{ err: any, stream: WorkerStream }> {
  const stream = new WorkerStream()
  const connectionManager = { openStream: async () => stream } as unknown as ConnectionManager
  const channel = new RemoteChannel(peerIdFromString('12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'), connectionManager, quietLog)
  const attempt = { jobId: new Uint8Array(16), workload: 'echo', version: '1.0.0', input: new Uint8Array(0), idleTimeout: 60_000 }
  const handles = [0, 1].map(shardIndex => channel.send({ ...attempt, shardIndex }))
  while (stream.sent.length === 0) {
    await new Promise(resolve => setImmediate(resolve))
  }
  stream.answer({ error: { id: 0, code, message } })
  const errors = await Promise.all(handles.map(async h => h.result.then(() => undefined, (err: any) => err)))
  channel.close()
  assert.equal(errors[0], errors[1], 'every shard on the stream fails with the one cause')
  return { err: errors[0], stream }
}

describe('RemoteChannel: a worker that refuses the whole stream (an error frame of id 0)', () => {
  it('ERR_BUSY (the worker\'s inbound caps): the shards fail busy, not as a broken stream, so the requester backs off and retries', async () => {
    const { err, stream } = await refusedWith('ERR_BUSY', 'refused: no room for 5767170 inbound bytes within 30000 ms')
    assert.equal(err.code, 'ERR_BUSY')
    assert.match(err.message, /no room for 5767170 inbound bytes/)
    assert.ok(stream.aborted != null, 'the refused stream is given up')
  })

  it('any other code: the stream is broken, and the shards fail with StreamClosedError naming it', async () => {
    const { err } = await refusedWith('ERR_MESSAGE_TOO_LARGE', 'shard frame over 16785408 bytes')
    assert.equal(err.name, 'StreamClosedError')
    assert.match(err.message, /shard frame over 16785408 bytes/)
  })
})
