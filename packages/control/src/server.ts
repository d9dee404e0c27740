import { timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { solanaAddress } from '@shardmesh/node'
import { CONTROL_FILE } from './constants.js'
import { ControlPortInUseError, HttpError, NoNodeToServeError } from './errors.js'
import { writeFileAtomic } from '@shardmesh/protocol'
import { loadOrCreateToken } from './files.js'
import { optionalCount, readJson, send } from './http.js'
import { planJob, runJob } from './jobs.js'
import { routeReceipts } from './receipts.js'
import { serveDashboard } from './dashboard.js'
import { connectedPeers, peerRow, peerTrust, solanaStatus } from './serialize.js'
import type { ControlNode, MetricsRegistry } from './node.js'
import type { ComputeResponse, ControlInfo, FindResponse, JobsResponse, JoinStatus, PeersResponse, PublishResponse, StatusResponse } from './types.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ControlServerOptions {
  /** The node it controls: given here or to `start()`; until then `/v1` answers 503. */
  node?: ControlNode
  /** Holds `control.token` (made on first listen) and, while serving, `control.json`. */
  dataDir: string
  /** Loopback port to listen on. @default 0 (any free port) */
  port?: number
  /** Served at `/metrics`; without it `/metrics` answers 404. */
  registry?: MetricsRegistry
  /** Called for POST /v1/stop, after the response is sent. */
  onStop: () => void
  /** How the node's join stands, for `GET /v1/status`. @default standalone with no peers */
  join?: () => JoinStatus
  /**
   * The Solana RPC URL the node anchors its receipts through, for `GET /v1/status` (`solana`,
   * with the explorer cluster the page links to). @default none: receipts are not anchored
   */
  solanaRpc?: string
}

/**
 * The daemon's local control API: loopback HTTP only, every `/v1` route behind the bearer token
 * kept in `<dataDir>/control.token` (mode 0600). `/metrics` (Prometheus) is open on loopback, and
 * so is the dashboard page at `/` (it holds no data: it reads `/v1` with the token given in its
 * login URL, `dashboardUrl()`).
 */
export class ControlServer {
  private readonly server: Server
  private readonly startedAt = Date.now()
  private token = ''
  private node?: ControlNode
  url = ''

