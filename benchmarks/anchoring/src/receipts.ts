/**
 * Receipts: what one core does per second with the receipt of a shard. Each round, one after
 * the other in this thread: the worker signs N receipts (`signReceipt`), the requester
 * countersigns them (`countersignReceipt`, `verified: true` as the compute service calls it
 * right after its own check), anyone verifies both signatures (`verifyReceipt`), and the
 * worker-side batch: sign a batch of B receipts and build the Merkle tree over it.
 */
import { MerkleTree, countersignReceipt, signReceipt, verifyReceipt } from '@shardmesh/receipts'
import { VERIFICATION, parties, receiptFields } from './fixtures.js'
import { loadavg, perSec, progress, round, rounds, timed } from './stats.js'
import type { Rounds } from './stats.js'

export interface ReceiptsOptions {
  /** receipts signed, countersigned and verified per round */
  receipts: number
  /** receipts in the signed-and-batched batch */
  batch: number
  rounds: number
}

export interface ReceiptsResult {
  receiptsPerRound: number
  batchSize: number
  /** bytes of one encoded receipt, signed by the worker and countersigned */
  receiptBytes: { signed: number, countersigned: number }
  signPerSec: Rounds
  countersignPerSec: Rounds
  /** `verifyReceipt` with the countersignature required: two Ed25519 verifications */
  verifyPerSec: Rounds
  /** `signReceipt` for every receipt of the batch, then `MerkleTree.fromLeaves` over them */
  signedAndBatchedPerSec: Rounds
  /** of the signed-and-batched time, the tree's share (%) */
  treeSharePct: Rounds
  /** sign, countersign, and the tree over the countersigned receipts (what a store seals) */
  signedCountersignedAndBatchedPerSec: Rounds
  /** this process's CPU during the signed-and-batched loop, in cores (1 = one thread busy) */
  cpuCores: Rounds
  loadavg: { start: number[], end: number[] }
}

export async function receipts (options: ReceiptsOptions): Promise<ReceiptsResult> {
  const start = loadavg()
  const p = await parties()
  const sign: number[] = []
  const countersign: number[] = []
  const verify: number[] = []
  const batched: number[] = []
  const treeShare: number[] = []
  const full: number[] = []
  const cpu: number[] = []
  let receiptBytes = { signed: 0, countersigned: 0 }

  // warm-up: JIT, key object caches
  for (const f of receiptFields(p, Math.min(500, options.receipts))) {
    const signed = await signReceipt(p.worker.key, f)
    await verifyReceipt(await countersignReceipt(p.requester.key, signed, VERIFICATION, { verified: true }))
  }

  for (let r = 0; r < options.rounds; r++) {
    const fields = receiptFields(p, options.receipts)
    const signed: Uint8Array[] = new Array(fields.length)
    const s = await timed(async () => {
      for (let i = 0; i < fields.length; i++) {
        signed[i] = await signReceipt(p.worker.key, fields[i])
      }
    })
    const countersigned: Uint8Array[] = new Array(fields.length)
    const c = await timed(async () => {
      for (let i = 0; i < signed.length; i++) {
        countersigned[i] = await countersignReceipt(p.requester.key, signed[i], VERIFICATION, { verified: true })
      }
    })
    const v = await timed(async () => {
      for (const bytes of countersigned) {
        await verifyReceipt(bytes, { requireCountersignature: true })
      }
    })
    sign.push(perSec(fields.length, s.wallMs))
    countersign.push(perSec(fields.length, c.wallMs))
    verify.push(perSec(fields.length, v.wallMs))
    receiptBytes = { signed: signed[0].byteLength, countersigned: countersigned[0].byteLength }

    // the batch: sign B receipts, then one tree over them
    const batchFields = receiptFields(p, options.batch)
    let treeMs = 0
    const b = await timed(async () => {
      const batch: Uint8Array[] = new Array(batchFields.length)
      for (let i = 0; i < batchFields.length; i++) {
        batch[i] = await signReceipt(p.worker.key, batchFields[i])
      }
      const t = performance.now()
      const tree = MerkleTree.fromLeaves(batch)
      treeMs = performance.now() - t
      return tree.root
    })
    batched.push(perSec(batchFields.length, b.wallMs))
    treeShare.push(treeMs / b.wallMs * 100)
    cpu.push(b.cpuCores)

    const fullFields = receiptFields(p, options.batch)
    const f = await timed(async () => {
      const batch: Uint8Array[] = new Array(fullFields.length)
      for (let i = 0; i < fullFields.length; i++) {
        batch[i] = await countersignReceipt(p.requester.key, await signReceipt(p.worker.key, fullFields[i]), VERIFICATION, { verified: true })
      }
      return MerkleTree.fromLeaves(batch).root
    })
    full.push(perSec(fullFields.length, f.wallMs))
    progress(`receipts round ${r + 1}/${options.rounds}: sign ${round(sign[r], 0)}/s, countersign ${round(countersign[r], 0)}/s, verify ${round(verify[r], 0)}/s, signed and batched ${round(batched[r], 0)}/s`)
  }

  return {
    receiptsPerRound: options.receipts,
    batchSize: options.batch,
    receiptBytes,
    signPerSec: rounds(sign, 0),
    countersignPerSec: rounds(countersign, 0),
    verifyPerSec: rounds(verify, 0),
    signedAndBatchedPerSec: rounds(batched, 0),
    treeSharePct: rounds(treeShare, 1),
    signedCountersignedAndBatchedPerSec: rounds(full, 0),
    cpuCores: rounds(cpu, 2),
    loadavg: { start, end: loadavg() }
  }
}
