/** In-process libp2p nodes with only the compute service, over TCP on 127.0.0.1. */
// @shardmesh/node installs the Node 20 Promise.withResolvers polyfill libp2p 3 needs
import '@shardmesh/node'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { compute } from '@shardmesh/compute'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Compute, ComputeInit } from '@shardmesh/compute'
import type { Libp2p } from '@libp2p/interface'

export type ComputeNode = Libp2p<{ compute: Compute }>

/**
 * A compute node listening on loopback TCP (Noise, Yamux), no discovery, no adverts. Connection
 * limits are raised as `@shardmesh/node` does, since up to 65 nodes share one host here. Without
 * `cacheDir`, a fresh temporary one is used and removed on stop.
 */
export async function tcpComputeNode (init: ComputeInit): Promise<ComputeNode> {
  const ownCache = init.cacheDir == null
  const cacheDir = init.cacheDir ?? await mkdtemp(join(tmpdir(), 'shardmesh-bench-'))
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      inboundConnectionThreshold: 1_000,
      maxIncomingPendingConnections: 256,
      maxConnections: 400
    },
    services: { compute: compute({ poolSize: 1, advertise: false, ...init, cacheDir }) }
  })
  if (ownCache) {
    const stop = node.stop.bind(node)
    node.stop = async () => {
      await stop()
      await rm(cacheDir, { recursive: true, force: true })
    }
  }
  return node
}

/** Connect `from` to each of `to`, a few dials at a time. */
export async function connectAll (from: ComputeNode, to: ComputeNode[]): Promise<void> {
  const queue = [...to]
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let next = queue.shift(); next != null; next = queue.shift()) {
      await from.dial(next.getMultiaddrs())
    }
  }))
}

export async function stopAll (nodes: ComputeNode[]): Promise<void> {
  await Promise.all(nodes.map(async n => n.stop()))
}
