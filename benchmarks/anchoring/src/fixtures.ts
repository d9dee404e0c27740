/**
 * A worker and a requester with real Ed25519 node keys, and the fields of the receipts the
 * worker signs: what the compute service signs per shard, with distinct job ids and digests so
 * that every receipt (and its id) is distinct.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { countersignReceipt, signReceipt } from '@shardmesh/receipts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { ReceiptFields, VerificationFields } from '@shardmesh/receipts'

export interface Party {
  key: PrivateKey
  peerId: PeerId
}

export interface Parties {
  worker: Party
  requester: Party
}

export const VERIFICATION: VerificationFields = { policy: 'replicate:2', outcome: 'accepted' }

async function party (): Promise<Party> {
  const key = await generateKeyPair('Ed25519')
  return { key, peerId: peerIdFromPrivateKey(key) }
}

export async function parties (): Promise<Parties> {
  return { worker: await party(), requester: await party() }
}

/** `count` receipts' fields: one job per 64 shards, random digests, plausible times. */
export function receiptFields (p: Parties, count: number): ReceiptFields[] {
  const fields: ReceiptFields[] = []
  const now = Date.now()
  let jobId = randomBytes(16)
  for (let i = 0; i < count; i++) {
    if (i % 64 === 0) {
      jobId = randomBytes(16)
    }
    fields.push({
      jobId,
      shardIndex: i % 64,
      workload: 'ocr-rec',
      workloadVersion: '1.0.0',
      inputDigest: randomBytes(32),
      outputDigest: randomBytes(32),
      worker: p.worker.peerId,
      requester: p.requester.peerId,
      startedAt: now - 250,
      finishedAt: now,
      items: 4,
      cpuMicros: 240_000
    })
  }
  return fields
}

/** `count` distinct receipts signed by the worker and countersigned by the requester. */
export async function countersignedReceipts (p: Parties, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (const fields of receiptFields(p, count)) {
    const signed = await signReceipt(p.worker.key, fields)
    out.push(await countersignReceipt(p.requester.key, signed, VERIFICATION, { verified: true }))
  }
  return out
}
