import type { AnchoringComponents } from '../../src/index.js'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'

/**
 * One end of an in-memory stream pair: what `send` writes, the other end reads (as its async
 * iterator); `close` ends the other end's reading, `abort` both ends. Only what the receipt
 * protocols use.
 */
export class MemoryStream {
  other?: MemoryStream
  private readonly queue: Uint8Array[] = []
  private ended = false
  private error?: Error
  private wake?: () => void

  send (data: Uint8Array): boolean {
    if (this.error != null) {
      throw this.error
    }
    this.other?.push(data.slice())
    return true
  }

  async onDrain (): Promise<void> {}

  async close (): Promise<void> {
    this.other?.end()
  }

  abort (err: Error): void {
    this.fail(err)
    this.other?.fail(err)
  }

  private push (data: Uint8Array): void {
    this.queue.push(data)
    this.wake?.()
  }

  private end (): void {
    this.ended = true
    this.wake?.()
  }

  private fail (err: Error): void {
    this.error ??= err
    this.wake?.()
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    while (true) {
      if (this.error != null) {
        throw this.error
      }
      const next = this.queue.shift()
      if (next != null) {
        yield next
        continue
      }
      if (this.ended) {
        return
      }
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
    }
  }
}

/** An in-memory network: a registrar and a connection manager per node, and every handler run it started. */
export class MemoryNet {
  readonly handlers = new Map<string, StreamHandler>()
  readonly served: Array<Promise<void>> = []

  components (peerId: PeerId): Pick<AnchoringComponents, 'registrar' | 'connectionManager'> {
    return {
      registrar: {
        handle: async (protocol, handler) => { this.handlers.set(`${peerId.toString()} ${protocol}`, handler) },
        unhandle: async (protocol) => { this.handlers.delete(`${peerId.toString()} ${protocol}`) }
      },
      connectionManager: {
        openStream: async (peer, protocol) => this.open(peerId, peer, protocol)
      }
    }
  }

  /** A stream from `from` to `to`'s handler of `protocol`. */
  async open (from: PeerId, to: PeerId, protocol: string): Promise<Stream> {
    const handler = this.handlers.get(`${to.toString()} ${protocol}`)
    if (handler == null) {
      throw new Error(`${to.toString()} does not handle ${protocol}`)
    }
    const local = new MemoryStream()
    const remote = new MemoryStream()
    local.other = remote
    remote.other = local
    this.served.push(Promise.resolve(handler(remote as unknown as Stream, { remotePeer: from } as unknown as Connection)))
    return local as unknown as Stream
  }
}
