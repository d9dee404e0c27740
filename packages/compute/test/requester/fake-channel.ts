import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeItemList, encodeItemList, sha256 } from '@shardmesh/protocol'
import { signReceipt } from '@shardmesh/receipts'
import { StreamClosedError } from '../../src/errors.js'
import type { AttemptHandle, CountersignedDelivery, PeerChannel, ShardAttempt } from '../../src/requester/channel.js'
import type { ShardOutput } from '../../src/worker/executor.js'
import type { Logger, PeerId, PrivateKey } from '@libp2p/interface'

/** What a fake peer does with an attempt: echo its input, answer with these items, fail, or hold it. */
export type Answer = 'echo' | 'hold' | Uint8Array[] | Error

/** An attempt a fake peer received. */
export interface Sent {
  attempt: ShardAttempt
  cancelled: boolean
  settled: boolean
  /** answer now (a held attempt) */
  answer(answer: Answer): Promise<void>
}

/**
 * A `PeerChannel` with no transport: it records every attempt and answers as `behaviour` says,
 * with a receipt signed by its own key, as a worker would.
 */
export class FakeChannel implements PeerChannel {
  public readonly peerId: PeerId
  public readonly sent: Sent[] = []
  /** the countersigned receipts the requester gave back, in order */
  public readonly delivered: CountersignedDelivery[] = []
  public closed = false

  constructor (
    private readonly key: PrivateKey,
    private readonly requester: PeerId,
    private readonly behaviour: (attempt: ShardAttempt, n: number) => Answer = () => 'echo',
    public readonly local = false
  ) {
    this.peerId = peerIdFromPrivateKey(key)
  }

  static async create (requester: PeerId, behaviour?: (attempt: ShardAttempt, n: number) => Answer): Promise<FakeChannel> {
    return new FakeChannel(await generateKeyPair('Ed25519'), requester, behaviour)
  }

  send (attempt: ShardAttempt): AttemptHandle {
    let resolve!: (output: ShardOutput) => void
    let reject!: (err: Error) => void
    const result = new Promise<ShardOutput>((res, rej) => { resolve = res; reject = rej })
    const sent: Sent = {
      attempt,
      cancelled: false,
      settled: false,
      answer: async (answer) => {
        if (sent.settled || answer === 'hold') {
          return
        }
        if (answer instanceof Error) {
          sent.settled = true
          reject(answer)
          return
        }
        const output = await this.output(attempt, answer === 'echo' ? decodeItemList(attempt.input).items : answer)
        if (!sent.settled) {
          sent.settled = true
          resolve(output)
        }
      }
    }
    this.sent.push(sent)
    void sent.answer(this.behaviour(attempt, this.sent.length))
    return {
      result,
      cancel: () => {
        sent.cancelled = true
        if (!sent.settled) {
          sent.settled = true
          reject(new StreamClosedError('cancelled'))
        }
      }
    }
  }

  deliver (delivery: CountersignedDelivery): void {
    this.delivered.push(delivery)
  }

  close (): void {
    this.closed = true
  }

  private async output (attempt: ShardAttempt, items: Uint8Array[]): Promise<ShardOutput> {
    const output = encodeItemList(items)
    const now = Date.now()
    const receipt = await signReceipt(this.key, {
      jobId: attempt.jobId,
      shardIndex: attempt.shardIndex,
      workload: attempt.workload,
      workloadVersion: attempt.version,
      inputDigest: sha256(attempt.input),
      outputDigest: sha256(output),
      worker: this.peerId,
      requester: this.requester,
      startedAt: now,
      finishedAt: now,
      items: items.length,
      cpuMicros: 0
    })
    return { output, receipt }
  }
}

/** A logger that says nothing. */
export const quietLog: Logger = Object.assign(() => {}, {
  enabled: false,
  error: () => {},
  trace: () => {},
  newScope: () => quietLog
}) as Logger
