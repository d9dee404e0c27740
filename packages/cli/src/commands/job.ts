import { stat } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseVerification } from '@shardmesh/compute'
import { plural } from '@shardmesh/protocol'
import { WorkloadRegistry, builtinWorkloads, parseWorkloadSpec } from '@shardmesh/workloads'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseInteger } from '../args.js'
import { ControlClient, ControlRequestError } from '@shardmesh/control'
import { resolveDataDir } from '../data-dir.js'
import { age } from '../format.js'
import { loadInputs } from '../job/inputs.js'
import { progressBar } from '../job/progress.js'
import { decodeOutputs, ocrAccuracy, renderPeerSummary } from '../job/summary.js'
import type { OcrLine } from '@shardmesh/workloads'

export const JOB_HELP = `Usage: shardmesh job run --workload ID[@VERSION] (--input PATH | --generate N) [options]

Run a job from the running node: split it into shards, place them on the peers that offer
the workload (and this node), verify, and print the outputs' summary and who did what.

Options:
  --workload ID[@VER]   ocr-rec, embed, echo or sleep (embed: a MiniLM-shaped model with
                        seeded random weights, a compute benchmark whose vectors carry no
                        meaning, not a usable embedding)
  --input PATH          ocr-rec: a directory of .png/.jpg/.webp line images (an optional
                        truth.json maps file name to expected text); embed: a text file or
                        directory, one item per line; echo/sleep: each file is an item
  --generate N          N generated items instead (ocr-rec: rendered text lines with known truth)
  --seed N              seed of --generate (default 1)
  --shard-size S        items per shard (default 8)
  --verify POLICY       none, spot-check:P or replicate:K (default none)
  --max-retries N       retries of a shard on other peers (default 3)
  --peer PEER_ID        run only on these peers, repeatable (this node's id = locally too)
  --no-local            do not run shards on this node
  --data-dir DIR        the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json                print one JSON object: { jobId, workload, items, elapsedMs, itemsPerSec,
                        peers, shards, disputes, accuracy?, outputs? }; each of peers has
                        shards (completed with an accepted result, agreeing replicas
                        included), items, attempts (shards sent: replicas, retries, hedges),
                        failures, results (returned), meanRunMs (on the worker),
                        meanQueueMs (queued at the worker + transfer), meanShardMs (both)
  --outputs             include the decoded outputs (in --json, or printed)
  -h, --help            this help
`

/** The exit code of a job interrupted by Ctrl-C (128 + SIGINT, as shells report it). */
const EXIT_CANCELLED = 130

/** A --peer value: a peer id (whether the node knows it, the node says). */
function peerFlag (text: string): string {
  try {
    return peerIdFromString(text).toString()
  } catch {
    throw new UsageError(`job run: --peer "${text}" is not a peer id (the peers a node knows: shardmesh peers)`)
  }
}

