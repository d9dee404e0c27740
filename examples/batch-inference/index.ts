/**
 * Batch inference on a running mesh, from your own program.
 *
 * This program does not start a node: it talks to the one you already run (`shardmesh node
 * start`, or a `shardmesh cluster`) through that node's control API, found in its data dir
 * (`control.json` says where, `control.token` is the bearer token). The node then splits the
 * job into shards, hands them to the peers of the mesh that offer the `onnx` workload, checks
 * the results as asked (`--verification`) and streams progress back here.
 *
 * What it runs: your ONNX model (default: `affine.onnx` beside this file, `Y = 2X + 1` over
 * float32 rows of 3) on `--items N` input rows, `--shard-size S` rows per shard. Each item is one
 * named-tensor map (`tensorMapCodec`), the same bytes the `onnx` workload takes and returns.
 *
 * Run (nodes must offer onnx, which they only do when named: `--workload onnx`):
 *
 *   npm run build
 *   npx shardmesh cluster start --nodes 3 --data-dir /tmp/mesh -- --workload onnx
 *   node examples/batch-inference/dist/index.js --data-dir /tmp/mesh/node-0
 *
 * Flags: --data-dir DIR (default $SHARDMESH_DATA_DIR or ~/.shardmesh), --model FILE,
 * --items N (default 32), --shard-size S (default 4), --verification none|spot-check:P|replicate:K
 * (default spot-check:1: every shard is run again on a second peer and compared), --json.
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ControlClient } from '@shardmesh/control'
import { tensorMapCodec, tensorValues } from '@shardmesh/workloads'
import type { JobEvent } from '@shardmesh/control'
import type { NamedTensor } from '@shardmesh/workloads'

/** Bad flags: one line naming the flag, exit 2. */
const usage = (message: string): never => {
  console.error(`batch-inference: ${message}`)
  process.exit(2)
}
const { values: flags } = (() => {
  try {
    return parseArgs({
        options: {
          'data-dir': { type: 'string' },
          model: { type: 'string' },
          items: { type: 'string', default: '32' },
          'shard-size': { type: 'string', default: '4' },
          verification: { type: 'string', default: 'spot-check:1' },
          json: { type: 'boolean', default: false }
        }
      })
  } catch (err: any) {
    return usage(err.message)
  }
})()
const dataDir = flags['data-dir'] ?? process.env.SHARDMESH_DATA_DIR ?? join(homedir(), '.shardmesh')
const modelFile = flags.model ?? fileURLToPath(new URL('../affine.onnx', import.meta.url))
const itemCount = Number(flags.items)
const shardSize = Number(flags['shard-size'])
if (!Number.isSafeInteger(itemCount) || itemCount < 1) usage(`--items: expected a positive integer, got "${flags.items}"`)
if (!Number.isSafeInteger(shardSize) || shardSize < 1) usage(`--shard-size: expected a positive integer, got "${flags['shard-size']}"`)
const json = flags.json === true
const say = (line: string): void => { if (!json) console.info(line) }
/** One clear line on stderr and exit 1 (no node on that data dir, a job that failed, ...). */
const fail = (err: Error & { code?: string }): never => {
  console.error(`batch-inference: ${err.message}${err.code != null ? ` (${err.code})` : ''}`)
  process.exit(1)
}

// 1. Connect to the running node (throws NodeNotRunningError if none serves that data dir)
const client = await ControlClient.fromDataDir(dataDir).catch(fail)
const status = await client.status()
say(`connected to node ${status.peerId} (${status.connectedPeers} peers connected)`)

// 2. Encode the inputs: one item per row, a named-tensor map { X: float32 [1, 3] }
const rows = Array.from({ length: itemCount }, (_, i) => [i, i / 4, -i])
const items = rows.map(row => {
  const x: NamedTensor = { name: 'X', dtype: 'float32', dims: [1, 3], data: new Uint8Array(Float32Array.from(row).buffer) }
  return Buffer.from(tensorMapCodec.encode([x])).toString('base64')
})
const model = (await readFile(modelFile).catch(fail)).toString('base64')

// 3. Run the job; the node streams NDJSON events: started, progress..., result (or error)
const onEvent = (event: JobEvent): void => {
  if (event.event === 'started') {
    say(`job started: ${event.jobItems} items`)
  } else if (event.event === 'progress') {
    say(`progress: ${event.shardsDone}/${event.shardsTotal} shards, ${event.itemsDone}/${event.itemsTotal} items, ${event.peersInUse} peer(s) busy`)
  }
}
const result = await client.runJob({
  workload: 'onnx',
  items,
  model,
  shardSize,
  verification: flags.verification, // none | spot-check:<p> | replicate:<k>
  includeSelf: false // only peers do the work: this node just requests
}, { onEvent }).catch(fail)

// 4. Decode the outputs (one per input item, in input order) and check them against Y = 2X + 1
let wrong = 0
const outputs = result.outputs.map((b64, i) => {
  const [y] = tensorMapCodec.decode(Buffer.from(b64, 'base64'))
  const values = Array.from(tensorValues(y) as Float32Array)
  if (modelFile.endsWith('affine.onnx') && values.some((v, j) => v !== Math.fround(2 * Math.fround(rows[i][j]) + 1))) {
    wrong++
  }
  return values
})

// 5. How each shard was verified, and by whom (shards[].outcome: accepted, checked, disputed)
const summary = {
  jobId: result.jobId,
  items: result.items,
  verification: result.verification,
  shards: result.shards.length,
  outcomes: countBy(result.shards.map(s => s.outcome)),
  shardsPerPeer: countBy(result.shards.map(s => s.peer)),
  disputes: result.disputes.length,
  receipts: result.receipts.length,
  wrongOutputs: wrong,
  elapsedMs: result.elapsedMs,
  firstOutputs: outputs.slice(0, 3)
}
if (json) {
  console.info(JSON.stringify({ ...summary, outputs }))
} else {
  say(`done: ${summary.items} items in ${summary.shards} shards, ${summary.elapsedMs} ms, verification ${summary.verification}`)
  say(`shard outcomes: ${JSON.stringify(summary.outcomes)}, disputes: ${summary.disputes}, countersigned receipts: ${summary.receipts}`)
  for (const [peer, n] of Object.entries(summary.shardsPerPeer)) {
    say(`  ${peer}: ${n} shard(s)`)
  }
  for (let i = 0; i < 3 && i < rows.length; i++) {
    say(`  X=${JSON.stringify(rows[i])} -> Y=${JSON.stringify(outputs[i])}`)
  }
  say(wrong === 0 ? 'all outputs are right' : `${wrong} output(s) are WRONG`)
}
process.exitCode = wrong === 0 ? 0 : 1

function countBy (keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const k of keys) {
    counts[k] = (counts[k] ?? 0) + 1
  }
  return counts
}
