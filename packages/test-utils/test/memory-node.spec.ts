import assert from 'node:assert/strict'
import { ping } from '@libp2p/ping'
import { memoryListen, memoryNode } from '../src/index.js'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

describe('memoryNode', () => {
  let nodes: Array<Libp2p<{ ping: Ping }>> = []

  afterEach(async () => {
    for (const node of nodes) {
      await node.stop()
    }
    nodes = []
  })

  it('runs the services it is given on a fresh /memory/ address, reachable by another node', async () => {
    nodes = [await memoryNode({ ping: ping() }, { name: 'a' }), await memoryNode({ ping: ping() }, { name: 'a' })]
    const [a, b] = nodes
    assert.match(a.getMultiaddrs()[0].toString(), /^\/memory\/a-/)
    assert.notEqual(a.getMultiaddrs()[0].toString(), b.getMultiaddrs()[0].toString())
    assert.equal(typeof await a.services.ping.ping(b.getMultiaddrs()), 'number')
  })

  it('is not started when asked not to be', async () => {
    nodes = [await memoryNode({ ping: ping() }, { start: false })]
    assert.equal(nodes[0].status, 'stopped')
  })

  it('memoryListen gives a new address each time', () => {
    assert.notDeepEqual(memoryListen().listen, memoryListen().listen)
  })
})
