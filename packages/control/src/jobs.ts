import { peerIdFromString } from '@libp2p/peer-id'
import { parseVerification } from '@shardmesh/compute'
import { MAX_JOB_BODY } from './constants.js'
import { HttpError } from './errors.js'
import { readJson } from './http.js'
import type { ControlNode } from './node.js'
import type { JobEvent, JobRequest, JobResultJson } from './types.js'
import type { PeerId } from '@libp2p/interface'
import type { IncomingMessage, ServerResponse } from 'node:http'

function optionalNumber (body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key]
  if (value == null) {
    return undefined
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HttpError(400, `${key} must be a non-negative number`)
  }
  return value
}

function parseRequest (body: any): JobRequest {
  if (typeof body.workload !== 'string' || body.workload === '') {
    throw new HttpError(400, 'workload is required')
  }
  if (!Array.isArray(body.items) || !body.items.every((i: unknown) => typeof i === 'string')) {
    throw new HttpError(400, 'items must be an array of base64 strings')
  }
  if (body.peers != null && (!Array.isArray(body.peers) || !body.peers.every((p: unknown) => typeof p === 'string'))) {
    throw new HttpError(400, 'peers must be an array of peer ids')
  }
  return {
    workload: body.workload,
    version: typeof body.version === 'string' ? body.version : undefined,
    items: body.items,
    shardSize: optionalNumber(body, 'shardSize'),
    verification: typeof body.verification === 'string' ? body.verification : undefined,
    maxRetries: optionalNumber(body, 'maxRetries'),
    idleTimeout: optionalNumber(body, 'idleTimeout'),
    hedge: typeof body.hedge === 'boolean' ? body.hedge : undefined,
    peers: body.peers,
    includeSelf: typeof body.includeSelf === 'boolean' ? body.includeSelf : undefined,
    model: typeof body.model === 'string' ? body.model : undefined
  }
}

/**
 * A peer a job names: a peer id this node has in its peer table (or its own). A peer it knows
 * nothing of would only fail later, as a dial error from deep inside the job.
 */
function knownPeer (node: ControlNode, text: string): PeerId {
  let id: PeerId
  try {
    id = peerIdFromString(text)
  } catch {
    throw new HttpError(400, `peers: "${text.slice(0, 140)}" is not a peer id`)
  }
  if (!id.equals(node.peerId) && node.services.capabilities.getPeer(id) == null) {
    throw new HttpError(400, `peer ${text} is not in this node's peer table (its peers: shardmesh peers)`)
  }
  return id
}

/**
 * POST /v1/jobs: run a job from this node and stream NDJSON events back: `started`, then
 * `progress` after each shard, then one `result` or `error`. Closing the connection cancels
 * the job (every peer is told and frees its slots).
 */
export async function runJob (node: ControlNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = parseRequest(await readJson(req, MAX_JOB_BODY))
  const peers = request.peers?.map(p => knownPeer(node, p))
  if (request.verification != null) {
    try {
      parseVerification(request.verification)
    } catch (err: any) {
      throw new HttpError(400, err.message)
    }
  }
  const controller = new AbortController()
  res.on('close', () => { if (!res.writableFinished) controller.abort() })
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', connection: 'close' })
  const emit = (event: JobEvent): void => { res.write(JSON.stringify(event) + '\n') }
  emit({ event: 'started', jobItems: request.items.length, peers: peers?.length ?? 0 })
  try {
    const result = await node.services.compute.run({
      workload: request.workload,
      version: request.version,
      items: request.items.map(i => Buffer.from(i, 'base64')),
      shardSize: request.shardSize,
      model: request.model != null ? Buffer.from(request.model, 'base64') : undefined
    }, {
      signal: controller.signal,
      verification: request.verification,
      maxRetries: request.maxRetries,
      idleTimeout: request.idleTimeout,
      hedge: request.hedge,
      peers,
      includeSelf: request.includeSelf,
      onProgress: (p) => { emit({ event: 'progress', ...p }) }
    })
    const json: JobResultJson = {
      ...result,
      outputs: result.outputs.map(o => Buffer.from(o).toString('base64')),
      receipts: result.receipts.map(r => Buffer.from(r).toString('base64'))
    }
    emit({ event: 'result', result: json })
  } catch (err: any) {
    emit({ event: 'error', code: String(err.code ?? 'ERR_INTERNAL'), message: String(err.message ?? err) })
  }
  res.end()
}
