import { countersignReceipt, signReceipt } from '@shardmesh/receipts'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** A party to a receipt: its key and peer id. */
export interface Party { key: PrivateKey, peerId: PeerId }

/** `count` receipts of `worker`'s work (one echo item each), countersigned by `requester` as accepted. */
export async function earnedReceipts (worker: Party, requester: Party, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const signed = await signReceipt(worker.key, {
      jobId: crypto.getRandomValues(new Uint8Array(16)),
      shardIndex: i,
      workload: 'echo',
      workloadVersion: '1.0.0',
      inputDigest: crypto.getRandomValues(new Uint8Array(32)),
      outputDigest: crypto.getRandomValues(new Uint8Array(32)),
      worker: worker.peerId,
      requester: requester.peerId,
      startedAt: 1_000,
      finishedAt: 2_000,
      items: 1,
      cpuMicros: 10
    })
    out.push(await countersignReceipt(requester.key, signed, { policy: 'none', outcome: 'accepted' }, { verified: true }))
  }
  return out
}
