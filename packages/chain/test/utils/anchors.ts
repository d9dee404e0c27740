import {
  AccountRole, address, appendTransactionMessageInstruction, createTransactionMessage, generateKeyPairSigner,
  getBase64EncodedWireTransaction, getSignatureFromTransaction, pipe, setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash, signTransactionMessageWithSigners
} from '@solana/kit'
import { MEMO_PROGRAM_ADDRESS } from '@shardmesh/solana'
import type { Blockhash, KeyPairSigner } from '@solana/kit'

/**
 * A memo transaction, signed by `signer`, that fails when it executes: its memo instruction
 * also names an account that did not sign, which the memo program refuses. Sent without
 * preflight it lands, fee charged, with an error.
 */
export async function failingMemoTransaction (memo: string, signer: KeyPairSigner, blockhash: { blockhash: string, lastValidBlockHeight: bigint }): Promise<{ signature: string, wire: string }> {
  const bystander = await generateKeyPairSigner()
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    m => setTransactionMessageFeePayerSigner(signer, m),
    m => setTransactionMessageLifetimeUsingBlockhash({ blockhash: blockhash.blockhash as Blockhash, lastValidBlockHeight: blockhash.lastValidBlockHeight }, m),
    m => appendTransactionMessageInstruction({
      programAddress: address(MEMO_PROGRAM_ADDRESS),
      accounts: [{ address: signer.address, role: AccountRole.READONLY_SIGNER }, { address: bystander.address, role: AccountRole.READONLY }],
      data: new TextEncoder().encode(memo)
    }, m)
  )
  const transaction = await signTransactionMessageWithSigners(message)
  return { signature: getSignatureFromTransaction(transaction), wire: getBase64EncodedWireTransaction(transaction) }
}
