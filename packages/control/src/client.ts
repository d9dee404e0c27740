import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { BATCH_FETCH_TIMEOUT, CONTROL_FILE, FLUSH_TIMEOUT, PLAN_TIMEOUT, PULL_TIMEOUT, REQUEST_TIMEOUT, TOKEN_FILE } from './constants.js'
import { ControlRequestError, NodeNotRunningError } from './errors.js'
import type { ReceiptBatchRow, ReceiptPullResponse, ReceiptResponse, ReceiptsResponse, ReceiptsStatsJson } from './types.js'
import type { ComputeResponse, ControlInfo, FindResponse, JobEvent, JobRequest, JobResultJson, JobsResponse, PeersResponse, PlanRequestJson, PlanResponse, PublishResponse, StatusResponse } from './types.js'

/** A client for a running node's control API, found through its data dir. */
export class ControlClient {
  constructor (readonly url: string, private readonly token: string) {}

  static async fromDataDir (dataDir: string): Promise<ControlClient> {
    let info: ControlInfo
    let token: string
    try {
      info = JSON.parse(await readFile(join(dataDir, CONTROL_FILE), 'utf8'))
      token = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim()
    } catch (err: any) {
      throw new NodeNotRunningError(`no running node in ${dataDir} (start one with: shardmesh node start --data-dir ${dataDir}): ${err.code ?? err.message}`)
    }
    return new ControlClient(info.url, token)
  }

  async status (): Promise<StatusResponse> {
    return this.request('GET', '/v1/status')
  }

  async peers (): Promise<PeersResponse> {
    return this.request('GET', '/v1/peers')
  }

  /**
   * Peers that match `query`, from the node's table and/or the DHT. A `gpu` lookup lists only
   * peers whose GPU claim was measured (`omittedClaims` counts the rest) unless `claimed` is true.
   */
  async find (query: { workload?: string, model?: string, gpu?: string, source?: 'table' | 'dht' | 'all', max?: number, claimed?: boolean }): Promise<FindResponse> {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null).map(([k, v]): [string, string] => [k, String(v)]))
    return this.request('GET', `/v1/find?${params.toString()}`)
  }

  /**
   * Which peers a job would use now, each with its window, and why each other peer would not be
   * used. With `challenge: true` the node first runs the challenges a real job would, which
   * may take up to a challenge's deadline.
   */
  async plan (request: PlanRequestJson): Promise<PlanResponse> {
    return this.request('POST', '/v1/jobs/plan', request, request.challenge === true ? PLAN_TIMEOUT : REQUEST_TIMEOUT)
  }

  async updateCapabilities (change: Record<string, unknown>): Promise<PublishResponse> {
    return this.request('POST', '/v1/capabilities', change)
  }

  async compute (): Promise<ComputeResponse> {
    return this.request('GET', '/v1/compute')
  }

  /**
   * The jobs the node requested: those running now (oldest first) with their progress, shards
   * per peer, retries, hedges, disputes and placement, then the last that ended (newest first).
   */
  async jobs (): Promise<JobsResponse> {
    return this.request('GET', '/v1/jobs')
  }

  /**
   * Run a job on the node and follow its NDJSON events; resolves with the result, rejects
   * with the job's error (its `code` kept). Aborting `signal` closes the connection, which
   * cancels the job on every peer.
   */
  async runJob (job: JobRequest, options: { signal?: AbortSignal, onEvent?(event: JobEvent): void } = {}): Promise<JobResultJson> {
    let res: Response
    try {
      res = await fetch(`${this.url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(job),
        signal: options.signal
      })
    } catch (err: any) {
      if (options.signal?.aborted === true) {
        throw err
      }
      throw new NodeNotRunningError(`node at ${this.url} does not answer: ${err.cause?.code ?? err.message}`)
    }
    if (!res.ok || res.body == null) {
      const json: any = await res.json().catch(() => ({}))
      throw new ControlRequestError(res.status, json.error ?? `the node answered POST /v1/jobs with ${res.status} ${res.statusText}`)
    }
    const decoder = new TextDecoder()
    let buffered = ''
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true })
      let newline
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const event = JSON.parse(buffered.slice(0, newline)) as JobEvent
        buffered = buffered.slice(newline + 1)
        options.onEvent?.(event)
        if (event.event === 'result') {
          return event.result
        }
        if (event.event === 'error') {
          throw Object.assign(new Error(event.message), { code: event.code })
        }
      }
    }
    throw new Error('the node closed the job stream without a result')
  }

  async receipts (query: { job?: string, peer?: string, role?: 'requester' | 'worker', anchored?: boolean, limit?: number, offset?: number } = {}): Promise<ReceiptsResponse> {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null).map(([k, v]): [string, string] => [k, String(v)]))
    return this.request('GET', `/v1/receipts?${params.toString()}`)
  }

  async receipt (id: string): Promise<ReceiptResponse> {
    return this.request('GET', `/v1/receipts/${encodeURIComponent(id)}`)
  }

  async receiptBatches (): Promise<{ batches: ReceiptBatchRow[] }> {
    return this.request('GET', '/v1/receipts/batches')
  }

  /**
   * A sealed batch as a `shardmesh-receipt-bundle/1` object (decode and check it with
   * `@shardmesh/receipts`): this node's own, or with `from` (a peer id) the one the node fetched
   * from that peer over `/shardmesh/receipt-batches/1.0.0` and checked (404: the peer does not
   * hold it, 502: it could not be fetched or failed a check, 504: no answer in time).
   */
  async receiptBundle (root: string, options: { from?: string } = {}): Promise<unknown> {
    const path = `/v1/receipts/batches/${encodeURIComponent(root)}/bundle`
    if (options.from == null) {
      return this.request('GET', path)
    }
    return this.request('GET', `${path}?from=${encodeURIComponent(options.from)}`, undefined, BATCH_FETCH_TIMEOUT + 10_000)
  }

  /** Seal every stored receipt and wait until all are anchored. */
  async flushReceipts (timeoutMs = FLUSH_TIMEOUT): Promise<{ stats: ReceiptsStatsJson }> {
    return this.request('POST', '/v1/receipts/flush', { timeoutMs }, timeoutMs + 10_000)
  }

  /**
   * One round of the receipt-proof pull now: the node asks each requester of the worker receipts
   * it holds without a proof for theirs, checks and stores them; resolves with what it got.
   */
  async pullReceiptProofs (timeoutMs = PULL_TIMEOUT): Promise<ReceiptPullResponse> {
    return this.request('POST', '/v1/receipts/pull', { timeoutMs }, timeoutMs + 10_000)
  }

  async stop (): Promise<void> {
    await this.request('POST', '/v1/stop', {})
  }

  async metrics (): Promise<string> {
    const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) })
    return res.text()
  }

  private async request <T> (method: string, path: string, body?: unknown, timeout = REQUEST_TIMEOUT): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: body == null ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout)
      })
    } catch (err: any) {
      throw new NodeNotRunningError(`node at ${this.url} does not answer: ${err.cause?.code ?? err.message}`)
    }
    const json: any = await res.json().catch(() => ({}))
    if (!res.ok) {
      throw new ControlRequestError(res.status, json.error ?? `the node answered ${method} ${path} with ${res.status} ${res.statusText}`)
    }
    return json as T
  }
}
