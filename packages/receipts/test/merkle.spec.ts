import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { EmptyMerkleTreeError, MerkleTree, leafHash, nodeHash, rootOf, verifyInclusion } from '../src/index.js'

/** sha256 of the parts, computed here independently of the module under test. */
function h (...parts: Uint8Array[]): Buffer {
  return createHash('sha256').update(Buffer.concat(parts)).digest()
}

const L = (data: Uint8Array): Buffer => h(Uint8Array.of(0), data)
const N = (left: Uint8Array, right: Uint8Array): Buffer => h(Uint8Array.of(1), left, right)

/** RFC 9162 §2.1.1 MTH, recursively from the definition. */
function mth (data: Uint8Array[]): Buffer {
  if (data.length === 1) {
    return L(data[0])
  }
  let k = 1
  while (k * 2 < data.length) {
    k *= 2
  }
  return N(mth(data.slice(0, k)), mth(data.slice(k)))
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), recursively from the definition. */
function path (m: number, data: Uint8Array[]): Buffer[] {
  if (data.length === 1) {
    return []
  }
  let k = 1
  while (k * 2 < data.length) {
    k *= 2
  }
  return m < k
    ? [...path(m, data.slice(0, k)), mth(data.slice(k))]
    : [...path(m - k, data.slice(k)), mth(data.slice(0, k))]
}

