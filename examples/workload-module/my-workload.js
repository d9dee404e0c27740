/**
 * An operator's own workload for a shardmesh daemon: `primes@1.0.0` counts the primes up to n
 * for each item, a CPU-bound pure-JS kernel run in the node's worker_threads pool.
 *
 *   shardmesh node start --workload-module ./my-workload.js
 *
 * The same file is both halves of the `Workload` contract of `@shardmesh/workloads`:
 * - the default export, the definition (codecs, split, merge, compare, calibration), used by a
 *   requester to build and check a job and by a worker to decode what it is sent;
 * - `createKernel`, the code that runs a shard: the pool imports this file again inside its
 *   threads (`kernel.module` is this file's URL) and calls it once per thread.
 *
 * Every node that serves or requests `primes` installs this file itself: peers never run code
 * sent by other peers, a shard only names the workload.
 */
import { AbortError, InvalidInputError, calibrationCount, mergeItems, splitItems } from '@shardmesh/workloads'

/** The largest n an item may ask for: bounds a shard's work (and a hostile requester's). */
export const MAX_N = 10_000_000

/** An item is its n as decimal ASCII, at most 8 digits: a codec with a size limit. */
const itemCodec = {
  encode (n) {
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_N) {
      throw new InvalidInputError(`primes: an item is a whole number from 0 to ${MAX_N}, not ${n}`)
    }
    return new TextEncoder().encode(String(n))
  },
  decode (bytes) {
    if (bytes.byteLength === 0 || bytes.byteLength > 8) {
      throw new InvalidInputError(`primes: an item is 1 to 8 digits, got ${bytes.byteLength} bytes`)
    }
    const text = new TextDecoder().decode(bytes)
    if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > MAX_N) {
      throw new InvalidInputError(`primes: "${text.slice(0, 16)}" is not a whole number from 0 to ${MAX_N}`)
    }
    return Number(text)
  }
}

/** The count of primes <= n (a sieve of Eratosthenes). */
export function countPrimes (n) {
  if (n < 2) {
    return 0
  }
  const composite = new Uint8Array(n + 1)
  let count = 0
  for (let i = 2; i <= n; i++) {
    if (composite[i] === 0) {
      count++
      for (let j = i * i; j <= n; j += i) {
        composite[j] = 1
      }
    }
  }
  return count
}

/** The workload definition: the same object on requester and worker. */
const primes = {
  id: 'primes',
  version: '1.0.0',
  description: 'counts the primes up to n, per item (an operator-installed example workload)',
  executor: 'pool',
  kernel: { module: import.meta.url },
  params: {},
  input: itemCodec,
  output: itemCodec,
  tolerance: 'exact',
  split: splitItems,
  merge: mergeItems,
  compare: (a, b) => a === b,
  // fixed: the same 4 items every time (a node's own speed); with options.random: fresh n of
  // the same size (a challenge a peer cannot have seen)
  async calibration (options = {}) {
    const count = calibrationCount(4, options)
    return Array.from({ length: count }, (_, i) => {
      if (options.random == null) {
        return 100_000 + i * 1_000
      }
      const [hi, lo] = options.random(2)
      return 100_000 + ((hi << 8) | lo) % 4_000
    })
  }
}

export default primes

/** The kernel: one per pool thread; one output per input item, in order. */
export async function createKernel () {
  return {
    async run (items, context) {
      const outputs = []
      for (const bytes of items) {
        if (context.signal?.aborted === true) {
          throw new AbortError('shard cancelled')
        }
        // a worker never trusts a requester: decode (and so check) every item again
        outputs.push(itemCodec.encode(countPrimes(itemCodec.decode(bytes))))
        context.onProgress?.(outputs.length)
      }
      return outputs
    }
  }
}
