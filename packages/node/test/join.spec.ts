import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
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
})
