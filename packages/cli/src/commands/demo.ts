import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeItemList, encodeItemList, plural } from '@shardmesh/protocol'
import { parseVerification, peersNeeded } from '@shardmesh/compute'
import { decodeReceiptProof } from '@shardmesh/receipts'
import { WorkloadRunner, generateOcrLines, ocrRec } from '@shardmesh/workloads'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseDuration, parseInteger } from '../args.js'
import { SOLANA_FLAGS, SOLANA_HELP, solanaOption } from '../chain/options.js'
import { verifyProofOverRpc } from '../chain/verify.js'
import { LocalCluster } from '../cluster/local-cluster.js'
import { age, shortId } from '../format.js'
import { progressBar } from '../job/progress.js'
import { decodeOutputs, ocrAccuracy, peersThatWorked, renderPeerSummary, renderPlacement } from '../job/summary.js'
import { formatLiveness, rate } from '../trust.js'
import type { PeerTrustJson, ReceiptRow } from '@shardmesh/control'
import type { OcrAccuracy } from '../job/summary.js'
import type { OcrLine, Workload } from '@shardmesh/workloads'

export const DEMO_HELP = `Usage: shardmesh demo [options]

The main job on embedded defaults: start a local cluster of node processes on loopback, wait
until they hold each other's signed capability adverts, generate a batch of text-line images
with known text, shard the OCR job (PP-OCRv4 recognition) across every node from node 0,
check the text against the truth, anchor every work receipt of the job on a local Solana
chain (LiteSVM behind a JSON-RPC endpoint, node keys funded by airdrop) and verify one end to
end, then run the same job in this one process with a worker pool and compare throughput.

Options:
  --nodes N            node processes (default 4)
  --items N            text lines to read (default 120)
  --shard-size S       lines per shard (default 4)
  --verify POLICY      none, spot-check:P or replicate:K (default none)
  --seed N             seed of the generated lines (default 7)
  --timeout DURATION   give up if the cluster is not ready within this (default 90s)
${SOLANA_HELP.trimEnd()}
  --json               print one JSON object: { nodes, items, accuracy, peers, throughput, job,
                       receipts, cluster }; each of peers has its shards, items, attempts,
                       failures, window, itemsPerSec, and what node 0 knows of it:
                       measuredItemsPerSec (null: not measured) and liveness
  -h, --help           this help
`

/** Accuracy the demo must reach to succeed (characters, spaces ignored). */
const MIN_ACCURACY = 0.95

