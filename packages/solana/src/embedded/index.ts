/**
 * The embedded Solana chain: LiteSVM in process, persisted in a data dir, served as a Solana
 * JSON-RPC endpoint (HTTP and WebSocket on one loopback port) that the stock `@solana/kit`
 * client works against unchanged.
 *
 * @example
 *
 * ```TypeScript
 * import { createSolanaRpc, createSolanaRpcSubscriptions, generateKeyPairSigner, lamports } from '@solana/kit'
 * import { startChainServer } from '@shardmesh/solana'
 *
 * const server = await startChainServer({ dataDir: './chain', port: 0 })
 * const rpc = createSolanaRpc(server.url)
 * const rpcSubscriptions = createSolanaRpcSubscriptions(server.wsUrl)
 * const payer = await generateKeyPairSigner()
 * await rpc.requestAirdrop(payer.address, lamports(1_000_000_000n)).send()
 * // ... sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions }) as against any cluster
 * await server.close()
 * ```
 */

export { EmbeddedChain } from './chain.js'
export { startChainServer } from './server.js'
export type { ChainServer, ChainServerInit } from './server.js'
export {
  ChainClosedError, ChainLockedError, ChainLogCorruptError, ChainServerConfigError, ChainTransactionError, InvalidAirdropError,
  SignatureVerificationError
} from './errors.js'
export type {
  EmbeddedChainInit, EpochInfo, SendTransactionOptions, SimulateTransactionOptions, SimulationResult, AccountState, AddressSignature, EmbeddedChainEvents, InnerInstructionJson, InnerInstructionsJson, RecentBlockhash, SignatureStatus,
  SlotEvent, TransactionErrorJson, TransactionEvent, TransactionRecord
} from './types.js'
