import { decodeItemList, plural, sha256 } from '@shardmesh/protocol'
import { verifyReceipt } from '@shardmesh/receipts'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { BadResultError } from '../errors.js'
import type { PeerId } from '@libp2p/interface'
import type { Workload } from '@shardmesh/workloads'

/** A result as a peer returned it, and what it must match. */
export interface ResultToCheck {
  jobId: Uint8Array
  /** this node, the job's requester */
  requester: PeerId
  /** the peer that returned the result */
  worker: PeerId
  shardIndex: number
  /** the shard's encoded input ItemList */
  input: Uint8Array
  /** items in the shard's input */
  items: number
  /** encoded output ItemList */
  output: Uint8Array
  /** the worker's signed receipt */
  receipt: Uint8Array
  /** the price the requester asked, which the receipt must state (0n: unpaid) @default 0n */
  lamportsPerItem?: bigint
}

/** A result that passed its checks: its decoded outputs and the run time its receipt states. */
export interface CheckedResult {
  outputs: unknown[]
  runMs: number
}

/**
 * A result is usable only if it decodes to one output per input item and its receipt is the
 * worker's, for this job, this shard's input and this output, at the price asked. Throws
 * `BadResultError` otherwise.
 */
export async function checkResult (workload: Workload<any, any>, result: ResultToCheck): Promise<CheckedResult> {
  let items: Uint8Array[]
  try {
    items = decodeItemList(result.output).items
  } catch (err: any) {
    throw new BadResultError(`undecodable output: ${err.message}`)
  }
  if (items.length !== result.items) {
    throw new BadResultError(`${plural(items.length, 'output')} for ${plural(result.items, 'item')}`)
  }
  let outputs: unknown[]
  try {
    outputs = items.map(item => workload.output.decode(item))
  } catch (err: any) {
    throw new BadResultError(`an output does not decode: ${err.message}`)
  }
  let verified
  try {
    verified = await verifyReceipt(result.receipt, { requireCountersignature: false, worker: result.worker, requester: result.requester })
  } catch (err: any) {
    throw new BadResultError(`bad receipt: ${err.message}`)
  }
  if (!uint8ArrayEquals(verified.jobId, result.jobId) || verified.shardIndex !== result.shardIndex ||
      !uint8ArrayEquals(verified.inputDigest, sha256(result.input)) || !uint8ArrayEquals(verified.outputDigest, sha256(result.output))) {
    throw new BadResultError('the receipt does not match this shard and its output')
  }
  if (verified.lamportsPerItem !== (result.lamportsPerItem ?? 0n)) {
    throw new BadResultError(`the receipt states a price of ${verified.lamportsPerItem} lamports per item, the job asked ${result.lamportsPerItem ?? 0n}`)
  }
  return { outputs, runMs: verified.finishedAt - verified.startedAt }
}
