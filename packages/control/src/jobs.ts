import { peerIdFromString } from '@libp2p/peer-id'
import { parseVerification } from '@shardmesh/compute'
import { MAX_JOB_BODY } from './constants.js'
import { HttpError } from './errors.js'
import { readJson, send } from './http.js'
import type { ControlNode } from './node.js'
import type { JobEvent, JobRequest, JobResultJson, PlanRequestJson, PlanResponse } from './types.js'
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

function optionalBoolean (body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key]
  if (value == null) {
    return undefined
  }
  if (typeof value !== 'boolean') {
    throw new HttpError(400, `${key} must be true or false`)
  }
  return value
}

/** `minScore`, when given: a score from 0 to 1. */
function optionalScore (body: Record<string, unknown>): number | undefined {
  const value = body.minScore
  if (value == null) {
    return undefined
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new HttpError(400, 'minScore must be a number from 0 to 1')
  }
  return value
}

/** The fields POST /v1/jobs and POST /v1/jobs/plan share: which workload, how verified, on which peers. */
function parsePlacement (body: any): PlanRequestJson {
  if (typeof body.workload !== 'string' || body.workload === '') {
    throw new HttpError(400, 'workload is required')
  }
  if (body.peers != null && (!Array.isArray(body.peers) || !body.peers.every((p: unknown) => typeof p === 'string'))) {
    throw new HttpError(400, 'peers must be an array of peer ids')
  }
  if (body.verification != null) {
    if (typeof body.verification !== 'string') {
      throw new HttpError(400, 'verification must be none, spot-check:<p> or replicate:<k>')
    }
    try {
      parseVerification(body.verification)
    } catch (err: any) {
      throw new HttpError(400, err.message)
    }
  }
  return {
    workload: body.workload,
    version: typeof body.version === 'string' ? body.version : undefined,
    verification: body.verification,
    peers: body.peers,
    includeSelf: typeof body.includeSelf === 'boolean' ? body.includeSelf : undefined,
    minScore: optionalScore(body)
  }
}

/** `pay`, when given: `{ lamportsPerItem }`, a whole number of lamports from 1 to 2^53-1 (decimal string or number). */
function optionalPay (body: Record<string, unknown>): JobRequest['pay'] {
  const pay = body.pay
  if (pay == null) {
    return undefined
  }
  const price = typeof pay === 'object' && !Array.isArray(pay) ? (pay as Record<string, unknown>).lamportsPerItem : undefined
  const text = typeof price === 'number' && Number.isSafeInteger(price) ? String(price) : price
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,15}$/.test(text) || BigInt(text) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new HttpError(400, `pay must be { lamportsPerItem }, a whole number of lamports from 1 to ${Number.MAX_SAFE_INTEGER}`)
  }
  return { lamportsPerItem: text }
}

function parseRequest (body: any): JobRequest {
  const placement = parsePlacement(body)
  if (!Array.isArray(body.items) || !body.items.every((i: unknown) => typeof i === 'string')) {
    throw new HttpError(400, 'items must be an array of base64 strings')
  }
  return {
    workload: placement.workload,
    version: placement.version,
    items: body.items,
    shardSize: optionalNumber(body, 'shardSize'),
    verification: placement.verification,
    maxRetries: optionalNumber(body, 'maxRetries'),
    idleTimeout: optionalNumber(body, 'idleTimeout'),
    hedge: typeof body.hedge === 'boolean' ? body.hedge : undefined,
    peers: placement.peers,
    includeSelf: placement.includeSelf,
    minScore: placement.minScore,
    model: typeof body.model === 'string' ? body.model : undefined,
    pay: optionalPay(body)
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
      minScore: request.minScore,
      pay: request.pay == null ? undefined : { lamportsPerItem: BigInt(request.pay.lamportsPerItem) },
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

/** Errors of `plan()` that come from the request itself (answered 400). */
const PLAN_INPUT_ERRORS: ReadonlySet<unknown> = new Set(['ERR_UNKNOWN_WORKLOAD'])

/**
 * POST /v1/jobs/plan: which peers a job would use now, each with its window, and why each
 * other peer would not be used. Validated as POST /v1/jobs is (peers must be known, the
 * workload installed); `challenge: true` runs the challenges a real job would run first, so it
 * may take as long as a challenge's deadline. Closing the connection abandons the plan.
 */
export async function planJob (node: ControlNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req)
  const request = parsePlacement(body)
  const challenge = optionalBoolean(body, 'challenge')
  const peers = request.peers?.map(p => knownPeer(node, p))
  // `id@version` in `workload` is the same as `version` apart
  const at = request.version == null ? request.workload.lastIndexOf('@') : -1
  const id = at > 0 ? request.workload.slice(0, at) : request.workload
  const version = at > 0 ? request.workload.slice(at + 1) : request.version
  let workload
  try {
    workload = node.services.compute.registry.require(id, version)
  } catch (err: any) {
    throw new HttpError(400, err.message)
  }
  const controller = new AbortController()
  res.on('close', () => { if (!res.writableFinished) controller.abort() })
  let report
  try {
    report = await node.services.compute.plan({
      workload: workload.id,
      version: workload.version,
      verification: request.verification,
      peers,
      includeSelf: request.includeSelf,
      minScore: request.minScore,
      challenge
    }, { signal: controller.signal })
  } catch (err: any) {
    // what the caller asked cannot be planned as asked: their input, not a failure of the node
    throw PLAN_INPUT_ERRORS.has(err.code) ? new HttpError(400, err.message) : err
  }
  const json: PlanResponse = report
  send(res, 200, json)
}
