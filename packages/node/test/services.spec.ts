import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { identify } from '@libp2p/identify'
import { memory } from '@libp2p/memory'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { capabilities } from '@shardmesh/capabilities'
import { compute } from '@shardmesh/compute'
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'

function options (services: Record<string, (components: any) => unknown>): Libp2pOptions<any> {
  return {
    start: false,
    addresses: { listen: [`/memory/services-${randomUUID()}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services
  }
}

describe('service dependencies', () => {
  it('a node with capabilities but no gossipsub fails at createLibp2p with libp2p\'s error', async () => {
    await assert.rejects(createLibp2p(options({ identify: identify(), capabilities: capabilities({ nvidiaSmi: false }) })), (err: any) => {
      assert.equal(err.name, 'UnmetServiceDependenciesError')
      assert.match(err.message, /@shardmesh\/capabilities.*@libp2p\/pubsub/)
      return true
    })
  })

  it('a node with compute but no capabilities fails at createLibp2p with libp2p\'s error', async () => {
    await assert.rejects(createLibp2p(options({ identify: identify(), compute: compute({ poolSize: 1 }) })), (err: any) => {
      assert.equal(err.name, 'UnmetServiceDependenciesError')
      assert.match(err.message, /@shardmesh\/compute.*@shardmesh\/capabilities/)
      return true
    })
  })

  it('compute that does not advertise needs no capabilities service', async () => {
    const node = await createLibp2p(options({ compute: compute({ poolSize: 1, advertise: false }) }))
    await node.stop()
  })
})
