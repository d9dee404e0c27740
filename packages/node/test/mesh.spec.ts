import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { memoryCluster, memoryMeshNode } from './utils/cluster.js'
import { waitFor } from '@shardmesh/test-utils'
import { constants as capabilityConstants } from '@shardmesh/capabilities'
import type { MeshNode } from '../src/index.js'
import type { PeerId } from '@libp2p/interface'

/** TTL of the node that is stopped in the expiry test: short, so that test is quick. */
const SHORT_TTL = 1500

function peersOf (node: MeshNode): string[] {
  return node.services.capabilities.getPeers().map(p => p.peerId.toString()).sort()
}

function ids (...nodes: MeshNode[]): string[] {
  return nodes.map(n => n.peerId.toString()).sort()
}

describe('mesh node: capabilities over the memory transport', function () {
  this.timeout(20_000)
  let nodes: MeshNode[] = []
  let a: MeshNode
  let b: MeshNode
  let c: MeshNode

  before(async () => {
    nodes = await memoryCluster([
      { advertTtl: 3000, workloads: [{ id: 'echo', version: '1.0.0' }], totalSlots: 2 },
      { advertTtl: 3000, workloads: [{ id: 'x', version: '2.0.0' }], totalSlots: 4 },
      { advertTtl: SHORT_TTL, workloads: [{ id: 'echo', version: '1.0.0' }, { id: 'y', version: '1.0.0' }], totalSlots: 1 }
    ])
    ;[a, b, c] = nodes
  })

  after(async () => {
    await Promise.all(nodes.map(async n => n.stop()))
  })

  it('joins through the bootstrap node', async () => {
    for (const node of [b, c]) {
      const joined = await node.joined
      assert.equal(joined.connected, 1)
      assert.deepEqual(joined.failures, [])
    }
  })

  it('all three converge: each holds the verified adverts of the other two', async () => {
    await waitFor(() => nodes.every(n => peersOf(n).join() === ids(...nodes.filter(o => o !== n)).join()), `tables converge: ${nodes.map(n => peersOf(n).length).join(',')}`)
    for (const node of nodes) {
      for (const peer of node.services.capabilities.getPeers()) {
        assert.ok(!peer.peerId.equals(node.peerId), 'a node does not list itself')
        assert.ok(peer.ageMs >= 0 && peer.ageMs < 5000)
        assert.ok(peer.expiresAt > Date.now())
      }
    }
    const bSeenByA = a.services.capabilities.getPeer(b.peerId)
    assert.ok(bSeenByA != null)
    assert.deepEqual(bSeenByA.workloads.map(w => `${w.id}@${w.version}`), ['x@2.0.0'])
    assert.equal(bSeenByA.totalSlots, 4)
    assert.deepEqual(bSeenByA.hardware.gpus, [])
    // the advert carries addresses the peer can be dialled on
    assert.ok(bSeenByA.addrs.some(ma => ma.toString().startsWith('/memory/')), bSeenByA.addrs.map(String).join())
  })

  it('update() on one node propagates a new seq and load to the others', async () => {
    const before = b.services.capabilities.getPeer(a.peerId)
    assert.ok(before != null)
    assert.equal(before.loadPermille, 0)
    a.services.capabilities.update({ loadPermille: 500, freeSlots: 1 })
    for (const other of [b, c]) {
      const seen = await waitFor(() => {
        const entry = other.services.capabilities.getPeer(a.peerId)
        return entry?.loadPermille === 500 ? entry : undefined
      }, 'the new load reaches the other nodes')
      assert.ok(seen.seq > before.seq)
      assert.equal(seen.freeSlots, 1)
      assert.equal(seen.seq, a.services.capabilities.getAdvert()?.seq)
    }
  })

  it('findPeers() returns the peers that match a requirement', async () => {
    const x = await a.services.capabilities.findPeers({ workload: 'x' })
    assert.deepEqual(x.map(p => p.peerId.toString()), ids(b))

    const echo = await b.services.capabilities.findPeers({ workload: 'echo' }, { sources: ['table'] })
    assert.deepEqual(echo.map(p => p.peerId.toString()).sort(), ids(a, c))

    assert.deepEqual(await c.services.capabilities.findPeers({ workload: 'x', workloadVersion: '1.0.0' }, { sources: ['table'] }), [])
    assert.deepEqual(await c.services.capabilities.findPeers({ workload: 'nothing-offers-this' }, { timeout: 2000 }), [])
    assert.deepEqual(await c.services.capabilities.findPeers({ gpu: 'nvidia' }, { timeout: 2000 }), [], 'no GPU is made up')
  })

  it('fetchAdverts() gets a peer\'s own advert and the adverts it holds over the caps protocol', async () => {
    // D hears no gossip (another topic) and has no bootstrap: only the caps protocol can fill its table
    const d = await memoryMeshNode({ advertTtl: 1000, topic: '/shardmesh-test/elsewhere/1' })
    try {
      assert.deepEqual(d.services.capabilities.getPeers(), [])
      await d.peerStore.merge(a.peerId, { multiaddrs: a.getMultiaddrs() })
      const entries = await d.services.capabilities.fetchAdverts(a.peerId, { includeKnown: true })
      for (const entry of entries) {
        assert.ok([a, b, c].some(n => n.peerId.equals(entry.peerId)))
      }
      // the answer (or the sync that identify started alongside it) is verified and in the table
      assert.deepEqual(peersOf(d), ids(a, b, c))
      assert.equal(d.services.capabilities.getPeer(b.peerId)?.source, 'sync')
      assert.equal(d.services.capabilities.getPeer(a.peerId)?.source, 'direct')
    } finally {
      await d.stop()
    }
  })

  it('anti-entropy: a node that hears no gossip still gets every new advert within a sync interval', async () => {
    // D is on another topic, so gossip never reaches it; it joins through A and then pulls a
    // random neighbour's table every 300 ms
    const d = await memoryMeshNode({ advertTtl: 3000, syncInterval: 300, topic: '/shardmesh-test/elsewhere/2' }, { bootstrap: a.getMultiaddrs().map(String) })
    try {
      await waitFor(() => d.services.capabilities.getPeer(a.peerId) != null, 'D synced A when it connected')
      a.services.capabilities.update({ loadPermille: 321 })
      const fresh = await a.services.capabilities.publish()
      const seen = await waitFor(() => {
        const p = d.services.capabilities.getPeer(a.peerId)
        return p != null && p.seq >= fresh.seq ? p : undefined
      }, 'D pulled A\'s new advert')
      assert.equal(seen.loadPermille, 321)
      assert.equal(seen.source === 'sync' || seen.source === 'direct', true)
    } finally {
      await d.stop()
    }
  })

  it('providers of a capability key are found through the DHT', async () => {
    // B provides workload:x once it is connected (a short delay after the first connection)
    await waitFor(() => b.services.capabilities.providerRecords().some(r => r.key === 'workload:x' && r.providedAt != null), 'B provided workload:x')
    const found = await c.services.capabilities.findProviders('workload:x', { timeout: 5000 })
    assert.deepEqual(found.map(p => p.peerId.toString()), ids(b))
  })

  it('a stopped node leaves the other tables once its TTL runs out', async () => {
    const expired: PeerId[] = []
    a.services.capabilities.addEventListener('peer:expired', (evt) => { expired.push(evt.detail.peerId) })
    await c.stop()
    const last = a.services.capabilities.getPeer(c.peerId)
    assert.ok(last != null, 'C is still listed right after it stopped')
    assert.ok(last.expiresAt - last.issuedAt === SHORT_TTL)
    // held for its TTL on A's clock: from when it was issued there (its gossip's delay read as
    // clock lag), never past the signed expiry and the clock skew tolerated
    assert.equal(last.heldUntil - last.localIssuedAt, SHORT_TTL)
    assert.ok(last.heldUntil >= last.expiresAt && last.heldUntil <= last.expiresAt + capabilityConstants.MAX_CLOCK_SKEW)
    const cid = c.peerId.toString()
    const heldUntil = Math.max(last.heldUntil, b.services.capabilities.getPeer(c.peerId)?.heldUntil ?? 0)

    // until its advert expires, A keeps C (stopping is no reason to drop it); once it has
    // expired, no table lists it, swept or not
    while (Date.now() <= heldUntil) {
      const listed = peersOf(a).includes(cid)
      assert.ok(listed || Date.now() >= last.heldUntil, 'C left A before its advert expired')
      await new Promise(resolve => setTimeout(resolve, 25))
    }
    assert.ok(!peersOf(a).includes(cid) && !peersOf(b).includes(cid), 'C is still listed after its advert expired')
    await waitFor(() => expired.some(p => p.equals(c.peerId)), 'A emits peer:expired for C')
    // the others are still there
    assert.ok(peersOf(a).includes(b.peerId.toString()))
    assert.ok(peersOf(b).includes(a.peerId.toString()))
  })

  it('stop() leaves nothing that keeps the process alive', async function () {
    this.timeout(30_000)
    const script = fileURLToPath(new URL('./fixtures/stop-exits.js', import.meta.url))
    const { code, stdout, stderr, killed } = await new Promise<{ code: number | null, stdout: string, stderr: string, killed: boolean }>((resolve) => {
      const child = execFile(process.execPath, [script], { timeout: 20_000 }, (err: any, stdout, stderr) => {
        resolve({ code: err == null ? 0 : (err.code ?? null), stdout, stderr, killed: child.killed })
      })
    })
    assert.equal(killed, false, `the process did not exit within 20 s of stopping its nodes\n${stderr}`)
    assert.equal(code, 0, stderr)
    assert.deepEqual(JSON.parse(stdout), { stopped: 2 })
  })
})

