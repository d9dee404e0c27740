import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { plural } from '@shardmesh/protocol'
import { generateOcrLines } from '@shardmesh/workloads'
import { UsageError } from '../args.js'
import { itemsOfArrays, readNamedArrays } from './tensors.js'
import type { Workload } from '@shardmesh/workloads'

/** The items of a job, encoded, and the ground truth when it is known. */
export interface JobInputs {
  items: Uint8Array[]
  /** expected text per item (generated OCR lines, or a truth.json next to the images) */
  truth?: string[]
  source: string
}

const IMAGE = new Set(['.png', '.jpg', '.jpeg', '.webp'])

const WORDS = ('the quick brown fox jumps over a lazy dog while peers share work across the mesh ' +
  'every shard leaves a signed receipt and each node measures what it can do for others').split(' ')

function sentences (count: number, seed: number): string[] {
  let state = seed >>> 0 || 1
  const next = (): number => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 0x1_0000_0000
  }
  return Array.from({ length: count }, () => Array.from({ length: 6 + Math.floor(next() * 18) }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' '))
}

/** A file given with --input, read; a file that cannot be read is named. */
async function readInput (file: string): Promise<Buffer>
async function readInput (file: string, encoding: 'utf8'): Promise<string>
async function readInput (file: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return await readFile(file, encoding)
  } catch (err: any) {
    throw new UsageError(`job run: --input ${file} cannot be read: ${err.code ?? err.message}`)
  }
}

/**
 * One file as one item, checked here as the requester checks every item (the codec, then
 * the workload's deeper `checkInput`, e.g. that an image decodes and is a line), so that a
 * bad file is named before any work starts, not found by a worker as "item 17".
 */
async function fileItem (workload: Workload<any, any>, file: string): Promise<Uint8Array> {
  const bytes = await readInput(file)
  try {
    const item = workload.input.encode(bytes)
    await workload.checkInput?.(workload.input.decode(item))
    return item
  } catch (err: any) {
    throw new UsageError(`job run: --input ${file}: ${err.message ?? err}`)
  }
}

/** Build a job's items from `--input` (a file or directory) or `--generate N`. */
export async function loadInputs (workload: Workload<any, any>, options: { input?: string, generate?: number, seed: number }): Promise<JobInputs> {
  if (options.generate != null) {
    switch (workload.id) {
      case 'ocr-rec': {
        const { images, truth } = await generateOcrLines({ count: options.generate, seed: options.seed })
        return { items: images, truth, source: `${plural(options.generate, 'generated text line')} (seed ${options.seed})` }
      }
      case 'embed':
        return { items: sentences(options.generate, options.seed).map(s => workload.input.encode(s)), source: plural(options.generate, 'generated sentence') }
      case 'echo':
      case 'sleep':
        return { items: Array.from({ length: options.generate }, (_, i) => new TextEncoder().encode(`item-${i}`)), source: plural(options.generate, 'generated item') }
      default:
        throw new UsageError(`job run: --generate is not available for ${workload.id}; use the library API`)
    }
  }
  if (options.input == null) {
    throw new UsageError('job run: give --input PATH or --generate N')
  }
  const info = await stat(options.input).catch(() => undefined)
  if (info == null) {
    throw new UsageError(`job run: --input ${options.input} does not exist`)
  }
  const files = info.isDirectory()
    ? (await readdir(options.input)).sort().map(f => join(options.input as string, f))
    : [options.input]
  if (workload.id === 'ocr-rec') {
    const images = files.filter(f => IMAGE.has(extname(f).toLowerCase()))
    if (images.length === 0) {
      throw new UsageError(`job run: no .png, .jpg or .webp images in ${options.input}`)
    }
    const items = await Promise.all(images.map(async f => fileItem(workload, f)))
    let truth: string[] | undefined
    const truthFile = info.isDirectory() ? join(options.input, 'truth.json') : undefined
    if (truthFile != null) {
      const map = await readFile(truthFile, 'utf8').then(t => JSON.parse(t) as Record<string, string>).catch(() => undefined)
      if (map != null) {
        truth = images.map(f => map[f.slice(f.lastIndexOf('/') + 1)] ?? '')
      }
    }
    return { items, truth, source: `${plural(images.length, 'image')} from ${options.input}` }
  }
  if (workload.id === 'embed') {
    const lines = (await Promise.all(files.filter(f => !f.endsWith('.json')).map(async f => readInput(f, 'utf8'))))
      .flatMap(t => t.split('\n')).map(l => l.trim()).filter(l => l !== '')
    return { items: lines.map(l => workload.input.encode(l)), source: `${plural(lines.length, 'line')} of text from ${options.input}` }
  }
  if (workload.id === 'echo' || workload.id === 'sleep') {
    const items = await Promise.all(files.map(async f => fileItem(workload, f)))
    return { items, source: `${plural(items.length, 'file')} from ${options.input}` }
  }
  if (workload.id === 'onnx') {
    let arrays
    try {
      arrays = await readNamedArrays(options.input)
    } catch (err: any) {
      throw new UsageError(`job run: --input ${err.message}`)
    }
    const items = await Promise.all(itemsOfArrays(arrays).map(async (tensors, i) => checkedItem(workload, tensors, `${options.input} row ${i}`)))
    return { items, source: `${plural(items.length, 'item')} (rows of ${[...arrays.keys()].join(', ')}) from ${options.input}` }
  }
  // a workload of a --workload-module: a .json file holds an array of items, each given to
  // the workload's input codec; any other file (or each file of a directory) is one item's bytes
  if (!info.isDirectory() && extname(options.input).toLowerCase() === '.json') {
    if (info.size > MAX_JSON_ITEMS_BYTES) {
      throw new UsageError(`job run: --input ${options.input}: ${info.size} bytes is over the ${MAX_JSON_ITEMS_BYTES} byte limit`)
    }
    let values: unknown
    try {
      values = JSON.parse(await readInput(options.input, 'utf8'))
    } catch (err: any) {
      throw new UsageError(`job run: --input ${options.input}: not JSON: ${err.message}`)
    }
    if (!Array.isArray(values) || values.length === 0) {
      throw new UsageError(`job run: --input ${options.input}: expected a JSON array of ${workload.id} items`)
    }
    const items = await Promise.all(values.map(async (v, i) => checkedItem(workload, v, `${options.input} item ${i}`)))
    return { items, source: `${plural(items.length, 'item')} from ${options.input}` }
  }
  const items = await Promise.all(files.map(async f => fileItem(workload, f)))
  return { items, source: `${plural(items.length, 'file')} from ${options.input}` }
}

/** The largest JSON file of items read. */
const MAX_JSON_ITEMS_BYTES = 64 * 1024 * 1024

/** One decoded item, encoded and checked as the requester checks every item; errors name `where`. */
async function checkedItem (workload: Workload<any, any>, value: unknown, where: string): Promise<Uint8Array> {
  try {
    const item = workload.input.encode(value)
    await workload.checkInput?.(workload.input.decode(item))
    return item
  } catch (err: any) {
    throw new UsageError(`job run: --input ${where}: ${err.message ?? err}`)
  }
}
