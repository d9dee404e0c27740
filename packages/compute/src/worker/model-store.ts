import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelMismatchError, ModelQuotaError, ModelTooLargeError } from '../errors.js'
import type { ModelFile } from '@shardmesh/workloads'
import type { FileHandle } from 'node:fs/promises'

const DIGEST = /^[0-9a-f]{64}$/
const MODEL_FILE = /^([0-9a-f]{64})\.onnx$/

export interface ModelStoreInit {
  /** the directory of the models (one store per directory) */
  dir: string
  /** the largest model accepted (bytes) */
  maxModelBytes: number
  /** the most bytes of models kept on disk: least recently used models not in use make room */
  maxBytes: number
  /** the largest fraction of `maxBytes` that the models one requester brought may take, in (0, 1] */
  share: number
}

/** A cached model held for a shard: never evicted until `release()`. */
export interface ModelLease extends ModelFile {
  release(): void
}

/** What the cache holds now. */
export interface ModelStoreUsage {
  /** bytes of the models on disk */
  bytes: number
  /** bytes set aside for models arriving now */
  reserved: number
  /** models on disk */
  models: number
  /** models held by shards now */
  inUse: number
  /** bytes on disk and arriving, by the requester that brought them */
  byRequester: Record<string, number>
}

interface Entry {
  digest: string
  bytes: number
  /** shards holding the model now */
  uses: number
  /** a logical clock: higher is more recent */
  lastUsed: number
  /** the requester that brought it (unknown for a file found on disk) */
  owner?: string
}

/**
 * Models on disk, named by the sha256 of their bytes, within a byte quota. A model received
 * from a requester is written to a temporary file while its hash is computed and only renamed
 * into place when the hash matches, so the cache never holds a file under a wrong name.
 *
 * Room for a new model is made by deleting the least recently used models no shard holds;
 * a model held by a shard (`acquire()` until `release()`) is never deleted. The models one
 * requester brought may take at most `share` of the quota: its own least recently used ones
 * make room first, so one requester cannot push every other's models out. A model that cannot
 * fit is refused: `ModelTooLargeError` when it never could here, `ModelQuotaError` when the
 * space is held by models in use. Files already in the directory at start count against the
 * quota (oldest first to go) and belong to no requester.
 */
export class ModelStore {
  private readonly dir: string
  private readonly maxModelBytes: number
  private readonly maxBytes: number
  private readonly requesterBytes: number
  private readonly entries = new Map<string, Entry>()
  /** bytes set aside for transfers in progress, in total and by requester */
  private reserved = 0
  private readonly reservedBy = new Map<string, number>()
  private clock = 0
  private scanned?: Promise<void>
  /** index changes and deletions, one at a time: a file being evicted is never handed out */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (init: ModelStoreInit) {
    if (!(init.share > 0 && init.share <= 1)) {
      throw new RangeError(`the model cache share of one requester must be in (0, 1], got ${init.share}`)
    }
    if (!Number.isSafeInteger(init.maxBytes) || init.maxBytes <= 0) {
      throw new RangeError(`the model cache size must be a positive integer of bytes, got ${init.maxBytes}`)
    }
    this.dir = init.dir
    this.maxModelBytes = init.maxModelBytes
    this.maxBytes = init.maxBytes
    this.requesterBytes = Math.floor(init.maxBytes * init.share)
  }

  static isDigest (digest: string): boolean {
    return DIGEST.test(digest)
  }

  pathOf (digest: string): string {
    if (!DIGEST.test(digest)) {
      throw new ModelMismatchError(`"${digest.slice(0, 80)}" is not a sha256 hex digest`)
    }
    return join(this.dir, `${digest}.onnx`)
  }

  /** The model if it is on disk (it counts as used now), without holding it. */
  async get (digest: string): Promise<ModelFile | undefined> {
    const lease = await this.acquire(digest)
    lease?.release()
    return lease == null ? undefined : { digest: lease.digest, path: lease.path }
  }

