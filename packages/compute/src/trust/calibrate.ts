import { AbortError, workloadKey } from '@shardmesh/workloads'
import type { Logger } from '@libp2p/interface'
import type { Workload, WorkloadRunner } from '@shardmesh/workloads'

/** This node's own speed on one workload: its fixed calibration input as one shard on one slot. */
export interface SelfCalibration {
  /** items per second of one shard on one pool slot (this node's run time only, no network) */
  itemsPerSec: number
  /** items of the calibration input */
  items: number
  /** how long the timed run took (ms) */
  ms: number
}

/** What `calibrate` measured, and what it could not. */
export interface SelfCalibrations {
  /** by `id@version` (workloadKey) */
  speeds: Map<string, SelfCalibration>
  /** by `id@version`: why a workload could not be measured (its calibration input, kernel or model failed) */
  errors: Map<string, Error>
}

export interface CalibrateOptions {
  signal?: AbortSignal
  /** where failures are logged (at error level: the operator should know) */
  log?: Logger
  /** the clock the runs are timed with @default performance.now */
  clock?(): number
}

/**
 * Measure this node's own items/s per slot on each workload it offers: its fixed calibration
 * input (`workload.calibration()`, no options) run as one shard on one pool slot, once to warm
 * up (kernel loaded, model built or read, caches filled), then once timed. Workloads that need
 * a shipped model are skipped, and so are those whose calibration input is empty. One
 * workload's failure does not stop the others: it is in `errors`. Aborting the signal throws
 * `AbortError` between runs.
 *
 * The figure is a claim this node advertises about itself; peers believe it only once they have
 * measured it (a challenge).
 */
export async function calibrate (workloads: Array<Workload<any, any>>, runner: WorkloadRunner, options: CalibrateOptions = {}): Promise<SelfCalibrations> {
  const clock = options.clock ?? (() => performance.now())
  const speeds = new Map<string, SelfCalibration>()
  const errors = new Map<string, Error>()
  const aborted = (): boolean => options.signal?.aborted === true
  for (const workload of workloads) {
    if (aborted()) {
      throw new AbortError('calibration aborted')
    }
    if (workload.needsModel === true) {
      continue
    }
    const key = workloadKey(workload)
    try {
      const inputs = await workload.calibration()
      if (inputs.length === 0) {
        continue
      }
      const items = inputs.map(item => workload.input.encode(item))
      await runner.warm(workload)
      await runner.run(workload, items, { signal: options.signal })
      const started = clock()
      const { outputs } = await runner.run(workload, items, { signal: options.signal })
      const ms = clock() - started
      if (outputs.length !== items.length) {
        throw new Error(`the kernel returned ${outputs.length} outputs for ${items.length} items`)
      }
      speeds.set(key, { itemsPerSec: items.length / (Math.max(ms, 1e-3) / 1000), items: items.length, ms })
    } catch (err: any) {
      if (aborted()) {
        throw new AbortError('calibration aborted')
      }
      const error = err instanceof Error ? err : new Error(String(err))
      errors.set(key, error)
      options.log?.error('could not calibrate %s: %s', key, error.message)
    }
  }
  return { speeds, errors }
}