export async function demoCommand (argv: string[]): Promise<number> {
  const { values } = parse('demo', argv, {
    nodes: { type: 'string' },
    items: { type: 'string' },
    'shard-size': { type: 'string' },
    verify: { type: 'string' },
    seed: { type: 'string' },
    timeout: { type: 'string' },
    ...SOLANA_FLAGS,
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(DEMO_HELP)
    return EXIT_OK
  }
  const n = parseInteger(values.nodes ?? '4', '--nodes', 1, 64) as number
  const count = parseInteger(values.items ?? '120', '--items', 1, 100_000) as number
  const shardSize = parseInteger(values['shard-size'] ?? '4', '--shard-size', 1, 10_000) as number
  const seed = parseInteger(values.seed ?? '7', '--seed', 0, 2 ** 32 - 1) as number
  const timeout = parseDuration(values.timeout ?? '90s', '--timeout')
  const verify = checkVerify(values.verify ?? 'none', n)
  const solana = solanaOption('demo', values)
  const json = values.json === true
  const say = (line: string): void => { if (!json) process.stdout.write(line + '\n') }

  // two cores shared by n processes: one inference thread each keeps the machine honest
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.min(n, availableParallelism())))
  const cluster = new LocalCluster({
    nodes: n,
    gpu: true,
    nodeArgs: () => ['--workload', 'ocr-rec', '--pool-size', String(threads), '--warm'],
    solana
  })
  const stop = (): void => { void cluster.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  try {
    say(`shardmesh demo: starting ${solana === 'local' ? 'a local Solana chain and ' : ''}a local cluster of ${n} node processes on loopback`)
    await cluster.start()
    if (cluster.chain != null) {
      say(`  local Solana chain (LiteSVM)  pid ${cluster.chain.pid}  ${cluster.chain.url}; every node key funded`)
    } else if (solana != null && solana !== 'local') {
      say(`  receipts anchor on ${solana.rpcUrl}`)
    }
    for (const node of cluster.nodes) {
      say(`  node ${node.index}  pid ${node.pid}  ${node.peerId}`)
    }
    say('waiting until every node holds a verified advert of every other...')
    const report = await cluster.waitConverged({ timeout })
    if (report.convergedMs == null) {
      say(`not converged within ${age(timeout)}`)
      return EXIT_FAILURE
    }
    await waitForOffers(cluster, n - 1, timeout)
    say(`converged ${age(report.convergedMs)} after start; node 0 sees ${plural(n - 1, 'peer')} offering ocr-rec`)

    const { images, truth } = await generateOcrLines({ count, seed })
    say(`\nOCR job: ${plural(count, 'generated text line')}, ${plural(Math.ceil(count / shardSize), 'shard')} of ${shardSize}, verification ${verify}, sent to node 0`)
    const bar = json ? undefined : progressBar(process.stderr)
    const result = await cluster.nodes[0].control.runJob({
      workload: 'ocr-rec',
      items: images.map(i => Buffer.from(i).toString('base64')),
      shardSize,
      verification: verify
    }, { onEvent: (e) => bar?.onEvent(e) })
    bar?.done()
    const workload = ocrRec()
    const outputs = decodeOutputs(workload, result) as OcrLine[]
    const accuracy = ocrAccuracy(truth, outputs)
    const names = new Map(cluster.nodes.map(node => [node.peerId, `node ${node.index} ${shortId(node.peerId)}`]))
    say(`read ${plural(result.items, 'line')} in ${age(result.elapsedMs)}: ${result.itemsPerSec.toFixed(1)} lines/s across ${plural(peersThatWorked(result), 'node')}`)
    say(`accuracy: ${(accuracy.charAccuracyNoSpaces * 100).toFixed(2)} % of characters (spaces ignored), ${accuracy.exactLines}/${accuracy.lines} lines exact`)
    const wrong = truth.findIndex((t, i) => t.replace(/\s+/g, '') !== outputs[i].text.replace(/\s+/g, ''))
    say(`  e.g. "${truth[0]}" → "${outputs[0].text.trim()}"${wrong === -1 ? '' : `; a miss: "${truth[wrong]}" → "${outputs[wrong].text.trim()}"`}`)
    // what node 0, the requester, now knows of each peer: measured speed and liveness
    const known = await trustOfPeers(cluster)
    const measured = (peerId: string): number | null => known.get(peerId)?.workloads.find(w => w.workload === workload.id)?.measured?.itemsPerSec ?? null
    say('\nwho did the work:')
    say(renderPeerSummary(result, id => names.get(id) ?? shortId(id), id => {
      const trust = known.get(id)
      const speed = measured(id)
      return { measured: speed == null ? '-' : `${rate(speed)}/s`, liveness: trust == null ? (id === cluster.nodes[0].peerId ? 'this node' : '-') : formatLiveness(trust.liveness) }
    }))
    say('measured    ocr-rec lines/s a slot node 0 measured (challenges, timed shards) or believes from attestations')
    say('liveness    as node 0 sees it: state and age of the newest evidence')
    say('\n' + renderPlacement(result.placement, id => names.get(id) ?? shortId(id)))
    const anchoring = solana == null ? undefined : await anchorReceipts(cluster, result.jobId, timeout, say)
    const peers = result.peers.map(p => ({
      peerId: p.peerId,
      node: cluster.nodes.find(c => c.peerId === p.peerId)?.index,
      shards: p.shards,
      items: p.items,
      attempts: p.attempts,
      failures: p.failures,
      window: p.window,
      itemsPerSec: p.itemsPerSec,
      measuredItemsPerSec: measured(p.peerId),
      liveness: known.get(p.peerId)?.liveness ?? null
    }))
    const convergence = { convergedMs: report.convergedMs, readyMs: report.readyMs }
    // the nodes stop (their cores go to the local run); the chain stays up for the check at the end
    await cluster.stopNodes()

    say(`\nthe same ${plural(count, 'line')} in this one process, ${plural(availableParallelism(), 'pool thread')}, same shards...`)
    const local = await runLocally(workload, images, shardSize)
    const ratio = result.itemsPerSec / local.itemsPerSec
    say(`local: ${local.itemsPerSec.toFixed(1)} lines/s; mesh: ${result.itemsPerSec.toFixed(1)} lines/s; mesh/local = ${ratio.toFixed(2)} (one machine: the mesh adds processes, not cores)`)
    const sameText = local.texts.every((t, i) => t === outputs[i].text)
    say(sameText ? 'the local run read exactly the same text as the mesh' : 'WARNING: the local run read different text from the mesh')
    const receipts = anchoring == null ? undefined : await verifyOne(anchoring, cluster, say)

    const receiptsOk = receipts == null || (receipts.verified.ok && receipts.anchored === receipts.count && receipts.count === result.receipts.length)
    const ok = accuracy.charAccuracyNoSpaces >= MIN_ACCURACY && sameText && receiptsOk
    if (json) {
      const body: DemoJson = {
        ok,
        nodes: n,
        items: result.items,
        shardSize,
        verification: verify,
        accuracy,
        peers,
        throughput: { meshItemsPerSec: result.itemsPerSec, localItemsPerSec: local.itemsPerSec, ratio, localThreads: availableParallelism(), nodeThreads: threads },
        job: { jobId: result.jobId, elapsedMs: result.elapsedMs, shards: result.shards.length, disputes: result.disputes.length, receipts: result.receipts.length, retries: result.shards.reduce((s, x) => s + x.errors.length, 0) },
        localMatchesMesh: sameText,
        receipts: receipts ?? null,
        cluster: convergence
      }
      process.stdout.write(JSON.stringify(body) + '\n')
    } else if (!ok) {
      say(receiptsOk ? `FAILED: accuracy below ${MIN_ACCURACY * 100} % or local and mesh disagree` : 'FAILED: the receipts were not all anchored, or the one checked did not verify')
    }
    return ok ? EXIT_OK : EXIT_FAILURE
  } finally {
    process.off('SIGINT', stop)
    await cluster.stop()
  }
}

