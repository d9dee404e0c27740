import { toHex } from './encoding.js'
import { owedLamports } from './receipt.js'
import type { CheckedBundle } from './bundle.js'
import type { PeerId } from '@libp2p/interface'

/** One workload's totals within a worker's row. */
export interface TallyTotals {
  shards: number
  items: number
  cpuMicros: number
  /** what the receipts owe their worker (`owedLamports`: items × price of accepted or checked work) */
  owedLamports: bigint
}

/** What one worker did, over the receipts tallied. */
export interface TallyRow extends TallyTotals {
  /** peer id */
  worker: string
  /** by `workload@version`, keys in code point order */
  byWorkload: Record<string, TallyTotals>
  /**
   * lamports the anchor transactions of the tallied bundles paid this worker (transfers from
   * each batch's requester to the worker's address); absent when no chain was asked (`paid`)
   */
  paidLamports?: bigint
  /** owed less paid when more is owed than was paid, else 0; absent with `paidLamports` */
  missingLamports?: bigint
}

export interface TallyOptions {
  /** only this worker's receipts (a peer id) */
  worker?: string
  /** only receipts of shards finished at or after this time (ms since the epoch) */
  since?: number
  /**
   * lamports paid per worker (peer id), as `paymentsByWorker` reads them from the bundles'
   * anchor transactions: each row gets `paidLamports` and `missingLamports`. @default not asked
   */
  paid?: Map<string, bigint>
}

/** A bundle's anchor transaction as a ledger returned it: whether it succeeded and its System transfers. */
export interface AnchorTransfers {
  /** the transaction's error, null when it succeeded (a failed transaction moved nothing) */
  err: unknown
  transfers: Array<{ from: string, to: string, lamports: bigint }>
}

/**
 * What the anchor transactions of checked bundles paid each worker (settlement): per worker
 * peer id, the lamports of every System transfer from the batch's requester's address (its
 * receipts name one requester: the anchoring party) to the worker's address, each transaction
 * counted once however many bundles name it. `anchors` holds each bundle's anchor transaction
 * by signature (a bundle without one, or whose transaction is missing or failed, paid
 * nothing); `addressOf` is the Solana address of a peer (`addressOfPeerId`). Only workers
 * whose receipts are in the bundles are listed.
 */
