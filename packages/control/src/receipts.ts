import { MAX_BUNDLE_RECEIPTS, batchBundle, encodeBundle, encodeReceiptProof, verifyReceipt } from '@shardmesh/receipts'
import { peerIdFromString } from '@libp2p/peer-id'
import { linkSignals } from '@shardmesh/protocol'
import { BATCH_FETCH_TIMEOUT, FLUSH_TIMEOUT, MAX_LIST, PULL_TIMEOUT } from './constants.js'
import { HttpError } from './errors.js'
import { optionalCount, readJson, send } from './http.js'
import type { ControlNode } from './node.js'
import type { ReceiptBatchRow, ReceiptPullResponse, ReceiptResponse, ReceiptRow, ReceiptsResponse, ReceiptsStatsJson } from './types.js'
import type { IdKind, ReceiptQuery, StoredReceipt } from '@shardmesh/receipts'
import type { PeerId } from '@libp2p/interface'
import type { IncomingMessage, ServerResponse } from 'node:http'

export function receiptRow (r: StoredReceipt): ReceiptRow {
  return {
    id: r.id,
    jobId: r.jobId,
    shardIndex: r.shardIndex,
    workload: r.workload,
    worker: r.worker,
    requester: r.requester,
    storedAt: r.storedAt,
    role: r.role,
    batch: r.batch ?? null,
    anchor: r.anchor == null ? null : { signature: r.anchor.signature, slot: r.anchor.slot.toString(), by: r.anchor.by ?? 'requester' }
  }
}

export function receiptsStats (node: ControlNode): ReceiptsStatsJson {
  const s = node.services.receipts.stats()
  return { ...s, anchor: s.anchor == null ? undefined : { ...s.anchor, feesLamports: s.anchor.feesLamports.toString() } }
}

const ID_SYNTAX: Record<IdKind, { pattern: RegExp, what: string }> = {
  receipt: { pattern: /^[0-9a-fA-F]{1,64}$/, what: 'a receipt id is hex (64 characters, or a unique prefix of them)' },
  job: { pattern: /^[0-9a-fA-F]{1,64}$/, what: 'job must be hex (a job id, or a unique prefix of one)' },
  peer: { pattern: /^[1-9A-HJ-NP-Za-km-z]{1,128}$/, what: 'peer must be base58 (a peer id, or a unique prefix of one)' }
}

/**
 * The one stored receipt, job or peer id that starts with `text`, as git takes a unique
 * prefix of a commit id: 404 when none matches, 409 when several do.
 */
export function resolveId (node: ControlNode, kind: IdKind, text: string): string {
  const syntax = ID_SYNTAX[kind]
  if (!syntax.pattern.test(text)) {
    throw new HttpError(400, `${syntax.what}, not "${text.slice(0, 140)}"`)
  }
  const { count, matches } = node.services.receipts.matchPrefix(kind, text, 1)
  const what = kind === 'receipt' ? '' : `${kind} `
  if (count === 0) {
    throw new HttpError(404, `no receipt matches ${what}${text}`)
  }
  if (count > 1) {
    throw new HttpError(409, `${what}${text} is ambiguous: matches ${count} ${kind}s${kind === 'receipt' ? '' : ' of stored receipts'} (give more characters)`)
  }
  return matches[0]
}

