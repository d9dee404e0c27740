import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ModelMismatchError, ModelTooLargeError } from '../errors.js'
import type { ModelFile } from '@shardmesh/workloads'
import type { FileHandle } from 'node:fs/promises'

const DIGEST = /^[0-9a-f]{64}$/

/**
 * Models on disk, named by the sha256 of their bytes. A model received from a requester is
 * written to a temporary file while its hash is computed and only renamed into place when
 * the hash matches, so the cache never holds a file under a wrong name.
 */
export class ModelStore {
  private readonly dir: string
  private readonly maxBytes: number

  constructor (dir: string, maxBytes: number) {
    this.dir = dir
    this.maxBytes = maxBytes
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

  async get (digest: string): Promise<ModelFile | undefined> {
    const path = this.pathOf(digest)
    try {
      await stat(path)
      return { digest, path }
    } catch {
      return undefined
    }
  }

  /** Start receiving a model of `total` bytes. */
  async receive (digest: string, total: number): Promise<ModelWriter> {
    const path = this.pathOf(digest)
    if (!Number.isSafeInteger(total) || total <= 0 || total > this.maxBytes) {
      throw new ModelTooLargeError(`model of ${total} bytes: this worker accepts 1..${this.maxBytes}`)
    }
    await mkdir(this.dir, { recursive: true })
    const tmp = join(this.dir, `.${digest}.${randomBytes(6).toString('hex')}.tmp`)
    return new ModelWriter(digest, path, tmp, total, await open(tmp, 'w', 0o600))
  }
}

/** One model being received: chunks in order, checked against the digest at the end. */
export class ModelWriter {
  private readonly hash = createHash('sha256')
  private offset = 0

  constructor (
    public readonly digest: string,
    private readonly path: string,
    private readonly tmp: string,
    public readonly total: number,
    private readonly file: FileHandle
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
    await this.file.close()
    const actual = this.hash.digest('hex')
    if (actual !== this.digest) {
      await rm(this.tmp, { force: true })
      throw new ModelMismatchError(`the model bytes hash to ${actual}, not to ${this.digest} as the shard says`)
    }
    await rename(this.tmp, this.path)
    return { digest: this.digest, path: this.path }
  }

  async abort (): Promise<void> {
    await this.file.close().catch(() => {})
    await rm(this.tmp, { force: true })
  }
}
