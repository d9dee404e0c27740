/**
 * @packageDocumentation
 *
 * Anchoring receipt batches on Solana. A batch root goes on chain as one SPL Memo
 * instruction, `shardmesh:v1:<root hex>:<count>`, signed by the node key: a node's libp2p
 * Ed25519 key is also its Solana account, so anyone holding a receipt proof can check that
 * the requester named in the receipt is the one who anchored it.
 *
 * `RpcLedger` works against any cluster over JSON-RPC (devnet, mainnet, a local validator,
 * `shardmesh chain`). The embedded LiteSVM chain (its JSON-RPC server and `EmbeddedLedger`,
 * which drives it in process) lives in `@shardmesh/chain`, so installing this package does not
 * install a Solana runtime.
 *
 * @example
 *
 * ```TypeScript
 * import { RpcLedger, signerFromPrivateKey, verifyReceiptProof, describeVerificationFailure } from '@shardmesh/solana'
 *
 * const ledger = new RpcLedger({ rpcUrl: 'http://127.0.0.1:8899', signer: await signerFromPrivateKey(privateKey) })
 * const { signature, slot } = await ledger.anchor(root, { count }) // throws UnfundedAccountError naming the address to fund
 *
 * try {
 *   await verifyReceiptProof(proof, ledger)
 * } catch (err) {
 *   const { check, message } = describeVerificationFailure(err) // e.g. 'memo-signer'
 * }
 * await ledger.close()
 * ```
 */

// everything of `@shardmesh/solana/core` (addresses, keypair format, proofs, errors, constants)
export * from './core.js'
export { MAX_ANCHOR_PAYMENTS, RENT_EXEMPT_MINIMUM, anchorTransactionSize, rentRefusedAccount, buildAnchorTransaction, getTransferInstruction, parseTransaction, preparedPayments, preparedWireBytes } from './transaction.js'
export type { AnchorTransactionInit, ParsedTransaction } from './transaction.js'
export { checkAnchorRecord, getMemoInstruction, isMemoProgram } from './memo.js'
export { loadKeypairFile, signerFromPrivateKey } from './keys.js'
export { RpcLedger, defaultWsUrl } from './rpc-ledger.js'
export { createRpc } from './rpc.js'
export type { RpcLedgerInit } from './rpc-ledger.js'

// For other Ledger implementations (`@shardmesh/chain`'s EmbeddedLedger): the same anchor
// retries, send-failure reading and silent default logger as RpcLedger's.
export { anchorWithRetries, silentLogger } from './utils.js'
export { classifySendError, describeSendError } from './send-failure.js'
export type { SendFailure } from './send-failure.js'
