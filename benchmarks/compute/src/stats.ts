/** Small helpers for summarising samples and describing the machine. */
import os from 'node:os'

export interface Summary {
  samples: number
  p50: number
  p99: number
  max: number
  mean: number
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile (samples: number[], p: number): number {
  if (samples.length === 0) {
    return NaN
  }
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/** p50, p99, max and mean of samples, rounded to `digits` decimals. */
export function summary (samples: number[], digits = 3): Summary {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length)
  return {
    samples: samples.length,
    p50: round(percentile(samples, 50), digits),
    p99: round(percentile(samples, 99), digits),
    max: round(samples.length > 0 ? Math.max(...samples) : NaN, digits),
    mean: round(mean, digits)
  }
}

export function round (n: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export interface Machine {
  cpus: number
  cpuModel: string | undefined
  memoryGiB: number
  node: string
  loadavg: number[]
}

export function machine (): Machine {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadavg: loadavg()
  }
}

/** The 1, 5 and 15 minute load averages. */
export function loadavg (): number[] {
  return os.loadavg().map(n => round(n, 2))
}

/** CPU this process used (user + system) while `fn` ran, as a share of one core, and its result. */
export async function withCpu<T> (fn: () => Promise<T>): Promise<{ value: T, wallMs: number, cpuCores: number }> {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = await fn()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { value, wallMs, cpuCores: round((used.user + used.system) / 1000 / Math.max(wallMs, 1), 2) }
}

/** Progress goes to stderr: stdout carries the one JSON object. */
export function progress (message: string): void {
  process.stderr.write(`[compute-bench] ${message}\n`)
}