  constructor (private readonly options: ControlServerOptions) {
    this.node = options.node
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err: any) => {
        const status = err instanceof HttpError ? err.status : 500
        send(res, status, { error: err.message ?? String(err) })
      })
    })
    // CLI clients make one call and exit: do not keep their sockets (and them) alive
    this.server.keepAliveTimeout = 500
  }

  /**
   * Bind the loopback port (a daemon does this before it starts libp2p, so a port in use
   * fails the start before anything else runs). Throws ControlPortInUseError.
   */
  async listen (): Promise<string> {
    if (this.url !== '') {
      return this.url
    }
    this.token = await loadOrCreateToken(this.options.dataDir)
    const port = this.options.port ?? 0
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => { reject(err.code === 'EADDRINUSE' ? new ControlPortInUseError(port) : err) })
      this.server.listen(port, '127.0.0.1', () => { resolve() })
    })
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this.url
  }

  /** Serve `node` (bind first if not yet done) and publish `control.json`, which clients look for. */
  async start (node?: ControlNode): Promise<ControlInfo> {
    this.node = node ?? this.node
    if (this.node == null) {
      throw new NoNodeToServeError()
    }
    await this.listen()
    const info: ControlInfo = { url: this.url, pid: process.pid, peerId: this.node.peerId.toString() }
    await writeFileAtomic(join(this.options.dataDir, CONTROL_FILE), JSON.stringify(info))
    return info
  }

  async stop (): Promise<void> {
    if (!this.server.listening) {
      return
    }
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
    if (this.node != null) {
      await rm(join(this.options.dataDir, CONTROL_FILE), { force: true })
    }
  }

  private async route (req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.checkBrowserOrigin(req)
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const node = this.node
    if (node == null) {
      throw new HttpError(503, 'the node is starting')
    }
    const caps = node.services.capabilities
    if (req.method === 'GET' && url.pathname === '/metrics') {
      if (this.options.registry == null) {
        throw new HttpError(404, 'metrics are not enabled')
      }
      res.writeHead(200, { 'content-type': this.options.registry.contentType })
      res.end(await this.options.registry.metrics())
      return
    }
    if (await serveDashboard(req, res, url)) {
      return
    }
    if (req.method === 'GET' && url.pathname === '/healthz') {
      send(res, 200, { ok: true })
      return
    }
    this.authorize(req)
    if (url.pathname.startsWith('/v1/receipts') && await routeReceipts(node, req, res, url)) {
      return
    }
    const route = `${req.method ?? 'GET'} ${url.pathname}`
    switch (route) {
      case 'GET /v1/status': {
        const advert = caps.getAdvert()
        const body: StatusResponse = {
          peerId: node.peerId.toString(),
          solanaAddress: solanaAddress(node.peerId),
          addrs: node.getMultiaddrs().map(String),
          pid: process.pid,
          startedAt: this.startedAt,
          uptimeMs: Date.now() - this.startedAt,
          rssBytes: process.memoryUsage().rss,
          connectedPeers: connectedPeers(node).size,
          advert: advert == null ? null : peerRow(advert),
          capabilityKeys: caps.capabilityKeys(),
          providerRecords: caps.providerRecords(),
          join: this.options.join?.() ?? { state: 'standalone', connected: 0, attempts: 0, closestPeers: 0, failures: [] },
          solana: solanaStatus(this.options.solanaRpc)
        }
        send(res, 200, body)
        return
      }
      case 'GET /v1/peers': {
        const now = Date.now()
        const connected = connectedPeers(node)
        const self = node.peerId.toString()
        const body: PeersResponse = {
          now,
          peers: caps.getPeers().map(p => {
            const id = p.peerId.toString()
            return peerRow(p, now, peerTrust(node, id), id === self || connected.has(id))
          })
        }
        send(res, 200, body)
        return
      }
      case 'GET /v1/find': {
        const source = url.searchParams.get('source') ?? 'all'
        const sources = source === 'all' ? ['table', 'dht'] : [source]
        if (!sources.every(s => s === 'table' || s === 'dht')) {
          throw new HttpError(400, 'source must be table, dht or all')
        }
        const min = optionalCount(url.searchParams.get('minFreeSlots'), 'minFreeSlots')
        const max = optionalCount(url.searchParams.get('max'), 'max')
        const claimed = url.searchParams.get('claimed') ?? 'false'
        if (claimed !== 'true' && claimed !== 'false') {
          throw new HttpError(400, 'claimed must be true or false')
        }
        const gpu = url.searchParams.get('gpu') ?? undefined
        const start = performance.now()
        const found = await caps.findPeers({
          workload: url.searchParams.get('workload') ?? undefined,
          model: url.searchParams.get('model') ?? undefined,
          gpu,
          minFreeSlots: min == null ? undefined : Number(min)
        }, { sources: sources, maxProviders: max == null ? undefined : Math.max(1, Number(max)) })
        const self = node.peerId.toString()
        const connected = connectedPeers(node)
        const rows = found.map(p => {
          const id = p.peerId.toString()
          return peerRow(p, undefined, peerTrust(node, id), id === self || connected.has(id))
        })
        // a GPU is believed when measured (a speed beyond the peer's CPUs); this node's own is its own probe
        const believed = gpu == null || claimed === 'true' ? rows : rows.filter(r => r.peerId === self || r.trust?.gpus.status === 'measured')
        const body: FindResponse = { elapsedMs: performance.now() - start, peers: believed, omittedClaims: rows.length - believed.length }
        send(res, 200, body)
        return
      }
      case 'POST /v1/capabilities': {
        const change = await readJson(req)
        const allowed = ['loadPermille', 'freeSlots', 'totalSlots', 'priceHint', 'workloads']
        for (const key of Object.keys(change)) {
          if (!allowed.includes(key)) {
            throw new HttpError(400, `unknown field ${key}; allowed: ${allowed.join(', ')}`)
          }
        }
        try {
          caps.update(change)
        } catch (err: any) {
          throw new HttpError(400, err.message)
        }
        const advert = await caps.publish()
        const body: PublishResponse = { seq: advert.seq, issuedAt: advert.issuedAt }
        send(res, 200, body)
        return
      }
      case 'GET /v1/compute': {
        const body: ComputeResponse = {
          ...node.services.compute.stats(),
          offered: node.services.compute.offered().map(w => `${w.id}@${w.version}`),
          installed: node.services.compute.registry.list().map(w => `${w.id}@${w.version}`)
        }
        send(res, 200, body)
        return
      }
      case 'GET /v1/jobs': {
        const body: JobsResponse = { now: Date.now(), jobs: node.services.compute.jobs() }
        send(res, 200, body)
        return
      }
      case 'POST /v1/jobs':
        await runJob(node, req, res)
        return
      case 'POST /v1/jobs/plan':
        await planJob(node, req, res)
        return
      case 'POST /v1/stop':
        send(res, 202, { stopping: true })
        setImmediate(this.options.onStop)
        return
      default:
        throw new HttpError(404, `no route ${route}`)
    }
  }

  /**
   * What a web page in a browser could make of this API, refused before any route runs:
   * - a `Host` other than this server's own loopback names (DNS rebinding: a page whose name
   *   resolves to 127.0.0.1 sends its own name, so it reads nothing, not even /metrics);
   * - an `Origin` other than this server's own (a page on another origin; browsers send it on
   *   every cross-origin POST and on fetches with headers), and `Sec-Fetch-Site: cross-site`;
   * - a CORS preflight (`OPTIONS`): no route allows another origin, and nothing answers with
   *   `Access-Control-Allow-*`, so a browser never lets another page send the bearer token.
   * Clients that are not browsers (the CLI, curl, Prometheus on this host) send none of these.
   */
  private checkBrowserOrigin (req: IncomingMessage): void {
    const port = this.url === '' ? undefined : new URL(this.url).port
    const own = port == null ? [] : [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]
    const host = req.headers.host
    if (host != null && !own.includes(host.toLowerCase())) {
      throw new HttpError(421, `host ${JSON.stringify(host.slice(0, 100))} is not this control API (it answers to 127.0.0.1:${port ?? '?'} and localhost:${port ?? '?'} only)`)
    }
    const origin = req.headers.origin
    if (origin != null && !own.some(o => origin.toLowerCase() === `http://${o}`)) {
      throw new HttpError(403, `requests from web origin ${JSON.stringify(origin.slice(0, 100))} are refused`)
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      throw new HttpError(403, 'cross-site requests are refused')
    }
    if (req.method === 'OPTIONS') {
      throw new HttpError(405, 'no cross-origin requests: this API answers no CORS preflight')
    }
  }

  private authorize (req: IncomingMessage): void {
    const header = req.headers.authorization ?? ''
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
    const expected = Buffer.from(this.token)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new HttpError(401, 'missing or wrong bearer token (see control.token in the data dir)')
    }
  }
}
