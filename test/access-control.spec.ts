import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { CLI_BIN, LocalCluster } from '@shardmesh/cli/harness'
import { createMeshNode, writePrivateKey } from '@shardmesh/node'
import { CAPS_PROTOCOL, SHARD_PROTOCOL, MAX_CAPS_RESPONSE_BYTES, decodeCapsResponse, encodeCapsRequest } from '@shardmesh/protocol'
import { waitFor } from '@shardmesh/test-utils'
import { items } from './utils/items.js'
import type { MeshNode } from '@shardmesh/node'

/** The value of `shardmesh_inbound_refused_total{protocol,reason}` in a /metrics text (0 when absent). */
function refusedCount (metrics: string, protocol: string, reason: string): number {
  const line = metrics.split('\n').find(l => l.startsWith(`shardmesh_inbound_refused_total{protocol="${protocol}",reason="${reason}"}`))
  return line == null ? 0 : Number(line.split(' ').pop())
}

/** Ask `node` for the caps advert of the peer at `addr`: 'ok' with an advert, or the error's name (a reset stream). */
async function askCaps (node: MeshNode, addr: string): Promise<string> {
  try {
    const stream = await node.dialProtocol(multiaddr(addr), CAPS_PROTOCOL, { signal: AbortSignal.timeout(20_000) })
    const lp = lpStream(stream, { maxDataLength: MAX_CAPS_RESPONSE_BYTES })
    await lp.write(encodeCapsRequest({ includeKnown: false, maxAdverts: 0 }))
    const response = decodeCapsResponse((await lp.read({ signal: AbortSignal.timeout(20_000) })).subarray())
    await stream.close().catch(() => {})
    return response.error == null && response.advert.byteLength > 0 ? 'ok' : `error ${response.error?.code ?? 'empty'}`
  } catch (err: any) {
    return err.name
  }
}

/**
 * Who may ask, over real TCP between node processes. Node 0 is a worker that denies node 2;
 * node 1 a worker that serves node 3 alone (an allow list); node 2 a requester that serves
 * nothing; node 3 a requester that also serves everyone. Node 0 also limits the caps protocol to
 * 30 streams an hour per peer (far above the few table pulls of an honest peer in this test), so that an in-process peer flooding it is refused past its rate.
 */