/** `--verify` as the job will take it, with enough nodes for it: refused before anything starts. */
function checkVerify (text: string, nodes: number): string {
  let needed: number
  try {
    needed = peersNeeded(parseVerification(text))
  } catch (err: any) {
    throw new UsageError(`demo: --verify ${err.message}`)
  }
  if (needed > nodes) {
    throw new UsageError(`demo: --verify ${text} needs ${needed} nodes offering ocr-rec, and --nodes is ${nodes}`)
  }
  return text
}

interface DemoJson {
  ok: boolean
  nodes: number
  items: number
  shardSize: number
  verification: string
  accuracy: OcrAccuracy
  /**
   * per peer: its part of the job (window and itemsPerSec as the job's report says), and what
   * node 0 knows of it: the ocr-rec speed it measured (null: none) and its liveness (null for node 0)
   */
  peers: Array<{ peerId: string, node?: number, shards: number, items: number, attempts: number, failures: number, window: number, itemsPerSec: number, measuredItemsPerSec: number | null, liveness: PeerTrustJson['liveness'] | null }>
  throughput: { meshItemsPerSec: number, localItemsPerSec: number, ratio: number, localThreads: number, nodeThreads: number }
  job: { jobId: string, elapsedMs: number, shards: number, disputes: number, receipts: number, retries: number }
  localMatchesMesh: boolean
  receipts: DemoReceipts | null
  cluster: { convergedMs: number | null, readyMs: number }
}

interface DemoReceipts {
  /** receipts of the job stored by node 0 (the requester) */
  count: number
  anchored: number
  batches: number
  /** lamports paid for the job's anchors divided by its receipts */
  lamportsPerReceipt: number
  verified: { id: string, signature: string, slot: string, ok: boolean, check?: string, message?: string }
}

/**
 * Node 0 requested the job, so it countersigned and stored every receipt: seal them, wait until
 * every batch is anchored, and fetch one receipt's proof.
 */
interface Anchoring {
  count: number
  anchored: number
  batches: number
  lamportsPerReceipt: number
  rpcUrl?: string
  one?: ReceiptRow
  proof: unknown
}

async function anchorReceipts (cluster: LocalCluster, jobId: string, timeout: number, say: (line: string) => void): Promise<Anchoring> {
  const control = cluster.nodes[0].control
  say('\nreceipts: sealing node 0\'s receipts into Merkle batches and anchoring each root with a memo signed by the node key...')
  await control.flushReceipts(timeout)
  const listed = await control.receipts({ job: jobId, limit: 10_000 })
  const roots = new Set(listed.receipts.map(r => r.batch))
  const batches = (await control.receiptBatches()).batches.filter(b => roots.has(b.root))
  const fees = batches.reduce((sum, b) => sum + BigInt(b.anchor?.fee ?? '0'), 0n)
  const inBatches = batches.reduce((sum, b) => sum + b.count, 0)
  const anchored = listed.receipts.filter(r => r.anchor != null).length
  const lamportsPerReceipt = inBatches === 0 ? 0 : Number(fees) / inBatches
  for (const b of batches) {
    say(`  batch ${b.root.slice(0, 16)}…  ${plural(b.count, 'receipt')}  tx ${b.anchor?.signature ?? '-'}  slot ${b.anchor?.slot ?? '-'}  fee ${b.anchor?.fee ?? '?'} lamports`)
  }
  say(`  ${anchored}/${plural(listed.total, 'receipt')} anchored in ${plural(batches.length, 'transaction')}: ${lamportsPerReceipt.toFixed(2)} lamports per receipt`)
  const one = listed.receipts.find(r => r.anchor != null)
  // the proof is fetched now; it is checked at the end, against nothing but the RPC endpoint
  const proof = one == null ? undefined : (await control.receipt(one.id)).proof
  return { count: listed.total, anchored, batches: batches.length, lamportsPerReceipt, rpcUrl: listed.stats.rpcUrl, one, proof }
}

