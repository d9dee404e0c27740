/**
 * @packageDocumentation
 *
 * The embedded Solana chain for local meshes, tests and demos: LiteSVM (a real Solana runtime)
 * in process, persisted in a data dir, served as a Solana JSON-RPC endpoint (HTTP and
 * WebSocket on one loopback port) that the stock `@solana/kit` client, and `RpcLedger` from
 * `@shardmesh/solana`, work against unchanged. This is what `shardmesh chain` runs.
 *
 * `EmbeddedLedger` is the `Ledger` of `@shardmesh/solana` over an `EmbeddedChain` open in
 * the same process: no HTTP, same transactions, checks and errors as `RpcLedger`.
 *
 * Only the chain needs the LiteSVM native runtime; a node anchoring on devnet or mainnet
 * installs `@shardmesh/solana` alone.
 *
 * @example Serve a chain and use it as any cluster
 *
 * ```TypeScript
 * import { createSolanaRpc, generateKeyPairSigner, lamports } from '@solana/kit'
 * import { startChainServer } from '@shardmesh/chain'
 * import { RpcLedger } from '@shardmesh/solana'
 *
 * const server = await startChainServer({ dataDir: './chain', port: 0 })
 * const signer = await generateKeyPairSigner()
 * await createSolanaRpc(server.url).requestAirdrop(signer.address, lamports(1_000_000_000n)).send()
 * const ledger = new RpcLedger({ rpcUrl: server.url, signer })
 * const { signature } = await ledger.anchor(root, { count }) // root: a 32-byte Merkle root
 * await ledger.close()
 * await server.close()
 * ```
 *
 * @example The chain in process
 *
 * ```TypeScript
 * import { EmbeddedChain, EmbeddedLedger } from '@shardmesh/chain'
 *
 * const chain = await EmbeddedChain.open() // in memory; `{ dataDir }` persists it
 * chain.airdrop(signer.address, 1_000_000_000n)
 * const ledger = new EmbeddedLedger({ chain, signer })
 * await ledger.anchor(root, { count })
 * await chain.close()
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
  EmbeddedChainInit, EpochInfo, SendTransactionOptions, SimulateTransactionOptions, SimulationResult, AccountState, AddressSignature, ChainBlock, EmbeddedChainEvents, InnerInstructionJson, InnerInstructionsJson, RecentBlockhash, SignatureStatus,
  SlotEvent, TransactionErrorJson, TransactionEvent, TransactionRecord
} from './types.js'
export { EmbeddedLedger } from './embedded-ledger.js'
export type { EmbeddedLedgerInit } from './embedded-ledger.js'
