/**
 * Turns an image file into the recogniser's input: resized to 48 pixels high keeping its
 * aspect ratio, alpha flattened onto white, then normalised to [-1, 1] in CHW order. An image
 * the model cannot read as one line (too short, too tall, too narrow or too wide once resized)
 * is refused with `InvalidInputError` rather than read as garbage.
 */
import { InvalidInputError } from '../errors.js'
import { LINE_HEIGHT, MAX_IMAGE_HEIGHT, MAX_IMAGE_PIXELS, MAX_LINE_WIDTH, MIN_IMAGE_HEIGHT, MIN_LINE_WIDTH } from './constants.js'
import { loadSharp } from './sharp.js'

/** A normalised line image: `data` is [3, height, width] float32. */
export interface LineTensor {
  data: Float32Array
  width: number
  height: number
}

export interface PreprocessOptions {
  /** the widest resized line @default MAX_LINE_WIDTH */
  maxWidth?: number
}

/** The width a `width × height` image gets when resized to the line height. */
export function lineWidth (width: number, height: number): number {
  return Math.round(LINE_HEIGHT * width / height)
}

/**
 * Refuses, with `InvalidInputError`, an image of `width × height` (as displayed) that the
 * model cannot read as one line: under MIN_IMAGE_HEIGHT or over MAX_IMAGE_HEIGHT pixels high,
 * or narrower than MIN_LINE_WIDTH or wider than `maxWidth` once resized to the line height.
 * Returns the resized width.
 */
export function checkLineSize (width: number, height: number, maxWidth = MAX_LINE_WIDTH): number {
  const size = `the image is ${width}×${height}`
  if (height < MIN_IMAGE_HEIGHT) {
    throw new InvalidInputError(`ocr-rec reads one line of text at least ${MIN_IMAGE_HEIGHT} px high: ${size}`)
  }
  if (height > MAX_IMAGE_HEIGHT) {
    throw new InvalidInputError(`ocr-rec reads one line of text at most ${MAX_IMAGE_HEIGHT} px high: ${size} (crop each line of a page first, or scale a large line down)`)
  }
  const scaled = lineWidth(width, height)
  const at = `${scaled} px wide at the model's ${LINE_HEIGHT} px height`
  if (scaled < MIN_LINE_WIDTH) {
    throw new InvalidInputError(`ocr-rec reads a line at least ${MIN_LINE_WIDTH} px wide at ${LINE_HEIGHT} px high: ${size}, ${at} (a page or a lone glyph? give it one whole line)`)
  }
  if (scaled > maxWidth) {
    throw new InvalidInputError(`ocr-rec reads a line at most ${maxWidth} px wide at ${LINE_HEIGHT} px high: ${size}, ${at} (split the line)`)
  }
  return scaled
}

/** The size of an image as displayed (EXIF orientation applied); `InvalidInputError` when it does not decode. */
export async function lineImageSize (bytes: Uint8Array): Promise<{ width: number, height: number }> {
  const sharp = await loadSharp()
  let size
  try {
    size = (await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true, failOn: 'error' }).metadata()).autoOrient
  } catch (err) {
    throw new InvalidInputError(`ocr-rec cannot decode the image: ${(err as Error).message}`, { cause: err })
  }
  if (!(size.width > 0) || !(size.height > 0)) {
    throw new InvalidInputError('ocr-rec cannot decode the image: it has no pixels')
  }
  return { width: size.width, height: size.height }
}

/**
 * Decodes, orients (EXIF), flattens and resizes one line image. Throws `InvalidInputError`
 * when the bytes do not decode, the image has too many pixels, or its size is not one the
 * model reads (`checkLineSize`).
 */
export async function preprocessLine (bytes: Uint8Array, options: PreprocessOptions = {}): Promise<LineTensor> {
  const maxWidth = options.maxWidth ?? MAX_LINE_WIDTH
  const source = await lineImageSize(bytes)
  const width = checkLineSize(source.width, source.height, maxWidth)
  const sharp = await loadSharp()
  let pixels: Buffer
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true, failOn: 'error' })
    pixels = await image
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(width, LINE_HEIGHT, { fit: 'fill', kernel: 'linear' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer()
  } catch (err) {
    throw new InvalidInputError(`ocr-rec cannot decode the image: ${(err as Error).message}`, { cause: err })
  }
  const plane = width * LINE_HEIGHT
  if (pixels.byteLength !== plane * 3) {
    throw new InvalidInputError(`ocr-rec decoded ${pixels.byteLength} bytes for a ${width}×${LINE_HEIGHT} RGB line`)
  }
  // PaddleOCR feeds BGR (OpenCV) images normalised by (x / 255 - 0.5) / 0.5
  const data = new Float32Array(plane * 3)
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    data[i] = pixels[p + 2] / 127.5 - 1
    data[plane + i] = pixels[p + 1] / 127.5 - 1
    data[2 * plane + i] = pixels[p] / 127.5 - 1
  }
  return { data, width, height: LINE_HEIGHT }
}
