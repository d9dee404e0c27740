import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { RECEIPT_BATCHES_PROTOCOL, decodeItemList, encodeItemList, plural } from '@shardmesh/protocol'
import { parseVerification, peersNeeded } from '@shardmesh/compute'
import { checkBundle, decodeBundle, decodeReceiptProof, encodeBundle, formatTallyJson, paymentsByWorker, tally } from '@shardmesh/receipts'
import { addressOfPeerId } from '@shardmesh/solana'
import { WorkloadRunner, generateOcrLines, ocrRec } from '@shardmesh/workloads'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseDuration, parseInteger } from '../args.js'
import { SOLANA_FLAGS, SOLANA_HELP, solanaOption } from '../chain/options.js'
import { verifyProofOverRpc } from '../chain/verify.js'
import { LocalCluster } from '../cluster/local-cluster.js'
import { age, shortId, table } from '../format.js'
import { progressBar } from '../job/progress.js'
import { decodeOutputs, ocrAccuracy, peersThatWorked, renderPeerSummary, renderPlacement } from '../job/summary.js'
import { formatLiveness, rate } from '../trust.js'
import { loginUrl } from '../daemon/login.js'
import { checkTallySources } from './receipts.js'
import type { JobResultJson, PeerTrustJson, ReceiptRow } from '@shardmesh/control'
import type { VerifiedReport } from '../chain/verify.js'
import type { OcrAccuracy } from '../job/summary.js'
import type { ClusterNode } from '../cluster/local-cluster.js'
import type { OcrLine, Workload } from '@shardmesh/workloads'