  /** Hold the model for a shard, if it is on disk: it stays there until `release()`. */
  async acquire (digest: string): Promise<ModelLease | undefined> {
    const path = this.pathOf(digest)
    return this.exclusive(async () => {
      const size = await stat(path).then(s => s.isFile() ? s.size : undefined, () => undefined)
      let entry = this.entries.get(digest)
      if (size == null) {
        // removed behind our back: forget it (a holder keeps its own reference)
        this.entries.delete(digest)
        return undefined
      }
      if (entry == null) {
        // put there by someone else (another store on this directory, an operator)
        entry = { digest, bytes: size, uses: 0, lastUsed: 0 }
        this.entries.set(digest, entry)
      }
      const held = entry
      held.bytes = size
      held.uses++
      held.lastUsed = ++this.clock
      let released = false
      return {
        digest,
        path,
        release: () => {
          if (!released) {
            released = true
            held.uses--
          }
        }
      }
    })
  }

  /** Start receiving a model of `total` bytes for `requester`, making room for it first. */
  async receive (digest: string, total: number, requester?: string): Promise<ModelWriter> {
    const path = this.pathOf(digest)
    if (!Number.isSafeInteger(total) || total <= 0 || total > this.maxModelBytes) {
      throw new ModelTooLargeError(`model of ${total} bytes: this worker accepts 1..${this.maxModelBytes}`)
    }
    const limit = requester != null ? Math.min(this.requesterBytes, this.maxBytes) : this.maxBytes
    if (total > limit) {
      throw new ModelTooLargeError(`model of ${total} bytes: this worker caches at most ${limit} bytes of models ${requester != null ? 'per requester' : 'in all'}`)
    }
    return this.exclusive(async () => {
      for (const victim of this.evictions(total, requester)) {
        this.entries.delete(victim.digest)
        await rm(join(this.dir, `${victim.digest}.onnx`), { force: true })
      }
      this.reserve(total, requester)
      try {
        await mkdir(this.dir, { recursive: true })
        const tmp = join(this.dir, `.${digest}.${randomBytes(6).toString('hex')}.tmp`)
        return new ModelWriter(digest, path, tmp, total, await open(tmp, 'w', 0o600), {
          finished: () => { this.added(digest, total, requester) },
          failed: () => { this.reserve(-total, requester) }
        })
      } catch (err) {
        this.reserve(-total, requester)
        throw err
      }
    })
  }

  usage (): ModelStoreUsage {
    const byRequester: Record<string, number> = {}
    let bytes = 0
    let inUse = 0
    for (const e of this.entries.values()) {
      bytes += e.bytes
      inUse += e.uses > 0 ? 1 : 0
      if (e.owner != null) {
        byRequester[e.owner] = (byRequester[e.owner] ?? 0) + e.bytes
      }
    }
    for (const [owner, n] of this.reservedBy) {
      byRequester[owner] = (byRequester[owner] ?? 0) + n
    }
    return { bytes, reserved: this.reserved, models: this.entries.size, inUse, byRequester }
  }

  /**
   * The models to delete so that `total` more bytes fit, least recently used first: the
   * requester's own beyond its share, then anyone's beyond the quota. Throws ModelQuotaError
   * when models in use (or arriving) leave no room.
   */
  private evictions (total: number, requester?: string): Entry[] {
    const idle = [...this.entries.values()].filter(e => e.uses === 0).sort((a, b) => a.lastUsed - b.lastUsed)
    const victims = new Set<Entry>()
    if (requester != null) {
      let mine = this.reservedBy.get(requester) ?? 0
      for (const e of this.entries.values()) {
        mine += e.owner === requester ? e.bytes : 0
      }
      for (const e of idle) {
        if (mine + total <= this.requesterBytes) {
          break
        }
        if (e.owner === requester) {
          victims.add(e)
          mine -= e.bytes
        }
      }
      if (mine + total > this.requesterBytes) {
        throw new ModelQuotaError(`a model of ${total} bytes does not fit: the models you sent this worker take ${mine} of the ${this.requesterBytes} bytes one requester may use, in use or arriving`)
      }
    }
    let used = this.reserved
    for (const e of this.entries.values()) {
      used += victims.has(e) ? 0 : e.bytes
    }
    for (const e of idle) {
      if (used + total <= this.maxBytes) {
        break
      }
      if (!victims.has(e)) {
        victims.add(e)
        used -= e.bytes
      }
    }
    if (used + total > this.maxBytes) {
      throw new ModelQuotaError(`a model of ${total} bytes does not fit: models in use or arriving take ${used} of this worker's ${this.maxBytes}-byte model cache`)
    }
    return [...victims]
  }

