import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SHARD_PROTOCOL } from '@shardmesh/protocol'
import { memoryNode, waitFor } from '@shardmesh/test-utils'
import { compute } from '../../src/index.js'
import type { Compute, ComputeInit } from '../../src/index.js'
import type { Libp2p } from '@libp2p/interface'

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
  // the mechanisms under test here (retries, verification, hedging) meet their adversaries only
  // if no challenge keeps those away first: challenges have specs of their own
  const node = await memoryNode({ compute: compute({ poolSize: 1, advertise: false, challenges: false, calibrate: false, ...init, cacheDir }) }, { name: 'compute' })
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

/** Shard streams open on `node`'s connections to `peer` (either direction). */
export function shardStreams (node: ComputeNode, peer: ComputeNode): number {
  return node.getConnections(peer.peerId).flatMap(c => c.streams).filter(s => s.protocol === SHARD_PROTOCOL && s.status === 'open').length
}

/** Every worker has let go of every shard: nothing running, nothing queued. */
export async function allIdle (workers: ComputeNode[], ms = 10_000): Promise<void> {
  await waitFor(() => workers.every(w => w.services.compute.stats().active === 0 && w.services.compute.stats().queued === 0), 'workers idle', { timeout: ms })
}
