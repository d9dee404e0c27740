import { readFile, stat, writeFile } from 'node:fs/promises'
import { plural } from '@shardmesh/protocol/wording'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseInteger } from '../args.js'
import { ControlClient } from '@shardmesh/control/client'
import { resolveDataDir } from '../data-dir.js'
import { shortId, table } from '../format.js'
import type { ReceiptRow } from '@shardmesh/control/client'
import type { AnchorTransfers, CheckedBundle, ReceiptBundle, ReceiptProof, TallyRow } from '@shardmesh/receipts'

export const RECEIPTS_HELP = `Usage: shardmesh receipts <list|show|verify|bundle|tally> [options]

The work receipts this node holds: as a requester, those it countersigned (each signed by
the worker that did the shard, countersigned by this node, stored durably, batched into
Merkle trees and anchored on Solana with a memo signed by the node key); as a worker, those
of its own work that its requesters countersigned and sent back (anchored by the requester).

  receipts list [--job ID] [--peer PEER_ID] [--role worker|requester]
                [--anchored | --unanchored] [--limit N]
                                    both roles unless --role, with a role column
  receipts show ID [--out FILE]     one receipt; --out writes its portable proof file
  receipts verify FILE|ID [--solana-rpc URL]
                                    check both signatures, the Merkle path, and that the
                                    anchor transaction exists with that memo, signed by the
                                    requester; names the check that failed. A FILE needs
                                    nothing but itself and an RPC endpoint.
  receipts bundle ROOT --out FILE [--from PEER_ID] [--json]
                                    the bundle file of a sealed batch (every receipt, leaf
                                    order): anyone recomputes its root and checks each one.
                                    --from: the batch as the node fetched it from that peer
                                    (/shardmesh/receipt-batches/1.0.0, checked, its anchor
                                    on the node's chain)
  receipts tally [--bundle FILE]... [--worker PEER_ID] [--since ISO|MS] [--json|--csv]
                 [--solana-rpc URL] per-worker totals (shards, items, cpu time, by workload)
                                    over checked bundles, each receipt once; identical,
                                    byte for byte, for the same bundles in any order;
                                    --since counts shards finished at or after it.
                                    With --bundle files it needs no node (and checks each
                                    anchor when --solana-rpc is given); without, it
                                    tallies the node's anchored batches (checked against
                                    --solana-rpc, or the node's own cluster). Lamports owed
                                    (items x the price each receipt states, accepted or
                                    checked work); with a chain, paid (transfers from the
                                    requester in the anchor transactions) and missing

Every id (a receipt's, --job's, --peer's) may be shortened to a unique prefix, as 'list'
prints them: 'receipts show 5a3f09c2' works while one receipt's id starts with 5a3f09c2.

Options:
  --data-dir DIR     the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --solana-rpc URL   the cluster the anchor is on (verify; default: the node's own)
  --solana-ws URL    its WebSocket endpoint (default: the RPC's host and port)
  --json             print JSON
  -h, --help         this help

Exit codes: 0 ok, 1 failure (for verify: a check failed), 2 usage error.
`

