/**
 * One shard at a time on one reused `/shardmesh/shard/1.0.0` stream, spoken directly: the
 * transport and worker cost of a shard (framing, Noise, Yamux, admission, the echo kernel, the
 * worker's receipt signature), without the requester's scheduler, receipt check and
 * countersignature.
 */
import { randomBytes } from 'node:crypto'
import { lpStream } from '@libp2p/utils'
import {
  MAX_SHARD_FRAME_BYTES, SHARD_PROTOCOL, decodeWorkerFrame, encodeClientFrame, encodeItemList
} from '@shardmesh/protocol'
import type { ComputeNode } from './nodes.js'
import type { PeerId } from '@libp2p/interface'

export interface StreamRttResult {
  /** round trips in ms, request written to result read */
  samples: number[]
  /** progress frames the worker sent before the results, over all shards */
  progressFrames: number
}

export async function streamRtt (requester: ComputeNode, worker: PeerId, count: number, warmup: number): Promise<StreamRttResult> {
  const stream = await requester.dialProtocol(worker, SHARD_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
  const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES })
  const jobId = randomBytes(16)
  const samples: number[] = []
  let progressFrames = 0
  try {
    for (let i = 0; i < warmup + count; i++) {
      const id = i + 1
      const frame = encodeClientFrame({
        request: {
          id,
          jobId,
          shardIndex: i,
          workload: 'echo',
          version: '1.0.0',
          input: encodeItemList([new TextEncoder().encode(`item-${i}`)]),
          model: new Uint8Array(0),
          timeoutMs: 0
        }
      })
      const start = performance.now()
      await lp.write(frame)
      let progress = 0
      while (true) {
        const reply = decodeWorkerFrame((await lp.read()).subarray())
        if (reply.progress != null) {
          progress++
          continue
        }
        if (reply.error != null) {
          throw new Error(`shard ${i}: ${reply.error.code} ${reply.error.message}`)
        }
        if (reply.result?.id === id) {
          break
        }
      }
      if (i >= warmup) {
        samples.push(performance.now() - start)
        progressFrames += progress
      }
    }
  } finally {
    await stream.close().catch(() => { stream.abort(new Error('close failed')) })
  }
  return { samples, progressFrames }
}
