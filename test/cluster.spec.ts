import assert from 'node:assert/strict'
import { delimiter } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalCluster } from '@shardmesh/cli/harness'
import { waitFor } from '@shardmesh/test-utils'
import { runCli } from './utils/run-cli.js'

const TTL_MS = 4_000
// node 6's PATH has a stand-in nvidia-smi; the others' PATH has none (no GPU: never a made-up one)
const FAKE_GPU_DIR = fileURLToPath(new URL('../../test/fixtures/fake-gpu', import.meta.url))
const NO_GPU_DIR = fileURLToPath(new URL('../../test/fixtures', import.meta.url))

describe('a cluster of node processes over real TCP', function () {
  this.timeout(180_000)
  let cluster: LocalCluster

  before(async () => {
    // node 7 alone offers the rare capability
    cluster = new LocalCluster({
      nodes: 8,
      advertTtl: `${TTL_MS}ms`,
      refresh: '1s',
      gpu: true,
      nodeEnv: i => i === 6 ? { PATH: `${FAKE_GPU_DIR}${delimiter}${process.env.PATH}` } : { PATH: NO_GPU_DIR },
      nodeArgs: i => i === 7 ? ['--workload', 'embed@1.0.0'] : ['--workload', 'echo@1.0.0']
    })
    await cluster.start()
  })

  after(async () => {
    await cluster?.stop()
    for (const n of cluster?.nodes ?? []) {
      assert.ok(n.process.exitCode != null || n.process.signalCode != null, `node ${n.index} (pid ${n.pid}) still running`)
    }
  })

  it('converges: each of 8 nodes holds the 7 others\' verified adverts', async () => {
    const report = await cluster.waitConverged({ timeout: 60_000 })
    assert.notEqual(report.convergedMs, null, JSON.stringify(report))
    assert.equal(new Set(report.nodes.map(n => n.peerId)).size, 8)
    for (const n of report.nodes) {
      assert.equal(n.advertsSeen, 7)
    }
    const asked = Date.now()
    const peers = await cluster.peersOf(0)
    const rare = peers.find(p => p.peerId === cluster.nodes[7].peerId)
    assert.deepEqual(rare?.workloads.map(w => w.id), ['embed'])
    // a table serves only unexpired adverts: each was unexpired when the table answered, after `asked`
    assert.ok(peers.every(p => p.ageMs < TTL_MS && p.expiresAt > asked), JSON.stringify(peers.map(p => [p.ageMs, p.expiresAt - asked])))
  })

  it('a node that knows one bootstrap peer finds the single provider of a rare capability through the DHT', async () => {
    // a ninth node joins through node 1 only; it asks the DHT (not its table) for the rare workload
    const joiner = await cluster.spawnNode(8, cluster.nodes[1].addrs.slice(0, 1))
    cluster.nodes.push(joiner)
    await waitFor(async () => {
      const status = await cluster.nodes[7].control.status()
      return status.providerRecords.some(r => r.key === 'workload:embed' && r.providedAt != null) ? true : undefined
    }, 'the provider to announce its record', { timeout: 30_000, interval: 100 })
    const found = await waitFor(async () => {
      const res = await joiner.control.find({ workload: 'embed', source: 'dht' })
      return res.peers.length > 0 ? res : undefined
    }, 'a DHT provider of workload:embed', { timeout: 30_000, interval: 100 })
    assert.deepEqual(found.peers.map(p => p.peerId), [cluster.nodes[7].peerId])
    assert.equal(found.peers[0].workloads[0].id, 'embed')
  })

  it('a GPU reported by nvidia-smi is advertised and found through gpu:nvidia; no GPU means none', async () => {
    const peers = await cluster.peersOf(0)
    const gpuNode = peers.find(p => p.peerId === cluster.nodes[6].peerId)
    assert.deepEqual(gpuNode?.hardware.gpus.map(g => [g.vendor, g.model, g.memoryBytes]), [['nvidia', 'NVIDIA H100 80GB HBM3', 81559 * 2 ** 20]])
    assert.ok(peers.filter(p => p.peerId !== cluster.nodes[6].peerId).every(p => p.hardware.gpus.length === 0))
    // one GPU on a machine with cores enough is plausible, but nobody measured it: a claim
    assert.equal(gpuNode?.trust?.gpus.status, 'claimed', JSON.stringify(gpuNode?.trust?.gpus))
    assert.equal(gpuNode?.trust?.gpus.count, 1)
    // found through the DHT, it is left out by default (a claim is not believed), and counted
    const found = await waitFor(async () => {
      const res = await cluster.nodes[1].control.find({ gpu: 'nvidia', source: 'dht' })
      return res.omittedClaims > 0 || res.peers.length > 0 ? res : undefined
    }, 'a DHT provider of gpu:nvidia', { timeout: 30_000, interval: 100 })
    assert.deepEqual(found.peers, [])
    assert.ok(found.omittedClaims >= 1, JSON.stringify(found))
    // asked for claims too, it is there, showing its status
    const claimed = await cluster.nodes[1].control.find({ gpu: 'nvidia', source: 'dht', claimed: true })
    assert.deepEqual(claimed.peers.map(p => [p.peerId, p.trust?.gpus.status]), [[cluster.nodes[6].peerId, 'claimed']])
    assert.equal(claimed.omittedClaims, 0)
  })

  it('an advert change reaches every other node', async () => {
    const { seq } = await cluster.nodes[2].control.updateCapabilities({ loadPermille: 750 })
    await waitFor(async () => {
      const tables = await Promise.all(cluster.nodes.filter(n => n.index !== 2).map(async n => cluster.peersOf(n.index)))
      return tables.every(t => (t.find(p => p.peerId === cluster.nodes[2].peerId)?.seq ?? 0) >= seq) ? true : undefined
    }, 'every node to hold the new advert', { timeout: 15_000, interval: 100 })
    const seen = (await cluster.peersOf(5)).find(p => p.peerId === cluster.nodes[2].peerId)
    assert.equal(seen?.loadPermille, 750)
  })

  it('a SIGKILLed node\'s advert leaves every table within its TTL', async () => {
    const victim = cluster.nodes[3]
    const others = cluster.nodes.filter(n => n.index !== 3)
    const holding = async (): Promise<number> => (await Promise.all(others.map(async n => cluster.peersOf(n.index))))
      .filter(t => t.some(p => p.peerId === victim.peerId)).length
    assert.equal(await holding(), others.length, 'every node holds the victim before the kill')
    await cluster.kill(3, 'SIGKILL')
    const killedAt = Date.now()
    // its last advert was issued before the kill, so it expired by killedAt + TTL: from then on
    // no node may list it (a table never serves an expired advert, swept or not)
    await new Promise(resolve => setTimeout(resolve, Math.max(0, killedAt + TTL_MS + 50 - Date.now())))
    assert.equal(await holding(), 0, `a node still lists the dead node ${TTL_MS} ms after it died`)
  })

  it('a restarted node keeps its PeerId and rejoins', async () => {
    const before = cluster.nodes[5].peerId
    const oldSeq = (await cluster.peersOf(0)).find(p => p.peerId === before)?.seq ?? 0
    await cluster.kill(5, 'SIGKILL')
    const restarted = await cluster.restart(5)
    assert.equal(restarted.peerId, before)
    await waitFor(async () => {
      const p = (await cluster.peersOf(0)).find(p => p.peerId === before)
      return p != null && p.seq > oldSeq && p.addrs.some(a => restarted.addrs.some(r => r.startsWith(a))) ? true : undefined
    }, 'node 0 to hold the restarted node\'s new advert', { timeout: 20_000, interval: 100 })
  })

  it('the control API wants its token, refuses bad input, and serves Prometheus metrics', async () => {
    const url = cluster.nodes[0].control.url
    assert.equal((await fetch(`${url}/v1/peers`)).status, 401)
    assert.equal((await fetch(`${url}/v1/peers`, { headers: { authorization: 'Bearer wrong' } })).status, 401)
    // the node's own message, with the status apart (no "GET /v1/find: 400" around it)
    await assert.rejects(cluster.nodes[0].control.find({ workload: 'echo', max: -1 }), { name: 'ControlRequestError', status: 400, message: 'max must be a whole number' })
    await assert.rejects(cluster.nodes[0].control.updateCapabilities({ hardware: { cpuCores: 9999 } }), { name: 'ControlRequestError', status: 400, message: /^unknown field hardware/ })
    const metrics = await (await fetch(`${url}/metrics`)).text()
    assert.match(metrics, /^shardmesh_capabilities_peers \d+/m)
    assert.match(metrics, /shardmesh_capabilities_adverts_accepted_total\{source="(gossip|sync|direct)"\} \d+/)
  })

  it('shardmesh peers --json reads a running node\'s table', async () => {
    const res = await runCli(['peers', '--data-dir', cluster.nodes[0].dataDir, '--json'])
    assert.equal(res.code, 0, res.stderr)
    const body = JSON.parse(res.stdout)
    assert.ok(body.peers.length >= 6)
    assert.ok(body.peers.every((p: any) => typeof p.ageMs === 'number' && typeof p.peerId === 'string'))
  })
})
