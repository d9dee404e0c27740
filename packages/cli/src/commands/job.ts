import { mkdir, stat, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseVerification } from '@shardmesh/compute/verification'
import { plural } from '@shardmesh/protocol'
import { owedLamports, verifyReceipt } from '@shardmesh/receipts'
import { WorkloadRegistry, builtinWorkloads, parseWorkloadSpec, tensorValues } from '@shardmesh/workloads'
import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseInteger, parseNumber } from '../args.js'
import { ControlClient, ControlRequestError } from '@shardmesh/control/client'
import { resolveDataDir } from '../data-dir.js'
import { age } from '../format.js'
import { loadInputs } from '../job/inputs.js'
import { progressBar } from '../job/progress.js'
import { decodeOutputs, ocrAccuracy, renderPeerSummary, renderPlacement } from '../job/summary.js'
import { renderPlan } from '../job/plan.js'
import { writeTensorOutputs } from '../job/tensors.js'
import { registerWorkloadModules } from '../daemon/workload-modules.js'
import type { PlanRequestJson } from '@shardmesh/control/client'
import type { NamedTensor, OcrLine, Workload } from '@shardmesh/workloads'

export const JOB_HELP = `Usage: shardmesh job run --workload ID[@VERSION] (--input PATH | --generate N) [options]
       shardmesh job plan --workload ID[@VERSION] [--verify P] [--peer ID]... [--no-local]
                          [--min-score X] [--challenge] [--json]

run: run a job from the running node: split it into shards, place them on the peers that
offer the workload (and this node), verify, and print the outputs' summary, who did what,
and which peers were considered and why each unused one was not used.

plan: which peers such a job would use now, each with its first in-flight window, and why
each other peer would not be used (dead, suspect, low score, probation, a failed challenge,
a contradicted claim...); sends no work. 'job run --dry-run' plans with the run's flags.

Options:
  --workload ID[@VER]   ocr-rec, embed, echo, sleep, onnx, or a workload of a
                        --workload-module (embed: a MiniLM-shaped model with seeded random
                        weights, a compute benchmark whose vectors carry no meaning, not a
                        usable embedding)
  --workload-module PATH  the module of an operator-installed workload (as given to 'node
                        start --workload-module'), repeatable: its codecs build the items and
                        decode the outputs here; the node must have installed it too
  --input PATH          ocr-rec: a directory of .png/.jpg/.webp line images (an optional
                        truth.json maps file name to expected text); embed: a text file or
                        directory, one item per line; echo/sleep: each file is an item;
                        onnx: X.npy (feeds the model input X), a directory of .npy files (one
                        per input) or a .json file { "X": [[...], ...] } (float32, or
                        { "dtype": "int64", "data": [...] }): row i of each array (first
                        axis) is item i, fed with a batch dimension of 1; a module's workload:
                        a .json array of items (each given to its input codec), or files
                        whose bytes are items
  --model FILE          onnx: the .onnx model, sent to the workers that lack it (by sha256)
  --out DIR             write the outputs to DIR: onnx: NAME.npy per model output, the items'
                        tensors stacked along the first axis (NAME.<i>.npy per item when
                        their shapes differ); other workloads: outputs.json (one JSON value an
                        item); DIR/outputs.json lists the files (onnx)
  --generate N          N generated items instead (ocr-rec: rendered text lines with known truth)
  --seed N              seed of --generate (default 1)
  --shard-size S        items per shard (default 8)
  --verify POLICY       none, spot-check:P or replicate:K (default none)
  --max-retries N       retries of a shard on other peers (default 3)
  --pay LAMPORTS        pay the workers LAMPORTS per item (lamports only, no SPL tokens):
                        every worker signs the price in its receipt, and the node's anchor of
                        the receipts pays each worker items x LAMPORTS of its accepted or
                        checked work in the same transaction (see receipts tally)
  --peer PEER_ID        run only on these peers, repeatable (this node's id = locally too)
  --no-local            do not run shards on this node
  --min-score X         give no work to peers whose score (0..1) is below X (default: the
                        node's, 0.25 unless started with --min-score)
  --dry-run             run: print the plan of this job (as 'job plan') instead of running it;
                        --input and --generate are not needed then
  --challenge           plan: first run the challenges a real job would (peers not measured
                        yet for the workload), so the plan shows their outcome
  --data-dir DIR        the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json                run: print one JSON object: { jobId, workload, items, elapsedMs,
                        itemsPerSec, peers, shards, disputes, placement, accuracy?, outputs? };
                        each of peers has shards (completed with an accepted result, agreeing
                        replicas included), items, attempts (shards sent: replicas, retries,
                        hedges), failures, results (returned), window (its in-flight window at
                        the end), itemsPerSec (its speed a slot, timed here), meanRunMs (on
                        the worker), meanQueueMs (queued at the worker + transfer),
                        meanShardMs (both); placement is { considered, used: [peer ids],
                        excluded: [{ peerId, reason, detail }] }; with --pay, pay:
                        { lamportsPerItem, owed: { peerId: lamports } } (decimal strings);
                        with --out, out: { dir, files }
                        plan: the node's answer { workload, verification, minScore, peers:
                        [{ peerId, local, used, window?, reason?, detail?, trust? }] }
  --outputs             include the decoded outputs (in --json, or printed)
  -h, --help            this help
`

