/**
 * Seeded input mutation for fuzzing decoders of the shardmesh wire format (and anything else
 * that reads bytes from peers). Deterministic: a failure names its seed and iteration, and the
 * same inputs come back on every run. Imported as `@shardmesh/protocol/fuzz`.
 *
 * @example
 *
 * ```TypeScript
 * import { Prng } from '@shardmesh/protocol/fuzz'
 *
 * const prng = new Prng(42)
 * for (let i = 0; i < 5000; i++) {
 *   try { decodeSignedAdvert(prng.flipBits(valid)) } catch (err: any) { assert(err.name === 'InvalidMessageError' || ...) }
 * }
 * ```
 */
/** A small seeded PRNG (mulberry32) with byte mutators. */
export class Prng {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** A uniform 32-bit unsigned integer. */
  uint32 (): number {
    this.state = (this.state + 0x6D2B79F5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** An integer in [0, n). */
  int (n: number): number {
    return Math.floor((this.uint32() / 0x1_0000_0000) * n)
  }

  bytes (length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) {
      out[i] = this.uint32() & 0xff
    }
    return out
  }

  pick <T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** A copy of `bytes` with 1..maxFlips random bits flipped. */
  flipBits (bytes: Uint8Array, maxFlips = 4): Uint8Array {
    const out = bytes.slice()
    if (out.byteLength === 0) {
      return out
    }
    const flips = 1 + this.int(maxFlips)
    for (let i = 0; i < flips; i++) {
      out[this.int(out.byteLength)] ^= 1 << this.int(8)
    }
    return out
  }

  /** A random prefix of `bytes` (possibly empty, never the whole). */
  truncate (bytes: Uint8Array): Uint8Array {
    return bytes.slice(0, this.int(bytes.byteLength))
  }
}
