import { anchorMemo, leafHash } from '@shardmesh/receipts'
import { RpcLedger, describeVerificationFailure, verifyReceiptProof } from '@shardmesh/solana'
import { generateKeyPairSigner } from '@solana/kit'
import type { ReceiptProof } from '@shardmesh/receipts'
import type { AnchorRecord } from '@shardmesh/solana'

/** What a verified receipt proof shows, as `receipts verify` and the demo print it. */
export interface VerifiedReport {
  id: string
  jobId: string
  shardIndex: number
  workload: string
  items: number
  worker: string
  requester: string
  verification: string
  leaf: number
  count: number
  root: string
  leafHash: string
  /** `by`: whose key signed the anchor, the requester's or (it anchored its own receipts) the worker's */
  anchor: { signature: string, slot: string, fee: string, memo: string, signers: string[], by: 'requester' | 'worker' }
  /** the cluster's genesis hash, when the proof names one (checked against the RPC's) */
  cluster?: string
}

export type VerifyOutcome =
  | { ok: true, report: VerifiedReport, /** the anchor transaction as the ledger returned it (its transfers: settlement) */ record: AnchorRecord }
  | { ok: false, failure: { check: string, message: string } }

/**
 * Verify a receipt proof against a Solana RPC endpoint with nothing else: both signatures,
 * the Merkle path, and the anchor transaction (memo, requester signature, slot) on the ledger,
 * and, when the proof names its cluster, that the RPC's `getGenesisHash` is that cluster.
 */
export async function verifyProofOverRpc (proof: ReceiptProof, options: { rpcUrl: string, wsUrl?: string, signal?: AbortSignal }): Promise<VerifyOutcome> {
  // reading needs no key of ours: the ledger's signer is never used to sign here
  const ledger = new RpcLedger({ rpcUrl: options.rpcUrl, wsUrl: options.wsUrl, signer: await generateKeyPairSigner() })
  try {
    // through the ledger's RPC client: an unreachable endpoint is named as such, like every other call
    const genesisHash = proof.cluster == null ? undefined : await ledger.genesisHash({ signal: options.signal })
    const { receipt, anchor } = await verifyReceiptProof(proof, ledger, { signal: options.signal, genesisHash })
    return {
      ok: true,
      record: anchor,
      report: {
        id: Buffer.from(receipt.id).toString('hex'),
        jobId: Buffer.from(receipt.jobId).toString('hex'),
        shardIndex: receipt.shardIndex,
        workload: `${receipt.workload}@${receipt.workloadVersion}`,
        items: receipt.items,
        worker: receipt.worker.toString(),
        requester: receipt.requester.toString(),
        verification: receipt.verification == null ? '-' : `${receipt.verification.policy}: ${receipt.verification.outcome}`,
        leaf: proof.index,
        count: proof.count,
        root: Buffer.from(proof.root).toString('hex'),
        leafHash: Buffer.from(leafHash(proof.receipt)).toString('hex'),
        anchor: {
          signature: anchor.signature,
          slot: anchor.slot.toString(),
          fee: anchor.fee.toString(),
          memo: anchorMemo(proof.root, proof.count),
          signers: anchor.signers,
          by: proof.anchor?.by ?? 'requester'
        },
        ...(proof.cluster == null ? {} : { cluster: proof.cluster })
      }
    }
  } catch (err) {
    return { ok: false, failure: describeVerificationFailure(err) }
  } finally {
    await ledger.close()
  }
}