export const DEMO_HELP = `Usage: shardmesh demo [options]

The main job on embedded defaults: start a local cluster of node processes on loopback, wait
until they hold each other's signed capability adverts, generate a batch of text-line images
with known text, shard the OCR job (PP-OCRv4 recognition) across every node from node 0,
check the text against the truth, anchor every work receipt of the job on a local Solana
chain (LiteSVM behind a JSON-RPC endpoint, node keys funded by airdrop), then run the same
job in this one process with a worker pool and compare throughput.

Both sides hold proof: a node other than node 0 that did shards pulls their proofs from
node 0 into its own store; the demo keeps that worker's proof of one receipt, node 0's proof
of the same receipt and the bundle of every batch of the job (that receipt's batch fetched
from the worker by another node over /shardmesh/receipt-batches/1.0.0) in a directory it
prints (kept after it exits), verifies both proofs on chain, and ends with a tally of who
did what over the bundles, each anchor checked on chain. With the local chain, its history
is kept there too: 'shardmesh chain --data-dir DIR/chain' serves it again, for 'receipts
verify' and 'receipts tally --bundle' afterwards.

Options:
  --nodes N            node processes (default 4)
  --items N            text lines to read (default 120)
  --shard-size S       lines per shard (default 4)
  --verify POLICY      none, spot-check:P or replicate:K (default none)
  --seed N             seed of the generated lines (default 7)
  --timeout DURATION   give up if the cluster is not ready within this (default 90s)
  --pay LAMPORTS       pay the workers this many lamports per line, in the transaction
                       that anchors their receipts (node 0 pays for its own work nothing);
                       the tally then shows owed, paid and missing per worker
  --out DIR            where the proofs and bundles are kept (default
                       ./shardmesh-demo-<UTC time>; must be new or empty)
  --keep               once the results are printed, keep the cluster (and the local chain)
                       running and print the dashboard's login URL of node 0 (it holds
                       node 0's control token), until SIGINT/SIGTERM (Ctrl-C) stops them
                       gracefully and it exits with the demo's outcome (a second signal
                       stops them at once). The nodes stay up, idle, during the one-process
                       run, and the chain's history is copied to <out>/chain at the stop
${SOLANA_HELP.trimEnd()}
  --json               print one JSON object: { nodes, items, accuracy, peers, throughput, job,
                       receipts, tally, cluster } (with --keep also dashboard, the login
                       URL, printed before it waits); each of peers has its shards, items, attempts,
                       failures, window, itemsPerSec, and what node 0 knows of it:
                       measuredItemsPerSec (null: not measured) and liveness; receipts has
                       proofDir, chainDir, verified (worker and requester: peer ids,
                       files: the two proof files), bundleFetched and, with --pay,
                       settlement; tally has the rows of 'receipts tally --json' (one
                       per worker)
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
    out: { type: 'string' },
    pay: { type: 'string' },
    keep: { type: 'boolean' },
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
  if (solana == null && values.out != null) {
    throw new UsageError('demo: --out keeps proofs of anchored receipts: it needs a chain (drop --no-chain)')
  }
  const pay = parseInteger(values.pay, '--pay', 1, Number.MAX_SAFE_INTEGER)
  if (solana == null && pay != null) {
    throw new UsageError('demo: --pay pays in the transaction that anchors the receipts: it needs a chain (drop --no-chain)')
  }
  const proofDir = solana == null ? undefined : await checkOutDir(values.out ?? `shardmesh-demo-${utcStamp(new Date())}`)
  const json = values.json === true
  const keep = values.keep === true
  const say = (line: string): void => { if (!json) process.stdout.write(line + '\n') }

  // two cores shared by n processes: one inference thread each keeps the machine honest
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.min(n, availableParallelism())))
  const cluster = new LocalCluster({
    nodes: n,
    gpu: true,
    nodeArgs: () => ['--workload', 'ocr-rec', '--pool-size', String(threads), '--warm'],
    solana
  })
  // SIGTERM too: a reader that goes away (demo | head) ends the command that way (exit 0, as
  // any command whose output closed), and the cluster with it
  let outputClosed = false
  const onOutputError = (): void => { outputClosed = true }
  process.stdout.once('error', onOutputError)
  let stopping: Promise<void> | undefined
  /** with --keep, once the results are out: the signal that ends the wait */
  let keeping: PromiseWithResolvers<NodeJS.Signals> | undefined
  const stop = (signal: NodeJS.Signals): void => {
    if (keeping != null) {
      // the end of --keep's wait: the cluster stops gracefully; a second signal as without --keep
      keeping.resolve(signal)
      keeping = undefined
      process.once(signal, stop)
      return
    }
    stopping ??= cluster.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : outputClosed ? 0 : 143))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
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
    say(`\nOCR job: ${plural(count, 'generated text line')}, ${plural(Math.ceil(count / shardSize), 'shard')} of ${shardSize}, verification ${verify}${pay == null ? '' : `, ${plural(pay, 'lamport')} a line to its workers`}, sent to node 0`)
    const bar = json ? undefined : progressBar(process.stderr)
    const result = await cluster.nodes[0].control.runJob({
      workload: 'ocr-rec',
      items: images.map(i => Buffer.from(i).toString('base64')),
      shardSize,
      verification: verify,
      ...(pay == null ? {} : { pay: { lamportsPerItem: String(pay) } })
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
    // while the nodes run: a remote worker's proof from its own store, node 0's, and the bundles
    const kept = anchoring == null || proofDir == null ? undefined : await keepProofs(cluster, result, anchoring, proofDir, timeout, names, say)
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
    // the nodes stop (their cores go to the local run); the chain stays up for the check at the
    // end. With --keep they stay up, idle, for the dashboard afterwards
    if (!keep) {
      await cluster.stopNodes()
    }

    say(`\nthe same ${plural(count, 'line')} in this one process, ${plural(availableParallelism(), 'pool thread')}, same shards${keep ? ' (the nodes stay up, idle: --keep)' : ''}...`)
    const local = await runLocally(workload, images, shardSize)
    const ratio = result.itemsPerSec / local.itemsPerSec
    say(`local: ${local.itemsPerSec.toFixed(1)} lines/s; mesh: ${result.itemsPerSec.toFixed(1)} lines/s; mesh/local = ${ratio.toFixed(2)} (one machine: the mesh adds processes, not cores)`)
    const sameText = local.texts.every((t, i) => t === outputs[i].text)
    say(sameText ? 'the local run read exactly the same text as the mesh' : 'WARNING: the local run read different text from the mesh')
    const checked = anchoring == null || kept == null ? undefined : await verifyKept(anchoring, kept, cluster, result, names, pay, say)
    const receipts = checked?.receipts
    if (receipts != null && cluster.chain != null) {
      // with --keep the chain serves on: its history is copied when the demo stops
      receipts.chainDir = keep ? join(receipts.proofDir, 'chain') : await keepChain(cluster, receipts.proofDir)
    }
    if (receipts != null) {
      const bundles = receipts.files.filter(file => file.startsWith('bundle-')).length
      say(`\nkept in ${receipts.proofDir}: worker-proof.json, requester-proof.json, ${plural(bundles, 'bundle-ROOT.json file')}${receipts.chainDir == null ? '' : `, chain/ (the local chain's history${keep ? ', copied there when the demo stops' : ''})`}`)
      if (receipts.chainDir != null) {
        say(`  check them again: shardmesh chain --data-dir ${receipts.chainDir} (it serves on port 8899), then`)
        say(`  shardmesh receipts verify ${receipts.verified.files.worker} --solana-rpc http://127.0.0.1:8899`)
      }
    }

    const receiptsOk = receipts == null || (receipts.verified.ok && receipts.tallyCheck.ok && (receipts.settlement?.ok ?? true) && receipts.anchored === receipts.count && receipts.count === result.receipts.length)
    const ok = accuracy.charAccuracyNoSpaces >= MIN_ACCURACY && sameText && receiptsOk
    const dashboard = keep ? await loginUrl(cluster.nodes[0].dataDir, cluster.nodes[0].control.url) : undefined
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
        tally: checked?.tally ?? null,
        cluster: convergence,
        ...(dashboard == null ? {} : { dashboard })
      }
      process.stdout.write(JSON.stringify(body) + '\n')
    } else if (!ok) {
      say(receiptsOk ? `FAILED: accuracy below ${MIN_ACCURACY * 100} % or local and mesh disagree` : 'FAILED: the receipts were not all anchored, a proof kept did not verify, the tally\'s check failed, or a worker was not paid what it was owed')
    }
    if (dashboard != null) {
      await keepRunning(cluster, dashboard, receipts?.chainDir ?? null, say, waiting => { keeping = waiting })
    }
    return ok ? EXIT_OK : EXIT_FAILURE
  } catch (err) {
    // a signal stops the cluster under the steps still running: their errors are its doing,
    // and the process exits once the cluster is stopped
    if (stopping != null) {
      await stopping
    }
    throw err
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    process.stdout.off('error', onOutputError)
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
  /** the rows of `receipts tally --json` over the job's bundles, each anchor checked on chain (null: no chain, or the check failed) */
  tally: TallyJsonRow[] | null
  cluster: { convergedMs: number | null, readyMs: number }
  /** with --keep: the dashboard's login URL of node 0 (it holds node 0's control token) */
  dashboard?: string
}

