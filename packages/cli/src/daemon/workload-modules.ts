import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { builtinWorkloads, parseWorkloadSpec, workloadKey } from '@shardmesh/workloads'
import { UsageError } from '../args.js'
import type { Workload, WorkloadRegistry } from '@shardmesh/workloads'

/**
 * `--workload-module PATH`: ES modules the operator installed on this machine, each exporting
 * workloads that implement the public `Workload` contract of `@shardmesh/workloads`. They are
 * loaded once, at start, from the local disk; peers still never run code sent by other peers
 * (a shard only names a workload, and only one registered here can run it).
 */

/** A workload module that cannot be used: it does not load, or exports no valid workload. */
export class WorkloadModuleError extends Error {
  static readonly code = 'ERR_WORKLOAD_MODULE'
  readonly code = WorkloadModuleError.code

  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'WorkloadModuleError'
  }
}

const FUNCTIONS = ['split', 'merge', 'compare', 'calibration'] as const
const OPTIONAL_FUNCTIONS = ['checkInput', 'models'] as const

/**
 * Check that `value` has every field and method of the `Workload` contract (an id and version
 * as `parseWorkloadSpec` takes them, an executor, a kernel module that is a `file:` URL of a
 * file that exists, codecs, split/merge/compare/calibration); throws `WorkloadModuleError`
 * naming `source` and the first field that is wrong.
 */
export async function checkWorkload (value: unknown, source: string): Promise<Workload<any, any>> {
  const fail = (what: string): never => { throw new WorkloadModuleError(`${source}: ${what}`) }
  if (value == null || typeof value !== 'object') {
    return fail(`a workload must be an object, got ${value === null ? 'null' : typeof value}`)
  }
  const w = value as Record<string, any>
  if (typeof w.id !== 'string' || typeof w.version !== 'string') {
    return fail('a workload needs a string id and version')
  }
  try {
    const spec = parseWorkloadSpec(`${w.id}@${w.version}`)
    if (spec.id !== w.id || spec.version !== w.version) {
      throw new RangeError(`bad workload "${w.id}@${w.version}"`)
    }
  } catch {
    return fail(`workload id "${String(w.id).slice(0, 80)}" or version "${String(w.version).slice(0, 40)}" is malformed (id: lowercase letters, digits, . _ -, up to 64; version: up to 32 of [0-9A-Za-z.+-])`)
  }
  const name = `workload ${w.id}@${w.version}`
  if (typeof w.description !== 'string') {
    fail(`${name}: description must be a string`)
  }
  if (w.executor !== 'pool' && w.executor !== 'inline') {
    fail(`${name}: executor must be 'pool' or 'inline', got ${JSON.stringify(w.executor)}`)
  }
  if (w.kernel == null || typeof w.kernel.module !== 'string') {
    fail(`${name}: kernel.module must be the file: URL of its kernel module (e.g. new URL('./kernel.js', import.meta.url).href)`)
  }
  let kernelPath = ''
  try {
    const url = new URL(w.kernel.module)
    if (url.protocol !== 'file:') {
      throw new Error('not a file: URL')
    }
    kernelPath = fileURLToPath(url)
  } catch {
    fail(`${name}: kernel.module "${String(w.kernel.module).slice(0, 200)}" is not an absolute file: URL`)
  }
  if (!(await stat(kernelPath).then(s => s.isFile(), () => false))) {
    fail(`${name}: kernel module ${kernelPath} does not exist`)
  }
  if (w.kernel.exportName != null && typeof w.kernel.exportName !== 'string') {
    fail(`${name}: kernel.exportName must be a string`)
  }
  if (w.params == null || typeof w.params !== 'object') {
    fail(`${name}: params must be an object (structured-cloneable settings of its kernel)`)
  }
  try {
    structuredClone(w.params)
  } catch {
    fail(`${name}: params must survive structured cloning (they travel to pool threads)`)
  }
  for (const codec of ['input', 'output']) {
    if (typeof w[codec]?.encode !== 'function' || typeof w[codec]?.decode !== 'function') {
      fail(`${name}: ${codec} must be a codec with encode() and decode()`)
    }
  }
  if (typeof w.tolerance !== 'string') {
    fail(`${name}: tolerance must be a string ('exact' or the tolerance its compare() allows)`)
  }
  for (const fn of FUNCTIONS) {
    if (typeof w[fn] !== 'function') {
      fail(`${name}: ${fn}() is missing`)
    }
  }
  for (const fn of OPTIONAL_FUNCTIONS) {
    if (w[fn] != null && typeof w[fn] !== 'function') {
      fail(`${name}: ${fn} must be a function when present`)
    }
  }
  for (const flag of ['needsModel', 'optIn']) {
    if (w[flag] != null && typeof w[flag] !== 'boolean') {
      fail(`${name}: ${flag} must be a boolean when present`)
    }
  }
  if (w.accelerator != null && w.accelerator !== 'gpu') {
    fail(`${name}: accelerator must be 'gpu' when present`)
  }
  return w as Workload<any, any>
}

/**
 * Import the ES module at `path` (relative to the working directory) and return the workloads it
 * exports, checked: its default export, or else its named `workload` or `workloads` export,
 * each one workload or an array of them. Throws `WorkloadModuleError` naming the module.
 */
export async function loadWorkloadModule (path: string): Promise<Array<Workload<any, any>>> {
  const file = resolve(path)
  if (!(await stat(file).then(s => s.isFile(), () => false))) {
    throw new WorkloadModuleError(`${path}: no such file`)
  }
  let mod: Record<string, unknown>
  try {
    mod = await import(pathToFileURL(file).href)
  } catch (err: any) {
    throw new WorkloadModuleError(`${path}: does not load: ${String(err?.message ?? err).split('\n')[0]}`, { cause: err })
  }
  const exported = mod.default ?? mod.workload ?? mod.workloads
  if (exported == null) {
    throw new WorkloadModuleError(`${path}: exports no workload (a default export, or a named 'workload' or 'workloads' export)`)
  }
  const list = Array.isArray(exported) ? exported : [exported]
  if (list.length === 0) {
    throw new WorkloadModuleError(`${path}: exports an empty list of workloads`)
  }
  const workloads: Array<Workload<any, any>> = []
  for (const value of list) {
    workloads.push(await checkWorkload(value, path))
  }
  return workloads
}

/**
 * Load every module of `paths` and register its workloads in `registry`. A module that does not
 * load, a workload that breaks the contract, one whose id is a built-in's, or one registered
 * twice is a `UsageError` of `command` naming the module (exit 2 before anything starts).
 * Returns the workloads registered, in order.
 */
export async function registerWorkloadModules (registry: WorkloadRegistry, paths: string[] | undefined, command: string): Promise<Array<Workload<any, any>>> {
  const builtins = new Set(builtinWorkloads().map(w => w.id))
  const added: Array<Workload<any, any>> = []
  for (const path of paths ?? []) {
    let workloads
    try {
      workloads = await loadWorkloadModule(path)
    } catch (err: any) {
      throw new UsageError(`${command}: --workload-module ${err instanceof WorkloadModuleError ? err.message : `${path}: ${err.message}`}`)
    }
    for (const w of workloads) {
      if (builtins.has(w.id)) {
        throw new UsageError(`${command}: --workload-module ${path}: workload ${workloadKey(w)} has the id of a built-in workload (${w.id}); choose another id`)
      }
      if (registry.get(w.id, w.version) != null) {
        throw new UsageError(`${command}: --workload-module ${path}: workload ${workloadKey(w)} is already installed (by another --workload-module)`)
      }
      registry.register(w)
      added.push(w)
    }
  }
  return added
}
