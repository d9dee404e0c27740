import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeItemList, encodeItemList } from '@shardmesh/protocol'
import { WorkloadRunner, generateOcrLines, ocrRec } from '@shardmesh/workloads'
import { EXIT_FAILURE, EXIT_OK, parse, parseDuration, parseInteger } from '../args.js'
import { LocalCluster } from '../cluster/local-cluster.js'
import { age, shortId } from '../format.js'
import { progressBar } from '../job/progress.js'
import { decodeOutputs, ocrAccuracy, renderPeerSummary } from '../job/summary.js'
import type { OcrAccuracy } from '../job/summary.js'
import type { OcrLine, Workload } from '@shardmesh/workloads'

export const DEMO_HELP = `Usage: shardmesh demo [options]

The main job on embedded defaults: start a local cluster of node processes on loopback, wait
until they hold each other's signed capability adverts, generate a batch of text-line images
with known text, shard the OCR job (PP-OCRv4 recognition) across every node from node 0,
check the text against the truth, then run the same job in this one process with a worker
pool and compare throughput.

Options:
  --nodes N            node processes (default 4)
  --items N            text lines to read (default 120)
  --shard-size S       lines per shard (default 4)
  --verify POLICY      none, spot-check:P or replicate:K (default none)
  --seed N             seed of the generated lines (default 7)
  --timeout DURATION   give up if the cluster is not ready within this (default 90s)
  --json               print one JSON object: { nodes, items, accuracy, peers, throughput, job, cluster }
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
  const verify = values.verify ?? 'none'
  const json = values.json === true
  const say = (line: string): void => { if (!json) process.stdout.write(line + '\n') }

  // two cores shared by n processes: one inference thread each keeps the machine honest
  const threads = Math.max(1, Math.floor(availableParallelism() / Math.min(n, availableParallelism())))
  const cluster = new LocalCluster({
    nodes: n,
    gpu: true,
    nodeArgs: () => ['--workload', 'ocr-rec', '--pool-size', String(threads), '--warm']
  })
  const stop = (): void => { void cluster.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  try {
    say(`shardmesh demo: starting a local cluster of ${n} node processes on loopback`)
    await cluster.start()
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
    say(`converged ${age(report.convergedMs)} after start; node 0 sees ${n - 1} peers offering ocr-rec`)

    const { images, truth } = await generateOcrLines({ count, seed })
    say(`\nOCR job: ${count} generated text lines, ${Math.ceil(count / shardSize)} shards of ${shardSize}, verification ${verify}, sent to node 0`)
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
    say(`read ${result.items} lines in ${age(result.elapsedMs)}: ${result.itemsPerSec.toFixed(1)} lines/s across ${result.peers.filter(p => p.shards > 0).length} nodes`)
    say(`accuracy: ${(accuracy.charAccuracyNoSpaces * 100).toFixed(2)} % of characters (spaces ignored), ${accuracy.exactLines}/${accuracy.lines} lines exact`)
    const wrong = truth.findIndex((t, i) => t.replace(/\s+/g, '') !== outputs[i].text.replace(/\s+/g, ''))
    say(`  e.g. "${truth[0]}" → "${outputs[0].text.trim()}"${wrong === -1 ? '' : `; a miss: "${truth[wrong]}" → "${outputs[wrong].text.trim()}"`}`)
    say('\nwho did the work:')
    say(renderPeerSummary(result, id => names.get(id) ?? shortId(id)))
    const peers = result.peers.map(p => ({ peerId: p.peerId, node: cluster.nodes.find(c => c.peerId === p.peerId)?.index, shards: p.shards, items: p.items, attempts: p.attempts, failures: p.failures }))
    const convergence = { convergedMs: report.convergedMs, readyMs: report.readyMs }
    await cluster.stop()

    say(`\nthe same ${count} lines in this one process, ${availableParallelism()} pool threads, same shards...`)
    const local = await runLocally(workload, images, shardSize)
    const ratio = result.itemsPerSec / local.itemsPerSec
    say(`local: ${local.itemsPerSec.toFixed(1)} lines/s; mesh: ${result.itemsPerSec.toFixed(1)} lines/s; mesh/local = ${ratio.toFixed(2)} (one machine: the mesh adds processes, not cores)`)
    const sameText = local.texts.every((t, i) => t === outputs[i].text)
    say(sameText ? 'the local run read exactly the same text as the mesh' : 'WARNING: the local run read different text from the mesh')

    const ok = accuracy.charAccuracyNoSpaces >= MIN_ACCURACY && sameText
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
        cluster: convergence
      }
      process.stdout.write(JSON.stringify(body) + '\n')
    } else if (!ok) {
      say(`FAILED: accuracy below ${MIN_ACCURACY * 100} % or local and mesh disagree`)
    }
    return ok ? EXIT_OK : EXIT_FAILURE
  } finally {
    process.off('SIGINT', stop)
    await cluster.stop()
  }
}

interface DemoJson {
  ok: boolean
  nodes: number
  items: number
  shardSize: number
  verification: string
  accuracy: OcrAccuracy
  peers: Array<{ peerId: string, node?: number, shards: number, items: number, attempts: number, failures: number }>
  throughput: { meshItemsPerSec: number, localItemsPerSec: number, ratio: number, localThreads: number, nodeThreads: number }
  job: { jobId: string, elapsedMs: number, shards: number, disputes: number, receipts: number, retries: number }
  localMatchesMesh: boolean
  cluster: { convergedMs: number | null, readyMs: number }
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
      throw new Error(`only ${found.peers.length} of ${count} peers offer ocr-rec after ${age(timeout)}`)
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