interface DemoReceipts {
  /** receipts of the job stored by node 0 (the requester) */
  count: number
  anchored: number
  batches: number
  /** lamports paid for the job's anchors divided by its receipts */
  lamportsPerReceipt: number
  /** where the proof files and bundles are kept (absolute; not removed at exit) */
  proofDir: string
  /** `<proofDir>/chain`: the local chain's history (`shardmesh chain --data-dir` serves it again); null on another cluster */
  chainDir: string | null
  /** the files kept, relative to proofDir */
  files: string[]
  /**
   * One receipt of a remote worker, verified on chain from both copies: the worker's own (from
   * its store, pulled from node 0) and node 0's. `worker` and `requester` are the peer ids the
   * verified proofs name; `workerNode` is the worker's node index.
   */
  verified: {
    ok: boolean
    id: string
    signature: string
    slot: string
    worker: string | null
    requester: string | null
    workerNode: number | null
    files: { worker: string, requester: string }
    check?: string
    message?: string
  }
  /** the tally's check of every bundle (decoded, root recomputed, receipts checked, anchor on chain) */
  tallyCheck: { ok: true, bundles: number } | { ok: false, source: string, check: string, message: string }
  /** the verified receipt's batch as node `by` fetched it from node `from`, the worker, over /shardmesh/receipt-batches/1.0.0 (null: only node 0 worked) */
  bundleFetched: { root: string, by: number, from: number } | null
  /** the tally's rows give each worker exactly the shards and items the job's report does */
  tallyMatchesJob: boolean
  /**
   * with --pay: lamports owed, paid and missing over every worker (decimal strings, as the
   * tally's rows), and ok: each remote worker owed items x price and paid it, node 0 owed nothing
   */
  settlement: { lamportsPerItem: number, owed: string, paid: string, missing: string, ok: boolean } | null
}

