/**
 * @packageDocumentation
 *
 * `@shardmesh/solana/core`: what needs no Solana client. The addresses of peers and keys, the
 * keypair file format, checking receipt proofs against a `Ledger` someone else made, and the
 * errors and constants. Importing it does not load `@solana/kit`, so a node that anchors
 * nothing (no `--solana-rpc`) does not pay for loading a Solana client; the package root
 * (`@shardmesh/solana`) has all of this and the RPC ledger and transactions besides.
 */

export type { AnchorMeta, AnchorRecord, AnchorResult, AnchorStatus, Ledger, LedgerCallOptions, Payment, PreparedAnchor, Transfer } from './ledger.js'
export * from './errors.js'
export {
  MAX_ANCHOR_ATTEMPTS,
  MAX_TRANSACTION_SIZE,
  MEMO_PROGRAM_ADDRESS,
  MEMO_V1_PROGRAM_ADDRESS,
  SHARDMESH_CHAIN_VERSION_KEY,
  SYSTEM_PROGRAM_ADDRESS
} from './constants.js'
export { addressOfPeerId, addressOfPublicKey, parseSolanaKeypair } from './address.js'
export { describeVerificationFailure, verifyReceiptProof } from './verify.js'
export type { VerificationFailure, VerifiedReceiptProof, VerifyReceiptProofOptions } from './verify.js'
