import { decodeItemList } from '@shardmesh/protocol'
import { FakeChannel } from './fake-channel.js'
import type { JobClock, JobRun } from '../../src/requester/job-run.js'
import type { JobResult } from '../../src/requester/types.js'
import type { Sent } from './fake-channel.js'
import type { PeerId } from '@libp2p/interface'

interface Timer {
  at: number
  seq: number
  fn(): void
}

/**
 * A simulated clock for a `JobRun` and its simulated workers: time moves only when `step()`
 * fires the next timer, so a whole job runs in simulated time, deterministically.
 */
export class SimClock implements JobClock {
  private t = 0
  private seq = 0
  private readonly timers = new Map<number, Timer>()

  now (): number {
    return this.t
  }

  setTimeout (fn: () => void, ms: number): unknown {
    const seq = ++this.seq
    this.timers.set(seq, { at: this.t + Math.max(0, ms), seq, fn })
    return seq
  }

  clearTimeout (handle: unknown): void {
    if (typeof handle === 'number') {
      this.timers.delete(handle)
    }
  }

  /** Move to the earliest timer (the first set, among those due at once) and fire it; false when none is left. */
  step (): boolean {
    let next: Timer | undefined
    for (const timer of this.timers.values()) {
      if (next == null || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) {
        next = timer
      }
    }
    if (next == null) {
      return false
    }
    this.timers.delete(next.seq)
    this.t = Math.max(this.t, next.at)
    next.fn()
    return true
  }

  /** Fire every timer due up to `t`, then stand at `t`. */
  async advanceTo (t: number): Promise<void> {
    while (true) {
      let due = false
      for (const timer of this.timers.values()) {
        if (timer.at <= t) {
          due = true
        }
      }
      if (!due) {
        break
      }
      this.step()
      await settle()
    }
    this.t = Math.max(this.t, t)
  }
}

/** Let every promise chain started so far run to its end (the fakes sign and check with synchronous crypto). */
export async function settle (): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await new Promise<void>(resolve => { setImmediate(resolve) })
  }
}

/** One shard sent to a simulated worker. */
export interface SimAttempt {
  shard: number
  sentAt: number
  /** undefined: cancelled or still held */
  answeredAt?: number
  cancelled: boolean
}

export interface SimWorkerInit {
  /** shards it really runs at once */
  servers: number
  /** simulated run time of one shard of `items` items (ms) */
  serviceMs(items: number): number
}

/**
 * A remote worker in simulated time: `servers` shards run at once, the rest wait in a FIFO
 * queue (so a worker holding more than it runs sees its round trips grow with what it holds),
 * each answers with its input after `serviceMs`. A cancelled shard leaves the queue or frees
 * its server.
 */
export class SimWorker {
  readonly channel: FakeChannel
  /** every shard sent here: when, and when answered (never: cancelled or still held) */
  readonly log: SimAttempt[] = []
  private readonly waiting: Sent[] = []
  private readonly running = new Map<Sent, unknown>()
  private readonly entries = new Map<Sent, SimAttempt>()

  private constructor (channel: FakeChannel, private readonly clock: SimClock, private readonly init: SimWorkerInit) {
    this.channel = channel
    const send = channel.send.bind(channel)
    channel.send = (attempt) => {
      const handle = send(attempt)
      const sent = channel.sent[channel.sent.length - 1]
      const entry: SimAttempt = { shard: attempt.shardIndex, sentAt: this.clock.now(), cancelled: false }
      this.log.push(entry)
      this.entries.set(sent, entry)
      this.waiting.push(sent)
      this.startNext()
      return {
        result: handle.result,
        cancel: () => {
          handle.cancel()
          entry.cancelled = true
          this.drop(sent)
        }
      }
    }
  }

  static async create (requester: PeerId, clock: SimClock, init: SimWorkerInit): Promise<SimWorker> {
    return new SimWorker(await FakeChannel.create(requester, () => 'hold'), clock, init)
  }

  get id (): string {
    return this.channel.peerId.toString()
  }

  /** shards held now: queued or running */
  get holding (): number {
    return this.waiting.length + this.running.size
  }

  private startNext (): void {
    while (this.running.size < this.init.servers && this.waiting.length > 0) {
      const sent = this.waiting.shift()
      if (sent == null || sent.settled) {
        continue
      }
      const items = decodeItemList(sent.attempt.input).items.length
      const timer = this.clock.setTimeout(() => {
        this.running.delete(sent)
        const entry = this.entries.get(sent)
        if (entry != null) {
          entry.answeredAt = this.clock.now()
        }
        void sent.answer('echo')
        this.startNext()
      }, this.init.serviceMs(items))
      this.running.set(sent, timer)
    }
  }

  private drop (sent: Sent): void {
    const i = this.waiting.indexOf(sent)
    if (i >= 0) {
      this.waiting.splice(i, 1)
    }
    if (this.running.has(sent)) {
      this.clock.clearTimeout(this.running.get(sent))
      this.running.delete(sent)
      this.startNext()
    }
  }
}

/** Run a job in simulated time until it ends (or `maxMs` of simulated time pass, which fails). */
export async function simulate (run: JobRun, clock: SimClock, maxMs = 600_000): Promise<JobResult> {
  let result: JobResult | undefined
  let error: Error | undefined
  void run.run().then(r => { result = r }, (err: Error) => { error = err })
  while (true) {
    await settle()
    if (error != null) {
      throw error
    }
    if (result != null) {
      return result
    }
    if (clock.now() > maxMs) {
      throw new Error(`the simulated job did not end within ${maxMs} ms`)
    }
    if (!clock.step()) {
      throw new Error('the simulated job stalled: no timer left')
    }
  }
}