/** `/v1/receipts…` routes; returns false when the path is not one of them. */
export async function routeReceipts (node: ControlNode, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const receipts = node.services.receipts
  const method = req.method ?? 'GET'
  if (method === 'GET' && url.pathname === '/v1/receipts') {
    const anchored = url.searchParams.get('anchored')
    if (anchored != null && anchored !== 'true' && anchored !== 'false') {
      throw new HttpError(400, 'anchored must be true or false')
    }
    const role = url.searchParams.get('role')
    if (role != null && role !== 'requester' && role !== 'worker') {
      throw new HttpError(400, 'role must be requester or worker')
    }
    const job = url.searchParams.get('job')
    const peer = url.searchParams.get('peer')
    const enabled = receipts.stats().enabled
    const query: ReceiptQuery = {
      jobId: job == null || !enabled ? job ?? undefined : resolveId(node, 'job', job),
      peer: peer == null || !enabled ? peer ?? undefined : resolveId(node, 'peer', peer),
      role: role === 'requester' || role === 'worker' ? role : undefined,
      anchored: anchored == null ? undefined : anchored === 'true'
    }
    const limit = optionalCount(url.searchParams.get('limit'), 'limit') ?? 100
    const offset = optionalCount(url.searchParams.get('offset'), 'offset') ?? 0
    const matched = receipts.summarize(query)
    const body: ReceiptsResponse = {
      stats: receiptsStats(node),
      matched,
      total: matched.receipts,
      receipts: receipts.list({ ...query, offset, limit: Math.min(limit, MAX_LIST) }).map(receiptRow)
    }
    send(res, 200, body)
    return true
  }
  if (method === 'GET' && url.pathname === '/v1/receipts/batches') {
    // `limit`: the newest batches only (as the dashboard asks); all of them, oldest first, without it
    const limit = optionalCount(url.searchParams.get('limit'), 'limit')
    const all = receipts.batches()
    const batches = limit == null ? all : all.sort((a, b) => b.sealedAt - a.sealedAt).slice(0, limit)
    const body: ReceiptBatchRow[] = batches.map(b => ({
      root: b.root,
      count: b.count,
      sealedAt: b.sealedAt,
      anchor: b.anchor == null ? null : { signature: b.anchor.signature, slot: b.anchor.slot.toString(), fee: b.anchor.fee?.toString() ?? null, anchoredAt: b.anchor.anchoredAt }
    }))
    send(res, 200, { batches: body, total: all.length })
    return true
  }
  const b = /^\/v1\/receipts\/batches\/([^/]+)\/bundle$/.exec(url.pathname)
  if (method === 'GET' && b != null) {
    // the batch bundle file (shardmesh-receipt-bundle/1) of one sealed batch, by its full root
    const root = decodeURIComponent(b[1]).toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(root)) {
      throw new HttpError(400, `a batch root is 64 hex characters, not "${root.slice(0, 140)}"`)
    }
    const from = url.searchParams.get('from')
    if (from != null) {
      send(res, 200, await bundleFrom(node, root, from))
      return true
    }
    const batch = receipts.batches().find(batch => batch.root === root)
    if (batch == null) {
      throw new HttpError(404, `no batch with root ${root}`)
    }
    if (batch.receiptIds.length > MAX_BUNDLE_RECEIPTS) {
      throw new HttpError(413, `batch ${root} holds ${batch.receiptIds.length} receipts, over the ${MAX_BUNDLE_RECEIPTS} a bundle holds`)
    }
    send(res, 200, JSON.parse(encodeBundle(batchBundle(batch, receipts))))
    return true
  }
  if (method === 'POST' && url.pathname === '/v1/receipts/flush') {
    // no body, or {} : the default timeout
    const body = await readJson(req)
    const timeout = typeof body.timeoutMs === 'number' && body.timeoutMs > 0 ? body.timeoutMs : FLUSH_TIMEOUT
    const signal = AbortSignal.timeout(timeout)
    try {
      await receipts.flush({ signal })
    } catch (err: any) {
      const last = receipts.stats().anchor?.lastError
      throw new HttpError(signal.aborted ? 504 : 409, signal.aborted ? `receipts not all anchored within ${timeout} ms${last != null ? ` (last error: ${last})` : ''}` : err.message)
    }
    send(res, 200, { stats: receiptsStats(node) })
    return true
  }
  if (method === 'POST' && url.pathname === '/v1/receipts/pull') {
    await pullProofs(node, req, res)
    return true
  }
  const m = /^\/v1\/receipts\/([^/]+)$/.exec(url.pathname)
  if (method === 'GET' && m != null) {
    const stored = receipts.get(resolveId(node, 'receipt', decodeURIComponent(m[1])))
    if (stored == null) {
      throw new HttpError(404, `no receipt matches ${m[1]}`)
    }
    const r = await verifyReceipt(stored.bytes)
    const proof = receipts.proof(stored.id)
    const body: ReceiptResponse = {
      receipt: {
        ...receiptRow(stored),
        workloadVersion: r.workloadVersion,
        items: r.items,
        cpuMicros: r.cpuMicros,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        inputDigest: Buffer.from(r.inputDigest).toString('hex'),
        outputDigest: Buffer.from(r.outputDigest).toString('hex'),
        verification: r.verification ?? null
      },
      proof: proof == null ? null : JSON.parse(encodeReceiptProof(proof))
    }
    send(res, 200, body)
    return true
  }
  return false
}


/**
 * `POST /v1/receipts/pull`: one round of the receipt-proof pull now (a worker asks each of its
 * requesters for the proofs of the receipts it holds without one) and its outcome; `{ timeoutMs }`
 * optional. A round already under way is waited for first, as `pullProofs()` does.
 */
async function pullProofs (node: ControlNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req)
  const timeout = typeof body.timeoutMs === 'number' && body.timeoutMs > 0 ? body.timeoutMs : PULL_TIMEOUT
  const deadline = linkSignals([], timeout)
  let pulled: ReceiptPullResponse['pulled']
  try {
    pulled = await node.services.receipts.pullProofs({ signal: deadline.signal })
  } catch (err: any) {
    throw new HttpError(deadline.signal.aborted ? 504 : 409, deadline.signal.aborted ? `the receipt proof pull did not end within ${timeout} ms` : err.message)
  } finally {
    deadline.clear()
  }
  const reply: ReceiptPullResponse = { pulled, stats: receiptsStats(node) }
  send(res, 200, reply)
}

/** How the failure of a batch fetch from a peer is answered: not held 404, no answer in time 504, the rest 502. */
const BATCH_FETCH_STATUS: Record<string, number> = { 'not-held': 404, timeout: 504 }

/**
 * `GET /v1/receipts/batches/ROOT/bundle?from=PEER`: the bundle of batch ROOT fetched from PEER
 * over `/shardmesh/receipt-batches/1.0.0`, checked by this node as anyone would (the root
 * recomputed, every receipt, and the anchor on its chain when it has one) before it is returned.
 */
async function bundleFrom (node: ControlNode, root: string, from: string): Promise<unknown> {
  let peer: PeerId
  try {
    peer = peerIdFromString(from)
  } catch {
    throw new HttpError(400, `from must be a peer id, not "${from.slice(0, 140)}"`)
  }
  const deadline = linkSignals([], BATCH_FETCH_TIMEOUT)
  try {
    const checked = await node.services.receipts.fetchBatch(peer, root, { signal: deadline.signal })
    return JSON.parse(encodeBundle(checked.bundle))
  } catch (err: any) {
    if (err?.name === 'BatchFetchError') {
      throw new HttpError(BATCH_FETCH_STATUS[err.reason] ?? 502, `batch ${root} from ${peer.toString()}: ${err.message}`)
    }
    if (deadline.signal.aborted) {
      throw new HttpError(504, `batch ${root} from ${peer.toString()}: no answer within ${BATCH_FETCH_TIMEOUT} ms`)
    }
    throw new HttpError(409, err?.message ?? String(err))
  } finally {
    deadline.clear()
  }
}
