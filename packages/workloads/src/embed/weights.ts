/**
 * Seeded weights. Only integer arithmetic, `+`, `-`, `*` and `Math.sqrt` (all exactly
 * specified by IEEE 754) are used, so every platform generates the same bits, hence the same
 * model digest.
 */

const TWO_POW_32 = 0x1_0000_0000
/** Irwin–Hall with 4 terms has variance 4/12: this scales it to 1 */
const IRWIN_HALL_4_SCALE = Math.sqrt(3)

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a (text: string): number {
  let hash = 0x811C9DC5
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193)
  }
  return hash >>> 0
}

/** A seeded 32-bit PRNG (mulberry32): small, fast and the same everywhere. */
export class Mulberry32 {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** the next unsigned 32-bit integer */
  nextUint32 (): number {
    this.state = (this.state + 0x6D2B79F5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** uniform in [0, 1) */
  nextUniform (): number {
    return this.nextUint32() / TWO_POW_32
  }
}

/** The seed of one named tensor: tensors are independent of the order they are made in. */
export function tensorSeed (seed: number, name: string): number {
  return (fnv1a(name) ^ Math.imul(seed >>> 0, 0x9E3779B1)) >>> 0
}

/**
 * `count` values, approximately normal with mean 0 and standard deviation `std` (a sum of four
 * uniforms, so bounded by ±2·√3·std), seeded by `seed` and the tensor's `name`.
 */
export function normalish (count: number, std: number, seed: number, name: string): Float32Array {
  const prng = new Mulberry32(tensorSeed(seed, name))
  const scale = std * IRWIN_HALL_4_SCALE
  const out = new Float32Array(count)
  for (let i = 0; i < count; i++) {
    const sum = prng.nextUniform() + prng.nextUniform() + prng.nextUniform() + prng.nextUniform()
    out[i] = (sum - 2) * scale
  }
  return out
}

/** `count` copies of `value`. */
export function filled (count: number, value: number): Float32Array {
  return new Float32Array(count).fill(value)
}
