/**
 * Store: what durability costs. `ReceiptStore.addMany` verifies every receipt, appends them in
 * one write and resolves after one fdatasync; calls are made one after the other, each awaited,
 * with groups of 1, 16 and 256 receipts, and with the largest group again as `trusted` (no
 * signature checks: what a node's receipt sink does with receipts it just countersigned). Also measured, side by side in each round: 256
 * concurrent `add()` calls (the store's group commit merges them into fewer syncs) and, as the
 * disk's baseline, a bare loop of 1 KiB append + fdatasync on a file in the same directory.
 * Each run gets a fresh store in a fresh temporary directory (the OS temp dir).
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReceiptStore } from '@shardmesh/receipts'
import { countersignedReceipts, parties } from './fixtures.js'
import { loadavg, perSec, progress, round, rounds, summary } from './stats.js'
import type { Rounds, Summary } from './stats.js'

export interface StoreOptions {
  /** receipts per `addMany` call, and how many receipts each such run stores */
  groups: Array<{ size: number, receipts: number }>
  /** concurrent `add()` calls in flight, and receipts stored that way */
  concurrent: { inFlight: number, receipts: number }
  /** bare append + fdatasync calls for the baseline */
  rawSyncs: number
  /** receipts in the batch sealed after the largest group's run */
  sealCount: number
  rounds: number
}

export interface StoreRun {
  /** `addMany` group size, or concurrent `add()` calls in flight */
  group: number
  mode: 'addMany' | 'addMany trusted' | 'concurrent add'
  receipts: number
  receiptsPerSec: Rounds
  fsyncsPerSec: Rounds
  /** fdatasync calls the store made for the receipts (median over rounds) */
  fsyncs: number
  /** time of one `addMany` call (or one `add()`), all rounds' samples */
  callMs: Summary
}

export interface StoreResult {
  /** where the stores were (the OS temp dir) */
  dir: string
  runs: StoreRun[]
  /** 1 KiB append + fdatasync in a loop, same directory */
  rawFdatasyncPerSec: Rounds
  /** `sealBatch({ maxCount })` of `sealCount` stored receipts: one tree, one record, one sync */
  seal: { receipts: number, ms: Rounds }
  loadavg: { start: number[], end: number[] }
}

async function withStore<T> (fn: (store: ReceiptStore) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'shardmesh-anchoring-bench-'))
  const store = await ReceiptStore.open(dir)
  try {
    return await fn(store)
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function rawSyncs (count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'shardmesh-anchoring-bench-'))
  const fh = await open(join(dir, 'raw.log'), 'a')
  const block = Buffer.alloc(1024, 7)
  try {
    const t = performance.now()
    for (let i = 0; i < count; i++) {
      await fh.write(block)
      await fh.datasync()
    }
    return perSec(count, performance.now() - t)
  } finally {
    await fh.close()
    await rm(dir, { recursive: true, force: true })
  }
}

export async function store (options: StoreOptions): Promise<StoreResult> {
  const start = loadavg()
  const most = Math.max(options.concurrent.receipts, options.sealCount, ...options.groups.map(g => g.receipts))
  progress(`store: signing ${most} receipts`)
  const receipts = await countersignedReceipts(await parties(), most)
  const variants = [
    ...options.groups.map(g => ({ group: g.size, mode: 'addMany' as const, receipts: g.receipts })),
    // what a node's receipt sink does: the receipts were just countersigned, so no re-verification
    ...options.groups.slice(-1).map(g => ({ group: g.size, mode: 'addMany trusted' as const, receipts: g.receipts })),
    { group: options.concurrent.inFlight, mode: 'concurrent add' as const, receipts: options.concurrent.receipts }
  ]
  const rates = variants.map(() => ({ receipts: [] as number[], fsyncs: [] as number[], syncCount: [] as number[], callMs: [] as number[] }))
  const raw: number[] = []
  const seal: number[] = []

  for (let r = 0; r < options.rounds; r++) {
    raw.push(await rawSyncs(options.rawSyncs))
    for (const [v, variant] of variants.entries()) {
      await withStore(async s => {
        const fsyncsBefore = s.stats().fsyncs
        const t = performance.now()
        for (let i = 0; i < variant.receipts; i += variant.group) {
          const chunk = receipts.slice(i, Math.min(i + variant.group, variant.receipts))
          if (variant.mode !== 'concurrent add') {
            const c = performance.now()
            await s.addMany(chunk, { trusted: variant.mode === 'addMany trusted' })
            rates[v].callMs.push(performance.now() - c)
          } else {
            await Promise.all(chunk.map(async bytes => {
              const c = performance.now()
              await s.add(bytes)
              rates[v].callMs.push(performance.now() - c)
            }))
          }
        }
        const ms = performance.now() - t
        const stats = s.stats()
        if (stats.receipts !== variant.receipts) {
          throw new Error(`the store holds ${stats.receipts} receipts, not ${variant.receipts}`)
        }
        const syncs = stats.fsyncs - fsyncsBefore
        rates[v].receipts.push(perSec(variant.receipts, ms))
        rates[v].fsyncs.push(perSec(syncs, ms))
        rates[v].syncCount.push(syncs)

        if (v === options.groups.length - 1) {
          // seal what the largest group stored
          const st = performance.now()
          const batch = await s.sealBatch({ maxCount: options.sealCount })
          seal.push(performance.now() - st)
          if (batch?.count !== Math.min(options.sealCount, variant.receipts)) {
            throw new Error(`sealed ${batch?.count} receipts, expected ${Math.min(options.sealCount, variant.receipts)}`)
          }
        }
      })
    }
    progress(`store round ${r + 1}/${options.rounds}: ${variants.map((v, i) => `${v.mode} ${v.group}: ${round(rates[i].receipts[r], 0)}/s`).join(', ')}; raw fdatasync ${round(raw[r], 0)}/s`)
  }

  return {
    dir: tmpdir(),
    runs: variants.map((variant, i) => ({
      group: variant.group,
      mode: variant.mode,
      receipts: variant.receipts,
      receiptsPerSec: rounds(rates[i].receipts, 0),
      fsyncsPerSec: rounds(rates[i].fsyncs, 0),
      fsyncs: rounds(rates[i].syncCount, 0).median,
      callMs: summary(rates[i].callMs, 2)
    })),
    rawFdatasyncPerSec: rounds(raw, 0),
    seal: { receipts: Math.min(options.sealCount, options.groups[options.groups.length - 1].receipts), ms: rounds(seal, 1) },
    loadavg: { start, end: loadavg() }
  }
}
