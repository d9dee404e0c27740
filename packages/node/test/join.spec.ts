import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { waitFor } from '@shardmesh/test-utils'
import { DHT_PROTOCOL } from '../src/constants.js'
import { joinMesh } from '../src/index.js'
import { memoryMeshNode } from './utils/cluster.js'
import type { MeshNode } from '../src/index.js'

describe('joinMesh', function () {
  this.timeout(20_000)
  let node: MeshNode

  before(async () => {
    node = await memoryMeshNode({})
  })

  after(async () => {
    await node.stop()
  })

  it('gives up at its deadline on an unreachable bootstrap peer while garbage collection runs', async () => {
    // on Node 20 a deadline built as AbortSignal.any([AbortSignal.timeout(ms)]) loses its timer
    // in a collection, and this join redialled for ever
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const timer = setInterval(gc, 5)
    try {
      const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const result = await joinMesh(node, [`/memory/nobody-${randomUUID()}/p2p/${nobody.toString()}`], { timeout: 500 })
      assert.equal(result.connected, 0)
      assert.ok(result.attempts >= 1)
      assert.ok(result.failures.length >= 1)
    } finally {
      clearInterval(timer)
    }
  })

  it('when no bootstrap peer answers, rejoins through a mesh peer it knew (its bootstrap peer restarted elsewhere)', async () => {
    // the node once met `other` (its peer store holds other's address and protocols) but holds no connection now
    const other = await memoryMeshNode({})
    try {
      await node.dial(other.getMultiaddrs()[0])
      await waitFor(async () => (await node.peerStore.get(other.peerId)).protocols.includes(DHT_PROTOCOL), 'the node to identify the other node')
      await node.hangUp(other.peerId)
      assert.equal(node.getConnections(other.peerId).length, 0)
      // its bootstrap peer is gone (restarted on another address): the join reaches the other node instead
      const gone = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      const result = await joinMesh(node, [`/memory/gone-${randomUUID()}/p2p/${gone.toString()}`], { timeout: 3_000 })
      assert.equal(result.connected, 1, JSON.stringify(result.failures))
      assert.ok(node.getConnections(other.peerId).length > 0, 'no connection to the peer it knew')
      assert.ok(result.failures.some(f => f.addr.includes(gone.toString())), 'the bootstrap peer was not dialled first')
    } finally {
      await other.stop()
    }
  })
})
