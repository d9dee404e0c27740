import { hash } from 'node:crypto'
import { MAX_MERKLE_PATH_LENGTH, MERKLE_HASH_BYTES } from './constants.js'
import { EmptyMerkleTreeError } from './errors.js'

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) over sha256. Leaves and inner nodes
 * are hashed with different prefixes, so no leaf can pass for an inner node; a tree of n > 1
 * leaves splits at the largest power of two below n, so no leaf is duplicated to fill a level.
 *
 * Built bottom-up: each level pairs its nodes left to right and an odd last node moves up a
 * level unchanged, which gives the same root and audit paths as the recursive definition.
 */

const H = MERKLE_HASH_BYTES

// one-shot `crypto.hash` over the prefixed bytes: for these small inputs it costs less than half
// of a `createHash` object with three updates, and a requester hashes a dozen per shard

/** The hash of a leaf: sha256(0x00 ‖ data). */
export function leafHash (data: Uint8Array): Uint8Array {
  const bytes = Buffer.allocUnsafe(1 + data.byteLength)
  bytes[0] = 0x00
  bytes.set(data, 1)
  return hash('sha256', bytes, 'buffer')
}

/** The hash of an inner node: sha256(0x01 ‖ left ‖ right). */
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  const bytes = Buffer.allocUnsafe(1 + left.byteLength + right.byteLength)
  bytes[0] = 0x01
  bytes.set(left, 1)
  bytes.set(right, 1 + left.byteLength)
  return hash('sha256', bytes, 'buffer')
}

/** The next level up: pairs hashed, an odd last node carried over. */
function levelAbove (level: Buffer): Buffer {
  const count = level.byteLength / H
  const next = Buffer.allocUnsafe(Math.ceil(count / 2) * H)
  let i = 0
  for (; i + 1 < count; i += 2) {
    next.set(nodeHash(level.subarray(i * H, (i + 1) * H), level.subarray((i + 1) * H, (i + 2) * H)), (i / 2) * H)
  }
  if (i < count) {
    level.copy(next, (i / 2) * H, i * H, (i + 1) * H)
  }
  return next
}

export class MerkleTree {
  /** the root hash */
  public readonly root: Uint8Array
  /** number of leaves */
  public readonly size: number
  /** every level, leaves first, each as its hashes end to end */
  private readonly levels: Buffer[]

  private constructor (leaves: Buffer) {
    this.size = leaves.byteLength / H
    if (this.size === 0) {
      throw new EmptyMerkleTreeError()
    }
    const levels = [leaves]
    while (levels[levels.length - 1].byteLength > H) {
      levels.push(levelAbove(levels[levels.length - 1]))
    }
    this.levels = levels
    this.root = new Uint8Array(levels[levels.length - 1])
  }

  /** A tree whose leaves are `leafHash` of each item. */
  static fromLeaves (data: Uint8Array[]): MerkleTree {
    const leaves = Buffer.allocUnsafe(data.length * H)
    for (let i = 0; i < data.length; i++) {
      leaves.set(leafHash(data[i]), i * H)
    }
    return new MerkleTree(leaves)
  }

  /** A tree over leaf hashes computed already (each `leafHash` of an item, 32 bytes). */
  static fromLeafHashes (hashes: Uint8Array[]): MerkleTree {
    const leaves = Buffer.allocUnsafe(hashes.length * H)
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i].byteLength !== H) {
        throw new RangeError(`leaf hash ${i} is ${hashes[i].byteLength} bytes, not ${H}`)
      }
      leaves.set(hashes[i], i * H)
    }
    return new MerkleTree(leaves)
  }

  /** The hash of leaf `index`. */
  leaf (index: number): Uint8Array {
    this.checkIndex(index)
    return new Uint8Array(this.levels[0].subarray(index * H, (index + 1) * H))
  }

  /** The audit path of leaf `index` (RFC 9162 §2.1.3.1), the leaf's sibling first. */
  proof (index: number): Uint8Array[] {
    this.checkIndex(index)
    const path: Uint8Array[] = []
    let i = index
    for (let l = 0; l < this.levels.length - 1; l++) {
      const level = this.levels[l]
      const sibling = i ^ 1
      if (sibling * H < level.byteLength) {
        path.push(new Uint8Array(level.subarray(sibling * H, (sibling + 1) * H)))
      }
      i = Math.floor(i / 2)
    }
    return path
  }

  private checkIndex (index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`leaf index ${index} is outside a tree of ${this.size} leaves`)
    }
  }
}

/** The root of the tree whose leaves are `leafHash` of each item. */
export function rootOf (leaves: Uint8Array[]): Uint8Array {
  return MerkleTree.fromLeaves(leaves).root
}

function isHash (value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.byteLength === H
}

/**
 * The root that `leafHash`, as leaf `index` of a tree of `size` leaves, leads to along the audit
 * path `path` (RFC 9162 §2.1.3.2); undefined when the path cannot belong to such a leaf (too
 * short, too long, or malformed). Never throws.
 */
export function rootFromPath (leafHash: Uint8Array, index: number, size: number, path: Uint8Array[]): Uint8Array | undefined {
  try {
    if (!isHash(leafHash) || !Array.isArray(path) || path.length > MAX_MERKLE_PATH_LENGTH ||
      !Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
      return undefined
    }
    // plain arithmetic, not bit operators: sizes may pass 2^32
    let fn = index
    let sn = size - 1
    let r: Uint8Array = leafHash
    for (const p of path) {
      if (!isHash(p) || sn === 0) {
        return undefined
      }
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r)
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      } else {
        r = nodeHash(r, p)
      }
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    return sn === 0 ? r : undefined
  } catch {
    return undefined
  }
}

/**
 * Check that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`, with
 * the audit path `path` (RFC 9162 §2.1.3.2). False for any malformed input; never throws.
 */
export function verifyInclusion (leafHash: Uint8Array, index: number, size: number, path: Uint8Array[], root: Uint8Array): boolean {
  if (!isHash(root)) {
    return false
  }
  const r = rootFromPath(leafHash, index, size, path)
  return r != null && Buffer.from(r.buffer, r.byteOffset, r.byteLength).equals(root)
}
