/** Character accuracy of recognised text against its truth. */

export interface CharAccuracyOptions {
  /** remove whitespace from both sides before comparing @default false */
  ignoreSpaces?: boolean
}

/** The Levenshtein distance between two strings, counted in code points. */
export function editDistance (a: string, b: string): number {
  const x = Array.from(a)
  const y = Array.from(b)
  if (x.length === 0) {
    return y.length
  }
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  let current = new Array<number>(y.length + 1)
  for (let i = 1; i <= x.length; i++) {
    current[0] = i
    for (let j = 1; j <= y.length; j++) {
      const substitution = previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1)
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1)
    }
    [previous, current] = [current, previous]
  }
  return previous[y.length]
}

/**
 * `1 - Σ editDistance(truth[i], predicted[i]) / Σ length(truth[i])`, lengths in code points,
 * floored at 0. With no truth characters at all it is 1 when nothing was predicted, else 0.
 */
export function charAccuracy (truth: string[], predicted: string[], options: CharAccuracyOptions = {}): number {
  if (truth.length !== predicted.length) {
    throw new RangeError(`${truth.length} truths but ${predicted.length} predictions`)
  }
  const clean = options.ignoreSpaces === true
    ? (text: string): string => text.replace(/\s+/g, '')
    : (text: string): string => text
  let distance = 0
  let total = 0
  for (let i = 0; i < truth.length; i++) {
    const expected = clean(truth[i])
    distance += editDistance(expected, clean(predicted[i]))
    total += Array.from(expected).length
  }
  if (total === 0) {
    return distance === 0 ? 1 : 0
  }
  return Math.max(0, 1 - distance / total)
}
