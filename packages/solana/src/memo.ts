import { anchorMemo } from '@shardmesh/receipts'
import { AccountRole, address } from '@solana/kit'
import { MEMO_PROGRAM_ADDRESS, MEMO_V1_PROGRAM_ADDRESS } from './constants.js'
import { AnchorVerificationError, describeChainError } from './errors.js'
import type { AnchorRecord } from './ledger.js'
import type { AccountSignerMeta, Instruction, TransactionSigner } from '@solana/kit'

/**
 * The SPL Memo instruction an anchor is made of, and the checks that make a memo an anchor:
 * anyone can write any memo, so a memo only counts when the expected key signed it.
 */

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** One SPL Memo instruction: `memo` as UTF-8 data, `signer` as its (readonly) signing account. */
export function getMemoInstruction (memo: string, signer: TransactionSigner): Instruction<string, readonly [AccountSignerMeta]> & { data: Uint8Array } {
  return {
    programAddress: address(MEMO_PROGRAM_ADDRESS),
    accounts: [{ address: signer.address, role: AccountRole.READONLY_SIGNER, signer }],
    data: utf8.encode(memo)
  }
}

/** Whether `program` is one of the SPL Memo programs (v2+ or v1). */
export function isMemoProgram (program: string): boolean {
  return program === MEMO_PROGRAM_ADDRESS || program === MEMO_V1_PROGRAM_ADDRESS
}

/** A memo's text, or undefined when its bytes are not UTF-8 (the memo program refuses those). */
export function decodeMemo (data: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(data)
  } catch {
    return undefined
  }
}

/**
 * The checks of `Ledger.verifyAnchor` on what the ledger returned for `signature`: it exists,
 * it succeeded, one of its memos is `anchorMemo(root, count)`, and `signer`'s signature is one
 * of those that verify. Throws `AnchorVerificationError` naming the first check that fails.
 */
export function checkAnchorRecord (record: AnchorRecord | undefined, signature: string, root: Uint8Array, count: number, signer: string): AnchorRecord {
  if (record == null) {
    throw new AnchorVerificationError('transaction-not-found', signature, 'the ledger has no transaction with this signature')
  }
  if (record.err != null) {
    throw new AnchorVerificationError('transaction-failed', signature, `the transaction failed: ${describeChainError(record.err)}`)
  }
  const expected = anchorMemo(root, count)
  if (!record.memos.includes(expected)) {
    throw new AnchorVerificationError('memo-mismatch', signature, `no memo reads ${expected} (found ${record.memos.length === 0 ? 'none' : record.memos.map(m => JSON.stringify(m.slice(0, 120))).join(', ')})`)
  }
  if (!record.signers.includes(signer)) {
    throw new AnchorVerificationError('memo-signer', signature, `${signer} did not sign it (valid signatures from: ${record.signers.join(', ') || 'nobody'})`)
  }
  return record
}