  private reserve (bytes: number, requester?: string): void {
    this.reserved += bytes
    if (requester != null) {
      const n = (this.reservedBy.get(requester) ?? 0) + bytes
      if (n > 0) {
        this.reservedBy.set(requester, n)
      } else {
        this.reservedBy.delete(requester)
      }
    }
  }

  /** A received model is in place: its reservation becomes an entry. */
  private added (digest: string, bytes: number, requester?: string): void {
    this.reserve(-bytes, requester)
    const entry = this.entries.get(digest)
    if (entry != null) {
      // the same model arrived twice at once: one file, kept by whoever brought it first
      entry.bytes = bytes
      entry.owner ??= requester
      entry.lastUsed = ++this.clock
      return
    }
    this.entries.set(digest, { digest, bytes, uses: 0, lastUsed: ++this.clock, owner: requester })
  }

  /** Run `fn` after every earlier index change, the first time after reading the directory. */
  private async exclusive <T> (fn: () => Promise<T>): Promise<T> {
    this.scanned ??= this.scan()
    const run = this.queue.then(async () => { await this.scanned; return fn() })
    this.queue = run.catch(() => {})
    return run
  }

  /** Index the models already on disk, oldest first in the LRU order. */
  private async scan (): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[])
    const found: Array<{ digest: string, bytes: number, mtimeMs: number }> = []
    for (const name of names) {
      const digest = MODEL_FILE.exec(name)?.[1]
      if (digest == null) {
        continue
      }
      const info = await stat(join(this.dir, name)).catch(() => undefined)
      if (info?.isFile() === true) {
        found.push({ digest, bytes: info.size, mtimeMs: info.mtimeMs })
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const f of found) {
      this.entries.set(f.digest, { digest: f.digest, bytes: f.bytes, uses: 0, lastUsed: ++this.clock })
    }
  }
}

interface WriterHooks {
  finished(): void
  failed(): void
}

/** One model being received: chunks in order, checked against the digest at the end. */
export class ModelWriter {
  private readonly hash = createHash('sha256')
  private offset = 0
  private settled = false

  constructor (
    public readonly digest: string,
    private readonly path: string,
    private readonly tmp: string,
    public readonly total: number,
    private readonly file: FileHandle,
    private readonly hooks: WriterHooks = { finished: () => {}, failed: () => {} }
  ) {}

  async write (offset: number, data: Uint8Array): Promise<void> {
    if (offset !== this.offset || offset + data.byteLength > this.total) {
      throw new ModelMismatchError(`model chunk at ${offset}+${data.byteLength} does not follow ${this.offset} of ${this.total}`)
    }
    this.hash.update(data)
    await this.file.write(data)
    this.offset += data.byteLength
  }

  get complete (): boolean {
    return this.offset === this.total
  }

  /** Check the digest and move the file into place. */
  async finish (): Promise<ModelFile> {
    try {
      await this.file.close()
      const actual = this.hash.digest('hex')
      if (actual !== this.digest) {
        throw new ModelMismatchError(`the model bytes hash to ${actual}, not to ${this.digest} as the shard says`)
      }
      await rename(this.tmp, this.path)
    } catch (err) {
      await rm(this.tmp, { force: true })
      this.settle(false)
      throw err
    }
    this.settle(true)
    return { digest: this.digest, path: this.path }
  }

  async abort (): Promise<void> {
    await this.file.close().catch(() => {})
    await rm(this.tmp, { force: true })
    this.settle(false)
  }

  private settle (ok: boolean): void {
    if (!this.settled) {
      this.settled = true
      if (ok) {
        this.hooks.finished()
      } else {
        this.hooks.failed()
      }
    }
  }
}
