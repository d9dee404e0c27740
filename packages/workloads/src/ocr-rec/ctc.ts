/**
 * Greedy CTC decoding of the recogniser's output, as PaddleOCR's `CTCLabelDecode`: the most
 * likely class at each timestep, blanks (class 0) and repeats dropped.
 */
import type { OcrLine } from './codecs.js'

/**
 * The characters of a PaddleOCR dictionary file, one per line, as class `i + 1` maps to
 * character `i`. With `useSpaceChar` a space is appended as the last class.
 */
export function parseDictionary (text: string, useSpaceChar: boolean): string[] {
  const lines = text.split(/\r?\n/)
  if (lines.length > 0 && lines[lines.length - 1] === '') {
    lines.pop()
  }
  if (useSpaceChar) {
    lines.push(' ')
  }
  return lines
}

/**
 * Decodes `[timesteps, classes]` probabilities (row-major) into a line. The confidence is the
 * mean of the kept characters' probabilities, 0 when none is kept.
 */
export function ctcGreedyDecode (probs: Float32Array, timesteps: number, classes: number, charset: readonly string[]): OcrLine {
  if (probs.length !== timesteps * classes) {
    throw new RangeError(`expected ${timesteps}×${classes} probabilities, got ${probs.length}`)
  }
  if (charset.length !== classes - 1) {
    throw new RangeError(`a ${classes}-class output needs ${classes - 1} characters, got ${charset.length}`)
  }
  let text = ''
  let sum = 0
  let kept = 0
  let previous = -1
  for (let t = 0; t < timesteps; t++) {
    const row = t * classes
    let best = 0
    let bestProb = probs[row]
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c]
      if (p > bestProb) {
        bestProb = p
        best = c
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best - 1]
      sum += bestProb
      kept++
    }
    previous = best
  }
  return { text, confidence: kept === 0 ? 0 : Math.min(1, sum / kept) }
}