export async function receiptsCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '--help' || sub === '-h' || sub == null) {
    process.stdout.write(RECEIPTS_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  switch (sub) {
    case 'list': return list(rest)
    case 'show': return show(rest)
    case 'verify': return verify(rest)
    case 'bundle': return bundle(rest)
    case 'tally': return tallyCommand(rest)
    default: throw new UsageError(`receipts: unknown subcommand "${sub}" (try: shardmesh receipts --help)`)
  }
}

async function list (argv: string[]): Promise<number> {
  const { values } = parse('receipts list', argv, {
    'data-dir': { type: 'string' },
    job: { type: 'string' },
    peer: { type: 'string' },
    role: { type: 'string' },
    anchored: { type: 'boolean' },
    unanchored: { type: 'boolean' },
    limit: { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(RECEIPTS_HELP)
    return EXIT_OK
  }
  if (values.anchored === true && values.unanchored === true) {
    throw new UsageError('receipts list: --anchored and --unanchored exclude each other')
  }
  const limit = parseInteger(values.limit ?? '100', '--limit', 1, 10_000)
  if (values.job != null && !HEX_PREFIX.test(values.job)) {
    throw new UsageError(`receipts list: --job must be a job id or a prefix of one (hex), not "${values.job}"`)
  }
  if (values.peer != null && !BASE58_PREFIX.test(values.peer)) {
    throw new UsageError(`receipts list: --peer must be a peer id or a prefix of one (base58), not "${values.peer}"`)
  }
  const role = values.role
  if (role != null && role !== 'worker' && role !== 'requester') {
    throw new UsageError(`receipts list: --role is worker or requester, not "${role}"`)
  }
  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const res = await client.receipts({
    job: values.job,
    peer: values.peer,
    role,
    anchored: values.anchored === true ? true : values.unanchored === true ? false : undefined,
    limit
  })
  if (values.json === true) {
    process.stdout.write(JSON.stringify(res) + '\n')
    return EXIT_OK
  }
  const s = res.stats
  if (!s.enabled) {
    process.stdout.write('this node stores no receipts (it has no data dir)\n')
    return EXIT_OK
  }
  // the totals are those of the filters: the whole store without any
  const m = res.matched
  const filtered = values.job != null || values.peer != null || role != null || values.anchored === true || values.unanchored === true
  const counted = filtered ? `${plural(m.receipts, 'receipt')} match (of ${s.receipts} stored)` : plural(m.receipts, 'receipt')
  process.stdout.write(`${counted}, ${m.batched} batched in ${plural(m.batches, 'batch', 'batches')}, ${m.anchored} anchored in ${plural(m.anchoredBatches, 'transaction')}${s.anchoring ? ` by ${s.address ?? '?'}` : ' (anchoring off: no --solana-rpc)'}\n`)
  if (s.anchor?.lastError != null) {
    process.stdout.write(`last anchoring error: ${s.anchor.lastError}\n`)
  }
  if (res.receipts.length > 0) {
    process.stdout.write('\n' + renderReceipts(res.receipts) + '\n')
  }
  if (res.total > res.receipts.length) {
    process.stdout.write(`(${res.receipts.length} of ${res.total} shown; --limit N for more)\n`)
  }
  return EXIT_OK
}

function renderReceipts (rows: ReceiptRow[]): string {
  return table(
    ['id', 'role', 'job', 'shard', 'workload', 'worker', 'requester', 'anchor'],
    rows.map(r => [
      r.id.slice(0, 16),
      r.role,
      r.jobId.slice(0, 12),
      String(r.shardIndex),
      r.workload,
      shortId(r.worker),
      shortId(r.requester),
      r.anchor != null
        ? `${shortId(r.anchor.signature)} @${r.anchor.slot}${r.anchor.by === 'worker' ? ' (own)' : ''}`
        : r.batch != null ? `batched ${r.batch.slice(0, 8)}` : r.role === 'worker' ? 'awaiting proof' : '-'
    ])
  )
}

async function show (argv: string[]): Promise<number> {
  const { values, positionals } = parse('receipts show', argv, {
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' }
  }, true)
  if (values.help === true) {
    process.stdout.write(RECEIPTS_HELP)
    return EXIT_OK
  }
  const id = receiptId(positionals, 'show')
  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const res = await client.receipt(id)
  if (values.out != null) {
    if (res.proof == null) {
      throw new Error(`receipt ${res.receipt.id} is not in a batch yet, so it has no proof (wait, or POST /v1/receipts/flush)`)
    }
    await writeFile(values.out, JSON.stringify(res.proof, null, 2) + '\n')
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(res) + '\n')
    return EXIT_OK
  }
  const r = res.receipt
  const lines = [
    `receipt      ${r.id}`,
    `job          ${r.jobId} shard ${r.shardIndex}`,
    `workload     ${r.workload}@${r.workloadVersion}, ${r.items} items, ${(r.cpuMicros / 1000).toFixed(1)} ms cpu`,
    `ran          ${new Date(r.startedAt).toISOString()} → ${new Date(r.finishedAt).toISOString()}`,
    `worker       ${r.worker}`,
    `requester    ${r.requester}`,
    `verification ${r.verification == null ? '-' : `${r.verification.policy}: ${r.verification.outcome}`}`,
    `input        sha256 ${r.inputDigest}`,
    `output       sha256 ${r.outputDigest}`,
    `batch        ${r.batch ?? '- (not sealed yet)'}`,
    `anchor       ${r.anchor == null ? '- (not anchored yet)' : `${r.anchor.signature} at slot ${r.anchor.slot}`}`
  ]
  if (values.out != null) {
    lines.push(`proof        written to ${values.out} (check it with: shardmesh receipts verify ${values.out} --solana-rpc URL)`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return EXIT_OK
}

async function verify (argv: string[]): Promise<number> {
  // the receipt codecs and the chain client load only for the commands that check (list and show ask the node)
  const [{ decodeReceiptProof }, { verifyProofOverRpc }] = await Promise.all([import('@shardmesh/receipts'), import('../chain/verify.js')])
  const { values, positionals } = parse('receipts verify', argv, {
    'data-dir': { type: 'string' },
    'solana-rpc': { type: 'string' },
    'solana-ws': { type: 'string' },
    json: { type: 'boolean' }
  }, true)
  if (values.help === true) {
    process.stdout.write(RECEIPTS_HELP)
    return EXIT_OK
  }
  if (positionals.length !== 1) {
    throw new UsageError('receipts verify: give one proof file or receipt id')
  }
  if (values['solana-rpc'] != null && !/^https?:\/\/\S+$/.test(values['solana-rpc'])) {
    throw new UsageError('receipts verify: --solana-rpc must be an http(s):// URL')
  }
  if (values['solana-ws'] != null && !/^wss?:\/\/\S+$/.test(values['solana-ws'])) {
    throw new UsageError('receipts verify: --solana-ws must be a ws(s):// URL')
  }
  const target = positionals[0]
  let proof: ReceiptProof | undefined
  let rpcUrl = values['solana-rpc'] as string | undefined
  let failure: { check: string, message: string } | undefined
  if (await isFile(target)) {
    try {
      // the decoder enforces the size limit before it parses
      proof = decodeReceiptProof(await readFile(target))
    } catch (err: any) {
      failure = { check: 'undecodable', message: err.message }
    }
  } else if (HEX_PREFIX.test(target)) {
    const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
    const res = await client.receipt(target)
    if (res.proof == null) {
      failure = { check: 'not-batched', message: `receipt ${res.receipt.id} is not in a batch yet` }
    } else {
      proof = decodeReceiptProof(JSON.stringify(res.proof))
    }
    rpcUrl ??= (await client.receipts({ limit: 0 })).stats.rpcUrl
  } else {
    throw new UsageError(`receipts verify: ${target} is neither a file nor a receipt id (hex, or a unique prefix of one)`)
  }
  if (proof != null && failure == null) {
    if (rpcUrl == null) {
      throw new UsageError('receipts verify: give --solana-rpc URL (the cluster the receipt was anchored on)')
    }
    const outcome = await verifyProofOverRpc(proof, { rpcUrl, wsUrl: values['solana-ws'] })
    if (!outcome.ok) {
      failure = outcome.failure
    } else if (values.json === true) {
      process.stdout.write(JSON.stringify({ ok: true, ...outcome.report }) + '\n')
      return EXIT_OK
    } else {
      const r = outcome.report
      process.stdout.write([
        `receipt ${r.id}: job ${r.jobId} shard ${r.shardIndex}, ${r.workload}, ${r.items} items`,
        `  ok  worker signature            ${r.worker}`,
        `  ok  requester countersignature  ${r.requester} (${r.verification})`,
        `  ok  merkle path                 leaf ${r.leaf} of ${r.count}, root ${r.root}`,
        `  ok  anchor transaction          ${r.anchor.signature} at slot ${r.anchor.slot}, fee ${r.anchor.fee} lamports`,
        `  ok  memo                        ${r.anchor.memo}, signed by the ${r.anchor.by}`,
        ...(r.cluster == null ? [] : [`  ok  cluster                     genesis hash ${r.cluster}`]),
        'verified'
      ].join('\n') + '\n')
      return EXIT_OK
    }
  }
  const f = failure ?? { check: 'unknown', message: 'verification failed' }
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ ok: false, check: f.check, message: f.message }) + '\n')
  } else {
    process.stdout.write(`FAILED check ${f.check}: ${f.message}\n`)
  }
  return EXIT_FAILURE
}

