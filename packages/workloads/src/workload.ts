/**
 * The contract of a workload. A workload is a pure function from a shard of input items to
 * one output item per input item. It has two halves:
 *
 * - the **definition** (`Workload`), used on the requester side: item codecs, `split()`,
 *   `merge()`, `compare()` for verification and a calibration input (fixed, to measure this
 *   node's own speed; or fresh and random of the same shape and cost, to challenge a peer);
 * - the **kernel** (`Kernel`), the code that runs the shard on a worker. CPU-bound kernels run
 *   in the worker_threads pool (onnxruntime's `session.run()` blocks its thread), so a kernel
 *   is named by module URL and created inside the thread by its `createKernel` export.
 *
 * Items travel as bytes: a shard is an `ItemList` of encoded items, so a worker thread never
 * needs the requester's objects and the main thread never decodes what it only forwards.
 */

/** Encodes one item to bytes and back. `decode` throws `InvalidInputError` on bad bytes. */
export interface ItemCodec<T> {
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** Where a kernel runs. */
export type Executor =
  /** a worker_threads pool thread: for CPU-bound kernels (inference) */
  | 'pool'
  /** the node's own event loop: for kernels that only wait (echo, sleep) */
  | 'inline'

/** How a kernel is found inside a worker thread. */
export interface KernelRef {
  /** absolute `file:` URL of an ES module that exports `createKernel: KernelFactory` */
  module: string
  /** the export to call, default `createKernel` */
  exportName?: string
  /**
   * Modules the pool imports on the main thread before any of its threads runs this kernel
   * (bare specifiers resolved from `@shardmesh/workloads`, or `file:` URLs): native addons
   * that must be loaded by the main thread first, like sharp on glibc, where a thread that
   * loaded it first can crash the process as it exits. The workload definition then need not
   * load them when it is imported, only when a kernel is about to run.
   */
  mainThreadFirst?: string[]
}

/** Options handed to a kernel factory: everything must survive structured cloning. */
export interface KernelOptions {
  /** the workload id, e.g. `ocr-rec` */
  workload: string
  /** the workload version, e.g. `1.0.0` */
  version: string
  /** workload-specific settings (e.g. `{ msPerItem: 5 }` for sleep) */
  params: Record<string, unknown>
  /** a directory the kernel may cache files in (generated models, fetched models) */
  cacheDir: string
}

/** A model a shard needs, already on this node's disk (verified by digest). */
export interface ModelFile {
  /** hex sha256 of the model bytes */
  digest: string
  /** absolute path of the cached file */
  path: string
}

/** What a kernel gets for one shard. */
export interface KernelContext {
  /** aborted when the shard is cancelled: check it between items */
  signal?: AbortSignal
  /** report how many items of this shard are done */
  onProgress?(done: number): void
  /** the model the shard needs (workloads with `needsModel`) */
  model?: ModelFile
}

/**
 * Runs shards. Created once per thread (or once per node for inline kernels) and reused, so
 * sessions stay warm. `run` returns exactly one encoded output per encoded input item, in order.
 * Bad input must throw `InvalidInputError` (a user error: the job fails, no retry); anything
 * else is a provider error (retried on another peer).
 */
export interface Kernel {
  run(items: Uint8Array[], context: KernelContext): Promise<Uint8Array[]>
  close?(): Promise<void>
}

export type KernelFactory = (options: KernelOptions) => Promise<Kernel>

/** How `Workload.calibration()` makes its input. */
export interface CalibrationOptions {
  /**
   * A source of random bytes (e.g. `crypto.randomBytes`). When set, the input is fresh and
   * random, of the same shape and cost as the fixed one, so a challenged peer can neither have
   * seen it before nor tell it from real work; without it the input is the fixed one.
   */
  random?: (bytes: number) => Uint8Array
  /**
   * How many items: the fixed input's items are repeated in order (random ones drawn with the
   * same shapes in the same order) up to this count
   *
   * @default the fixed input's own count
   */
  items?: number
}

/** The most items a calibration input may be asked for. */
export const MAX_CALIBRATION_ITEMS = 1024

/**
 * The number of items a calibration input has: `options.items`, else `fixed`. Throws
 * `RangeError` unless it is an integer in [1, MAX_CALIBRATION_ITEMS].
 */
export function calibrationCount (fixed: number, options: CalibrationOptions = {}): number {
  const count = options.items ?? fixed
  if (!Number.isInteger(count) || count < 1 || count > MAX_CALIBRATION_ITEMS) {
    throw new RangeError(`a calibration input has 1 to ${MAX_CALIBRATION_ITEMS} items, not ${count}`)
  }
  return count
}

/** `items` repeated in order up to `count` items (the first `count` when there are more). */
export function repeatItems <T> (items: readonly T[], count: number): T[] {
  if (items.length === 0) {
    return []
  }
  return Array.from({ length: count }, (_, i) => items[i % items.length])
}

/** The description of a workload: the same object on requester and worker. */
export interface Workload<In = unknown, Out = unknown> {
  /** stable id, e.g. `ocr-rec`; also the capability key `workload:<id>` */
  readonly id: string
  /** version; requester and worker must agree exactly */
  readonly version: string
  /** one line for humans */
  readonly description: string
  /** where the kernel runs */
  readonly executor: Executor
  /** the kernel module (always set: inline kernels are imported on the main thread) */
  readonly kernel: KernelRef
  /** settings for the kernel factory (structured-cloneable) */
  readonly params: Record<string, unknown>
  /** the shard needs a content-addressed model (sha256 hex) shipped with the job */
  readonly needsModel?: boolean
  /**
   * served only when the operator names it (e.g. `onnx` runs any model a requester sends):
   * a daemon that serves "the built-ins" by default leaves it out
   */
  readonly optIn?: boolean
  /**
   * `'gpu'`: a shard needs a GPU to run at speed. A peer that claims a GPU shows it by a measured
   * speed above what its CPUs could reach (`cpuItemsPerSecPerCore`); absent: CPU is the norm
   */
  readonly accelerator?: 'gpu'
  /**
   * The most items/s one CPU core can reach on this workload's calibration input: the GPU
   * evidence threshold. A measured speed above this × the cores a peer claims (with headroom)
   * is what no CPU of that peer could do. Only meaningful with `accelerator: 'gpu'`
   */
  readonly cpuItemsPerSecPerCore?: number
  /** item codecs */
  readonly input: ItemCodec<In>
  readonly output: ItemCodec<Out>
  /** how outputs are compared when verifying, for humans: `exact` or a stated tolerance */
  readonly tolerance: string
  /** split a job's items into shards of at most `shardSize` items, in order */
  split<T>(items: T[], shardSize: number): T[][]
  /** join shard outputs, given in shard order, into the job's outputs */
  merge<T>(outputs: T[][]): T[]
  /** true when two outputs for the same input agree (exactly or within `tolerance`) */
  compare(a: Out, b: Out): boolean
  /**
   * A deeper check of one decoded input item than its codec's (e.g. an image's size), run by
   * the requester on every item before any shard is sent; throws `InvalidInputError`. The
   * kernel must still check what it gets: a worker never trusts a requester.
   */
  checkInput?(item: In): Promise<void>
  /**
   * A small input used to measure throughput. Without options: the same fixed input every time
   * (a node's own calibration at start stays reproducible). With `options.random`: fresh random
   * input of the same shape and cost (a challenge). Workloads with `needsModel` may return their
   * fixed input (or none): challenges skip them
   */
  calibration(options?: CalibrationOptions): Promise<In[]>
  /** digests (sha256 hex) of the models this workload holds locally, advertised as `model:<cid>` */
  models?(cacheDir: string): Promise<string[]>
}

/** The usual split: consecutive runs of `shardSize` items. */
export function splitItems <T> (items: T[], shardSize: number): T[][] {
  if (!Number.isInteger(shardSize) || shardSize < 1) {
    throw new RangeError(`shard size must be a positive integer, got ${shardSize}`)
  }
  const shards: T[][] = []
  for (let i = 0; i < items.length; i += shardSize) {
    shards.push(items.slice(i, i + shardSize))
  }
  return shards
}

/** The usual merge: concatenation in shard order. */
export function mergeItems <T> (outputs: T[][]): T[] {
  return outputs.flat()
}

/** `id@version`, the form used on the command line and in reports. */
export function workloadKey (workload: Pick<Workload, 'id' | 'version'>): string {
  return `${workload.id}@${workload.version}`
}