/** One row of `receipts tally --json` (with lamports owed, paid and missing as decimal strings). */
interface TallyJsonRow {
  worker: string
  shards: number
  items: number
  cpuMicros: number
  [field: string]: unknown
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
  /** roots of the batches that hold the job's receipts */
  roots: string[]
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
  return { count: listed.total, anchored, batches: batches.length, lamportsPerReceipt, rpcUrl: listed.stats.rpcUrl, roots: batches.map(b => b.root) }
}

/** The files `keepProofs` wrote: two copies of one receipt's proof and the job's bundles. */
interface Kept {
  dir: string
  /** the receipt, as the worker's store lists it */
  receipt: ReceiptRow
  /** the node that did it and holds the worker's copy (node 0 itself when it is the only node) */
  workerNode: ClusterNode
  workerFile: string
  requesterFile: string
  bundleFiles: string[]
  /** the batch of the receipt, fetched by node `by` from node `from` (the worker) over libp2p; null when only node 0 worked */
  fetched: { root: string, by: number, from: number } | null
}

/**
 * A remote worker's proof, from its own store: the nodes that did shards of the job (node 0
 * last) are asked, in turn, to pull their proofs from node 0 now (POST /v1/receipts/pull)
 * until one holds an anchored receipt of the job; its proof, node 0's proof of the same
 * receipt and the bundle of every batch of the job (checked first) are written to `dir`.
 */
