import { cpus } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
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

/** The default `CalibrationSchedule.jitter` (ms). */
export const CALIBRATION_JITTER = 2_000

/** The default `CalibrationSchedule.pause` (ms). */
export const CALIBRATION_PAUSE = 200

/** The default `CalibrationSchedule.quiet` (ms). */
export const CALIBRATION_QUIET = 3_000

/** The default `CalibrationSchedule.maxWait` (ms). */
export const CALIBRATION_MAX_WAIT = 30_000

/** How long each look at the host's idle CPU lasts (ms). */
const IDLE_WINDOW = 500

/**
 * When a node measures itself after it starts. Calibrating the built-in workloads costs about
 * 2 s of CPU (models built or read, inference sessions created, the input run twice): on a host
 * where many nodes start at once, that CPU is taken from the handshakes and DHT lookups of their
 * joins. So a node advertises first (an unmeasured workload at throughput 0), waits until its
 * own join settled and then until no new peer has appeared for `quiet` (the peers starting
 * beside it have joined too; a node's own join settles long before those of the nodes started
 * after it), then until the host has a core to spare (half of it idle, at most one core's worth:
 * nodes still starting on the same host come first, and nodes that calibrate one after the other
 * leave each other the CPU; each look after a random pause of up to `jitter`, so that nodes
 * waiting together do not all start together), and measures one workload at a time with a
 * `pause` between them. Waiting for a quiet mesh and an idle host ends after `maxWait`.
 */
export interface CalibrationSchedule {
  /** Start once this settles (a mesh node passes the end of its first join). @default at once */
  after?: Promise<unknown>
  /**
   * Then wait until no peer new to this node advertised itself for this long (ms); 0: do not
   * wait. @default 3000
   */
  quiet?: number
  /**
   * Wait for a quiet mesh and a core to spare at most this long after `after` settled (ms).
   * @default 30000
   */
  maxWait?: number
  /** Wait for a core to spare. @default true */
  idleCpu?: boolean
  /** A random wait of up to this long (ms) before each look at the host's CPU. @default 2000 */
  jitter?: number
  /** Pause between two workloads (ms). @default 200 */
  pause?: number
}

/** The cores' worth of CPU idle on this host over the next `window` ms (all processes). */
export async function idleCores (window: number = IDLE_WINDOW, signal?: AbortSignal): Promise<number> {
  const before = cpuTimes()
  await delay(window, undefined, { signal })
  const after = cpuTimes()
  const total = after.total - before.total
  return total <= 0 ? after.cores : after.cores * (after.idle - before.idle) / total
}

function cpuTimes (): { idle: number, total: number, cores: number } {
  let idle = 0
  let total = 0
  const all = cpus()
  for (const { times } of all) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  return { idle, total, cores: all.length }
}

/**
 * Resolves once the host has `cores` of CPU idle over a short window, at `deadline` (a
 * `Date.now()` time) or when `signal` aborts, whichever is first. Each look comes after a
 * random pause of up to `jitter` ms: nodes on one host that wait together do not all see the
 * same idle moment and all start at once.
 */
export async function waitForIdleCpu (cores: number, deadline: number, jitter: number, signal?: AbortSignal): Promise<void> {
  while (Date.now() < deadline && signal?.aborted !== true) {
    try {
      await delay(Math.random() * jitter, undefined, { signal })
      if (await idleCores(IDLE_WINDOW, signal) >= cores) {
        return
      }
    } catch {
      return
    }
  }
}

export interface CalibrateOptions {
  signal?: AbortSignal
  /** a pause between two workloads (ms), to leave the CPU to other work for a moment @default 0 */
  pause?: number
  /** where failures are logged (at error level: the operator should know) */
  log?: Logger
  /** the clock the runs are timed with @default performance.now */
  clock?(): number
}

/**
 * Measure this node's own items/s per slot on each workload it offers: its fixed calibration
 * input (`workload.calibration()`, no options) run as one shard on one pool slot, once to warm
 * up (kernel loaded in that thread, model built or read, caches filled), then once timed on the
 * same thread (the first free one; the other threads load the kernel with their first shard,
 * or at start with `warm`: loading it into every thread here cost a node CPU and memory for
 * each workload it may never be sent). Workloads that need a shipped model are skipped, and so
 * are those whose calibration input is empty. One workload's failure does not stop the others:
 * it is in `errors`. Aborting the signal throws `AbortError` between runs.
 *
 * The figure is a claim this node advertises about itself; peers believe it only once they have
 * measured it (a challenge).
 */
export async function calibrate (workloads: Array<Workload<any, any>>, runner: WorkloadRunner, options: CalibrateOptions = {}): Promise<SelfCalibrations> {
  const clock = options.clock ?? (() => performance.now())
  const speeds = new Map<string, SelfCalibration>()
  const errors = new Map<string, Error>()
  const aborted = (): boolean => options.signal?.aborted === true
  let first = true
  for (const workload of workloads) {
    if (aborted()) {
      throw new AbortError('calibration aborted')
    }
    if (workload.needsModel === true) {
      continue
    }
    const key = workloadKey(workload)
    try {
      if (!first && (options.pause ?? 0) > 0) {
        await delay(options.pause, undefined, { signal: options.signal })
      }
      const inputs = await workload.calibration()
      if (inputs.length === 0) {
        continue
      }
      first = false
      const items = inputs.map(item => workload.input.encode(item))
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
