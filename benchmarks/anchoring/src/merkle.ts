/**
 * Merkle: how fast a batch's tree is built (`MerkleTree.fromLeaves`, leaf hashing included) and
 * how fast audit paths are made (`tree.proof(i)`) and checked (`leafHash` + `verifyInclusion`,
 * what a verifier of a receipt proof does). Leaves are random bytes as long as a real
 * countersigned receipt: the tree hashes the receipt's bytes and nothing else of it.
 */
import { randomBytes } from 'node:crypto'
import { MerkleTree, leafHash, verifyInclusion } from '@shardmesh/receipts'
import { countersignedReceipts, parties } from './fixtures.js'
import { loadavg, median, perSec, progress, round, rounds } from './stats.js'
import type { Rounds } from './stats.js'

export interface MerkleOptions {
  /** leaf counts of the trees measured */
  sizes: number[]
  /** a size's builds repeat until they took this long (ms), at least once */
  minBuildMs: number
  /** proofs made and checked per tree per round (leaves evenly spread, cycling on small trees) */
  proofs: number
  rounds: number
}

export interface MerkleRun {
  leaves: number
  /** builds in the last round (a size's builds repeat to fill `minBuildMs`) */
  builds: number
  /** one build's time, ms (median over rounds) */
  buildMs: Rounds
  leavesPerSec: Rounds
  /** audit path length (hashes) of leaf 0 */
  pathLength: number
  proofsPerSec: Rounds
  verifiesPerSec: Rounds
  /** a proof made and checked */
  proofAndVerifyPerSec: Rounds
}

export interface MerkleResult {
  leafBytes: number
  runs: MerkleRun[]
  loadavg: { start: number[], end: number[] }
}

export async function merkle (options: MerkleOptions): Promise<MerkleResult> {
  const start = loadavg()
  const [receipt] = await countersignedReceipts(await parties(), 1)
  const leafBytes = receipt.byteLength
  const largest = Math.max(...options.sizes)
  const data = Array.from({ length: largest }, () => randomBytes(leafBytes))
  const runs: MerkleRun[] = []

  // warm-up
  MerkleTree.fromLeaves(data.slice(0, 1000)).proof(0)

  for (const size of options.sizes) {
    const leaves = data.slice(0, size)
    const buildMs: number[] = []
    const leavesPerSec: number[] = []
    const proofs: number[] = []
    const verifies: number[] = []
    const both: number[] = []
    let builds = 0
    let pathLength = 0
    for (let r = 0; r < options.rounds; r++) {
      let tree!: MerkleTree
      let n = 0
      const t0 = performance.now()
      let elapsed: number
      do {
        tree = MerkleTree.fromLeaves(leaves)
        n++
        elapsed = performance.now() - t0
      } while (elapsed < options.minBuildMs)
      builds = n
      buildMs.push(elapsed / n)
      leavesPerSec.push(perSec(size * n, elapsed))

      const step = Math.max(1, Math.floor(size / options.proofs))
      const indices = Array.from({ length: options.proofs }, (_, i) => (i * step) % size)
      const paths: Uint8Array[][] = new Array(indices.length)
      const t1 = performance.now()
      for (let i = 0; i < indices.length; i++) {
        paths[i] = tree.proof(indices[i])
      }
      const t2 = performance.now()
      let failed = 0
      for (let i = 0; i < indices.length; i++) {
        if (!verifyInclusion(leafHash(leaves[indices[i]]), indices[i], size, paths[i], tree.root)) {
          failed++
        }
      }
      const t3 = performance.now()
      if (failed > 0) {
        throw new Error(`${failed} of ${indices.length} audit paths did not verify in a tree of ${size}`)
      }
      pathLength = paths[0].length
      proofs.push(perSec(indices.length, t2 - t1))
      verifies.push(perSec(indices.length, t3 - t2))
      both.push(perSec(indices.length, t3 - t1))
    }
    runs.push({
      leaves: size,
      builds,
      buildMs: rounds(buildMs, 3),
      leavesPerSec: rounds(leavesPerSec, 0),
      pathLength,
      proofsPerSec: rounds(proofs, 0),
      verifiesPerSec: rounds(verifies, 0),
      proofAndVerifyPerSec: rounds(both, 0)
    })
    progress(`merkle ${size} leaves: ${round(median(leavesPerSec), 0)} leaves/s, proof + verify ${round(median(both), 0)}/s`)
  }
  return { leafBytes, runs, loadavg: { start, end: loadavg() } }
}
