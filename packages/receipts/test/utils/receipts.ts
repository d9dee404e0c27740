import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { sha256 } from '@shardmesh/protocol'
import { countersignReceipt, signReceipt } from '../../src/index.js'
import type { ReceiptFields } from '../../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

/** A worker and the requester that countersigns its receipts. */
export interface Peers {
  worker: PrivateKey
  requester: PrivateKey
}

export async function makePeers (): Promise<Peers> {
  return { worker: await generateKeyPair('Ed25519'), requester: await generateKeyPair('Ed25519') }
}

/** A job id of 16 bytes, all `n`. */
export function jobId (n: number): Uint8Array {
  return new Uint8Array(16).fill(n)
}

export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** The fields of a receipt by `peers.worker` for `peers.requester`; `shardIndex` makes it unique. */
export function fields (peers: Peers, overrides: Partial<ReceiptFields> = {}): ReceiptFields {
  return {
    jobId: jobId(1),
    shardIndex: 0,
    workload: 'echo',
    workloadVersion: '1.0.0',
    inputDigest: sha256(Uint8Array.of(1)),
    outputDigest: sha256(Uint8Array.of(2)),
    worker: peerIdFromPrivateKey(peers.worker),
    requester: peerIdFromPrivateKey(peers.requester),
    startedAt: 1_750_000_000_000,
    finishedAt: 1_750_000_000_100,
    items: 4,
    cpuMicros: 1000,
    ...overrides
  }
}

/** A worker-signed receipt, not countersigned. */
export async function uncountersigned (peers: Peers, overrides: Partial<ReceiptFields> = {}): Promise<Uint8Array> {
  return signReceipt(peers.worker, fields(peers, overrides))
}

/** A countersigned receipt, as the store takes them. */
export async function makeReceipt (peers: Peers, overrides: Partial<ReceiptFields> = {}): Promise<Uint8Array> {
  const signed = await signReceipt(peers.worker, fields(peers, overrides))
  return countersignReceipt(peers.requester, signed, { policy: 'none', outcome: 'accepted' }, { verified: true })
}

/** `count` countersigned receipts for shards `first`, `first + 1`, ... */
export async function makeReceipts (peers: Peers, count: number, overrides: Partial<ReceiptFields> = {}, first = 0): Promise<Uint8Array[]> {
  const receipts: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    receipts.push(await makeReceipt(peers, { ...overrides, shardIndex: first + i }))
  }
  return receipts
}

/** A fresh temporary directory, and a function that removes it. */
export async function tempDir (): Promise<{ dir: string, remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'shardmesh-receipts-'))
  return { dir, remove: async () => { await rm(dir, { recursive: true, force: true }) } }
}
