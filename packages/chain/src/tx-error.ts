import type { TransactionErrorJson } from './types.js'

/**
 * LiteSVM's transaction errors (napi enum numbers and small classes) turned into Solana's
 * JSON-RPC `TransactionError` shapes, and the messages Solana prints for them. The name
 * lists follow the order of LiteSVM's (declared `const`, so not importable) enums, which is
 * Agave's order.
 */

const TRANSACTION_ERRORS = [
  'AccountInUse', 'AccountLoadedTwice', 'AccountNotFound', 'ProgramAccountNotFound', 'InsufficientFundsForFee',
  'InvalidAccountForFee', 'AlreadyProcessed', 'BlockhashNotFound', 'CallChainTooDeep', 'MissingSignatureForFee',
  'InvalidAccountIndex', 'SignatureFailure', 'InvalidProgramForExecution', 'SanitizeFailure', 'ClusterMaintenance',
  'AccountBorrowOutstanding', 'WouldExceedMaxBlockCostLimit', 'UnsupportedVersion', 'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit', 'WouldExceedAccountDataBlockLimit', 'TooManyAccountLocks', 'AddressLookupTableNotFound',
  'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData', 'InvalidAddressLookupTableIndex', 'InvalidRentPayingAccount',
  'WouldExceedMaxVoteCostLimit', 'WouldExceedAccountDataTotalLimit', 'MaxLoadedAccountsDataSizeExceeded', 'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit', 'UnbalancedTransaction', 'ProgramCacheHitMaxLimit', 'CommitCancelled'
]

const INSTRUCTION_ERRORS = [
  'GenericError', 'InvalidArgument', 'InvalidInstructionData', 'InvalidAccountData', 'AccountDataTooSmall', 'InsufficientFunds',
  'IncorrectProgramId', 'MissingRequiredSignature', 'AccountAlreadyInitialized', 'UninitializedAccount', 'UnbalancedInstruction',
  'ModifiedProgramId', 'ExternalAccountLamportSpend', 'ExternalAccountDataModified', 'ReadonlyLamportChange', 'ReadonlyDataModified',
  'DuplicateAccountIndex', 'ExecutableModified', 'RentEpochModified', 'NotEnoughAccountKeys', 'AccountDataSizeChanged',
  'AccountNotExecutable', 'AccountBorrowFailed', 'AccountBorrowOutstanding', 'DuplicateAccountOutOfSync', 'InvalidError',
  'ExecutableDataModified', 'ExecutableLamportChange', 'ExecutableAccountNotRentExempt', 'UnsupportedProgramId', 'CallDepth',
  'MissingAccount', 'ReentrancyNotAllowed', 'MaxSeedLengthExceeded', 'InvalidSeeds', 'InvalidRealloc', 'ComputationalBudgetExceeded',
  'PrivilegeEscalation', 'ProgramEnvironmentSetupFailure', 'ProgramFailedToComplete', 'ProgramFailedToCompile', 'Immutable',
  'IncorrectAuthority', 'AccountNotRentExempt', 'InvalidAccountOwner', 'ArithmeticOverflow', 'UnsupportedSysvar', 'IllegalOwner',
  'MaxAccountsDataAllocationsExceeded', 'MaxAccountsExceeded', 'MaxInstructionTraceLengthExceeded',
  'BuiltinProgramsMustConsumeComputeUnits', 'BorshIoError'
]

const TRANSACTION_ERROR_MESSAGES: Record<string, string> = {
  AccountInUse: 'Account in use',
  AccountLoadedTwice: 'Account loaded twice',
  AccountNotFound: 'Attempt to debit an account but found no record of a prior credit.',
  ProgramAccountNotFound: 'Attempt to load a program that does not exist',
  InsufficientFundsForFee: 'Insufficient funds for fee',
  InvalidAccountForFee: 'This account may not be used to pay transaction fees',
  AlreadyProcessed: 'This transaction has already been processed',
  BlockhashNotFound: 'Blockhash not found',
  CallChainTooDeep: 'Loader call chain is too deep',
  MissingSignatureForFee: 'Transaction requires a fee but has no signature present',
  InvalidAccountIndex: 'Transaction contains an invalid account reference',
  SignatureFailure: 'Transaction did not pass signature verification',
  InvalidProgramForExecution: 'This program may not be used for executing instructions',
  SanitizeFailure: 'Transaction failed to sanitize accounts offsets correctly',
  UnsupportedVersion: 'Transaction version is unsupported',
  InvalidWritableAccount: 'Transaction loads a writable account that cannot be written',
  TooManyAccountLocks: 'Transaction locked too many accounts',
  AddressLookupTableNotFound: "Transaction loads an address table account that doesn't exist",
  InvalidAddressLookupTableIndex: 'Transaction address table lookup uses an invalid index',
  UnbalancedTransaction: 'Sum of account balances before and after transaction do not match'
}

