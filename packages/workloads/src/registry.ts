import { UnknownWorkloadError } from './errors.js'
import { workloadKey } from './workload.js'
import type { Workload } from './workload.js'

/** A workload named as `id` or `id@version`. */
export interface WorkloadSpec {
  id: string
  version?: string
}

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/
const VERSION = /^[0-9A-Za-z.+-]{1,32}$/

/** Parse `id` or `id@version`; throws `RangeError` on anything else. */
export function parseWorkloadSpec (spec: string): WorkloadSpec {
  const at = spec.indexOf('@')
  const id = at === -1 ? spec : spec.slice(0, at)
  const version = at === -1 ? undefined : spec.slice(at + 1)
  if (!ID.test(id) || (version != null && !VERSION.test(version))) {
    throw new RangeError(`bad workload "${spec}": expected id or id@version (e.g. ocr-rec@1.0.0)`)
  }
  return version == null ? { id } : { id, version }
}

/**
 * The workloads this node has installed. Peers never run code sent by other peers: a shard
 * names a workload, and only a workload registered here can run it.
 */
export class WorkloadRegistry {
  private readonly workloads = new Map<string, Workload<any, any>>()

  constructor (workloads: Array<Workload<any, any>> = []) {
    for (const w of workloads) {
      this.register(w)
    }
  }

  register (workload: Workload<any, any>): void {
    parseWorkloadSpec(workloadKey(workload))
    const key = workloadKey(workload)
    if (this.workloads.has(key)) {
      throw new RangeError(`workload ${key} is already registered`)
    }
    this.workloads.set(key, workload)
  }

  /** The workload with this id and version; without a version, the only (or last registered) one. */
  get (id: string, version?: string): Workload<any, any> | undefined {
    if (version != null) {
      return this.workloads.get(`${id}@${version}`)
    }
    let found: Workload<any, any> | undefined
    for (const w of this.workloads.values()) {
      if (w.id === id) {
        found = w
      }
    }
    return found
  }

  /** Like `get`, but throws `UnknownWorkloadError` naming what is installed. */
  require (id: string, version?: string): Workload<any, any> {
    const w = this.get(id, version)
    if (w == null) {
      const known = this.list().map(workloadKey).join(', ')
      throw new UnknownWorkloadError(`no workload ${version == null ? id : `${id}@${version}`} is installed here (installed: ${known === '' ? 'none' : known})`)
    }
    return w
  }

  list (): Array<Workload<any, any>> {
    return [...this.workloads.values()]
  }
}
