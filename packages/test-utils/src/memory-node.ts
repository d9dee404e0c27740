import '@shardmesh/protocol/polyfill'
import { randomUUID } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { memory } from '@libp2p/memory'
import { createLibp2p } from 'libp2p'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'

export interface MemoryListen {
  /** the in-memory transport */
  transports: NonNullable<Libp2pOptions['transports']>
  /** one fresh `/memory/<name>-<uuid>` address */
  listen: string[]
}

/**
 * The in-memory transport and a listen address no other node in this process uses, for
 * builders of their own (e.g. `createMeshNode({ ...memoryListen(), ... })`).
 */
export function memoryListen (name = 'shardmesh'): MemoryListen {
  return { transports: [memory()], listen: [`/memory/${name}-${randomUUID()}`] }
}

export interface MemoryNodeOptions {
  /**
   * Prefix of the node's `/memory/<name>-<uuid>` listen address.
   *
   * @default 'shardmesh'
   */
  name?: string
  /**
   * Start the node before returning.
   *
   * @default true
   */
  start?: boolean
}

/**
 * A libp2p node on the in-memory transport (Noise, Yamux) running exactly the `services` it is
 * given, listening on a fresh `/memory/` address. No discovery: dial its `getMultiaddrs()`.
 */
export async function memoryNode <S extends ServiceMap = ServiceMap> (services: ServiceFactoryMap<S>, options: MemoryNodeOptions = {}): Promise<Libp2p<S>> {
  const { transports, listen } = memoryListen(options.name)
  return createLibp2p({
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services,
    start: options.start ?? true
  })
}