/** Verify one receipt end to end in this process, with its proof file and the RPC URL only. */
async function verifyOne (anchoring: Anchoring, cluster: LocalCluster, say: (line: string) => void): Promise<DemoReceipts> {
  const { one, proof, rpcUrl, count, anchored, batches, lamportsPerReceipt } = anchoring
  let verified: DemoReceipts['verified'] = { id: one?.id ?? '', signature: one?.anchor?.signature ?? '', slot: one?.anchor?.slot ?? '', ok: false, check: 'missing', message: 'no anchored receipt to verify' }
  if (one != null && proof != null && rpcUrl != null) {
    say(`\nverifying receipt ${one.id} (job shard ${one.shardIndex}) with only its proof file and ${rpcUrl}...`)
    const outcome = await verifyProofOverRpc(decodeReceiptProof(JSON.stringify(proof)), { rpcUrl, wsUrl: cluster.chain?.wsUrl })
    if (outcome.ok) {
      const r = outcome.report
      verified = { id: one.id, signature: r.anchor.signature, slot: r.anchor.slot, ok: true }
      say(`  ok  worker signature            ${r.worker}`)
      say(`  ok  requester countersignature  ${r.requester} (${r.verification})`)
      say(`  ok  merkle path                 leaf ${r.leaf} of ${r.count} under root ${r.root.slice(0, 16)}…`)
      say(`  ok  anchor on chain             memo ${r.anchor.memo.slice(0, 30)}…, signed by the requester, slot ${r.anchor.slot}`)
      say(`anchored and verified: transaction ${r.anchor.signature}`)
      say(`fee: ${r.anchor.fee} lamports for ${plural(r.count, 'receipt')} = ${lamportsPerReceipt.toFixed(2)} lamports per receipt (${anchored}/${plural(count, 'receipt')} anchored in ${plural(batches, 'transaction')})`)
    } else {
      verified = { id: one.id, signature: one.anchor?.signature ?? '', slot: one.anchor?.slot ?? '', ok: false, ...outcome.failure }
      say(`  FAILED check ${outcome.failure.check}: ${outcome.failure.message}`)
    }
  }
  return { count, anchored, batches, lamportsPerReceipt, verified }
}

/**
 * What node 0 (the requester) knows of each peer, from its peer table; empty if the table does
 * not answer (the demo's figures are then shown as '-', the job stands).
 */
async function trustOfPeers (cluster: LocalCluster): Promise<Map<string, PeerTrustJson>> {
  const known = new Map<string, PeerTrustJson>()
  const rows = await cluster.nodes[0].control.peers().then(res => res.peers, () => [])
  for (const row of rows) {
    if (row.trust != null) {
      known.set(row.peerId, row.trust)
    }
  }
  return known
}

/** Node 0's table lists `count` peers offering ocr-rec (their adverts carry the compute offer). */
async function waitForOffers (cluster: LocalCluster, count: number, timeout: number): Promise<void> {
  const deadline = Date.now() + timeout
  while (true) {
    const found = await cluster.nodes[0].control.find({ workload: 'ocr-rec', source: 'table' })
    if (found.peers.length >= count) {
      return
    }
    if (Date.now() > deadline) {
      throw new Error(`only ${found.peers.length} of ${plural(count, 'peer')} offer ocr-rec after ${age(timeout)}`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** The same shards on a worker pool in this process: the baseline the mesh is compared with. */
async function runLocally (workload: Workload<Uint8Array, OcrLine>, images: Uint8Array[], shardSize: number): Promise<{ itemsPerSec: number, texts: string[] }> {
  const runner = new WorkloadRunner({ cacheDir: join(tmpdir(), 'shardmesh-demo-cache') })
  try {
    await runner.warm(workload)
    const shards = workload.split(images, shardSize)
    const started = performance.now()
    const outputs = await Promise.all(shards.map(async shard => {
      // the same bytes a worker gets: an encoded ItemList, decoded on the other side
      const items = decodeItemList(encodeItemList(shard)).items
      return (await runner.run(workload, items)).outputs
    }))
    const elapsed = performance.now() - started
    const texts = outputs.flat().map(o => workload.output.decode(o).text)
    return { itemsPerSec: images.length / elapsed * 1000, texts }
  } finally {
    await runner.close()
  }
}
