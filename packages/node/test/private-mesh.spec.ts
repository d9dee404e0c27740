import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '@shardmesh/test-utils'
import { echo } from '@shardmesh/workloads'
import { InvalidSwarmKeyError, createMeshNode, generateSwarmKey, loadSwarmKey, parseSwarmKey } from '../src/index.js'
import type { MeshNode } from '../src/index.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('swarm keys', () => {
  it('a generated key is libp2p\'s format, parses, and is new each time', () => {
    const a = generateSwarmKey()
    const lines = new TextDecoder().decode(a).split('\n')
    assert.deepEqual(lines.slice(0, 2), ['/key/swarm/psk/1.0.0/', '/base16/'])
    assert.match(lines[2], /^[0-9a-f]{64}$/)
    assert.equal(new TextDecoder().decode(parseSwarmKey(a)), lines.slice(0, 3).join('\n'))
    assert.notDeepEqual(generateSwarmKey(), a)
  })

  it('reads CRLF and upper-case hex, and refuses every other shape by name', async () => {
    const hex = 'AB'.repeat(32)
    assert.equal(new TextDecoder().decode(parseSwarmKey(encode(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${hex}\r\n\r\n`))), `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}`)
    const bad: Array<[string, string | Uint8Array, RegExp]> = [
      ['empty', '', /0 line\(s\)/],
      ['another tag', `/key/swarm/psk/2.0.0/\n/base16/\n${hex}`, /first line/],
      ['another encoding', `/key/swarm/psk/1.0.0/\n/base64/\n${hex}`, /second line/],
      ['a short key', `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`, /64 hex digits/],
      ['not hex', `/key/swarm/psk/1.0.0/\n/base16/\n${'zz'.repeat(32)}`, /64 hex digits/],
      ['a fourth line', `/key/swarm/psk/1.0.0/\n/base16/\n${hex}\nmore`, /4 line/],
      ['too large', new Uint8Array(2048).fill(0x41), /2048 bytes/]
    ]
    for (const [name, text, message] of bad) {
      assert.throws(() => parseSwarmKey(typeof text === 'string' ? encode(text) : text), (err: any) => {
        assert.ok(err instanceof InvalidSwarmKeyError, `${name}: ${err?.name}`)
        assert.equal(err.code, 'ERR_INVALID_SWARM_KEY')
        assert.match(err.message, message, name)
        return true
      })
    }
    await assert.rejects(loadSwarmKey('/nonexistent/swarm.key'), /not a swarm key: no such file/)
    await assert.rejects(createMeshNode({ swarmKey: encode('nope'), start: false }), { name: 'InvalidSwarmKeyError' })
  })
})

/**
 * A private mesh over real TCP on 127.0.0.1: two nodes holding the same swarm key, an outsider
 * with none and one with another key. Only the two can connect: the outsiders never appear in
 * their peer tables, cannot learn their adverts, and cannot have a shard run.
 */
describe('a private mesh (swarm key) over TCP', function () {
  this.timeout(60_000)
  let dir: string
  let a: MeshNode
  let b: MeshNode
  let open: MeshNode
  let other: MeshNode

  async function node (swarmKey: Uint8Array | undefined, bootstrap: MeshNode[]): Promise<MeshNode> {
    return createMeshNode({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: bootstrap.flatMap(n => n.getMultiaddrs().map(String)),
      joinTimeout: 3_000,
      swarmKey,
      capabilities: { nvidiaSmi: false, advertTtl: 5_000 },
      compute: { workloads: [echo()], calibrate: false, challenges: false }
    })
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-private-mesh-'))
    const keyFile = join(dir, 'swarm.key')
    await writeFile(keyFile, generateSwarmKey(), { mode: 0o600 })
    const key = await loadSwarmKey(keyFile)
    a = await node(key, [])
    b = await node(key, [a])
    open = await node(undefined, [a])
    other = await node(generateSwarmKey(), [a])
  })

  after(async () => {
    await Promise.all([a, b, open, other].filter(n => n != null).map(async n => n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  it('members join each other and exchange adverts', async () => {
    assert.equal((await b.joined).connected, 1)
    await waitFor(() => a.services.capabilities.getPeer(b.peerId) != null && b.services.capabilities.getPeer(a.peerId) != null, 'the members hold each other\'s adverts')
  })

  it('a node without the key, or with another, cannot connect: no join, no table entry either way', async () => {
    for (const outsider of [open, other]) {
      const joined = await outsider.joined
      assert.equal(joined.connected, 0)
      assert.ok(joined.failures.length > 0, 'the failed dial is reported')
      await assert.rejects(outsider.dial(a.getMultiaddrs()[0]))
      assert.equal(a.getConnections(outsider.peerId).length, 0)
      assert.equal(a.services.capabilities.getPeer(outsider.peerId), undefined)
      assert.equal(outsider.services.capabilities.getPeer(a.peerId), undefined)
      assert.equal(outsider.services.capabilities.getPeer(b.peerId), undefined)
    }
  })

  it('a member runs shards on another; an outsider cannot have one run', async () => {
    const items = ['x', 'y', 'z'].map(encode)
    const result = await b.services.compute.run({ workload: 'echo', items, shardSize: 1 }, { peers: [a.peerId] })
    assert.deepEqual(result.outputs.map(o => new TextDecoder().decode(o)), ['x', 'y', 'z'])
    assert.deepEqual(result.peers.map(p => p.peerId), [a.peerId.toString()])
    for (const outsider of [open, other]) {
      await assert.rejects(outsider.services.compute.run({ workload: 'echo', items, shardSize: 1 }, { peers: [a.peerId] }))
      assert.equal(a.getConnections(outsider.peerId).length, 0)
    }
  })
})