/**
 * The running node's bundle of one batch (GET /v1/receipts/batches/ROOT/bundle), as its file;
 * with `from`, the bundle the node fetched from that peer.
 */
async function fetchBundle (client: ControlClient, root: string, from?: string): Promise<string> {
  const json = await client.receiptBundle(root, { from })
  return JSON.stringify(json, null, 2) + '\n'
}

async function bundle (argv: string[]): Promise<number> {
  const { checkBundle, decodeBundle, encodeBundle } = await import('@shardmesh/receipts')
  const { values, positionals } = parse('receipts bundle', argv, {
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    from: { type: 'string' },
    json: { type: 'boolean' }
  }, true)
  if (values.help === true) {
    process.stdout.write(RECEIPTS_HELP)
    return EXIT_OK
  }
  if (positionals.length !== 1 || !/^[0-9a-fA-F]{64}$/.test(positionals[0])) {
    throw new UsageError('receipts bundle: give one batch root (64 hex characters, from GET /v1/receipts/batches)')
  }
  if (values.out == null || values.out === '') {
    throw new UsageError('receipts bundle: --out FILE is required (where to write the bundle)')
  }
  if (values.from != null && !/^[1-9A-HJ-NP-Za-km-z]{1,128}$/.test(values.from)) {
    throw new UsageError(`receipts bundle: --from is a peer id (base58), not "${values.from.slice(0, 140)}"`)
  }
  const json = values.json === true
  const from = values.from
  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  let checked: CheckedBundle
  try {
    const text = await fetchBundle(client, positionals[0], from)
    // what the node sent is checked as anyone would check the file
    checked = await checkBundle(decodeBundle(text))
  } catch (err: any) {
    if (!json || err?.name === 'NodeNotRunningError' || (err?.name === 'ControlRequestError' && err.status === 400)) {
      throw err
    }
    process.stdout.write(JSON.stringify({ ok: false, root: positionals[0].toLowerCase(), from: from ?? null, status: err?.status ?? null, message: err?.message ?? String(err) }) + '\n')
    return EXIT_FAILURE
  }
  await writeFile(values.out, encodeBundle(checked.bundle))
  const anchor = checked.bundle.anchor
  if (json) {
    process.stdout.write(JSON.stringify({
      ok: true,
      root: checked.root,
      receipts: checked.receipts.length,
      anchor: anchor == null ? null : { signature: anchor.signature, slot: anchor.slot.toString() },
      cluster: checked.bundle.cluster ?? null,
      from: from ?? null,
      out: values.out
    }) + '\n')
    return EXIT_OK
  }
  process.stdout.write(`batch ${checked.root}: ${plural(checked.receipts.length, 'receipt')}${anchor == null ? ', not anchored yet' : `, anchored by ${anchor.signature} at slot ${anchor.slot}`}${from == null ? '' : `, from ${from}`}, written to ${values.out}\n`)
  return EXIT_OK
}

