/**
 * Turns an image file into the recogniser's input: resized to 48 pixels high keeping its
 * aspect ratio, alpha flattened onto white, then normalised to [-1, 1] in CHW order.
 */
import sharp from 'sharp'
import { InvalidInputError } from '../errors.js'
import { LINE_HEIGHT, MAX_IMAGE_PIXELS, MAX_LINE_WIDTH, MIN_LINE_WIDTH } from './constants.js'

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
export function lineWidth (width: number, height: number, maxWidth = MAX_LINE_WIDTH): number {
  const scaled = Math.round(LINE_HEIGHT * width / height)
  return Math.min(Math.max(scaled, MIN_LINE_WIDTH), maxWidth)
}

/**
 * Decodes, orients (EXIF), flattens and resizes one line image. Throws `InvalidInputError`
 * when the bytes do not decode or the image has too many pixels.
 */
export async function preprocessLine (bytes: Uint8Array, options: PreprocessOptions = {}): Promise<LineTensor> {
  const maxWidth = options.maxWidth ?? MAX_LINE_WIDTH
  let pixels: Buffer
  let width: number
  try {
    const image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, autoOrient: true, failOn: 'error' })
    const meta = await image.metadata()
    const { width: sourceWidth, height: sourceHeight } = meta.autoOrient
    if (!(sourceWidth > 0) || !(sourceHeight > 0)) {
      throw new Error('image has no pixels')
    }
    width = lineWidth(sourceWidth, sourceHeight, maxWidth)
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
