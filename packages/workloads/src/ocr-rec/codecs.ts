/**
 * Item codecs of the `ocr-rec` workload: an input item is an image file (PNG, JPEG or WebP
 * bytes, passed through untouched); an output item is an `OcrLine` packed as an 8-byte
 * little-endian float64 confidence followed by the UTF-8 text.
 */
import { InvalidInputError } from '../errors.js'
import { MAX_IMAGE_BYTES, MAX_TEXT_LENGTH } from './constants.js'
import type { ItemCodec } from '../workload.js'

/** What the recogniser read on one text-line image. */
export interface OcrLine {
  /** the recognised text (empty when nothing was read) */
  text: string
  /** the mean probability of the recognised characters, in [0, 1] (0 when none) */
  confidence: number
}

/** The image formats an input item may be in. */
export type OcrImageFormat = 'png' | 'jpeg' | 'webp'

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff]
const RIFF = [0x52, 0x49, 0x46, 0x46]
const WEBP = [0x57, 0x45, 0x42, 0x50]
const CONFIDENCE_BYTES = 8
/** a UTF-16 code unit takes at most 3 bytes of UTF-8 */
const MAX_LINE_BYTES = CONFIDENCE_BYTES + MAX_TEXT_LENGTH * 3

function startsWith (bytes: Uint8Array, signature: number[], offset = 0): boolean {
  if (bytes.byteLength < offset + signature.length) {
    return false
  }
  return signature.every((byte, i) => bytes[offset + i] === byte)
}

/** The format named by an image's leading bytes, or `undefined` when none is known. */
export function sniffImageFormat (bytes: Uint8Array): OcrImageFormat | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) {
    return 'png'
  }
  if (startsWith(bytes, JPEG_SIGNATURE)) {
    return 'jpeg'
  }
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) {
    return 'webp'
  }
  return undefined
}

function checkImage (bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidInputError('ocr-rec input must be image bytes')
  }
  if (bytes.byteLength === 0) {
    throw new InvalidInputError('ocr-rec input image is empty')
  }
  if (bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new InvalidInputError(`ocr-rec input image is ${bytes.byteLength} bytes, more than ${MAX_IMAGE_BYTES}`)
  }
  if (sniffImageFormat(bytes) == null) {
    throw new InvalidInputError('ocr-rec input is not a PNG, JPEG or WebP image')
  }
  return bytes
}

/**
 * Input items: image files, as they are. Both directions check the size (1 byte to 4 MiB) and
 * the signature of a PNG, JPEG or WebP file; whether the image decodes is the kernel's check.
 */
export const ocrImageCodec: ItemCodec<Uint8Array> = {
  encode: checkImage,
  decode: checkImage
}

function checkLine (line: OcrLine): void {
  if (typeof line !== 'object' || line == null) {
    throw new InvalidInputError('an OCR line must be an object')
  }
  if (typeof line.text !== 'string') {
    throw new InvalidInputError('OCR line text must be a string')
  }
  if (line.text.length > MAX_TEXT_LENGTH) {
    throw new InvalidInputError(`OCR line text is ${line.text.length} long, more than ${MAX_TEXT_LENGTH}`)
  }
  const { confidence } = line
  if (typeof confidence !== 'number' || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
    throw new InvalidInputError('OCR line confidence must be a number in [0, 1]')
  }
}

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Output items: `OcrLine`s as a float64 LE confidence then UTF-8 text. Decoding rejects
 * anything shorter than 8 bytes, longer than the longest text allows, invalid UTF-8, text over
 * 4096 code units, and confidences that are not finite numbers in [0, 1].
 */
export const ocrLineCodec: ItemCodec<OcrLine> = {
  encode (line: OcrLine): Uint8Array {
    checkLine(line)
    const text = utf8Encoder.encode(line.text)
    const bytes = new Uint8Array(CONFIDENCE_BYTES + text.byteLength)
    new DataView(bytes.buffer).setFloat64(0, line.confidence, true)
    bytes.set(text, CONFIDENCE_BYTES)
    return bytes
  },

  decode (bytes: Uint8Array): OcrLine {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidInputError('an encoded OCR line must be bytes')
    }
    if (bytes.byteLength < CONFIDENCE_BYTES || bytes.byteLength > MAX_LINE_BYTES) {
      throw new InvalidInputError(`an encoded OCR line must be ${CONFIDENCE_BYTES} to ${MAX_LINE_BYTES} bytes, got ${bytes.byteLength}`)
    }
    const confidence = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0, true)
    let text: string
    try {
      text = utf8Decoder.decode(bytes.subarray(CONFIDENCE_BYTES))
    } catch (err) {
      throw new InvalidInputError('OCR line text is not valid UTF-8', { cause: err })
    }
    const line = { text, confidence }
    checkLine(line)
    return line
  }
}
