/** Small helpers: timing a loop, summarising rounds and samples, describing the machine. */
import os from 'node:os'

/** One figure measured over several rounds. */
export interface Rounds {
  /** the figure of each round, in order */
  rounds: number[]
  median: number
  min: number
  max: number
  /** (max - min) / median, in % */
  spreadPct: number
}

/** Summary of samples (latencies). */
export interface Summary {
  samples: number
  p50: number
  p99: number
  max: number
  mean: number
}

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Median of unsorted values; NaN when there are none. */
export function median (values: number[]): number {
  if (values.length === 0) {
    return NaN
  }
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Median, min, max and spread of per-round figures, rounded to `digits` decimals. */
export function rounds (values: number[], digits = 1): Rounds {
  const m = median(values)
  const min = Math.min(...values)
  const max = Math.max(...values)
  return {
    rounds: values.map(v => round(v, digits)),
    median: round(m, digits),
    min: round(min, digits),
    max: round(max, digits),
    spreadPct: round(m > 0 ? (max - min) / m * 100 : 0, 1)
  }
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) {
    return NaN
  }
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export function summary (samples: number[], digits = 2): Summary {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)
  return {
    samples: samples.length,
    p50: round(percentile(samples, 50), digits),
    p99: round(percentile(samples, 99), digits),
    max: round(samples.length > 0 ? Math.max(...samples) : NaN, digits),
    mean: round(mean, digits)
  }
}

/** What `timed` measured: wall time and this process's CPU over it (as a share of one core). */
export interface Timing<T> {
  value: T
  wallMs: number
  cpuCores: number
}

/** Wall time and this process's CPU (user + system, all threads) while `fn` ran. */
export async function timed<T> (fn: () => Promise<T>): Promise<Timing<T>> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = await fn()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { value, wallMs, cpuCores: (used.user + used.system) / 1000 / Math.max(wallMs, 0.001) }
}

/** Per-second rate of `count` things done in `ms`. */
export function perSec (count: number, ms: number): number {
  return count * 1000 / ms
}

export interface Machine {
  cpus: number
  model: string | undefined
  memoryGiB: number
  node: string
  loadavg: number[]
}

export function machine (): Machine {
  return {
    cpus: os.availableParallelism(),
    model: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadavg: loadavg()
  }
}

/** The 1, 5 and 15 minute load averages. */
export function loadavg (): number[] {
  return os.loadavg().map(n => round(n, 2))
}

/** Progress goes to stderr: stdout carries the one JSON object. */
export function progress (message: string): void {
  process.stderr.write(`[anchoring-bench] ${message}\n`)
}
