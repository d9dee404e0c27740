import { memoryListen } from '@shardmesh/test-utils'
import { createMeshNode } from '../../src/index.js'
import type { MeshNode, MeshNodeOptions } from '../../src/index.js'
import type { CapabilitiesInit } from '@shardmesh/capabilities'

/**
 * A mesh node (`createMeshNode`, the unit under test) on the in-memory transport, listening on a
 * fresh `/memory/` address from `@shardmesh/test-utils`.
 */
export async function memoryMeshNode (init: CapabilitiesInit, options: Partial<MeshNodeOptions> = {}): Promise<MeshNode> {
  return createMeshNode({
    ...memoryListen(),
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
      nodes.push(await memoryMeshNode(init, { bootstrap }))
    }
  } catch (err) {
    await Promise.all(nodes.map(async n => n.stop()))
    throw err
  }
  return nodes
}
