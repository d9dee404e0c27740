/**
 * Labelled text-line images for testing and calibrating `ocr-rec`: random lines of words,
 * numbers and punctuation rendered with sharp (Pango, DejaVu Sans), dark on light, 48 pixels
 * high. The same seed gives the same images, byte for byte, on the same sharp build.
 *
 * Importing this module loads sharp on the importing thread; the workload definition imports
 * it, so sharp is loaded on the main thread before any pool thread loads it (sharp's advice for
 * worker_threads on glibc, where unloading it with a thread can crash the process).
 */
import { Prng } from '@shardmesh/protocol/fuzz'
import sharp from 'sharp'
import { LINE_HEIGHT } from './constants.js'

export interface GenerateOcrLinesOptions {
  /** how many lines */
  count: number
  /** the seed of the text, sizes, colours and margins */
  seed: number
  /** the image height in pixels @default 48 */
  height?: number
  /** the smallest font size in pixels @default 22 */
  minFontSize?: number
  /** the largest font size in pixels @default 28 */
  maxFontSize?: number
  /** the image file format @default 'png' */
  format?: 'png' | 'jpeg' | 'webp'
}

export interface GeneratedOcrLines {
  /** one encoded image per line */
  images: Uint8Array[]
  /** the exact text rendered on each image */
  truth: string[]
}

const WORDS = [
  'the', 'of', 'and', 'to', 'in', 'is', 'for', 'on', 'with', 'as', 'by', 'at', 'from', 'or',
  'data', 'node', 'peer', 'shard', 'model', 'line', 'text', 'image', 'price', 'total', 'order',
  'invoice', 'account', 'network', 'market', 'report', 'street', 'river', 'garden', 'window',
  'number', 'letter', 'summer', 'winter', 'yellow', 'purple', 'quick', 'brown', 'lazy', 'jumps',
  'over', 'under', 'between', 'quality', 'service', 'delivery', 'balance', 'payment', 'station',
  'library', 'kitchen', 'morning', 'evening', 'journey', 'machine', 'learning', 'simple'
]
const NAMES = ['Paris', 'London', 'Berlin', 'Tokyo', 'Monday', 'Friday', 'March', 'October', 'Alice', 'Robert', 'Kingston', 'Victoria']
const ACRONYMS = ['USA', 'EU', 'OCR', 'API', 'CPU', 'GPU', 'PDF', 'NASA', 'UTC', 'VAT']
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ'

function digits (prng: Prng, min: number, max: number): string {
  const length = min + prng.int(max - min + 1)
  let out = String(1 + prng.int(9))
  while (out.length < length) {
    out += String(prng.int(10))
  }
  return out
}

function token (prng: Prng): string {
  const kind = prng.int(20)
  if (kind < 9) {
    return prng.pick(WORDS)
  }
  if (kind < 11) {
    const word = prng.pick(WORDS)
    return word[0].toUpperCase() + word.slice(1)
  }
  if (kind < 12) {
    return prng.pick(NAMES)
  }
  if (kind < 13) {
    return prng.pick(ACRONYMS)
  }
  if (kind < 15) {
    return digits(prng, 1, 5)
  }
  if (kind < 16) {
    return `${digits(prng, 1, 3)}.${String(prng.int(100)).padStart(2, '0')}`
  }
  if (kind < 17) {
    return `20${String(prng.int(30)).padStart(2, '0')}-${String(1 + prng.int(12)).padStart(2, '0')}-${String(1 + prng.int(28)).padStart(2, '0')}`
  }
  if (kind < 18) {
    return `${prng.pick([...LETTERS])}${prng.pick([...LETTERS])}-${digits(prng, 3, 4)}`
  }
  return `${prng.pick(WORDS)}-${prng.pick(WORDS)}`
}

/** A random line of 3 to 7 tokens, some followed by a comma or a full stop. */
function randomLine (prng: Prng): string {
  const count = 3 + prng.int(5)
  const tokens: string[] = []
  for (let i = 0; i < count; i++) {
    let next = token(prng)
    if (i === 0 && prng.int(2) === 0) {
      next = next[0].toUpperCase() + next.slice(1)
    }
    const mark = prng.int(10)
    if (i < count - 1 && mark === 0) {
      next += ','
    } else if (i === count - 1 && mark < 3) {
      next += '.'
    }
    tokens.push(next)
  }
  return tokens.join(' ')
}

function escapeMarkup (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function hex (value: number): string {
  return value.toString(16).padStart(2, '0')
}

/** A grey (with a slight tint) whose channels lie in [low, low + spread). */
function colour (prng: Prng, low: number, spread: number): string {
  const base = low + prng.int(spread)
  const tint = (): string => hex(Math.min(255, Math.max(0, base + prng.int(9) - 4)))
  return `#${tint()}${tint()}${tint()}`
}

async function renderLine (text: string, prng: Prng, options: Required<Omit<GenerateOcrLinesOptions, 'count' | 'seed'>>): Promise<Uint8Array> {
  const size = options.minFontSize + prng.int(options.maxFontSize - options.minFontSize + 1)
  const weight = prng.int(5) === 0 ? ' Bold' : ''
  const ink = colour(prng, 0x10, 0x40)
  const paper = colour(prng, 0xe0, 0x20)
  const glyphs = sharp({
    text: {
      text: `<span foreground="${ink}">${escapeMarkup(text)}</span>`,
      font: `DejaVu Sans${weight} ${size}px`,
      dpi: 72,
      rgba: true
    }
  })
  const { data, info } = await glyphs.png().toBuffer({ resolveWithObject: true })
  const slack = Math.max(0, options.height - info.height)
  const top = Math.min(slack, Math.floor(slack / 2) + prng.int(5) - 2)
  const image = sharp(data)
    .extend({
      top: Math.max(0, top),
      bottom: slack - Math.max(0, top),
      left: 4 + prng.int(13),
      right: 4 + prng.int(13),
      background: paper
    })
    .flatten({ background: paper })
  const encoded = options.format === 'jpeg'
    ? image.jpeg({ quality: 92 })
    : options.format === 'webp' ? image.webp({ lossless: true }) : image.png()
  return new Uint8Array(await encoded.toBuffer())
}

/** Renders `count` random text lines; the truth is each line's exact text. */
export async function generateOcrLines (options: GenerateOcrLinesOptions): Promise<GeneratedOcrLines> {
  const { count, seed } = options
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`)
  }
  const settings = {
    height: options.height ?? LINE_HEIGHT,
    minFontSize: options.minFontSize ?? 22,
    maxFontSize: options.maxFontSize ?? 28,
    format: options.format ?? 'png'
  }
  if (settings.maxFontSize < settings.minFontSize) {
    throw new RangeError('maxFontSize must be at least minFontSize')
  }
  const prng = new Prng(seed)
  const images: Uint8Array[] = []
  const truth: string[] = []
  for (let i = 0; i < count; i++) {
    const text = randomLine(prng)
    truth.push(text)
    images.push(await renderLine(text, prng, settings))
  }
  return { images, truth }
}