function items (n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${i}`))
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('merkle', () => {
  it('leaf and node hashes are sha256 with the 0x00 and 0x01 prefixes', () => {
    const data = Uint8Array.of(1, 2, 3)
    assert.equal(hex(leafHash(data)), hex(h(Uint8Array.of(0, 1, 2, 3))))
    assert.equal(hex(nodeHash(Uint8Array.of(7), Uint8Array.of(8, 9))), hex(h(Uint8Array.of(1, 7, 8, 9))))
  })

  it('roots of 1, 2, 3, 5 and 7 leaves, written out by hand', () => {
    const d = items(7)
    const l = d.map(L)
    assert.equal(hex(rootOf(d.slice(0, 1))), hex(l[0]))
    assert.equal(hex(rootOf(d.slice(0, 2))), hex(N(l[0], l[1])))
    assert.equal(hex(rootOf(d.slice(0, 3))), hex(N(N(l[0], l[1]), l[2])))
    assert.equal(hex(rootOf(d.slice(0, 5))), hex(N(N(N(l[0], l[1]), N(l[2], l[3])), l[4])))
    assert.equal(hex(rootOf(d.slice(0, 7))), hex(N(N(N(l[0], l[1]), N(l[2], l[3])), N(N(l[4], l[5]), l[6]))))
  })

  it('matches the test vectors of the Certificate Transparency reference code', () => {
    // leaves and roots from google/certificate-transparency's merkle tree tests (RFC 6962, same hashing as RFC 9162)
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(x => Buffer.from(x, 'hex'))
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'
    ]
    roots.forEach((root, i) => { assert.equal(hex(rootOf(leaves.slice(0, i + 1))), root, `${i + 1} leaves`) })
  })

  it('roots and audit paths equal the recursive definition for sizes 1..70', () => {
    for (let n = 1; n <= 70; n++) {
      const d = items(n)
      const tree = MerkleTree.fromLeaves(d)
      assert.equal(tree.size, n)
      assert.equal(hex(tree.root), hex(mth(d)), `root of ${n}`)
      for (let m = 0; m < n; m++) {
        assert.deepEqual(tree.proof(m).map(hex), path(m, d).map(hex), `path ${m} of ${n}`)
      }
    }
  })

  it('fromLeafHashes gives the tree of the data they hash', () => {
    const d = items(13)
    const tree = MerkleTree.fromLeafHashes(d.map(leafHash))
    assert.equal(hex(tree.root), hex(mth(d)))
    assert.equal(hex(tree.leaf(12)), hex(L(d[12])))
    assert.throws(() => MerkleTree.fromLeafHashes([new Uint8Array(31)]), RangeError)
  })

  it('an empty tree is an EmptyMerkleTreeError; a leaf index outside the tree a RangeError', () => {
    for (const build of [() => MerkleTree.fromLeaves([]), () => MerkleTree.fromLeafHashes([]), () => rootOf([])]) {
      assert.throws(build, (err: any) => err.name === 'EmptyMerkleTreeError' && err instanceof EmptyMerkleTreeError && err.code === 'ERR_EMPTY_MERKLE_TREE')
    }
    const tree = MerkleTree.fromLeaves(items(3))
    for (const index of [-1, 3, 1.5, Number.NaN]) {
      assert.throws(() => tree.proof(index), RangeError, String(index))
    }
  })

  it('every index of every size 1..33 verifies, and fails for another index, leaf, size or root', () => {
    for (let n = 1; n <= 33; n++) {
      const d = items(n)
      const tree = MerkleTree.fromLeaves(d)
      const other = rootOf(items(n + 1))
      for (let m = 0; m < n; m++) {
        const leaf = leafHash(d[m])
        const p = tree.proof(m)
        assert.ok(verifyInclusion(leaf, m, n, p, tree.root), `${m} of ${n}`)
        for (const index of [m - 1, m + 1].filter(i => i >= 0 && i < n)) {
          assert.ok(!verifyInclusion(leaf, index, n, p, tree.root), `${m} of ${n} as index ${index}`)
        }
        if (m === n - 1) {
          // the last leaf's path pins the size; for others the root does (the anchor memo carries both)
          for (let size = n + 1; size <= 2 * n + 1; size++) {
            assert.ok(!verifyInclusion(leaf, m, size, p, tree.root), `${m} of ${n} as size ${size}`)
          }
        }
        assert.ok(!verifyInclusion(leaf, m, n, p, other), `${m} of ${n} with another root`)
        if (n > 1) {
          assert.ok(!verifyInclusion(leafHash(d[(m + 1) % n]), m, n, p, tree.root), `another leaf as ${m} of ${n}`)
        }
      }
    }
  })

  it('fails for a flipped byte anywhere, or an extra, missing or swapped path element', () => {
    const n = 21
    const d = items(n)
    const tree = MerkleTree.fromLeaves(d)
    for (const m of [0, 7, 16, 20]) {
      const leaf = leafHash(d[m])
      const p = tree.proof(m)
      assert.ok(p.length >= 2)
      for (let e = 0; e < p.length; e++) {
        for (const byte of [0, 17, 31]) {
          const flipped = p.map(x => x.slice())
          flipped[e][byte] ^= 0x01
          assert.ok(!verifyInclusion(leaf, m, n, flipped, tree.root), `path[${e}][${byte}] of ${m}`)
        }
      }
      const flippedLeaf = leaf.slice()
      flippedLeaf[5] ^= 0x80
      assert.ok(!verifyInclusion(flippedLeaf, m, n, p, tree.root))
      const flippedRoot = tree.root.slice()
      flippedRoot[31] ^= 0x01
      assert.ok(!verifyInclusion(leaf, m, n, p, flippedRoot))
      assert.ok(!verifyInclusion(leaf, m, n, [...p, p[0]], tree.root), 'extra element')
      assert.ok(!verifyInclusion(leaf, m, n, [p[0], ...p], tree.root), 'extra element first')
      assert.ok(!verifyInclusion(leaf, m, n, p.slice(1), tree.root), 'missing first element')
      assert.ok(!verifyInclusion(leaf, m, n, p.slice(0, -1), tree.root), 'missing last element')
      assert.ok(!verifyInclusion(leaf, m, n, [p[1], p[0], ...p.slice(2)], tree.root), 'swapped elements')
    }
  })

  it('returns false, never throws, on malformed input', () => {
    const d = items(4)
    const tree = MerkleTree.fromLeaves(d)
    const leaf = leafHash(d[1])
    const p = tree.proof(1)
    assert.ok(verifyInclusion(leaf, 1, 4, p, tree.root))
    const bad: Array<[string, () => boolean]> = [
      ['size 0', () => verifyInclusion(leaf, 0, 0, [], tree.root)],
      ['index = size', () => verifyInclusion(leaf, 4, 4, p, tree.root)],
      ['negative index', () => verifyInclusion(leaf, -1, 4, p, tree.root)],
      ['fractional index', () => verifyInclusion(leaf, 1.5, 4, p, tree.root)],
      ['NaN size', () => verifyInclusion(leaf, 1, Number.NaN, p, tree.root)],
      ['short leaf', () => verifyInclusion(leaf.subarray(1), 1, 4, p, tree.root)],
      ['long root', () => verifyInclusion(leaf, 1, 4, p, new Uint8Array(33))],
      ['short path element', () => verifyInclusion(leaf, 1, 4, [p[0].subarray(0, 31), p[1]], tree.root)],
      ['path element not bytes', () => verifyInclusion(leaf, 1, 4, [p[0], 'x' as any], tree.root)],
      ['path not a list', () => verifyInclusion(leaf, 1, 4, null as any, tree.root)],
      ['root not bytes', () => verifyInclusion(leaf, 1, 4, p, undefined as any)],
      ['65 path elements', () => verifyInclusion(leaf, 1, 4, new Array(65).fill(p[0]), tree.root)]
    ]
    for (const [name, check] of bad) {
      assert.equal(check(), false, name)
    }
    // a one-leaf tree: the leaf hash is the root and the path is empty
    const one = MerkleTree.fromLeaves([d[0]])
    assert.ok(verifyInclusion(leafHash(d[0]), 0, 1, [], one.root))
    assert.ok(!verifyInclusion(leafHash(d[0]), 0, 1, [one.root], one.root))
  })

  it('a leaf never passes for an inner node (domain separation)', () => {
    const d = items(4)
    const l = d.map(L)
    // data that is exactly the two child hashes of the inner node over leaves 0 and 1
    const forged = Buffer.concat([l[0], l[1]])
    assert.equal(forged.byteLength, 64)
    assert.notEqual(hex(leafHash(forged)), hex(N(l[0], l[1])))
    assert.notEqual(hex(rootOf([forged])), hex(rootOf(d.slice(0, 2))))
    // as leaf 0 of a 2-leaf tree beside the inner node over leaves 2 and 3, it does not reach the 4-leaf root
    const root4 = rootOf(d)
    assert.ok(!verifyInclusion(leafHash(forged), 0, 2, [N(l[2], l[3])], root4))
    // a 2-leaf tree with the same bytes as leaves differs from the 4-leaf tree too
    assert.notEqual(hex(rootOf([forged, Buffer.concat([l[2], l[3]])])), hex(root4))
  })

  it('a tree of 10,000 leaves gives the recursive definition\'s root and verifiable paths', () => {
    const d = items(10_000)
    const tree = MerkleTree.fromLeaves(d)
    assert.equal(hex(tree.root), hex(mth(d)))
    for (const m of [0, 1, 4095, 8191, 8192, 9999]) {
      const p = tree.proof(m)
      assert.deepEqual(p.map(hex), path(m, d).map(hex), `path of ${m}`)
      assert.ok(verifyInclusion(leafHash(d[m]), m, d.length, p, tree.root))
    }
  })
})
