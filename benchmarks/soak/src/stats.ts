/** Numbers, a seeded random source, /proc readings and Prometheus text: what the soak's run and report share. */
import { readdirSync, readFileSync } from 'node:fs'

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Progress goes to stderr: stdout carries the one JSON object (or, without `--json`, the summary). */
export function progress (message: string): void {
  process.stderr.write(`[soak] ${new Date().toISOString().slice(11, 19)} ${message}\n`)
}

/**
 * The least-squares slope of `ys` against `xs` (units of y per unit of x), with the points'
 * count and the standard error of the slope (how far noise alone would move it); a slope of
 * fewer than 3 points is NaN.
 */
export function slope (xs: number[], ys: number[]): { slope: number, stderr: number, points: number } {
  const n = xs.length
  if (n < 3 || ys.length !== n) {
    return { slope: NaN, stderr: NaN, points: n }
  }
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxx = 0
  let sxy = 0
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2
    sxy += (xs[i] - mx) * (ys[i] - my)
  }
  if (sxx === 0) {
    return { slope: NaN, stderr: NaN, points: n }
  }
  const b = sxy / sxx
  const a = my - b * mx
  let sse = 0
  for (let i = 0; i < n; i++) {
    sse += (ys[i] - (a + b * xs[i])) ** 2
  }
  return { slope: b, stderr: Math.sqrt(sse / (n - 2) / sxx), points: n }
}

/** A seeded PRNG (mulberry32): the churn schedule of a seed is the same on every run. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Resident set size of a process (VmRSS, MiB); NaN when it is gone. */
export function rssMiB (pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find(l => l.startsWith('VmRSS:'))
    return line == null ? NaN : Number(line.split(/\s+/)[1]) / 1024
  } catch {
    return NaN
  }
}

/** Open file descriptors of a process (entries of /proc/PID/fd); NaN when it is gone. */
export function openFds (pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return NaN
  }
}


/** Whether a process with this pid still exists (a zombie counts: it was not reaped). */
export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

/**
 * Parse Prometheus text into `name{labels}` → value (comments and blank lines skipped); at most
 * 10,000 series (a node's page has a few hundred).
 */
export function parseMetrics (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || out.size >= 10_000) {
      continue
    }
    const cut = line.lastIndexOf(' ')
    const value = Number(line.slice(cut + 1))
    if (cut > 0 && Number.isFinite(value)) {
      out.set(line.slice(0, cut), value)
    }
  }
  return out
}

/** The sum of a metric's series (every label set, or those whose `name{...}` key passes `match`). */
export function metricSum (metrics: Map<string, number>, name: string, match?: (key: string) => boolean): number {
  let sum = 0
  for (const [key, value] of metrics) {
    if ((key === name || key.startsWith(`${name}{`)) && (match == null || match(key))) {
      sum += value
    }
  }
  return sum
}

/**
 * The error counters of a node's page, by series (`name{labels}`): every counter (`_total`)
 * whose name says error, failure, rejected, refused, aborted or timeout. libp2p's and shardmesh's.
 */
export function errorCounters (metrics: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of metrics) {
    const name = key.split('{')[0]
    // an advert refused as not newer than the one held is gossip's redundancy, not an error
    if (/_total$/.test(name) && /(error|fail|reject|refus|abort|timeout)/.test(name) && value !== 0 && !key.includes('reason="not-newer"')) {
      out[key] = value
    }
  }
  // a job or a shard that failed is a labelled series (its error code) of an otherwise healthy counter
  for (const name of ['shardmesh_compute_jobs_total', 'shardmesh_compute_shards_served_total']) {
    const failed = metricSum(metrics, name, k => !k.includes('outcome="ok"'))
    if (failed > 0) {
      out[`${name}{outcome!="ok"}`] = failed
    }
  }
  return out
}

export function sum (xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}

export function mean (xs: number[]): number {
  return xs.length === 0 ? NaN : sum(xs) / xs.length
}
