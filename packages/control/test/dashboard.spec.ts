import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { ControlServer, dashboardUrl } from '../src/index.js'
import type { ControlNode } from '../src/index.js'
import type { IncomingHttpHeaders } from 'node:http'

interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

/** One raw request (headers as a browser would send them, which fetch() would not let us set). */
async function raw (url: string, path: string, options: { method?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: options.method ?? 'GET', headers: options.headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }) })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the dashboard page the control API serves', () => {
  let dir: string
  let server: ControlServer
  let url: string
  let token: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-dashboard-'))
    // serving the page touches nothing of the node: a node with an identity is enough
    const batches = [1, 3, 2].map(n => ({ root: String(n).repeat(64), count: n, sealedAt: n * 1000, receipts: [], anchor: undefined }))
    const node = { peerId: peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'), services: { receipts: { batches: () => batches.slice() } } } as unknown as ControlNode
    server = new ControlServer({ node, dataDir: dir, onStop: () => {} })
    url = (await server.start()).url
    token = (await readFile(join(dir, 'control.token'), 'utf8')).trim()
  })

  after(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the page without the token, and the page holds neither the token nor any data', async () => {
    const page = await raw(url, '/')
    assert.equal(page.status, 200)
    assert.match(String(page.headers['content-type']), /^text\/html/)
    assert.match(page.body, /<script type="module" src="\/dashboard.js">/)
    assert.ok(!page.body.includes(token))
    for (const [path, type] of [['/dashboard.js', /^text\/javascript/], ['/dashboard.css', /^text\/css/], ['/index.html', /^text\/html/]] as const) {
      const asset = await raw(url, path)
      assert.equal(asset.status, 200, path)
      assert.match(String(asset.headers['content-type']), type, path)
      assert.ok(!asset.body.includes(token))
    }
    const head = await raw(url, '/', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
  })

  it('tells the browser: only this origin\'s scripts and requests, no framing, no referrer, no cookie, no CORS', async () => {
    const page = await raw(url, '/')
    const csp = String(page.headers['content-security-policy'])
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'none'"]) {
      assert.ok(csp.includes(directive), `${directive} in ${csp}`)
    }
    assert.equal(page.headers['x-frame-options'], 'DENY')
    assert.equal(page.headers['x-content-type-options'], 'nosniff')
    assert.equal(page.headers['referrer-policy'], 'no-referrer')
    assert.equal(page.headers['set-cookie'], undefined)
    assert.equal(page.headers['access-control-allow-origin'], undefined)
  })

  it('serving the page opens nothing else: /v1 still needs the token, other methods are not the page', async () => {
    assert.equal((await raw(url, '/v1/status')).status, 401)
    assert.equal((await raw(url, '/', { method: 'POST' })).status, 401)
    assert.equal((await raw(url, '/dashboard.js?x=1', { method: 'DELETE' })).status, 401)
  })

  it('is refused to a rebound name and to another origin, as every route is', async () => {
    const port = new URL(url).port
    assert.equal((await raw(url, '/', { headers: { host: `attacker.example:${port}` } })).status, 421)
    assert.equal((await raw(url, '/dashboard.js', { headers: { origin: 'http://attacker.example' } })).status, 403)
    assert.equal((await raw(url, '/', { headers: { host: `localhost:${port}` } })).status, 200)
  })

  it('GET /v1/receipts/batches?limit=N: the newest N, and how many there are (what the page polls stays small)', async () => {
    const auth = { authorization: `Bearer ${token}` }
    const newest = JSON.parse((await raw(url, '/v1/receipts/batches?limit=2', { headers: auth })).body)
    assert.deepEqual(newest.batches.map((b: any) => b.count), [3, 2])
    assert.equal(newest.total, 3)
    const all = JSON.parse((await raw(url, '/v1/receipts/batches', { headers: auth })).body)
    assert.deepEqual(all.batches.map((b: any) => b.count), [1, 3, 2])
    assert.equal((await raw(url, '/v1/receipts/batches?limit=-1', { headers: auth })).status, 400)
  })

  it('logs in with the token in the URL fragment, which a browser never sends', () => {
    assert.equal(dashboardUrl('http://127.0.0.1:7070', 'abc'), 'http://127.0.0.1:7070/#token=abc')
    assert.equal(dashboardUrl('http://127.0.0.1:7070/', 'a+b/c='), 'http://127.0.0.1:7070/#token=a%2Bb%2Fc%3D')
    assert.equal(new URL(dashboardUrl(url, token)).hash, `#token=${encodeURIComponent(token)}`)
  })
})
