import { ShardmeshError } from '@shardmesh/protocol'

/** Bytes that do not decode as a Solana transaction, or one that breaks the rules we read it by. */
export class InvalidTransactionError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_TRANSACTION'

  constructor (message = 'Invalid transaction', options?: ErrorOptions) {
    super(message, InvalidTransactionError.code, options)
    this.name = 'InvalidTransactionError'
  }
}

/** A transaction over the cluster's packet limit (1232 bytes): no cluster would take it. */
export class TransactionTooLargeError extends ShardmeshError {
  static readonly code = 'ERR_TRANSACTION_TOO_LARGE'
  public readonly size: number
  public readonly limit: number

  constructor (size: number, limit: number, options?: ErrorOptions) {
    super(`transaction is ${size} bytes, over the ${limit} byte limit`, TransactionTooLargeError.code, options)
    this.name = 'TransactionTooLargeError'
    this.size = size
    this.limit = limit
  }
}

/** The chain passed the transaction's `lastValidBlockHeight` without it landing: it never will. */
export class BlockhashExpiredError extends ShardmeshError {
  static readonly code = 'ERR_BLOCKHASH_EXPIRED'
  public readonly signature: string
  public readonly lastValidBlockHeight: bigint
  public readonly blockHeight: bigint

  constructor (signature: string, lastValidBlockHeight: bigint, blockHeight: bigint, options?: ErrorOptions) {
    super(`transaction ${signature} expired: block height ${blockHeight} passed its last valid block height ${lastValidBlockHeight}`, BlockhashExpiredError.code, options)
    this.name = 'BlockhashExpiredError'
    this.signature = signature
    this.lastValidBlockHeight = lastValidBlockHeight
    this.blockHeight = blockHeight
  }
}

/** The fee payer has no account or too few lamports to pay for the anchor. */
export class UnfundedAccountError extends ShardmeshError {
  static readonly code = 'ERR_UNFUNDED_ACCOUNT'
  public readonly address: string
  /** lamports, when the ledger could read the balance */
  public readonly balance?: bigint

  /** lamports the transaction pays workers from this address (settlement), when it pays any */
  public readonly payments?: bigint

  constructor (address: string, balance: bigint | undefined, hint: string, options?: ErrorOptions & { payments?: bigint }) {
    const held = balance == null ? 'an unknown balance' : `${balance} lamports`
    const what = options?.payments != null && options.payments > 0n
      ? `node key ${address} cannot pay the ${options.payments} lamports the anchor transaction pays its workers`
      : `fee payer ${address} cannot pay for the anchor transaction`
    super(`${what} (it holds ${held}); fund it, e.g. \`${hint}\``, UnfundedAccountError.code, options)
    this.name = 'UnfundedAccountError'
    this.address = address
    this.balance = balance
    this.payments = options?.payments
  }
}

/** The RPC refused the transaction (preflight simulation or validation failed) for a reason other than funds. */
export class TransactionRejectedError extends ShardmeshError {
  static readonly code = 'ERR_TRANSACTION_REJECTED'
  public readonly signature: string

  constructor (signature: string, message: string, options?: ErrorOptions) {
    super(`transaction ${signature} rejected: ${message}`, TransactionRejectedError.code, options)
    this.name = 'TransactionRejectedError'
    this.signature = signature
  }
}

/** The transaction landed but its execution failed (it paid the fee; its memo does not count). */
export class TransactionFailedError extends ShardmeshError {
  static readonly code = 'ERR_TRANSACTION_FAILED'
  public readonly signature: string
  public readonly slot: bigint
  public readonly err: unknown

  constructor (signature: string, slot: bigint, err: unknown, options?: ErrorOptions) {
    super(`transaction ${signature} failed in slot ${slot}: ${describeChainError(err)}`, TransactionFailedError.code, options)
    this.name = 'TransactionFailedError'
    this.signature = signature
    this.slot = slot
    this.err = err
  }
}

/** No confirmation within the confirm timeout (the RPC unreachable, or the chain not moving). */
export class ConfirmTimeoutError extends ShardmeshError {
  static readonly code = 'ERR_CONFIRM_TIMEOUT'
  public readonly signature: string

  constructor (signature: string, timeout: number, options?: ErrorOptions) {
    super(`transaction ${signature} not confirmed within ${timeout} ms`, ConfirmTimeoutError.code, options)
    this.name = 'ConfirmTimeoutError'
    this.signature = signature
  }
}