/** `--since`: an ISO 8601 time or ms since the epoch. */
function parseSince (text: string | undefined): number | undefined {
  if (text == null) {
    return undefined
  }
  const ms = /^\d{1,16}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN
  if (!Number.isSafeInteger(ms)) {
    throw new UsageError(`receipts tally: --since is an ISO 8601 time or ms since the epoch, not "${text}"`)
  }
  return ms
}

async function tallyCommand (argv: string[]): Promise<number> {
  const [{ formatTallyCsv, formatTallyJson, paymentsByWorker, tally }, { addressOfPeerId }] = await Promise.all([import('@shardmesh/receipts'), import('@shardmesh/solana')])
  const { values, positionals } = parse('receipts tally', argv, {
    'data-dir': { type: 'string' },
    bundle: { type: 'string', multiple: true },
    worker: { type: 'string' },
    since: { type: 'string' },
    'solana-rpc': { type: 'string' },
    'solana-ws': { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(RECEIPTS_HELP)
    return EXIT_OK
  }
  if (positionals.length > 0) {
    throw new UsageError('receipts tally: takes no arguments (give bundle files with --bundle FILE)')
  }
  if (values.json === true && values.csv === true) {
    throw new UsageError('receipts tally: --json and --csv exclude each other')
  }
  if (values.worker != null && !/^[1-9A-HJ-NP-Za-km-z]{32,128}$/.test(values.worker)) {
    throw new UsageError(`receipts tally: --worker must be a peer id (base58), not "${values.worker}"`)
  }
  const since = parseSince(values.since)
  if (values['solana-rpc'] != null && !/^https?:\/\/\S+$/.test(values['solana-rpc'])) {
    throw new UsageError('receipts tally: --solana-rpc must be an http(s):// URL')
  }
  if (values['solana-ws'] != null && !/^wss?:\/\/\S+$/.test(values['solana-ws'])) {
    throw new UsageError('receipts tally: --solana-ws must be a ws(s):// URL')
  }
  const files: string[] = values.bundle ?? []
  if (files.some(file => file === '')) {
    throw new UsageError('receipts tally: --bundle needs a file name')
  }
  let rpcUrl = values['solana-rpc'] as string | undefined
  // each source: a name to report it by, and its bundle file's text
  const sources: TallySource[] = []
  if (files.length > 0) {
    for (const file of files) {
      sources.push({ name: file, text: async () => readFile(file) })
    }
  } else {
    const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
    rpcUrl ??= (await client.receipts({ limit: 0 })).stats.rpcUrl
    for (const batch of (await client.receiptBatches()).batches) {
      if (batch.anchor != null) {
        sources.push({ name: `batch ${batch.root}`, text: async () => fetchBundle(client, batch.root) })
      }
    }
  }
  const outcome = await checkTallySources(sources, { rpcUrl, wsUrl: values['solana-ws'] })
  if (!outcome.ok) {
    return tallyFailure(values.json === true, outcome.source, outcome.check, outcome.message)
  }
  const checked = outcome.checked
  // paid: only when the anchors were read from a chain (settlement)
  const paid = rpcUrl != null ? paymentsByWorker(checked, outcome.anchors, addressOfPeerId) : undefined
  const rows = tally(checked, { worker: values.worker, since, paid })
  if (values.json === true) {
    process.stdout.write(formatTallyJson(rows))
  } else if (values.csv === true) {
    process.stdout.write(formatTallyCsv(rows))
  } else {
    const receipts = checked.reduce((n, c) => n + c.receipts.length, 0)
    process.stdout.write(`${plural(checked.length, 'batch', 'batches')}, ${plural(receipts, 'receipt')} checked${rpcUrl != null ? ' (anchors checked on chain)' : ' (anchors not checked: no --solana-rpc)'}\n`)
    if (rows.length > 0) {
      process.stdout.write('\n' + renderTally(rows) + '\n')
    }
  }
  return EXIT_OK
}

/** A bundle file to tally: the name it is reported by, and its text. */
export interface TallySource {
  name: string
  text: () => Promise<string | Uint8Array>
}

/** Every source checked, or the first that failed and the check it failed. */
export type TallyCheck =
  | { ok: true, checked: CheckedBundle[], /** with an RPC: each bundle's anchor transaction, by signature (what it paid) */ anchors: Map<string, AnchorTransfers> }
  | { ok: false, source: string, check: string, message: string }

/**
 * The check `receipts tally` makes of its bundles (the demo makes the same): each decoded
 * (size-limited), its root recomputed and every receipt checked (`checkBundle`), and with an
 * RPC its anchor verified on chain (memo, requester signature, slot, cluster).
 */
export async function checkTallySources (sources: TallySource[], options: { rpcUrl?: string, wsUrl?: string } = {}): Promise<TallyCheck> {
  const [{ bundleProof, checkBundle, decodeBundle }, { verifyProofOverRpc }] = await Promise.all([import('@shardmesh/receipts'), import('../chain/verify.js')])
  const checked: CheckedBundle[] = []
  const anchors = new Map<string, AnchorTransfers>()
  for (const source of sources) {
    let decoded: ReceiptBundle
    try {
      // the decoder enforces the size limit before it parses
      decoded = decodeBundle(await source.text())
      checked.push(await checkBundle(decoded))
    } catch (err: any) {
      return { ok: false, source: source.name, check: err.reason ?? 'undecodable', message: err.message }
    }
    if (options.rpcUrl != null) {
      if (decoded.anchor == null) {
        return { ok: false, source: source.name, check: 'not-anchored', message: 'the bundle names no anchor transaction' }
      }
      const outcome = await verifyProofOverRpc(bundleProof(decoded), { rpcUrl: options.rpcUrl, wsUrl: options.wsUrl })
      if (!outcome.ok) {
        return { ok: false, source: source.name, ...outcome.failure }
      }
      anchors.set(outcome.record.signature, outcome.record)
    }
  }
  return { ok: true, checked, anchors }
}

function tallyFailure (json: boolean, source: string, check: string, message: string): number {
  if (json) {
    process.stdout.write(JSON.stringify({ ok: false, source, check, message }) + '\n')
  } else {
    process.stdout.write(`FAILED ${source}: check ${check}: ${message}\n`)
  }
  return EXIT_FAILURE
}

function renderTally (rows: TallyRow[]): string {
  // lamports: owed on every line, paid and missing on a worker's `*` line when a chain was asked
  return table(
    ['worker', 'workload', 'shards', 'items', 'cpu', 'owed', 'paid', 'missing'],
    rows.flatMap(row => [
      ...Object.entries(row.byWorkload).map(([workload, t]) => [row.worker, workload, String(t.shards), String(t.items), `${(t.cpuMicros / 1000).toFixed(1)} ms`, String(t.owedLamports), '', '']),
      [row.worker, '*', String(row.shards), String(row.items), `${(row.cpuMicros / 1000).toFixed(1)} ms`, String(row.owedLamports), row.paidLamports?.toString() ?? '-', row.missingLamports?.toString() ?? '-']
    ])
  )
}

/** A receipt or job id, or a prefix of one (the node says which it matches). */
const HEX_PREFIX = /^[0-9a-fA-F]{1,64}$/
/** A peer id, or a prefix of one. */
const BASE58_PREFIX = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

function receiptId (positionals: string[], sub: string): string {
  if (positionals.length !== 1 || !HEX_PREFIX.test(positionals[0])) {
    throw new UsageError(`receipts ${sub}: give one receipt id (hex, or a unique prefix of one, from 'shardmesh receipts list')`)
  }
  return positionals[0]
}

async function isFile (path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
