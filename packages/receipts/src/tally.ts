import { toHex } from './encoding.js'
import type { CheckedBundle } from './bundle.js'

/** One workload's totals within a worker's row. */
export interface TallyTotals {
  shards: number
  items: number
  cpuMicros: number
}

/** What one worker did, over the receipts tallied. */
export interface TallyRow extends TallyTotals {
  /** peer id */
  worker: string
  /** by `workload@version`, keys in code point order */
  byWorkload: Record<string, TallyTotals>
}

export interface TallyOptions {
  /** only this worker's receipts (a peer id) */
  worker?: string
  /** only receipts of shards finished at or after this time (ms since the epoch) */
  since?: number
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
        row = { worker, shards: 0, items: 0, cpuMicros: 0, byWorkload: {} }
        rows.set(worker, row)
      }
      const key = `${receipt.workload}@${receipt.workloadVersion}`
      const totals = row.byWorkload[key] ?? (row.byWorkload[key] = { shards: 0, items: 0, cpuMicros: 0 })
      for (const t of [row, totals]) {
        t.shards += 1
        t.items += receipt.items
        t.cpuMicros += receipt.cpuMicros
      }
    }
  }
  return [...rows.values()]
    .sort((a, b) => compare(a.worker, b.worker))
    .map(row => ({
      worker: row.worker,
      shards: row.shards,
      items: row.items,
      cpuMicros: row.cpuMicros,
      byWorkload: Object.fromEntries(Object.keys(row.byWorkload).sort(compare).map(key => [key, totals(row.byWorkload[key])]))
    }))
}

function totals (t: TallyTotals): TallyTotals {
  return { shards: t.shards, items: t.items, cpuMicros: t.cpuMicros }
}

/** The rows as JSON: fixed key order, whole numbers only, one trailing newline. */
export function formatTallyJson (rows: TallyRow[]): string {
  return JSON.stringify({
    workers: rows.map(row => ({
      worker: row.worker,
      shards: row.shards,
      items: row.items,
      cpuMicros: row.cpuMicros,
      byWorkload: Object.fromEntries(Object.keys(row.byWorkload).sort(compare).map(key => [key, totals(row.byWorkload[key])]))
    }))
  }, null, 2) + '\n'
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
function csvField (text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/**
 * The rows as CSV (RFC 4180, `\n` line ends): a header, then per worker one line for each
 * workload (in code point order) and one `*` line with its totals.
 */
export function formatTallyCsv (rows: TallyRow[]): string {
  const lines = ['worker,workload,shards,items,cpu_micros']
  for (const row of rows) {
    for (const key of Object.keys(row.byWorkload).sort(compare)) {
      const t = row.byWorkload[key]
      lines.push([csvField(row.worker), csvField(key), t.shards, t.items, t.cpuMicros].join(','))
    }
    lines.push([csvField(row.worker), '*', row.shards, row.items, row.cpuMicros].join(','))
  }
  return lines.join('\n') + '\n'
}
