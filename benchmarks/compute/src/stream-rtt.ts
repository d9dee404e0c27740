/**
 * One shard at a time on one reused `/shardmesh/shard/1.0.0` stream (or a new stream per shard,
 * to compare), spoken directly: the
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
import type { PeerId, Stream } from '@libp2p/interface'

export interface StreamRttResult {
  /** round trips in ms, request written to result read */
  samples: number[]
  /** progress frames the worker sent before the results, over all shards */
  progressFrames: number
}

export interface StreamRttOptions {
  /** items per shard @default 1 */
  items?: number
  /** open a new stream for each shard (its opening counted in the round trip) @default false */
  streamPerShard?: boolean
}

export async function streamRtt (requester: ComputeNode, worker: PeerId, count: number, warmup: number, options: StreamRttOptions = {}): Promise<StreamRttResult> {
  const open = async (): Promise<{ stream: Stream, lp: ReturnType<typeof lpStream> }> => {
    const stream = await requester.dialProtocol(worker, SHARD_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    return { stream, lp: lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES }) }
  }
  const close = async (stream: Stream): Promise<void> => {
    await stream.close().catch(() => { stream.abort(new Error('close failed')) })
  }
  let current = options.streamPerShard === true ? undefined : await open()
  const jobId = randomBytes(16)
  const samples: number[] = []
  const encoder = new TextEncoder()
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
          input: encodeItemList(Array.from({ length: options.items ?? 1 }, (_, j) => encoder.encode(`item-${i}-${j}`))),
          model: new Uint8Array(0),
          timeoutMs: 0
        }
      })
      const start = performance.now()
      current ??= await open()
      const { lp } = current
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
      if (options.streamPerShard === true) {
        // closed after the sample: what a stream per shard costs the requester is its opening
        await close(current.stream)
        current = undefined
      }
    }
  } finally {
    if (current != null) {
      await close(current.stream)
    }
  }
  return { samples, progressFrames }
}