async function exists (path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

export async function jobCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '--help' || sub === '-h' || sub == null) {
    process.stdout.write(JOB_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  if (sub !== 'run') {
    throw new UsageError(`job: unknown subcommand "${sub}" (try: shardmesh job run --help)`)
  }
  const { values } = parse('job run', rest, {
    workload: { type: 'string' },
    input: { type: 'string' },
    generate: { type: 'string' },
    seed: { type: 'string' },
    'shard-size': { type: 'string' },
    verify: { type: 'string' },
    'max-retries': { type: 'string' },
    peer: { type: 'string', multiple: true },
    'no-local': { type: 'boolean' },
    'data-dir': { type: 'string' },
    outputs: { type: 'boolean' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(JOB_HELP)
    return EXIT_OK
  }
  if (values.workload == null) {
    throw new UsageError('job run: --workload is required')
  }
  let spec
  try {
    spec = parseWorkloadSpec(values.workload)
  } catch (err: any) {
    throw new UsageError(`job run: ${err.message}`)
  }
  const workload = new WorkloadRegistry(builtinWorkloads()).get(spec.id, spec.version)
  if (workload == null) {
    throw new UsageError(`job run: unknown workload ${values.workload}`)
  }
  if ((values.input == null) === (values.generate == null)) {
    throw new UsageError('job run: give exactly one of --input PATH or --generate N')
  }
  const verify = values.verify ?? 'none'
  try {
    parseVerification(verify)
  } catch (err: any) {
    throw new UsageError(`job run: --verify: ${err.message}`)
  }
  const generate = parseInteger(values.generate, '--generate', 1, 1_000_000)
  const seed = parseInteger(values.seed ?? '1', '--seed', 0, 2 ** 32 - 1) as number
  const shardSize = parseInteger(values['shard-size'] ?? '8', '--shard-size', 1, 100_000) as number
  const maxRetries = parseInteger(values['max-retries'], '--max-retries', 0, 100)
  const peers = (values.peer as string[] | undefined)?.map(peerFlag)
  if (values.input != null && !await exists(values.input)) {
    throw new UsageError(`job run: --input ${values.input} does not exist`)
  }
  const json = values.json === true

  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const inputs = await loadInputs(workload, { input: values.input, generate, seed })
  // Ctrl-C from here on cancels the job (before the job line, so that none comes too early)
  const controller = new AbortController()
  const onSigint = (): void => { controller.abort() }
  process.once('SIGINT', onSigint)
  if (!json) {
    process.stdout.write(`job: ${workload.id}@${workload.version} on ${inputs.source}, shards of ${shardSize}, verification ${verify}\n`)
  }
  const bar = json ? undefined : progressBar(process.stderr)
  let result
  try {
    result = await client.runJob({
      workload: workload.id,
      version: workload.version,
      items: inputs.items.map(i => Buffer.from(i).toString('base64')),
      shardSize,
      verification: verify,
      maxRetries,
      peers,
      includeSelf: values['no-local'] !== true
    }, { signal: controller.signal, onEvent: (e) => bar?.onEvent(e) })
  } catch (err: any) {
    bar?.done()
    if (controller.signal.aborted) {
      // Ctrl-C: the node cancelled the job on every peer when the connection closed
      if (json) {
        process.stdout.write(JSON.stringify({ error: { code: 'ERR_CANCELLED', message: 'cancelled' } }) + '\n')
      }
      process.stderr.write('shardmesh job: cancelled\n')
      return EXIT_CANCELLED
    }
    if (err instanceof ControlRequestError && err.status === 400) {
      // the node refused the job as asked: a usage error
      throw new UsageError(`job run: ${err.message}`)
    }
    if (json) {
      process.stdout.write(JSON.stringify({ error: { code: err.code ?? 'ERR_INTERNAL', message: err.message } }) + '\n')
      return EXIT_FAILURE
    }
    throw err
  } finally {
    process.off('SIGINT', onSigint)
  }
  bar?.done()
  const outputs = decodeOutputs(workload, result)
  const accuracy = workload.id === 'ocr-rec' && inputs.truth != null ? ocrAccuracy(inputs.truth, outputs as OcrLine[]) : undefined
  if (json) {
    const { outputs: _raw, receipts, ...rest } = result
    process.stdout.write(JSON.stringify({
      ...rest,
      receipts: receipts.length,
      accuracy,
      outputs: values.outputs === true ? outputs.map(o => o instanceof Float32Array ? Array.from(o) : o instanceof Uint8Array ? Buffer.from(o).toString('base64') : o) : undefined
    }) + '\n')
    return EXIT_OK
  }
  process.stdout.write(`done: ${plural(result.items, 'item')} in ${age(result.elapsedMs)} (${result.itemsPerSec.toFixed(1)} items/s), ${plural(result.shards.length, 'shard')}, ${plural(result.receipts.length, 'countersigned receipt')}\n`)
  if (accuracy != null) {
    process.stdout.write(`accuracy: ${(accuracy.charAccuracyNoSpaces * 100).toFixed(2)} % of characters (spaces ignored), ${accuracy.exactLines}/${accuracy.lines} lines exact\n`)
  }
  if (result.disputes.length > 0) {
    process.stdout.write(`disputes: ${result.disputes.map(d => `shard ${d.shard} lost by ${d.losers.join(', ')}`).join('; ')}\n`)
  }
  process.stdout.write('\n' + renderPeerSummary(result) + '\n')
  if (values.outputs === true) {
    outputs.forEach((o, i) => {
      const text = workload.id === 'ocr-rec' ? `${(o as OcrLine).text}  (${(o as OcrLine).confidence.toFixed(3)})` : o instanceof Float32Array ? `[${Array.from(o.slice(0, 4), v => v.toFixed(4)).join(', ')}, ...] (${o.length})` : `${(o as Uint8Array).byteLength} bytes`
      process.stdout.write(`${i}\t${text}\n`)
    })
  }
  return EXIT_OK
}