const INSTRUCTION_ERROR_MESSAGES: Record<string, string> = {
  GenericError: 'generic instruction error',
  InvalidArgument: 'invalid program argument',
  InvalidInstructionData: 'invalid instruction data',
  InvalidAccountData: 'invalid account data for instruction',
  AccountDataTooSmall: 'account data too small for instruction',
  InsufficientFunds: 'insufficient funds for instruction',
  IncorrectProgramId: 'incorrect program id for instruction',
  MissingRequiredSignature: 'missing required signature for instruction',
  AccountAlreadyInitialized: 'instruction requires an uninitialized account',
  UninitializedAccount: 'instruction requires an initialized account',
  ComputationalBudgetExceeded: 'Computational budget exceeded',
  ProgramFailedToComplete: 'Program failed to complete'
}

interface NapiError { constructor: { name: string }, index?: number, accountIndex?: number, code?: number, msg?: string, err?: () => unknown }

/** LiteSVM's instruction error → Solana JSON (`'InvalidArgument'`, `{ Custom: 1 }`, `{ BorshIoError: msg }`). */
function instructionErrorToJson (err: unknown): TransactionErrorJson {
  if (typeof err === 'number') {
    return INSTRUCTION_ERRORS[err] ?? `InstructionError${err}`
  }
  const e = err as NapiError
  if (typeof e.code === 'number') {
    return { Custom: e.code }
  }
  if (typeof e.msg === 'string') {
    return { BorshIoError: e.msg }
  }
  return String(err)
}

/** LiteSVM's `FailedTransactionMetadata.err()` → Solana's JSON-RPC `TransactionError`. */
export function transactionErrorToJson (err: unknown): TransactionErrorJson {
  if (typeof err === 'number') {
    return TRANSACTION_ERRORS[err] ?? `TransactionError${err}`
  }
  const e = err as NapiError
  const kind = e.constructor?.name ?? ''
  if (typeof e.err === 'function' && typeof e.index === 'number') {
    return { InstructionError: [e.index, instructionErrorToJson(e.err())] }
  }
  if (kind.includes('DuplicateInstruction') && typeof e.index === 'number') {
    return { DuplicateInstruction: e.index }
  }
  if (kind.includes('InsufficientFundsForRent')) {
    return { InsufficientFundsForRent: { account_index: e.accountIndex } }
  }
  if (kind.includes('ProgramExecutionTemporarilyRestricted')) {
    return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex } }
  }
  return String(err)
}

function describeInstructionError (err: unknown): string {
  if (typeof err === 'string') {
    return INSTRUCTION_ERROR_MESSAGES[err] ?? err
  }
  if (err != null && typeof err === 'object') {
    const e = err as Record<string, unknown>
    if (typeof e.Custom === 'number') {
      return `custom program error: 0x${e.Custom.toString(16)}`
    }
    if (typeof e.BorshIoError === 'string') {
      return `Failed to serialize or deserialize account data: ${e.BorshIoError}`
    }
  }
  return JSON.stringify(err)
}

/** Solana's message for a transaction error, e.g. `Blockhash not found` or `Error processing Instruction 0: custom program error: 0x1`. */
export function describeTransactionError (err: TransactionErrorJson): string {
  if (typeof err === 'string') {
    return TRANSACTION_ERROR_MESSAGES[err] ?? err
  }
  const instructionError = err.InstructionError
  if (Array.isArray(instructionError)) {
    return `Error processing Instruction ${instructionError[0]}: ${describeInstructionError(instructionError[1])}`
  }
  const rent = err.InsufficientFundsForRent as { account_index?: number } | undefined
  if (rent != null) {
    return `Transaction results in an account (${rent.account_index}) with insufficient funds for rent`
  }
  if (typeof err.DuplicateInstruction === 'number') {
    return `Transaction contains a duplicate instruction (${err.DuplicateInstruction}) that is not allowed`
  }
  return JSON.stringify(err)
}
