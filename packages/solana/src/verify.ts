import { InvalidReceiptProofError, anchorParty, checkReceiptProof } from '@shardmesh/receipts'
import { AnchorVerificationError } from './errors.js'
import { addressOfPeerId } from './address.js'
import type { AnchorRecord, Ledger, LedgerCallOptions } from './ledger.js'
import type { ReceiptProof, VerifiedReceipt } from '@shardmesh/receipts'

/**
 * Checking a receipt proof end to end: the receipt's two signatures and its Merkle path
 * offline, then the batch root's anchor on the ledger, signed by the requester's key (the
 * requester anchors the receipts it countersigned) or, where the proof says `anchor.by:
 * 'worker'`, by the worker's (it anchored its own when the requester delivered no anchor).
 */

export interface VerifyReceiptProofOptions extends LedgerCallOptions {
  /**
   * The genesis hash (base58) of the cluster `ledger` reads, as its RPC's `getGenesisHash`
   * returns it. A proof that names a cluster is only accepted when this is equal. @default
   * what `ledger.genesisHash()` says, when the ledger has that method
   */
  genesisHash?: string
}

export interface VerifiedReceiptProof {
  receipt: VerifiedReceipt
  anchor: AnchorRecord
}

/**
 * Check a receipt proof: `checkReceiptProof` (both signatures, the Merkle path to the root),
 * then that the proof names an anchor (`InvalidReceiptProofError` 'not-anchored' otherwise),
 * that the cluster it names (if any) is `options.genesisHash`, that `ledger.verifyAnchor`
 * accepts it for this root and count, signed by the receipt's requester (its worker with
 * `anchor.by: 'worker'`), and that the
 * transaction landed in the slot the proof states. Throws `InvalidReceiptError`,
 * `InvalidReceiptProofError` or `AnchorVerificationError` (check 'cluster', 'slot' or one of
 * `verifyAnchor`'s); `describeVerificationFailure` names the failed check of any.
 */
export async function verifyReceiptProof (proof: ReceiptProof, ledger: Pick<Ledger, 'verifyAnchor'> & Partial<Pick<Ledger, 'genesisHash'>>, options: VerifyReceiptProofOptions = {}): Promise<VerifiedReceiptProof> {
  const receipt = await checkReceiptProof(proof, { signal: options.signal })
  if (proof.anchor == null) {
    throw new InvalidReceiptProofError('not-anchored', 'the proof names no anchor transaction', 'anchor')
  }
  const { signature, slot } = proof.anchor
  if (proof.cluster != null) {
    const genesisHash = options.genesisHash ?? await ledger.genesisHash?.(options)
    if (proof.cluster !== genesisHash) {
      throw new AnchorVerificationError('cluster', signature, genesisHash == null
        ? `the proof names cluster ${proof.cluster}, and the ledger's genesis hash is unknown`
        : `the proof names cluster ${proof.cluster}, the ledger is ${genesisHash}`)
    }
  }
  // the requester anchors what it countersigned; a worker whose requester went silent anchors
  // its own countersigned receipts (`anchor.by: 'worker'`): the transaction carries that party's signature
  const party = anchorParty(proof.anchor)
  const anchor = await ledger.verifyAnchor(signature, proof.root, proof.count, addressOfPeerId(party === 'worker' ? receipt.worker : receipt.requester), options)
  if (anchor.slot !== slot) {
    throw new AnchorVerificationError('slot', signature, `the proof states slot ${slot}, the transaction landed in slot ${anchor.slot}`)
  }
  return { receipt, anchor }
}

/** A failed check, as the CLI prints it. */
export interface VerificationFailure {
  /** the check that failed: a receipt rejection, a proof rejection or an anchor check ('error' for anything else) */
  check: string
  message: string
}

/**
 * Name the check behind a verification error, whichever layer threw it: `reason` of
 * `InvalidReceiptError` and `InvalidReceiptProofError`, `check` of `AnchorVerificationError`.
 */
export function describeVerificationFailure (err: unknown): VerificationFailure {
  const e = err as { name?: unknown, reason?: unknown, check?: unknown, message?: unknown } | null | undefined
  const message = typeof e?.message === 'string' ? e.message : String(err)
  switch (e?.name) {
    case 'InvalidReceiptError':
    case 'InvalidReceiptProofError':
      if (typeof e.reason === 'string') {
        return { check: e.reason, message }
      }
      break
    case 'AnchorVerificationError':
      if (typeof e.check === 'string') {
        return { check: e.check, message }
      }
      break
    case 'RpcUnreachableError':
      return { check: 'rpc-unreachable', message }
  }
  return { check: 'error', message }
}
