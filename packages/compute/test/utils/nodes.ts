import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { memory } from '@libp2p/memory'
import { SHARD_PROTOCOL } from '@shardmesh/protocol'
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

export type ComputeNode = Libp2p<{ compute: Compute }> & {
  /** where this node's compute service caches models */
  cacheDir: string
}

/**
 * A libp2p node on the in-memory transport with only the compute service (no discovery).
 * Without `init.cacheDir` it gets a fresh cache directory, removed when it stops; a given
 * one belongs to the caller (several nodes may share it).
 */
export async function computeNode (init: ComputeInit): Promise<ComputeNode> {
  const owned = init.cacheDir == null
  const cacheDir = init.cacheDir ?? await mkdtemp(join(tmpdir(), 'shardmesh-compute-'))
  const node = await createLibp2p({
    addresses: { listen: [`/memory/compute-${randomUUID()}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { compute: compute({ poolSize: 1, advertise: false, ...init, cacheDir }) }
  })
  const stop = node.stop.bind(node)
  node.stop = async () => {
    await stop()
    if (owned) {
      await rm(cacheDir, { recursive: true, force: true })
    }
  }
  return Object.assign(node, { cacheDir })
}

/** Several compute nodes, the first connected to all the others. */
export async function computeNodes (inits: ComputeInit[]): Promise<ComputeNode[]> {
  const nodes = await Promise.all(inits.map(computeNode))
  for (const other of nodes.slice(1)) {
    await nodes[0].dial(other.getMultiaddrs())
  }
  return nodes
}

/**
 * Stop nodes one after the other: two ends of a connection closing it at the same time wait
 * out a libp2p timeout (~500 ms), one at a time they do not.
 */
export async function stopAll (nodes: ComputeNode[]): Promise<void> {
  for (const node of nodes) {
    await node.stop()
  }
}

export function bytes (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`item-${i}`))
}

export function texts (items: Uint8Array[]): string[] {
  return items.map(i => new TextDecoder().decode(i))
}

/**
 * Wait until `condition` holds, polling every 10 ms; throws after `ms`. The limit only stops a
 * test that would wait for ever: it is not a bound on how fast things happen.
 */
export async function until (condition: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${ms} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Shard streams open on `node`'s connections to `peer` (either direction). */
export function shardStreams (node: ComputeNode, peer: ComputeNode): number {
  return node.getConnections(peer.peerId).flatMap(c => c.streams).filter(s => s.protocol === SHARD_PROTOCOL && s.status === 'open').length
}

/** Every worker has let go of every shard: nothing running, nothing queued. */
export async function allIdle (workers: ComputeNode[], ms = 10_000): Promise<void> {
  await until(() => workers.every(w => w.services.compute.stats().active === 0 && w.services.compute.stats().queued === 0), ms, 'workers idle')
}
