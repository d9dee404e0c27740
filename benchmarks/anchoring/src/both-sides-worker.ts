/**
 * The both-sides scenario's worker process: one `echo` worker node (slots 1) on 127.0.0.1 with
 * its receipt store in `--dir`, keeping the countersigned receipts of its work as `--keeps`
 * says. Prints `{ peerId, multiaddrs }` as one JSON line on stdout once it listens; answers
 * `{ type: 'stats', id }` on the IPC channel with its own CPU and store counts; exits on
 * SIGTERM/SIGINT, or when its parent dies (the IPC channel closes, or the parent pid changes).
 *
 *   node dist/src/both-sides-worker.js --dir <dir> --keeps none|kept|kept+noted
 */
import { parseArgs } from 'node:util'
import { WORKER_KEEPS, meshNode, storeFsyncs } from './mesh.js'
import type { WorkerKeeps } from './mesh.js'

/** What the worker process answers to `{ type: 'stats', id }`. */
export interface WorkerStats {
  type: 'stats'
  id: number
  /** this process's CPU since it started, user + system, all threads (µs) */
  cpuMicros: number
  /** the receipt store's fdatasync calls since it opened */
  fsyncs: number
  /** receipts stored, and of them those held as the worker */
  receipts: number
  workerReceipts: number
  /** receipts noted as signed here and not (yet) received countersigned */
  signedPending: number
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    keeps: { type: 'string', default: 'kept+noted' }
  }
})
const keeps = values.keeps as WorkerKeeps
if (values.dir == null || !WORKER_KEEPS.includes(keeps)) {
  process.stderr.write(`usage: both-sides-worker.js --dir <dir> --keeps ${WORKER_KEEPS.join('|')}\n`)
  process.exit(2)
}

const parent = process.ppid
const node = await meshNode({ dir: values.dir, returnReceipts: true, workerKeeps: keeps })

process.on('message', (message: any) => {
  if (message?.type !== 'stats') {
    return
  }
  const cpu = process.cpuUsage()
  const store = node.services.receipts.stats()
  const stats: WorkerStats = {
    type: 'stats',
    id: message.id,
    cpuMicros: cpu.user + cpu.system,
    fsyncs: storeFsyncs(node),
    receipts: store.receipts,
    workerReceipts: store.workerReceipts,
    signedPending: node.services.receipts.stats().signedPending
  }
  process.send?.(stats)
})

let stopping = false
async function shutdown (): Promise<void> {
  if (stopping) {
    return
  }
  stopping = true
  setTimeout(() => { process.exit(1) }, 5_000).unref()
  try {
    await node.stop()
  } catch {}
  process.exit(0)
}

process.on('SIGTERM', () => { void shutdown() })
process.on('SIGINT', () => { void shutdown() })
process.on('disconnect', () => { void shutdown() })
setInterval(() => {
  if (process.ppid !== parent) {
    void shutdown()
  }
}, 1_000).unref()

process.stdout.write(JSON.stringify({ peerId: node.peerId.toString(), multiaddrs: node.getMultiaddrs().map(String) }) + '\n')
