import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { meshServices, solanaAddress } from '@shardmesh/node'
import { memoryListen } from '@shardmesh/test-utils'
import { createLibp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { ControlClient, ControlServer, NodeNotRunningError, constants } from '../src/index.js'

/**
 * An embedder's own libp2p node (not a `MeshNode`: no `joined`, its own transports and a
 * service of its own), running `meshServices()`.
 */
async function embedderNode (registry: Registry) {
  const { transports, listen } = memoryListen('shardmesh-control')
  return createLibp2p({
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: prometheusMetrics({ registry, collectDefaultMetrics: false }),
    services: {
      ...meshServices({ capabilities: { nvidiaSmi: false } }),
      telemetry: () => ({ reports: 0 })
    }
  })
}

describe('ControlServer on a node built from meshServices()', () => {
  let dir: string
  let registry: Registry
  let node: Awaited<ReturnType<typeof embedderNode>>
  let server: ControlServer
  let client: ControlClient
  let stops = 0

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-control-'))
    registry = new Registry()
    node = await embedderNode(registry)
    server = new ControlServer({ node, dataDir: dir, registry, onStop: () => { stops++ } })
    await server.start()
    client = await ControlClient.fromDataDir(dir)
  })

  after(async () => {
    await server?.stop()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('GET /v1/status: the node\'s identity, addresses and own advert', async () => {
    const status = await client.status()
    assert.equal(status.peerId, node.peerId.toString())
    assert.equal(status.solanaAddress, solanaAddress(node.peerId))
    assert.deepEqual(status.addrs, node.getMultiaddrs().map(String))
    assert.equal(status.pid, process.pid)
    assert.equal(status.connectedPeers, 0)
    assert.deepEqual(status.join, { state: 'standalone', connected: 0, attempts: 0, closestPeers: 0, failures: [] })
    assert.equal(status.advert?.peerId, node.peerId.toString())
    assert.equal(status.advert?.source, 'self')
  })

  it('GET /metrics: the registry the node\'s metrics are in, shardmesh\'s included', async () => {
    const text = await client.metrics()
    assert.match(text, /^# HELP shardmesh_capabilities_peers /m)
    assert.match(text, /^# TYPE shardmesh_receipts_stored_total counter$/m)
  })

  it('GET /v1/compute and /v1/receipts: the compute and receipts services', async () => {
    const compute = await client.compute()
    assert.deepEqual(compute.offered, [])
    assert.ok(compute.installed.includes('echo@1.0.0'), compute.installed.join(', '))
    const receipts = await client.receipts()
    assert.equal(receipts.stats.enabled, false)
    assert.deepEqual(receipts.receipts, [])
  })

  it('POST /v1/receipts/pull: one round of the proof pull, with what it asked and stored', async () => {
    // a node without a data dir holds no worker receipts: the round asks nobody
    const res = await client.pullReceiptProofs()
    assert.deepEqual(res.pulled, { requesters: 0, asked: 0, stored: 0, receipts: 0, rejected: 0, failed: 0 })
    assert.equal(res.stats.enabled, false)
  })

  it('GET /v1/receipts/batches/ROOT/bundle?from=PEER: a peer id is required; a node without a data dir fetches nothing', async () => {
    const root = 'ab'.repeat(32)
    await assert.rejects(client.receiptBundle(root, { from: 'not-a-peer' }), { name: 'ControlRequestError', status: 400, message: /from must be a peer id/ })
    await assert.rejects(client.receiptBundle(root, { from: node.peerId.toString() }), { name: 'ControlRequestError', status: 409, message: /no data dir/ })
  })

  it('/v1 routes need the token of control.token; /metrics does not', async () => {
    const info = JSON.parse(await readFile(join(dir, constants.CONTROL_FILE), 'utf8'))
    assert.deepEqual(info, { url: server.url, pid: process.pid, peerId: node.peerId.toString() })
    const denied = await fetch(`${server.url}/v1/status`)
    assert.equal(denied.status, 401)
    await denied.body?.cancel()
    const wrong = new ControlClient(server.url, 'not-the-token')
    await assert.rejects(wrong.status(), { name: 'ControlRequestError', status: 401 })
    const open = await fetch(`${server.url}/metrics`)
    assert.equal(open.status, 200)
    await open.text()
  })

  it('POST /v1/stop calls onStop; stop() removes control.json and the client then finds no node', async () => {
    await client.stop()
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(stops, 1)
    await server.stop()
    assert.equal(existsSync(join(dir, constants.CONTROL_FILE)), false)
    await assert.rejects(ControlClient.fromDataDir(dir), NodeNotRunningError)
  })
})