async function keepProofs (cluster: LocalCluster, result: JobResultJson, anchoring: Anchoring, dir: string, timeout: number, names: Map<string, string>, say: (line: string) => void): Promise<Kept | undefined> {
  const requester = cluster.nodes[0]
  const byPeer = new Map(cluster.nodes.map(node => [node.peerId, node]))
  const workers = result.peers
    .filter(p => p.shards > 0 && byPeer.has(p.peerId) && p.peerId !== requester.peerId)
    .sort((a, b) => b.items - a.items)
    .map(p => byPeer.get(p.peerId) as ClusterNode)
  if (workers.length === 0) {
    workers.push(requester)
    say('\nboth sides hold proof: only node 0 did work, so it holds both copies')
  } else {
    say('\nboth sides hold proof: workers pull the proofs of their receipts from node 0 into their own stores...')
  }
  const deadline = Date.now() + timeout
  let found: { node: ClusterNode, receipt: ReceiptRow } | undefined
  let lastError: string | undefined
  while (found == null) {
    for (const node of workers) {
      if (node !== requester) {
        // a round that fails is named at the deadline; the next round may get them
        await node.control.pullReceiptProofs(timeout).catch((err: Error) => { lastError = err.message })
      }
      const held = await node.control.receipts({ role: node === requester ? 'requester' : 'worker', anchored: true, limit: 10_000 })
      const receipt = held.receipts.find(r => r.jobId === result.jobId && r.worker === node.peerId)
      if (receipt != null) {
        found = { node, receipt }
        break
      }
    }
    if (found == null) {
      if (Date.now() > deadline) {
        say(`  no worker holds an anchored receipt of the job after ${age(timeout)}${lastError == null ? '' : ` (last pull: ${lastError})`}`)
        return undefined
      }
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }
  const { node, receipt } = found
  await mkdir(dir, { recursive: true })
  const workerFile = join(dir, 'worker-proof.json')
  const requesterFile = join(dir, 'requester-proof.json')
  const workerCopy = await node.control.receipt(receipt.id)
  const requesterCopy = await requester.control.receipt(receipt.id)
  // as `receipts show --out` writes them
  await writeFile(workerFile, JSON.stringify(workerCopy.proof, null, 2) + '\n')
  await writeFile(requesterFile, JSON.stringify(requesterCopy.proof, null, 2) + '\n')
  say(`  ${names.get(node.peerId) ?? shortId(node.peerId)} holds receipt ${receipt.id.slice(0, 16)}… (job shard ${receipt.shardIndex}) with its proof, in its own store`)
  const bundleFiles: string[] = []
  let fetched: Kept['fetched'] = null
  for (const root of anchoring.roots) {
    let json: unknown
    if (root === receipt.batch && node !== requester) {
      // this receipt's batch as anyone gets it: from the worker, which kept it when it pulled
      // its proofs, fetched by another node (node 0 when there is none)
      const fetcher = cluster.nodes.find(n => n !== requester && n !== node) ?? requester
      json = await bundleFromWorker(fetcher, node, root, deadline)
      fetched = { root, by: fetcher.index, from: node.index }
      say(`  node ${fetcher.index} fetched the batch of that receipt from node ${node.index}, the worker, over ${RECEIPT_BATCHES_PROTOCOL}`)
    } else {
      json = await requester.control.receiptBundle(root)
    }
    // checked as anyone would check the file, before it is kept (as `receipts bundle --out`)
    const checked = await checkBundle(decodeBundle(JSON.stringify(json)))
    if (checked.root !== root) {
      throw new Error(`the bundle of batch ${root} recomputes to root ${checked.root}`)
    }
    const file = join(dir, `bundle-${root}.json`)
    await writeFile(file, encodeBundle(checked.bundle))
    bundleFiles.push(file)
  }
  say(`  kept its proof, node 0's proof of the same receipt and ${plural(bundleFiles.length, 'batch bundle')} in ${dir}`)
  return { dir, receipt, workerNode: node, workerFile, requesterFile, bundleFiles, fetched }
}

/**
 * The bundle of batch `root` as `fetcher` fetches it from `worker` over libp2p (GET
 * …/bundle?from=PEER); asked again while the worker answers that it does not hold it (it
 * keeps a batch once a pull stored the proofs in it), until `deadline` (ms since the epoch).
 */
async function bundleFromWorker (fetcher: ClusterNode, worker: ClusterNode, root: string, deadline: number): Promise<unknown> {
  while (true) {
    try {
      return await fetcher.control.receiptBundle(root, { from: worker.peerId })
    } catch (err: any) {
      if (err?.status !== 404 || Date.now() > deadline) {
        throw err
      }
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/**
 * With nothing but the files kept and the RPC endpoint: both copies of the proof verified on
 * chain, and the tally of who did what over the bundles, checked as `receipts tally` checks them.
 */
async function verifyKept (anchoring: Anchoring, kept: Kept, cluster: LocalCluster, result: JobResultJson, names: Map<string, string>, pay: number | undefined, say: (line: string) => void): Promise<{ receipts: DemoReceipts, tally: TallyJsonRow[] | null }> {
  const { count, anchored, batches, lamportsPerReceipt, rpcUrl } = anchoring
  const { receipt, workerNode } = kept
  const files = [kept.workerFile, kept.requesterFile, ...kept.bundleFiles].map(file => basename(file))
  const receipts: DemoReceipts = {
    count,
    anchored,
    batches,
    lamportsPerReceipt,
    proofDir: kept.dir,
    chainDir: null,
    files,
    verified: { ok: false, id: receipt.id, signature: receipt.anchor?.signature ?? '', slot: receipt.anchor?.slot ?? '', worker: null, requester: null, workerNode: workerNode.index, files: { worker: kept.workerFile, requester: kept.requesterFile }, check: 'no-rpc', message: 'node 0 names no RPC endpoint' },
    tallyCheck: { ok: false, source: '-', check: 'no-rpc', message: 'node 0 names no RPC endpoint' },
    bundleFetched: kept.fetched,
    tallyMatchesJob: false,
    settlement: null
  }
  if (rpcUrl == null) {
    return { receipts, tally: null }
  }
  const wsUrl = cluster.chain?.wsUrl
  say(`\nverifying receipt ${receipt.id} (job shard ${receipt.shardIndex}) with only the files kept and ${rpcUrl}...`)
  const outcomes: Array<{ who: string, file: string, outcome: Awaited<ReturnType<typeof verifyProofOverRpc>> }> = []
  for (const [who, file] of [[`node ${workerNode.index}'s copy (its own store)`, kept.workerFile], ['node 0\'s copy', kept.requesterFile]]) {
    let outcome: Awaited<ReturnType<typeof verifyProofOverRpc>>
    try {
      // the decoder enforces the size limit before it parses
      outcome = await verifyProofOverRpc(decodeReceiptProof(await readFile(file)), { rpcUrl, wsUrl })
    } catch (err: any) {
      outcome = { ok: false, failure: { check: 'undecodable', message: err.message } }
    }
    outcomes.push({ who, file, outcome })
  }
  const failed = outcomes.find(o => !o.outcome.ok)
  const reports = outcomes.flatMap(o => o.outcome.ok ? [o.outcome.report] : [])
  if (failed != null && !failed.outcome.ok) {
    receipts.verified = { ...receipts.verified, check: failed.outcome.failure.check, message: `${basename(failed.file)}: ${failed.outcome.failure.message}` }
    say(`  FAILED ${failed.who}: check ${failed.outcome.failure.check}: ${failed.outcome.failure.message}`)
  } else {
    const [r, theirs] = reports as [VerifiedReport, VerifiedReport]
    // both copies are of the same receipt, done by that worker for node 0, in the same anchored batch
    const same = theirs.id === r.id && theirs.root === r.root && theirs.anchor.signature === r.anchor.signature
    const who = r.worker === workerNode.peerId && r.requester === cluster.nodes[0].peerId
    receipts.verified = { ok: same && who, id: r.id, signature: r.anchor.signature, slot: r.anchor.slot, worker: r.worker, requester: r.requester, workerNode: workerNode.index, files: receipts.verified.files }
    if (!receipts.verified.ok) {
      receipts.verified = { ...receipts.verified, check: same ? 'parties' : 'copies-differ', message: same ? `the proof names worker ${r.worker} and requester ${r.requester}` : 'the two copies are not of the same anchored receipt' }
    }
    say(`  ok  worker signature            ${r.worker} (${names.get(r.worker) ?? '?'})`)
    say(`  ok  requester countersignature  ${r.requester} (${names.get(r.requester) ?? '?'}; ${r.verification})`)
    say(`  ok  merkle path                 leaf ${r.leaf} of ${r.count} under root ${r.root.slice(0, 16)}…`)
    say(`  ok  anchor on chain             memo ${r.anchor.memo.slice(0, 30)}…, signed by the requester, slot ${r.anchor.slot}${r.cluster == null ? '' : ', cluster named'}`)
    say(`  ${same ? 'ok' : 'FAILED'}  both copies                 ${outcomes.map(o => o.who).join(' and ')}: the same anchored receipt`)
    say(`anchored and verified: transaction ${r.anchor.signature}`)
    say(`fee: ${r.anchor.fee} lamports for ${plural(r.count, 'receipt')} = ${lamportsPerReceipt.toFixed(2)} lamports per receipt (${anchored}/${plural(count, 'receipt')} anchored in ${plural(batches, 'transaction')})`)
  }
  // the tally, with the check `receipts tally --bundle FILE... --solana-rpc URL` makes
  const check = await checkTallySources(kept.bundleFiles.map(file => ({ name: basename(file), text: async () => readFile(file) })), { rpcUrl, wsUrl })
  if (!check.ok) {
    receipts.tallyCheck = check
    say(`\ntally: FAILED ${check.source}: check ${check.check}: ${check.message}`)
    return { receipts, tally: null }
  }
  receipts.tallyCheck = { ok: true, bundles: check.checked.length }
  // as `receipts tally --solana-rpc` computes them: what each anchor transaction paid, too
  const paid = paymentsByWorker(check.checked, check.anchors, addressOfPeerId)
  const rows = (JSON.parse(formatTallyJson(tally(check.checked, { paid }))) as { workers: TallyJsonRow[] }).workers
  const worked = result.peers.filter(p => p.shards > 0)
  receipts.tallyMatchesJob = rows.length === worked.length && worked.every(p => rows.some(row => row.worker === p.peerId && row.shards === p.shards && row.items === p.items))
  say(`\ntally of who did what: ${plural(check.checked.length, 'batch', 'batches')}, ${plural(check.checked.reduce((n, c) => n + c.receipts.length, 0), 'receipt')}, every anchor checked on chain`)
  const lamports = (row: TallyJsonRow, field: 'owedLamports' | 'paidLamports' | 'missingLamports'): bigint => BigInt(typeof row[field] === 'string' ? row[field] : 0)
  if (pay != null) {
    const sum = (field: 'owedLamports' | 'paidLamports' | 'missingLamports'): string => rows.reduce((n, row) => n + lamports(row, field), 0n).toString()
    // node 0 owes itself nothing; every other worker is owed its items at the price, and paid it
    const settled = rows.every(row => lamports(row, 'owedLamports') === (row.worker === cluster.nodes[0].peerId ? 0n : BigInt(row.items) * BigInt(pay)) &&
      typeof row.paidLamports === 'string' && lamports(row, 'missingLamports') === 0n)
    receipts.settlement = { lamportsPerItem: pay, owed: sum('owedLamports'), paid: sum('paidLamports'), missing: sum('missingLamports'), ok: settled }
  }
  const headers = ['worker', 'shards', 'items', 'cpu', ...(pay == null ? [] : ['owed', 'paid', 'missing'])]
  say(table(headers, rows.map(row => [
    names.get(row.worker) ?? shortId(row.worker),
    String(row.shards),
    String(row.items),
    `${(row.cpuMicros / 1000).toFixed(1)} ms`,
    ...(pay == null ? [] : [lamports(row, 'owedLamports'), lamports(row, 'paidLamports'), lamports(row, 'missingLamports')].map(n => n.toString()))
  ])))
  if (receipts.settlement != null) {
    const s = receipts.settlement
    say(`${s.ok ? 'settled' : 'NOT settled'}: ${s.paid} of the ${s.owed} lamports owed paid in the transactions that anchor the receipts${s.missing === '0' ? '' : `, ${s.missing} missing`}`)
  }
  say(receipts.tallyMatchesJob ? 'the tally gives each worker exactly the shards and items of the job\'s report' : 'the tally differs from the job\'s report (shards retried or verified elsewhere?)')
  return { receipts, tally: rows }
}

/**
 * `--keep`: the cluster (and the local chain) serve on; the login URL of node 0's dashboard is
 * printed (in JSON mode it was in the JSON object), and this waits for SIGINT/SIGTERM (`wait`
 * hands the demo's signal handler what to resolve). Then the nodes stop (gracefully: receipts
 * still waiting are anchored) and, with the local chain, its history is copied to `chainDir`;
 * the caller's `finally` stops the rest.
 */
async function keepRunning (cluster: LocalCluster, dashboard: string, chainDir: string | null, say: (line: string) => void, wait: (signal: PromiseWithResolvers<NodeJS.Signals>) => void): Promise<void> {
  const signal = Promise.withResolvers<NodeJS.Signals>()
  wait(signal)
  say(`\ndashboard ${dashboard}`)
  say(`${cluster.chain == null ? 'the cluster keeps' : 'the cluster and the local chain keep'} running: open the dashboard in a browser on this machine; Ctrl-C stops ${cluster.chain == null ? 'it' : 'them'}`)
  await signal.promise
  say('stopping the cluster...')
  await cluster.stopNodes()
  if (chainDir != null && cluster.chain != null) {
    await keepChain(cluster, dirname(chainDir))
    say(`the local chain's history is kept in ${chainDir}`)
  }
}

/**
 * The local chain stopped (SIGTERM) and its history copied to `<dir>/chain` (its lock and pid
 * file left behind), so `shardmesh chain --data-dir <dir>/chain` serves it again after the demo.
 */
async function keepChain (cluster: LocalCluster, dir: string): Promise<string | null> {
  const chain = cluster.chain
  if (chain == null) {
    return null
  }
  await cluster.killChain('SIGTERM')
  const target = join(dir, 'chain')
  await cp(chain.dataDir, target, { recursive: true, filter: source => !['LOCK', 'chain.pid'].includes(basename(source)) })
  return target
}

/** `--out`: an absolute path, new or an empty directory (nothing of a user's is overwritten). */
async function checkOutDir (text: string): Promise<string> {
  if (text === '') {
    throw new UsageError('demo: --out needs a directory')
  }
  const dir = resolve(text)
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return dir
    }
    throw new UsageError(`demo: --out ${text}: ${err.code === 'ENOTDIR' ? 'not a directory' : err.message}`)
  }
  if (entries.length > 0) {
    throw new UsageError(`demo: --out ${text} is not empty (give a new or empty directory)`)
  }
  return dir
}

/** `20261205-001502`: a UTC time for a directory name. */
function utcStamp (date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-')
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
