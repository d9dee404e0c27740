/**
 * The `ocr-rec` built-in workload: PP-OCRv4 text-line recognition.
 *
 * @example
 *
 * ```TypeScript
 * import { ocrRec, generateOcrLines } from '@shardmesh/workloads'
 *
 * const workload = ocrRec()
 * const { images, truth } = await generateOcrLines({ count: 10, seed: 1 })
 * // submit `images` as a job of `workload`; each output decodes to { text, confidence }
 * ```
 */
export { ocrRec } from './workload.js'
export type { OcrRecInit } from './workload.js'
export { ocrImageCodec, ocrLineCodec, sniffImageFormat } from './codecs.js'
export type { OcrLine, OcrImageFormat } from './codecs.js'
export { generateOcrLines } from './generate.js'
export type { GenerateOcrLinesOptions, GeneratedOcrLines } from './generate.js'
export { charAccuracy, editDistance } from './accuracy.js'
export type { CharAccuracyOptions } from './accuracy.js'
export type { OcrRecParams } from './kernel.js'
