/** The machine's own limits, measured in the same run: the primitives the trust layer pays for. */
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import os from 'node:os'
import { round } from './util.js'

export interface Machine {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  loadavg: number[]
  limits: {
    /** Ed25519 signatures of a 200-byte message per second, one core (node:crypto; a receipt or an attestation is one) */
    ed25519SignPerSec: number
    ed25519VerifyPerSec: number
    /** SHA-256 of 1 KiB per second, one core */
    sha256PerSec: number
    sha256MiBPerSec: number
  }
}

export function loadavg (): number[] {
  return os.loadavg().map(n => round(n, 2))
}

export function machine (ms: number): Machine {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const message = randomBytes(200)
  const signature = sign(null, message, privateKey)
  const block = randomBytes(1024)
  const signs = rate(ms, () => sign(null, message, privateKey))
  const verifies = rate(ms, () => verify(null, message, publicKey, signature))
  const hashes = rate(ms, () => createHash('sha256').update(block).digest())
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadavg: loadavg(),
    limits: {
      ed25519SignPerSec: Math.round(signs),
      ed25519VerifyPerSec: Math.round(verifies),
      sha256PerSec: Math.round(hashes),
      sha256MiBPerSec: round(hashes / 1024)
    }
  }
}

/** Calls of `fn` per second over about `ms` (in batches of 64, after a short warm-up). */
function rate (ms: number, fn: () => unknown): number {
  for (let i = 0; i < 64; i++) {
    fn()
  }
  let calls = 0
  const started = performance.now()
  while (performance.now() - started < ms) {
    for (let i = 0; i < 64; i++) {
      fn()
    }
    calls += 64
  }
  return calls / (performance.now() - started) * 1000
}