export function paymentsByWorker (bundles: CheckedBundle[], anchors: Map<string, AnchorTransfers>, addressOf: (peer: PeerId) => string): Map<string, bigint> {
  const workers = new Map<string, string>()
  const counted = new Set<string>()
  const byAddress = new Map<string, bigint>()
  for (const checked of bundles) {
    for (const receipt of checked.receipts) {
      const worker = receipt.worker.toString()
      if (!workers.has(worker)) {
        workers.set(worker, addressOf(receipt.worker))
      }
    }
    const signature = checked.bundle.anchor?.signature
    const record = signature == null ? undefined : anchors.get(signature)
    // only transfers the requester signed count: a batch its worker anchored pays nobody
    if (signature == null || record == null || record.err != null || counted.has(signature) || checked.receipts.length === 0) {
      continue
    }
    counted.add(signature)
    const payer = addressOf(checked.receipts[0].requester)
    for (const transfer of record.transfers) {
      if (transfer.from === payer) {
        byAddress.set(transfer.to, (byAddress.get(transfer.to) ?? 0n) + transfer.lamports)
      }
    }
  }
  const paid = new Map<string, bigint>()
  for (const [worker, address] of workers) {
    paid.set(worker, byAddress.get(address) ?? 0n)
  }
  return paid
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Per-worker totals over checked bundles (`checkBundle`), each receipt counted once however
 * many bundles hold it (by receipt id). Rows sorted by worker id; the figures do not depend on
 * the order of the bundles or of the receipts in them.
 */
export function tally (bundles: CheckedBundle[], options: TallyOptions = {}): TallyRow[] {
  const seen = new Set<string>()
  const rows = new Map<string, TallyRow>()
  for (const checked of bundles) {
    for (const receipt of checked.receipts) {
      const id = toHex(receipt.id)
      if (seen.has(id)) {
        continue
      }
      seen.add(id)
      const worker = receipt.worker.toString()
      if (options.worker != null && worker !== options.worker) {
        continue
      }
      if (options.since != null && receipt.finishedAt < options.since) {
        continue
      }
      let row = rows.get(worker)
      if (row == null) {
        row = { worker, shards: 0, items: 0, cpuMicros: 0, owedLamports: 0n, byWorkload: {} }
        rows.set(worker, row)
      }
      const key = `${receipt.workload}@${receipt.workloadVersion}`
      const totals = row.byWorkload[key] ?? (row.byWorkload[key] = { shards: 0, items: 0, cpuMicros: 0, owedLamports: 0n })
      const owed = owedLamports(receipt)
      for (const t of [row, totals]) {
        t.shards += 1
        t.items += receipt.items
        t.cpuMicros += receipt.cpuMicros
        t.owedLamports += owed
      }
    }
  }
  return [...rows.values()]
    .sort((a, b) => compare(a.worker, b.worker))
    .map(row => {
      const out: TallyRow = {
        worker: row.worker,
        shards: row.shards,
        items: row.items,
        cpuMicros: row.cpuMicros,
        owedLamports: row.owedLamports,
        byWorkload: Object.fromEntries(Object.keys(row.byWorkload).sort(compare).map(key => [key, totals(row.byWorkload[key])]))
      }
      if (options.paid != null) {
        const paid = options.paid.get(row.worker) ?? 0n
        out.paidLamports = paid
        out.missingLamports = row.owedLamports > paid ? row.owedLamports - paid : 0n
      }
      return out
    })
}

function totals (t: TallyTotals): TallyTotals {
  return { shards: t.shards, items: t.items, cpuMicros: t.cpuMicros, owedLamports: t.owedLamports }
}

function totalsJson (t: TallyTotals): Record<string, number | string> {
  return { shards: t.shards, items: t.items, cpuMicros: t.cpuMicros, owedLamports: t.owedLamports.toString() }
}

/**
 * The rows as JSON: fixed key order, one trailing newline; counts are numbers, lamports decimal
 * strings (u64 amounts), `paidLamports` and `missingLamports` null when no chain was asked.
 */
export function formatTallyJson (rows: TallyRow[]): string {
  return JSON.stringify({
    workers: rows.map(row => ({
      worker: row.worker,
      shards: row.shards,
      items: row.items,
      cpuMicros: row.cpuMicros,
      owedLamports: row.owedLamports.toString(),
      paidLamports: row.paidLamports?.toString() ?? null,
      missingLamports: row.missingLamports?.toString() ?? null,
      byWorkload: Object.fromEntries(Object.keys(row.byWorkload).sort(compare).map(key => [key, totalsJson(row.byWorkload[key])]))
    }))
  }, null, 2) + '\n'
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
function csvField (text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * The rows as CSV (RFC 4180, `\n` line ends): a header, then per worker one line for each
 * workload (in code point order) and one `*` line with its totals. Lamports owed on every
 * line; paid and missing on the `*` line when a chain was asked, empty otherwise.
 */
export function formatTallyCsv (rows: TallyRow[]): string {
  const lines = ['worker,workload,shards,items,cpu_micros,owed_lamports,paid_lamports,missing_lamports']
  for (const row of rows) {
    for (const key of Object.keys(row.byWorkload).sort(compare)) {
      const t = row.byWorkload[key]
      lines.push([csvField(row.worker), csvField(key), t.shards, t.items, t.cpuMicros, t.owedLamports, '', ''].join(','))
    }
    lines.push([csvField(row.worker), '*', row.shards, row.items, row.cpuMicros, row.owedLamports, row.paidLamports ?? '', row.missingLamports ?? ''].join(','))
  }
  return lines.join('\n') + '\n'
}
