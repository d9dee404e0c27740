import { randomUUID } from 'node:crypto'
import { memory } from '@libp2p/memory'
import { createMeshNode } from '../../src/index.js'
import type { MeshNode, MeshNodeOptions } from '../../src/index.js'
import type { CapabilitiesInit } from '@shardmesh/capabilities'

/** A mesh node on the in-memory transport, listening on a unique `/memory/<name>` address. */
export async function memoryNode (init: CapabilitiesInit, options: Partial<MeshNodeOptions> = {}): Promise<MeshNode> {
  return createMeshNode({
    transports: [memory()],
    listen: [`/memory/shardmesh-${randomUUID()}`],
    joinTimeout: 5_000,
    ...options,
    capabilities: { nvidiaSmi: false, ...init }
  })
}

/** Start one memory node per init: the first is the bootstrap peer of the others. */
export async function memoryCluster (inits: CapabilitiesInit[]): Promise<MeshNode[]> {
  const nodes: MeshNode[] = []
  try {
    for (const init of inits) {
      const bootstrap = nodes.length === 0 ? [] : nodes[0].getMultiaddrs().map(ma => ma.toString())
      nodes.push(await memoryNode(init, { bootstrap }))
    }
  } catch (err) {
    await Promise.all(nodes.map(async n => n.stop()))
    throw err
  }
  return nodes
}