describe('mesh node: restart', function () {
  this.timeout(20_000)

  it('keeps re-publishing its advert after stop() and start(), even if stopped during a pending publish', async () => {
    const node = await memoryMeshNode({ advertTtl: 900 })
    try {
      const caps = node.services.capabilities
      // update() schedules a debounced publish; stopping at once leaves it pending
      caps.update({ loadPermille: 1 })
      await node.stop()
      await node.start()
      const restarted = caps.getAdvert()
      assert.ok(restarted != null)
      assert.equal(restarted.loadPermille, 1)
      // refreshInterval is 300 ms: a few refreshes must follow the publish of start()
      await waitFor(() => (caps.getAdvert()?.seq ?? 0) > restarted.seq, 'a refresh after the restart')
    } finally {
      await node.stop()
    }
  })

  it('announces new capability keys after stop() and start()', async () => {
    const [a, b] = await memoryCluster([{ advertTtl: 3000 }, { advertTtl: 3000, workloads: [{ id: 'before-restart', version: '1' }] }])
    try {
      const caps = b.services.capabilities
      const provided = (key: string): boolean => caps.providerRecords().some(r => r.key === key && r.providedAt != null)
      // once provided, the next re-announce is scheduled minutes ahead: stop() must not leave it wedged
      await waitFor(() => provided('workload:before-restart'), 'B provides its key before the restart')
      await b.stop()
      await b.start()
      await b.dial(a.getMultiaddrs())
      caps.update({ workloads: [{ id: 'after-restart', version: '1' }] })
      await waitFor(() => provided('workload:after-restart'), 'B provides its new key after the restart')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
