import { ShardmeshError } from '@shardmesh/protocol'
import type { TransactionErrorJson } from './types.js'

/**
 * The embedded chain refused a transaction: it was not recorded and charged nothing (a
 * preflight failure such as `BlockhashNotFound`, `AlreadyProcessed`, `AccountNotFound`, or a
 * runtime failure found by preflight simulation). `transactionError` is the Solana
 * `TransactionError` as JSON-RPC reports it.
 */
export class ChainTransactionError extends ShardmeshError {
  static readonly code = 'ERR_CHAIN_TRANSACTION_REFUSED'
  public readonly transactionError: TransactionErrorJson
  /** program logs from the simulation, when it ran */
  public readonly logs: string[] | null
  public readonly unitsConsumed: bigint | null

  constructor (message: string, transactionError: TransactionErrorJson, logs: string[] | null = null, unitsConsumed: bigint | null = null, options?: ErrorOptions) {
    super(message, ChainTransactionError.code, options)
    this.name = 'ChainTransactionError'
    this.transactionError = transactionError
    this.logs = logs
    this.unitsConsumed = unitsConsumed
  }
}

/** A signature on the transaction does not verify (or is missing). */
export class SignatureVerificationError extends ShardmeshError {
  static readonly code = 'ERR_SIGNATURE_VERIFICATION'

  constructor (message = 'Transaction signature verification failure', options?: ErrorOptions) {
    super(message, SignatureVerificationError.code, options)
    this.name = 'SignatureVerificationError'
  }
}

/** Another chain (in this or another process) holds the data dir. */
export class ChainLockedError extends ShardmeshError {
  static readonly code = 'ERR_CHAIN_LOCKED'
  public readonly dataDir: string

  constructor (dataDir: string, holder: string, options?: ErrorOptions) {
    super(`chain data dir ${dataDir} is in use (lock held by ${holder})`, ChainLockedError.code, options)
    this.name = 'ChainLockedError'
    this.dataDir = dataDir
  }
}

/** The chain log has a damaged record that is not its last one: it is refused rather than cut short. */
export class ChainLogCorruptError extends ShardmeshError {
  static readonly code = 'ERR_CHAIN_LOG_CORRUPT'

  constructor (message: string, options?: ErrorOptions) {
    super(message, ChainLogCorruptError.code, options)
    this.name = 'ChainLogCorruptError'
  }
}

/** The chain was closed, or stopped after it could not persist a record. */
export class ChainClosedError extends ShardmeshError {
  static readonly code = 'ERR_CHAIN_CLOSED'

  constructor (message = 'the embedded chain is closed', options?: ErrorOptions) {
    super(message, ChainClosedError.code, options)
    this.name = 'ChainClosedError'
  }
}

/** An airdrop the faucet cannot make: a bad address, a zero amount, or the faucet itself. */
export class InvalidAirdropError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_AIRDROP'

  constructor (message: string, options?: ErrorOptions) {
    super(message, InvalidAirdropError.code, options)
    this.name = 'InvalidAirdropError'
  }
}

/** The server refused its options (e.g. a non-loopback host without `allowNonLoopback`). */
export class ChainServerConfigError extends ShardmeshError {
  static readonly code = 'ERR_CHAIN_SERVER_CONFIG'

  constructor (message: string, options?: ErrorOptions) {
    super(message, ChainServerConfigError.code, options)
    this.name = 'ChainServerConfigError'
  }
}
