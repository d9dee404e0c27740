/**
 * The `embed` model: built from a seed, never shipped. It is generated on first use into
 * `<cacheDir>/models/` and reused; its sha256 (hex) is the model digest.
 */

import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { IR_VERSION, OPSET, buildBertGraph } from './bert.js'
import { EMBED_SEED, MODEL_REVISION } from './constants.js'
import { embedVocab } from './vocab.js'

export interface EmbedModelOptions {
  /** the weight seed, an unsigned 32-bit integer @default EMBED_SEED */
  seed?: number
}

/** A generated model on disk. */
export interface EmbedModel {
  /** absolute path of the cached `.onnx` file */
  path: string
  /** sha256 hex of its bytes */
  digest: string
}

/** A generated model on disk, with its bytes. */
export interface LoadedEmbedModel extends EmbedModel {
  bytes: Uint8Array
}

/** Check a seed: an unsigned 32-bit integer. */
export function embedSeed (seed: unknown = EMBED_SEED): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xFFFF_FFFF) {
    throw new RangeError(`embed seed must be an unsigned 32-bit integer, got ${String(seed)}`)
  }
  return seed
}

/** The serialised ONNX model for a seed: the same bytes on every platform. */
export function buildEmbedModel (options: EmbedModelOptions = {}): Uint8Array {
  const seed = embedSeed(options.seed)
  const vocabSize = embedVocab().length
  return buildBertGraph(seed, vocabSize).encode({
    irVersion: IR_VERSION,
    opset: OPSET,
    producerName: 'shardmesh',
    producerVersion: String(MODEL_REVISION),
    docString: 'MiniLM-L6-shaped BERT with seeded weights, mean pooling and L2 normalisation (shardmesh embed)',
    metadata: {
      seed: String(seed),
      vocab_size: String(vocabSize),
      revision: String(MODEL_REVISION)
    }
  })
}

/** The cache path of the model for a seed. */
export function embedModelPath (cacheDir: string, options: EmbedModelOptions = {}): string {
  return join(cacheDir, 'models', `embed-minilm-l6-r${MODEL_REVISION}-seed${embedSeed(options.seed)}.onnx`)
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/**
 * Read the cached model, generating it first when missing. Concurrent callers (threads or
 * processes) may both generate it: each writes a temporary file and renames it into place, and
 * the bytes are the same, so whichever rename lands last changes nothing.
 */
export async function loadEmbedModel (cacheDir: string, options: EmbedModelOptions = {}): Promise<LoadedEmbedModel> {
  const path = embedModelPath(cacheDir, options)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
    bytes = buildEmbedModel(options)
    await mkdir(join(cacheDir, 'models'), { recursive: true })
    const temp = `${path}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.tmp`
    try {
      await writeFile(temp, bytes)
      await rename(temp, path)
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
  }
  return { path, digest: sha256(bytes), bytes }
}

/** digests of files already hashed in this thread, by path, valid while size and mtime hold */
const hashed = new Map<string, { size: number, mtimeMs: number, digest: string }>()

/** Make sure the model for a seed is in `<cacheDir>/models/`; its path and digest. */
export async function ensureEmbedModel (cacheDir: string, options: EmbedModelOptions = {}): Promise<EmbedModel> {
  const path = embedModelPath(cacheDir, options)
  const known = hashed.get(path)
  if (known !== undefined) {
    const now = await stat(path).catch(() => undefined)
    if (now?.size === known.size && now.mtimeMs === known.mtimeMs) {
      return { path, digest: known.digest }
    }
  }
  const { digest } = await loadEmbedModel(cacheDir, options)
  const { size, mtimeMs } = await stat(path)
  hashed.set(path, { size, mtimeMs, digest })
  return { path, digest }
}
