/**
 * Compute nodes with a receipt store, as `@shardmesh/node`'s `meshServices()` wires them (the
 * anchoring service under `receipts`, built first, as the compute service's receipt sinks), but
 * with only those two services, over TCP on 127.0.0.1 (the compute benchmark's nodes plus a
 * data dir). Used by the both-sides scenario and its worker process.
 */
// @shardmesh/node installs the Node 20 Promise.withResolvers polyfill libp2p 3 needs
import '@shardmesh/node'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { anchoring } from '@shardmesh/anchoring'
import { compute } from '@shardmesh/compute'
import { echo } from '@shardmesh/workloads'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from '@libp2p/interface'
import type { Anchoring } from '@shardmesh/anchoring'
import type { Compute, ComputeComponents, ReceiptSink } from '@shardmesh/compute'

export type MeshNode = Libp2p<{ receipts: Anchoring, compute: Compute }>

/**
 * What the worker does with the countersigned receipts of its own work:
 * - `none`: no worker sink (what a requester sends back is ignored),
 * - `kept`: a sink that stores them (role `worker`) but has no `signed()`: no durable note of
 *   each receipt signed,
 * - `kept+noted`: `meshServices()`'s sink: stores them and notes every receipt signed
 *   (`noteSigned` → `ReceiptStore.recordSigned`, one write + fdatasync per tick).
 */
export type WorkerKeeps = 'none' | 'kept' | 'kept+noted'
export const WORKER_KEEPS: readonly WorkerKeeps[] = ['none', 'kept', 'kept+noted']

export interface MeshNodeInit {
  /** data dir: the receipt store in `<dir>/receipts`, the compute cache in `<dir>/cache` */
  dir: string
  /** as a requester: send each worker its countersigned receipts (`ComputeInit.returnReceipts`) */
  returnReceipts: boolean
  /** as a worker */
  workerKeeps: WorkerKeeps
  /** as a worker: concurrent shards @default 1 (the compute benchmark's overhead workers) */
  slots?: number
}

/** `meshServices()`'s worker sink, without `signed` when the durable notes are left out. */
function workerSink (receipts: Anchoring, keeps: WorkerKeeps): ReceiptSink | undefined {
  if (keeps === 'none') {
    return undefined
  }
  const store: ReceiptSink['store'] = async (countersigned, options) => { await receipts.store(countersigned, { signal: options?.signal, role: 'worker' }) }
  return keeps === 'kept' ? { store } : { store, signed: async (signed) => { await receipts.noteSigned(signed) } }
}

/**
 * A node serving and requesting `echo` (pool of 1), its receipts stored in `<dir>/receipts`.
 * No ledger (nothing is anchored) and no background proof pull (`proofPullInterval: 0`: the
 * pull is a periodic cost of its own, not one per shard).
 */
export async function meshNode (init: MeshNodeInit): Promise<MeshNode> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      receipts: anchoring({ dir: join(init.dir, 'receipts'), proofPullInterval: 0 }),
      compute: (components: ComputeComponents & { receipts: Anchoring }) => compute({
        workloads: [echo()],
        poolSize: 1,
        slots: init.slots ?? 1,
        advertise: false,
        cacheDir: join(init.dir, 'cache'),
        receiptSink: components.receipts,
        workerReceiptSink: workerSink(components.receipts, init.workerKeeps),
        returnReceipts: init.returnReceipts
      })(components)
    }
  })
}

/** The store's fdatasync count since it opened (`AnchoringStats.fsyncs`). */
export function storeFsyncs (node: MeshNode): number {
  return node.services.receipts.stats().fsyncs
}
