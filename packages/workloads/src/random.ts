/**
 * Draws from a source of random bytes (e.g. `crypto.randomBytes`): what a workload's
 * calibration generator uses to make a challenge input nobody could have predicted.
 */
export class RandomSource {
  private buffer: Uint8Array = new Uint8Array(0)
  private offset = 0

  /**
   * @param random - returns `bytes` fresh random bytes; called for 256 bytes at a time
   */
  constructor (private readonly random: (bytes: number) => Uint8Array) {}

  /** A uniform 32-bit unsigned integer. */
  uint32 (): number {
    if (this.offset + 4 > this.buffer.byteLength) {
      const next = this.random(256)
      if (!(next instanceof Uint8Array) || next.byteLength < 4) {
        throw new RangeError('the random source returned fewer bytes than asked for')
      }
      this.buffer = next
      this.offset = 0
    }
    const b = this.buffer
    const o = this.offset
    this.offset += 4
    return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0
  }

  /** A uniform integer in [0, n), without modulo bias (n at most 2^32). */
  int (n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) {
      throw new RangeError(`n must be an integer in [1, 2^32], got ${n}`)
    }
    // reject the top partial range so every residue is equally likely
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n)
    while (true) {
      const x = this.uint32()
      if (x < limit) {
        return x % n
      }
    }
  }

  /** A uniform element of a non-empty list. */
  pick <T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** `length` random bytes, straight from the source. */
  bytes (length: number): Uint8Array {
    const out = this.random(length)
    if (!(out instanceof Uint8Array) || out.byteLength !== length) {
      throw new RangeError(`the random source returned ${out?.byteLength} bytes, not ${length}`)
    }
    return new Uint8Array(out)
  }
}
