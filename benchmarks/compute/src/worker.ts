/**
 * A compute worker process: a TCP node on 127.0.0.1 serving `ocr-rec`, `embed` and `echo`
 * with its own pool (the inference scenario, and the overhead scenario's out-of-process worker). Prints `{ peerId, multiaddrs }` as one JSON line on
 * stdout once it listens; exits on SIGTERM/SIGINT, or when its parent dies (the IPC channel of
 * `fork` closes, or the parent pid changes).
 *
 *   node dist/src/worker.js --cache-dir <dir> [--pool-size 1] [--slots N]
 */
import { parseArgs } from 'node:util'
import { echo, embed, ocrRec } from '@shardmesh/workloads'
import { tcpComputeNode } from './nodes.js'

const { values } = parseArgs({
  options: {
    'cache-dir': { type: 'string' },
    'pool-size': { type: 'string', default: '1' },
    // shards it runs at once (inline kernels such as echo need no pool thread each) @default pool size
    slots: { type: 'string' }
  }
})

const parent = process.ppid
const node = await tcpComputeNode({
  workloads: [ocrRec(), embed(), echo()],
  poolSize: Number(values['pool-size']),
  ...(values.slots != null ? { slots: Number(values.slots) } : {}),
  cacheDir: values['cache-dir']
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