/** The exit code of a job interrupted by Ctrl-C (128 + SIGINT, as shells report it). */
const EXIT_CANCELLED = 130

/** A --peer value: a peer id (whether the node knows it, the node says). */
function peerFlag (command: string, text: string): string {
  try {
    return peerIdFromString(text).toString()
  } catch {
    throw new UsageError(`${command}: --peer "${text}" is not a peer id (the peers a node knows: shardmesh peers)`)
  }
}

/**
 * --workload as a workload this CLI knows (it encodes the items and decodes the outputs): a
 * built-in, or one of the --workload-module files (the node must have installed it too).
 */
async function workloadFlag (command: string, text: string | undefined, modules?: string[]): Promise<Workload<any, any>> {
  if (text == null) {
    throw new UsageError(`${command}: --workload is required`)
  }
  let spec
  try {
    spec = parseWorkloadSpec(text)
  } catch (err: any) {
    throw new UsageError(`${command}: ${err.message}`)
  }
  const registry = new WorkloadRegistry(builtinWorkloads())
  await registerWorkloadModules(registry, modules, command)
  const workload = registry.get(spec.id, spec.version)
  if (workload == null) {
    throw new UsageError(`${command}: unknown workload ${text}${modules == null ? ' (a workload of a module: give its --workload-module PATH)' : ''}`)
  }
  return workload
}

/** --verify, checked here so that a typo fails before anything is asked of the node. */
function verifyFlag (command: string, text: string | undefined): string {
  const verify = text ?? 'none'
  try {
    parseVerification(verify)
  } catch (err: any) {
    throw new UsageError(`${command}: --verify: ${err.message}`)
  }
  return verify
}

/**
 * What a paid job's receipts owe each worker (peer id → lamports, in peer id order; workers owed
 * nothing, this node among them, are left out). The receipts are checked as any others.
 */
async function owedByWorker (receipts: string[]): Promise<Map<string, bigint>> {
  const owed = new Map<string, bigint>()
  for (const text of receipts) {
    const receipt = await verifyReceipt(Buffer.from(text, 'base64'))
    const lamports = owedLamports(receipt)
    if (lamports > 0n) {
      const worker = receipt.worker.toString()
      owed.set(worker, (owed.get(worker) ?? 0n) + lamports)
    }
  }
  return new Map([...owed].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

/** --pay: lamports per item, a whole number from 1 to 2^53-1, kept as its decimal text. */
function payFlag (text: string | undefined): string | undefined {
  if (text == null) {
    return undefined
  }
  if (!/^[1-9][0-9]{0,15}$/.test(text) || BigInt(text) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`job run: --pay is a whole number of lamports per item from 1 to ${Number.MAX_SAFE_INTEGER}, not "${text}"`)
  }
  return text
}

/** The largest --model file sent (the control API's job body is at most 256 MiB, base64). */
const MAX_MODEL_BYTES = 128 * 1024 * 1024

/** --model FILE: required by (and only by) workloads that need a model (onnx). */
async function modelFlag (workload: Workload<any, any>, path: string | undefined): Promise<Buffer | undefined> {
  if (workload.needsModel !== true) {
    if (path != null) {
      throw new UsageError(`job run: --model is for workloads that need a model (onnx), not ${workload.id}`)
    }
    return undefined
  }
  if (path == null) {
    throw new UsageError(`job run: ${workload.id} needs --model FILE (an .onnx file)`)
  }
  const info = await stat(path).catch(() => undefined)
  if (info == null || !info.isFile()) {
    throw new UsageError(`job run: --model ${path} does not exist`)
  }
  if (info.size > MAX_MODEL_BYTES) {
    throw new UsageError(`job run: --model ${path}: ${info.size} bytes is over the ${MAX_MODEL_BYTES} byte limit`)
  }
  return readFile(path)
}

/** --out DIR: created now (a directory that cannot be made fails before the job runs). */
async function outFlag (dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err: any) {
    throw new UsageError(`job run: --out ${dir}: cannot create it (${err.code ?? err.message})`)
  }
  return dir
}

