/**
 * Labelled text-line images for testing and calibrating `ocr-rec`: random lines of words,
 * numbers and punctuation rendered with sharp (Pango, DejaVu Sans), dark on light, 48 pixels
 * high. The same seed gives the same images, byte for byte, on the same sharp build. Given a
 * source of random bytes instead, the lines are fresh (a challenge input) and may be fitted to
 * given sizes, so that they cost the recogniser exactly what lines of those sizes cost.
 *
 * sharp is loaded on first use (`./sharp.ts`), not when this module is imported.
 */
import { Prng } from '@shardmesh/protocol/fuzz'
import { RandomSource } from '../random.js'
import { LINE_HEIGHT } from './constants.js'
import { loadSharp } from './sharp.js'
import type { OutputInfo } from 'sharp'

export interface GenerateOcrLinesOptions {
  /** how many lines */
  count: number
  /** the seed of the text, sizes, colours and margins */
  seed: number
  /**
   * a source of random bytes (e.g. `crypto.randomBytes`) to draw everything from instead of
   * `seed`: fresh lines nobody could have predicted, half of whose words are random strings of
   * dictionary characters (letters and digits)
   */
  random?: (bytes: number) => Uint8Array
  /**
   * the exact size of each image, cycled: a line that does not fit is shortened (words, then
   * characters, dropped from its end) and a narrower one padded with its background. A size
   * fixes what a line costs the recogniser, so fitted random lines cost what the lines they are
   * fitted to cost
   */
  sizes?: Array<{ width: number, height: number }>
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
/** characters of the recogniser's dictionary that every font renders: random words are made of them */
const DICTIONARY_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789']

/** What lines are drawn from: a seeded `Prng` or a `RandomSource`. */
interface Draw {
  int(n: number): number
  pick<T>(items: readonly T[]): T
}

function digits (prng: Draw, min: number, max: number): string {
  const length = min + prng.int(max - min + 1)
  let out = String(1 + prng.int(9))
  while (out.length < length) {
    out += String(prng.int(10))
  }
  return out
}

/** 2 to 9 random characters of the dictionary. */
function randomWord (prng: Draw): string {
  const length = 2 + prng.int(8)
  let out = ''
  while (out.length < length) {
    out += prng.pick(DICTIONARY_CHARS)
  }
  return out
}

function token (prng: Draw): string {
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

/**
 * A random line of 3 to 7 tokens, some followed by a comma or a full stop (as separate words:
 * joined by spaces, they are the line). With `randomWords`, half the tokens are random strings of
 * dictionary characters.
 */
function randomLine (prng: Draw, randomWords: boolean): string[] {
  const count = 3 + prng.int(5)
  const tokens: string[] = []
  for (let i = 0; i < count; i++) {
    let next = randomWords && prng.int(2) === 0 ? randomWord(prng) : token(prng)
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
  return tokens
}

function escapeMarkup (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function hex (value: number): string {
  return value.toString(16).padStart(2, '0')
}

/** A grey (with a slight tint) whose channels lie in [low, low + spread). */
function colour (prng: Draw, low: number, spread: number): string {
  const base = low + prng.int(spread)
  const tint = (): string => hex(Math.min(255, Math.max(0, base + prng.int(9) - 4)))
  return `#${tint()}${tint()}${tint()}`
}

type RenderOptions = Required<Omit<GenerateOcrLinesOptions, 'count' | 'seed' | 'random' | 'sizes'>>

/** The glyphs of `text` in a style, on a transparent background, as PNG. */
async function renderGlyphs (text: string, style: { size: number, weight: string, ink: string }): Promise<{ data: Buffer, info: OutputInfo }> {
  const sharp = await loadSharp()
  const glyphs = sharp({
    text: {
      text: `<span foreground="${style.ink}">${escapeMarkup(text)}</span>`,
      font: `DejaVu Sans${style.weight} ${style.size}px`,
      dpi: 72,
      rgba: true
    }
  })
  return glyphs.png().toBuffer({ resolveWithObject: true })
}

/**
 * Render a line of `tokens` (joined by spaces) with a random style and margins. With `fit`, the
 * image is exactly that size: tokens, then characters, are dropped from the end until the
 * glyphs fit with a 4-pixel margin on each side. Returns the image and the text it shows.
 */
async function renderLine (tokens: string[], prng: Draw, options: RenderOptions, fit?: { width: number, height: number }): Promise<{ image: Uint8Array, text: string }> {
  const style = {
    size: options.minFontSize + prng.int(options.maxFontSize - options.minFontSize + 1),
    weight: prng.int(5) === 0 ? ' Bold' : '',
    ink: colour(prng, 0x10, 0x40)
  }
  const paper = colour(prng, 0xe0, 0x20)
  const height = fit?.height ?? options.height
  let text = tokens.join(' ')
  let { data, info } = await renderGlyphs(text, style)
  while (fit != null && (info.width + 8 > fit.width || info.height > fit.height) && text.length > 1) {
    if (tokens.length > 1) {
      tokens.pop()
      text = tokens.join(' ')
    } else {
      text = text.slice(0, -1)
    }
    ({ data, info } = await renderGlyphs(text, style))
  }
  const slack = Math.max(0, height - info.height)
  const top = Math.min(slack, Math.floor(slack / 2) + prng.int(5) - 2)
  const left = fit == null ? 4 + prng.int(13) : 4 + prng.int(Math.max(1, Math.min(13, fit.width - info.width - 7)))
  const right = fit == null ? 4 + prng.int(13) : Math.max(0, fit.width - info.width - left)
  const sharp = await loadSharp()
  const image = sharp(data)
    .extend({
      top: Math.max(0, top),
      bottom: slack - Math.max(0, top),
      left,
      right,
      background: paper
    })
    .flatten({ background: paper })
  const encoded = options.format === 'jpeg'
    ? image.jpeg({ quality: 92 })
    : options.format === 'webp' ? image.webp({ lossless: true }) : image.png()
  return { image: new Uint8Array(await encoded.toBuffer()), text }
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
  const sizes = options.sizes
  if (sizes != null && (sizes.length === 0 || sizes.some(({ width, height }) => !Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 8))) {
    throw new RangeError('sizes must be a non-empty list of integer sizes of at least 16×8')
  }
  const prng: Draw = options.random != null ? new RandomSource(options.random) : new Prng(seed)
  const images: Uint8Array[] = []
  const truth: string[] = []
  for (let i = 0; i < count; i++) {
    const tokens = randomLine(prng, options.random != null)
    const { image, text } = await renderLine(tokens, prng, settings, sizes?.[i % sizes.length])
    truth.push(text)
    images.push(image)
  }
  return { images, truth }
}