describe('access control: allow and deny lists of requesters, per-peer rate limits', function () {
  this.timeout(180_000)
  const CAPS_RATE = 30
  let root: string
  let cluster: LocalCluster
  const ids: string[] = []
  const outsiders: MeshNode[] = []

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shardmesh-access-'))
    // the keys first: the lists name peer ids before any node runs
    for (let i = 0; i < 4; i++) {
      const key = await generateKeyPair('Ed25519')
      await writePrivateKey(join(root, `node-${i}`), key)
      ids.push(peerIdFromPrivateKey(key).toString())
    }
    const common = ['--pool-size', '1', '--challenge-interval', 'off']
    const args = [
      ['--workload', 'echo', '--deny-requester', ids[2], '--rate-limit', `${CAPS_PROTOCOL}=${CAPS_RATE}/1h`],
      ['--workload', 'echo', '--allow-requester', ids[3]],
      ['--workload', 'none'],
      ['--workload', 'echo']
    ]
    // the default advert refresh (10 s): each node's anti-entropy pulls one random peer's table per
    // refresh over the caps protocol, a few pulls of node 0 per peer while this runs
    cluster = new LocalCluster({ nodes: 4, dataDir: root, nodeArgs: i => [...common, ...args[i]] })
    await cluster.start()
    assert.deepEqual(cluster.nodes.map(n => n.peerId), ids)
    await cluster.waitConverged({ timeout: 60_000 })
  })

  after(async () => {
    await Promise.all(outsiders.map(async n => n.stop()))
    await cluster?.stop()
    for (const child of (cluster?.nodes ?? []).map(n => n.process)) {
      assert.ok(child.exitCode != null || child.signalCode != null, `pid ${child.pid} still running`)
    }
    await rm(root, { recursive: true, force: true })
  })

  it('a requester refused by every worker it names fails with each refusal named: denied by one, not allowed by the other', async () => {
    const [w0, w1, denied] = cluster.nodes
    const before = await Promise.all([w0, w1].map(async n => n.control.metrics()))
    await assert.rejects(denied.control.runJob({ workload: 'echo', items: items(2, 'refused'), shardSize: 1, peers: [ids[0], ids[1]], includeSelf: false }), (err: any) => {
      assert.equal(err.code, 'ERR_ALL_EXCLUDED')
      assert.match(err.message, new RegExp(`${ids[0]} \\(ERR_NOT_ALLOWED[^)]*denied: on its deny list`))
      assert.match(err.message, new RegExp(`${ids[1]} \\(ERR_NOT_ALLOWED[^)]*not-allowed: not on its allow list`))
      return true
    })
    const after = await Promise.all([w0, w1].map(async n => n.control.metrics()))
    assert.ok(refusedCount(after[0], SHARD_PROTOCOL, 'denied') > refusedCount(before[0], SHARD_PROTOCOL, 'denied'), 'node 0 counted no denial')
    assert.ok(refusedCount(after[1], SHARD_PROTOCOL, 'not-allowed') > refusedCount(before[1], SHARD_PROTOCOL, 'not-allowed'), 'node 1 counted no refusal')
    // the lists are about work: node 0 counted nothing else against node 2
    assert.equal(refusedCount(after[0], SHARD_PROTOCOL, 'not-allowed'), 0)
  })

  it('with another worker the denied requester\'s job fails over and completes, its report and log naming who refused it; the allowed requester is served by the same workers', async () => {
    const denied = cluster.nodes[2]
    const allowed = cluster.nodes[3]
    const sent = items(8, 'failover')
    const result = await denied.control.runJob({ workload: 'echo', items: sent, shardSize: 1, peers: [ids[0], ids[1], ids[3]], includeSelf: false, maxRetries: 6, hedge: false })
    assert.deepEqual(result.outputs, sent)
    const report = new Map(result.peers.map(p => [p.peerId, p]))
    assert.equal(report.get(ids[3])?.shards, 8, JSON.stringify(result.peers))
    for (const [i, words] of [[0, /denied: on its deny list/], [1, /not-allowed: not on its allow list/]] as const) {
      const peer = report.get(ids[i])
      assert.ok(peer != null && peer.shards === 0 && peer.banned, JSON.stringify(peer))
      assert.match(peer.refused ?? '', words)
    }
    await waitFor(() => [0, 1].every(i => denied.stderr.some(l => l.includes(`refused by peer ${ids[i]}`))) ? true : undefined,
      'node 2 to log both refusals', { timeout: 10_000, interval: 100 })

    const mine = items(6, 'allowed')
    const served = await allowed.control.runJob({ workload: 'echo', items: mine, shardSize: 1, peers: [ids[0], ids[1]], includeSelf: false, hedge: false })
    assert.deepEqual(served.outputs, mine)
    for (const i of [0, 1]) {
      const peer = served.peers.find(p => p.peerId === ids[i])
      assert.ok(peer != null && peer.shards > 0 && peer.refused == null && !peer.banned, JSON.stringify(served.peers))
    }
  })

  it('a peer flooding a protocol with streams is refused past its rate and counted in /metrics; another peer and the mesh are still served', async () => {
    const victim = cluster.nodes[0]
    const addr = `${victim.addrs[0]}`
    const flooder = await createMeshNode({ network: 'lan', capabilities: { nvidiaSmi: false }, compute: { offer: [], calibrate: false, challenges: false } })
    outsiders.push(flooder)
    const before = await victim.control.metrics()
    const answers: string[] = []
    for (let i = 0; i < 3 * CAPS_RATE; i++) {
      answers.push(await askCaps(flooder, addr))
    }
    const ok = answers.filter(a => a === 'ok').length
    const refused = answers.length - ok
    // at most the bucket (plus what an hour's rate refills while this runs: under one stream in 3 min)
    assert.ok(ok >= 1 && ok <= CAPS_RATE + 1, `served ${ok} of ${answers.length}: ${answers.join(', ')}`)
    assert.ok(answers.slice(0, 1).every(a => a === 'ok'), answers.join(', '))
    const after = await waitFor(async () => {
      const m = await victim.control.metrics()
      return refusedCount(m, CAPS_PROTOCOL, 'rate') - refusedCount(before, CAPS_PROTOCOL, 'rate') >= refused ? m : undefined
    }, 'the victim to count every refusal', { timeout: 10_000, interval: 100 })
    assert.match(after, /^# HELP shardmesh_inbound_refused_total Inbound streams, messages or connections this node refused/m)

    // an honest peer asking the same protocol now is served: the buckets are per peer
    const honest = await createMeshNode({ network: 'lan', capabilities: { nvidiaSmi: false }, compute: { offer: [], calibrate: false, challenges: false } })
    outsiders.push(honest)
    assert.equal(await askCaps(honest, addr), 'ok')
    // and the cluster's requester still gets its work done by the victim
    const sent = items(2, 'after-flood')
    const result = await cluster.nodes[3].control.runJob({ workload: 'echo', items: sent, shardSize: 1, peers: [ids[0]], includeSelf: false })
    assert.deepEqual(result.outputs, sent)
    assert.equal((await victim.control.status()).peerId, ids[0])
  })

  it('node start refuses a list entry that is no peer id, exit 2 naming the flag', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'node', 'start', '--data-dir', join(root, 'bad'), '--deny-requester', 'not-a-peer'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
    assert.equal(code, 2, stderr)
    assert.match(stderr, /--deny-requester "not-a-peer" is not a peer id/)
  })
})
