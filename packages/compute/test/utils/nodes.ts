import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { memory } from '@libp2p/memory'
import { createLibp2p } from 'libp2p'
import { compute } from '../../src/index.js'
import type { Compute, ComputeInit } from '../../src/index.js'
import type { Libp2p } from '@libp2p/interface'

// libp2p 3 targets ES2024; Node 20 lacks Promise.withResolvers
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function <T> () {
    let resolve!: (value: T) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

export type ComputeNode = Libp2p<{ compute: Compute }>

/** A libp2p node on the in-memory transport with only the compute service (no discovery). */
export async function computeNode (init: ComputeInit): Promise<ComputeNode> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-compute-'))
  const node = await createLibp2p({
    addresses: { listen: [`/memory/compute-${randomUUID()}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { compute: compute({ poolSize: 1, cacheDir, advertise: false, ...init }) }
  })
  const stop = node.stop.bind(node)
  node.stop = async () => {
    await stop()
    await rm(cacheDir, { recursive: true, force: true })
  }
  return node
}

/** Several compute nodes, the first connected to all the others. */
export async function computeNodes (inits: ComputeInit[]): Promise<ComputeNode[]> {
  const nodes = await Promise.all(inits.map(computeNode))
  for (const other of nodes.slice(1)) {
    await nodes[0].dial(other.getMultiaddrs())
  }
  return nodes
}

export async function stopAll (nodes: ComputeNode[]): Promise<void> {
  await Promise.all(nodes.map(async n => n.stop()))
}

export function bytes (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`item-${i}`))
}
