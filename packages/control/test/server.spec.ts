import assert from 'node:assert/strict'
import { request } from 'node:http'
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

  it('a web page cannot use the API: another Host (DNS rebinding), another Origin, a cross-site fetch or a CORS preflight is refused before any route, token or not', async () => {
    const token = (await readFile(join(dir, 'control.token'), 'utf8')).trim()
    const { port } = new URL(server.url)
    const ask = async (method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, cors: string | null, text: string }> => {
      // node:http, not fetch: a browser's headers (Host, Origin) set exactly as a page would send them
      return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: Number(port), method, path, headers }, res => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => { text += chunk })
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, cors: (res.headers['access-control-allow-origin']) ?? null, text }) })
        })
        req.on('error', reject)
        req.end(body)
      })
    }
    const auth = { authorization: `Bearer ${token}` }
    const job = JSON.stringify({ workload: 'echo', items: [] })
    // DNS rebinding: evil.example resolves to 127.0.0.1, so the browser sends its name as Host
    for (const path of ['/v1/receipts', '/metrics', '/healthz']) {
      const res = await ask('GET', path, { host: `evil.example:${port}`, ...auth })
      assert.equal(res.status, 421, `${path}: ${res.text}`)
      assert.doesNotMatch(res.text, /shardmesh_|receipts"/)
    }
    // a page on another origin: refused whatever it carries, and nothing says it may read the answer
    const foreign: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }]
    for (const headers of foreign) {
      const post = await ask('POST', '/v1/jobs', { host: `127.0.0.1:${port}`, 'content-type': 'text/plain', ...headers, ...auth }, job)
      assert.equal(post.status, 403, post.text)
      const read = await ask('GET', '/v1/receipts', { host: `127.0.0.1:${port}`, ...headers, ...auth })
      assert.equal(read.status, 403, read.text)
      assert.equal(read.cors, null)
    }
    const preflight = await ask('OPTIONS', '/v1/jobs', { host: `127.0.0.1:${port}`, origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' })
    assert.ok(preflight.status >= 400, preflight.text)
    assert.equal(preflight.cors, null)
    // its own origin and loopback names are served
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const own = await ask('GET', '/v1/status', { host, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...auth })
      assert.equal(own.status, 200, own.text)
      assert.equal(own.cors, null)
    }
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