/** The ledger was closed while (or before) the call ran. */
export class LedgerClosedError extends ShardmeshError {
  static readonly code = 'ERR_LEDGER_CLOSED'

  constructor (message = 'the ledger is closed', options?: ErrorOptions) {
    super(message, LedgerClosedError.code, options)
    this.name = 'LedgerClosedError'
  }
}

/** Which check of an anchor failed. */
export type AnchorCheck =
  | 'transaction-not-found'  // the ledger has no transaction with that signature
  | 'transaction-failed'     // it landed, but its execution failed
  | 'memo-mismatch'          // no memo in it states this root and count
  | 'memo-signer'            // the expected key's signature is not among those that verify
  | 'slot'                   // the proof states another slot than the one the transaction landed in
  | 'cluster'                // the proof names another cluster (genesis hash) than the ledger's

/** An anchor did not hold up; `check` names the check that failed. */
export class AnchorVerificationError extends ShardmeshError {
  static readonly code = 'ERR_ANCHOR_VERIFICATION'
  public readonly check: AnchorCheck
  public readonly signature: string

  constructor (check: AnchorCheck, signature: string, message: string, options?: ErrorOptions) {
    super(`anchor ${signature} rejected (${check}): ${message}`, AnchorVerificationError.code, options)
    this.name = 'AnchorVerificationError'
    this.check = check
    this.signature = signature
  }
}

/** No keypair file at the path given. */
export class KeypairFileNotFoundError extends ShardmeshError {
  static readonly code = 'ERR_KEYPAIR_FILE_NOT_FOUND'
  public readonly path: string

  constructor (path: string, options?: ErrorOptions) {
    super(`no keypair file at ${path} (create one with \`solana-keygen new -o ${path}\`)`, KeypairFileNotFoundError.code, options)
    this.name = 'KeypairFileNotFoundError'
    this.path = path
  }
}

/** A keypair file that is not the Solana CLI format: a JSON array of 64 byte values (secret ‖ public key). */
export class InvalidKeypairFileError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_KEYPAIR_FILE'
  public readonly path: string

  constructor (path: string, message: string, options?: ErrorOptions) {
    super(`${path} is not a Solana keypair file: ${message}`, InvalidKeypairFileError.code, options)
    this.name = 'InvalidKeypairFileError'
    this.path = path
  }
}

/** A key that cannot be a Solana account: only Ed25519 keys can. */
export class UnsupportedKeyError extends ShardmeshError {
  static readonly code = 'ERR_UNSUPPORTED_KEY'

  constructor (message: string, options?: ErrorOptions) {
    super(message, UnsupportedKeyError.code, options)
    this.name = 'UnsupportedKeyError'
  }
}

/** A chain error (`{ InstructionError: [0, ...] }`, a SolanaError, ...) as one short line. */
export function describeChainError (err: unknown): string {
  if (err instanceof Error) {
    return err.message
  }
  if (typeof err === 'string') {
    return err
  }
  try {
    return JSON.stringify(err, (_key, value) => typeof value === 'bigint' ? value.toString() : value).slice(0, 512)
  } catch {
    return String(err)
  }
}

/** The JSON-RPC endpoint could not be reached (refused, unknown host, reset, TLS): nothing was asked. */
export class RpcUnreachableError extends ShardmeshError {
  static readonly code = 'ERR_RPC_UNREACHABLE'
  public readonly url: string
  /** the network error's code (`ECONNREFUSED`, `ENOTFOUND`, ...), when there is one */
  public readonly reason?: string

  constructor (url: string, cause: unknown) {
    const reason = networkErrorCode(cause)
    super(`the Solana RPC at ${url} is unreachable: ${networkErrorText(cause)}`, RpcUnreachableError.code, { cause })
    this.name = 'RpcUnreachableError'
    this.url = url
    this.reason = reason
  }
}

/** The first `code` (ECONNREFUSED, ENOTFOUND, ...) down an error's cause chain. */
function networkErrorCode (err: unknown): string | undefined {
  for (let e: any = err, depth = 0; e != null && depth < 8; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) {
      return e.code
    }
  }
  return undefined
}

/** The innermost message of a failed fetch ("connect ECONNREFUSED 127.0.0.1:8899", not "fetch failed"). */
function networkErrorText (err: unknown): string {
  let text = describeChainError(err)
  for (let e: any = (err as any)?.cause, depth = 0; e != null && depth < 8; e = e.cause, depth++) {
    if (typeof e.message === 'string' && e.message !== '') {
      text = e.message
    }
  }
  return text
}
