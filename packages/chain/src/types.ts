/** Shapes the embedded chain keeps and reports. Amounts and slots are bigints. */

/** A Solana `TransactionError` as JSON-RPC reports it: `'BlockhashNotFound'`, `{ InstructionError: [0, { Custom: 1 }] }`, ... */
export type TransactionErrorJson = string | Record<string, unknown>

/** One account's full state. */
export interface AccountState {
  address: string
  lamports: bigint
  /** the owning program */
  owner: string
  data: Uint8Array
  executable: boolean
  rentEpoch: bigint
}

/** A compiled inner instruction (an instruction a program invoked), as JSON-RPC reports it. */
export interface InnerInstructionJson {
  programIdIndex: number
  accounts: number[]
  /** base58 */
  data: string
  stackHeight: number
}

export interface InnerInstructionsJson {
  /** the top-level instruction that made these calls */
  index: number
  instructions: InnerInstructionJson[]
}

/** A landed transaction: everything `getTransaction` serves, kept for the chain's whole history. */
export interface TransactionRecord {
  /** base58, the fee payer's signature */
  signature: string
  slot: bigint
  blockHeight: bigint
  /** unix seconds */
  blockTime: number
  /** the exact signed wire transaction that was sent */
  wire: Uint8Array
  version: 'legacy' | 0
  /** lamports charged */
  fee: bigint
  /** null when it succeeded */
  err: TransactionErrorJson | null
  logMessages: string[]
  computeUnitsConsumed: bigint
  /** balances of `accountKeys`, before and after */
  preBalances: bigint[]
  postBalances: bigint[]
  /** the message's static keys, then the writable and readonly keys loaded from lookup tables */
  accountKeys: string[]
  loadedAddresses: { writable: string[], readonly: string[] }
  innerInstructions: InnerInstructionsJson[]
  returnData: { programId: string, data: Uint8Array } | null
  /** position in the chain's landing order (0 = first transaction) */
  index: number
}

/** A block (`getBlock`): one per slot, holding the transaction that landed in it (none in slot 0, genesis). */
export interface ChainBlock {
  slot: bigint
  parentSlot: bigint
  /** base58, the blockhash this block issued */
  blockhash: string
  /** base58, the parent block's blockhash (the genesis hash for slot 0) */
  previousBlockhash: string
  blockHeight: bigint
  /** unix seconds */
  blockTime: number
  transactions: TransactionRecord[]
}

/** Where a landed transaction stands. */
export interface SignatureStatus {
  slot: bigint
  blockHeight: bigint
  err: TransactionErrorJson | null
}

/** One `signaturesForAddress` entry, newest first. */
export interface AddressSignature {
  signature: string
  slot: bigint
  blockTime: number
  err: TransactionErrorJson | null
  /** the transaction's memos as Solana lists them (`[len] text; ...`), or null */
  memo: string | null
}

/** A usable recent blockhash. */
export interface RecentBlockhash {
  blockhash: string
  /** the transaction is refused once the chain's block height passes this */
  lastValidBlockHeight: bigint
}

export interface SlotEvent {
  slot: bigint
  parent: bigint
  root: bigint
}

export interface TransactionEvent {
  record: TransactionRecord
  /** the post-state of every writable account of the transaction */
  accounts: AccountState[]
}

export interface EmbeddedChainEvents {
  /** a new slot (one per landed transaction) */
  slot: [SlotEvent]
  /** a transaction landed (after it was persisted) */
  transaction: [TransactionEvent]
  /** the chain closed */
  close: []
}

export interface EmbeddedChainInit {
  /** Where the chain persists (created if missing). @default undefined (in memory only) */
  dataDir?: string
  /** Lamports the faucet gets at genesis (a new chain only). @default 500 million SOL */
  faucetLamports?: bigint
}

export interface SendTransactionOptions {
  /** Skip preflight simulation: a transaction that fails while executing then lands, fee charged, with its error. @default false */
  skipPreflight?: boolean
}

export interface SimulateTransactionOptions {
  /** Check signatures. @default false */
  sigVerify?: boolean
  /** Ignore the transaction's blockhash (report the latest as the replacement). @default false */
  replaceRecentBlockhash?: boolean
}

export interface SimulationResult {
  err: TransactionErrorJson | null
  logs: string[]
  unitsConsumed: bigint
  returnData: { programId: string, data: Uint8Array } | null
  replacementBlockhash: RecentBlockhash | null
}

export interface EpochInfo {
  absoluteSlot: bigint
  blockHeight: bigint
  epoch: bigint
  slotIndex: bigint
  slotsInEpoch: bigint
  transactionCount: bigint
}
