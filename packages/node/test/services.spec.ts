import assert from 'node:assert/strict'
import { identify } from '@libp2p/identify'
import { capabilities } from '@shardmesh/capabilities'
import { compute } from '@shardmesh/compute'
import { memoryNode } from '@shardmesh/test-utils'

describe('service dependencies', () => {
  it('a node with capabilities but no gossipsub fails at createLibp2p with libp2p\'s error', async () => {
    // pubsub, which the types require, is left out on purpose: libp2p's run-time check is under test
    await assert.rejects(memoryNode<any>({ identify: identify(), capabilities: capabilities({ nvidiaSmi: false }) }, { name: 'services', start: false }), (err: any) => {
      assert.equal(err.name, 'UnmetServiceDependenciesError')
      assert.match(err.message, /@shardmesh\/capabilities.*@libp2p\/pubsub/)
      return true
    })
  })

  it('a node with compute but no capabilities fails at createLibp2p with libp2p\'s error', async () => {
    await assert.rejects(memoryNode({ identify: identify(), compute: compute({ poolSize: 1 }) }, { name: 'services', start: false }), (err: any) => {
      assert.equal(err.name, 'UnmetServiceDependenciesError')
      assert.match(err.message, /@shardmesh\/compute.*@shardmesh\/capabilities/)
      return true
    })
  })

  it('compute that does not advertise needs no capabilities service', async () => {
    const node = await memoryNode({ compute: compute({ poolSize: 1, advertise: false }) }, { name: 'services', start: false })
    await node.stop()
  })
})