/** One decoded output as JSON: tensors with their values, bytes as base64, vectors as arrays. */
function jsonOutput (o: unknown): unknown {
  if (o instanceof Float32Array) {
    return Array.from(o)
  }
  if (o instanceof Uint8Array) {
    return Buffer.from(o).toString('base64')
  }
  if (Array.isArray(o) && o.every(t => t?.data instanceof Uint8Array && typeof t.dtype === 'string')) {
    return (o as NamedTensor[]).map(t => ({ name: t.name, dtype: t.dtype, dims: t.dims, values: Array.from(tensorValues(t) as ArrayLike<number | bigint>, v => typeof v === 'bigint' ? v.toString() : v) }))
  }
  return o
}

/**
 * Write the outputs to `dir`: onnx outputs as `.npy` files (writeTensorOutputs), any other
 * workload's as `outputs.json` (a JSON array, one entry per item). Returns the file names.
 */
async function writeOutputs (dir: string, workload: Workload<any, any>, outputs: unknown[]): Promise<string[]> {
  if (workload.id === 'onnx') {
    const files = await writeTensorOutputs(dir, outputs as NamedTensor[][], `${workload.id}@${workload.version}`)
    return [...files.map(f => f.file), 'outputs.json']
  }
  await writeFile(join(dir, 'outputs.json'), JSON.stringify(outputs.map(jsonOutput)) + '\n')
  return ['outputs.json']
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
  if (sub === 'plan') {
    return planCommand(rest)
  }
  if (sub !== 'run') {
    throw new UsageError(`job: unknown subcommand "${sub}" (try: shardmesh job run --help)`)
  }
  const { values } = parse('job run', rest, {
    workload: { type: 'string' },
    'workload-module': { type: 'string', multiple: true },
    model: { type: 'string' },
    out: { type: 'string' },
    input: { type: 'string' },
    generate: { type: 'string' },
    seed: { type: 'string' },
    'shard-size': { type: 'string' },
    verify: { type: 'string' },
    'max-retries': { type: 'string' },
    pay: { type: 'string' },
    peer: { type: 'string', multiple: true },
    'no-local': { type: 'boolean' },
    'min-score': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'data-dir': { type: 'string' },
    outputs: { type: 'boolean' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(JOB_HELP)
    return EXIT_OK
  }
  const workload = await workloadFlag('job run', values.workload, values['workload-module'])
  const dryRun = values['dry-run'] === true
  if (!dryRun && (values.input == null) === (values.generate == null)) {
    throw new UsageError('job run: give exactly one of --input PATH or --generate N')
  }
  const verify = verifyFlag('job run', values.verify)
  const shardSize = parseInteger(values['shard-size'] ?? '8', '--shard-size', 1, 100_000) as number
  const maxRetries = parseInteger(values['max-retries'], '--max-retries', 0, 100)
  const pay = payFlag(values.pay)
  const minScore = parseNumber(values['min-score'], '--min-score', 0, 1)
  const peers = (values.peer as string[] | undefined)?.map(p => peerFlag('job run', p))
  if (dryRun) {
    // the plan of this job: the input flags do not matter to it
    return plan(values['data-dir'], { workload: workload.id, version: workload.version, verification: verify, peers, includeSelf: values['no-local'] !== true, minScore }, values.json === true)
  }
  const generate = parseInteger(values.generate, '--generate', 1, 1_000_000)
  const seed = parseInteger(values.seed ?? '1', '--seed', 0, 2 ** 32 - 1) as number
  if (values.input != null && !await exists(values.input)) {
    throw new UsageError(`job run: --input ${values.input} does not exist`)
  }
  const json = values.json === true
  const model = await modelFlag(workload, values.model)
  const out = values.out == null ? undefined : await outFlag(values.out)

  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const inputs = await loadInputs(workload, { input: values.input, generate, seed })
  // Ctrl-C from here on cancels the job (before the job line, so that none comes too early)
  const controller = new AbortController()
  const onSigint = (): void => { controller.abort() }
  process.once('SIGINT', onSigint)
  if (!json) {
    process.stdout.write(`job: ${workload.id}@${workload.version} on ${inputs.source}, shards of ${shardSize}, verification ${verify}${pay == null ? '' : `, paying ${pay} lamports per item`}\n`)
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
      includeSelf: values['no-local'] !== true,
      minScore,
      ...(model == null ? {} : { model: model.toString('base64') }),
      ...(pay == null ? {} : { pay: { lamportsPerItem: pay } })
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
  const owed = pay == null ? undefined : await owedByWorker(result.receipts)
  const written = out == null ? undefined : await writeOutputs(out, workload, outputs)
  if (json) {
    const { outputs: _raw, receipts, ...rest } = result
    process.stdout.write(JSON.stringify({
      ...rest,
      receipts: receipts.length,
      ...(pay == null || owed == null ? {} : { pay: { lamportsPerItem: pay, owed: Object.fromEntries([...owed].map(([peer, lamports]) => [peer, lamports.toString()])) } }),
      accuracy,
      ...(out == null ? {} : { out: { dir: out, files: written } }),
      outputs: values.outputs === true ? outputs.map(jsonOutput) : undefined
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
  if (owed != null) {
    const total = [...owed.values()].reduce((sum, l) => sum + l, 0n)
    process.stdout.write(`pay: ${pay} lamports per item: ${total} lamports owed to ${plural(owed.size, 'worker')}, paid in the transactions that anchor the receipts\n`)
  }
  if (out != null) {
    process.stdout.write(`outputs: written to ${out} (${(written ?? []).join(', ')})\n`)
  }
  process.stdout.write('\n' + renderPeerSummary(result) + '\n\n' + renderPlacement(result.placement) + '\n')
  if (values.outputs === true) {
    outputs.forEach((o, i) => {
      const text = workload.id === 'ocr-rec' ? `${(o as OcrLine).text}  (${(o as OcrLine).confidence.toFixed(3)})` : o instanceof Float32Array ? `[${Array.from(o.slice(0, 4), v => v.toFixed(4)).join(', ')}, ...] (${o.length})` : o instanceof Uint8Array ? `${o.byteLength} bytes` : JSON.stringify(jsonOutput(o)).slice(0, 200)
      process.stdout.write(`${i}\t${text}\n`)
    })
  }
  return EXIT_OK
}

/** `job plan`: which peers a job of these flags would use now, and why each other would not be used. */
async function planCommand (argv: string[]): Promise<number> {
  const { values } = parse('job plan', argv, {
    workload: { type: 'string' },
    'workload-module': { type: 'string', multiple: true },
    verify: { type: 'string' },
    peer: { type: 'string', multiple: true },
    'no-local': { type: 'boolean' },
    'min-score': { type: 'string' },
    challenge: { type: 'boolean' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(JOB_HELP)
    return EXIT_OK
  }
  const workload = await workloadFlag('job plan', values.workload, values['workload-module'])
  const verify = verifyFlag('job plan', values.verify)
  const minScore = parseNumber(values['min-score'], '--min-score', 0, 1)
  const peers = (values.peer as string[] | undefined)?.map(p => peerFlag('job plan', p))
  return plan(values['data-dir'], {
    workload: workload.id,
    version: workload.version,
    verification: verify,
    peers,
    includeSelf: values['no-local'] !== true,
    minScore,
    challenge: values.challenge === true ? true : undefined
  }, values.json === true)
}

/** Ask the node for the plan and print it (a request it refuses as made is a usage error, as main reports it). */
async function plan (dataDir: string | undefined, request: PlanRequestJson, json: boolean): Promise<number> {
  const client = await ControlClient.fromDataDir(resolveDataDir(dataDir))
  const report = await client.plan(request)
  process.stdout.write((json ? JSON.stringify(report) : renderPlan(report)) + '\n')
  return EXIT_OK
}
