import { plural } from '@shardmesh/protocol'
import { AbortError } from '@shardmesh/workloads'
import { BusyError, NotAllowedError } from '../errors.js'
import type { PeerId } from '@libp2p/interface'

export interface AdmissionInit {
  /** shards that run at once */
  slots: number
  /** shards that may wait for a slot */
  maxQueue: number
  /** only these requesters are served (peer id strings); empty = everyone */
  allow?: string[]
  /** these requesters are never served */
  deny?: string[]
  /** told of each requester refused by the lists: `denied` (on the deny list) or `not-allowed` (not on a non-empty allow list) */
  onRefused?(reason: 'denied' | 'not-allowed'): void
}

/** A shard waiting for a slot. */
interface Waiter {
  resolve(): void
  reject(err: Error): void
  signal?: AbortSignal
  onAbort?(): void
}

/**
 * Admission control of a worker: who may send shards, and how many may run or wait. A shard
 * admitted holds its place until `release()`; over the bound the worker answers ERR_BUSY at
 * once, so the requester places the shard elsewhere instead of queueing blind.
 */
export class Admission {
  public readonly slots: number
  public readonly maxQueue: number
  private readonly allow: Set<string>
  private readonly deny: Set<string>
  private readonly onRefused?: (reason: 'denied' | 'not-allowed') => void
  private running = 0
  private readonly waiting: Waiter[] = []
  private closed = false

  constructor (init: AdmissionInit) {
    this.slots = Math.max(1, init.slots)
    this.maxQueue = Math.max(0, init.maxQueue)
    this.allow = new Set(init.allow ?? [])
    this.deny = new Set(init.deny ?? [])
    this.onRefused = init.onRefused
  }

  get active (): number {
    return this.running
  }

  get queued (): number {
    return this.waiting.length
  }

  get free (): number {
    return this.closed ? 0 : Math.max(0, this.slots - this.running)
  }

  /** Whether `close()` was called: no new shard is admitted. */
  get closing (): boolean {
    return this.closed
  }

  /**
   * Admit no new shard from now on (a worker shutting down gracefully): `check()` answers
   * ERR_BUSY, which a requester takes as "place it elsewhere", not as a fault. Shards already
   * admitted, running or queued, go on.
   */
  close (): void {
    this.closed = true
  }

  /**
   * Throws NotAllowedError unless this requester may use the worker (the deny list wins over
   * the allow list; an empty allow list allows everyone not denied), BusyError once closed.
   */
  check (requester: PeerId): void {
    if (this.closed) {
      throw new BusyError('this worker is shutting down: it takes no new shards')
    }
    const id = requester.toString()
    if (this.deny.has(id)) {
      this.refuse('denied')
      throw new NotAllowedError('this worker does not accept shards from you (denied: on its deny list)')
    }
    if (this.allow.size > 0 && !this.allow.has(id)) {
      this.refuse('not-allowed')
      throw new NotAllowedError('this worker does not accept shards from you (not-allowed: not on its allow list)')
    }
  }

  private refuse (reason: 'denied' | 'not-allowed'): void {
    try {
      this.onRefused?.(reason)
    } catch {}
  }

  /** Wait for a slot; throws BusyError at once when the queue is full. */
  async acquire (signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) {
      // a shard cancelled before it got here (e.g. while its model arrived) takes no place
      throw signal.reason instanceof Error ? signal.reason : new AbortError('aborted')
    }
    if (this.running < this.slots) {
      this.running++
      return
    }
    if (this.waiting.length >= this.maxQueue) {
      throw new BusyError(`${this.slots === 1 ? 'the only slot is' : `all ${this.slots} slots are`} busy and ${plural(this.waiting.length, 'shard')} queued`)
    }
    await new Promise<void>((resolve, reject) => {
      const entry: Waiter = { resolve, reject, signal }
      if (signal != null) {
        entry.onAbort = () => {
          const i = this.waiting.indexOf(entry)
          if (i !== -1) {
            this.waiting.splice(i, 1)
          }
          reject(signal.reason instanceof Error ? signal.reason : new AbortError('aborted'))
        }
        signal.addEventListener('abort', entry.onAbort, { once: true })
      }
      this.waiting.push(entry)
    })
  }

  release (): void {
    const next = this.waiting.shift()
    if (next != null) {
      if (next.onAbort != null) {
        next.signal?.removeEventListener('abort', next.onAbort)
      }
      // the slot passes straight to the next shard
      next.resolve()
      return
    }
    this.running = Math.max(0, this.running - 1)
  }
}
