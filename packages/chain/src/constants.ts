/** Defaults and Solana constants for the embedded chain and its JSON-RPC server. */

/** Largest wire transaction a cluster accepts (IPv6 MTU less headers), bytes. */
export const PACKET_DATA_SIZE = 1232

/** How many of the latest blockhashes stay usable, and for how many blocks each (Solana's MAX_PROCESSING_AGE). */
export const BLOCKHASH_WINDOW = 150

/** A transaction this many blocks old or newer is found by `getSignatureStatuses` without `searchTransactionHistory` (Solana's status cache). */
export const STATUS_CACHE_BLOCKS = 300

/** Lamports charged per signature (Solana's default fee rate). */
export const LAMPORTS_PER_SIGNATURE = 5000n

/** Lamports the faucet holds at genesis (500 million SOL, like `solana-test-validator`). */
export const FAUCET_LAMPORTS = 500_000_000_000_000_000n

/** Slots per epoch; the embedded chain has no warm-up epochs. */
export const SLOTS_PER_EPOCH = 432_000n

/** Compute units a transaction may use at most, and the default per instruction. */
export const MAX_COMPUTE_UNIT_LIMIT = 1_400_000
export const DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000

/** Name of the chain's append-only log and of its lock file inside the data dir. */
export const CHAIN_LOG_FILE = 'chain.log'
export const LOCK_FILE = 'LOCK'

/** The chain log grows ahead by this many zero bytes at a time (bytes), so that appends do not change its size. */
export const LOG_PREALLOCATE_BYTES = 4 * 1024 * 1024

/** Largest record the chain log accepts when reading (bytes); a longer length field is corruption. */
export const MAX_LOG_RECORD_BYTES = 1024 * 1024 * 1024

/** Server defaults. */
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 8899

/** Largest HTTP request body (bytes); a longer one is answered 413 with a JSON-RPC error. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Requests in one JSON-RPC batch at most. */
export const MAX_BATCH_SIZE = 1024

/** Largest WebSocket message accepted (bytes); a longer one closes the socket (1009). */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024

/** Subscriptions one WebSocket may hold. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 4096

/** A socket whose unsent notifications exceed this (bytes) is a stuck reader: it is closed. */
export const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024

/**
 * A signature subscription for a transaction that already landed is notified after this
 * delay (ms), so that the notification arrives after the subscription id, in its own read
 * (kit drops a notification read together with the subscription id). 20 ms was not always
 * enough on a loaded 2-core machine, where the client's loop can stall that long; clients
 * that confirm with a status poll as well (RpcLedger does) never depend on it.
 */
export const LANDED_NOTIFY_DELAY = 100

/** Signatures `getSignatureStatuses` takes at most, and entries `getSignaturesForAddress` returns at most. */
export const MAX_SIGNATURE_STATUSES = 256
export const MAX_SIGNATURES_FOR_ADDRESS = 1000

/** Widest slot range `getBlocks` takes, and largest `getBlocksWithLimit` limit, as on Solana. */
export const MAX_GET_BLOCKS_RANGE = 500_000n

/** Recent slots `getRecentPrioritizationFees` reports (Solana's prioritization fee cache), and addresses it takes at most. */
export const PRIORITIZATION_FEE_SLOTS = 150n
export const MAX_PRIORITIZATION_FEE_ADDRESSES = 128

/** Accounts `getMultipleAccounts` takes at most. */
export const MAX_MULTIPLE_ACCOUNTS = 100

/** What `getVersion` reports. */
export const SOLANA_CORE_VERSION = '2.3.0'
export const FEATURE_SET = 0
/** Also in `getVersion` (under `shardmesh-chain`): tells clients this is a `shardmesh chain`, funded by `shardmesh chain airdrop`. */
export const SHARDMESH_CHAIN_VERSION = '1'

/** Well-known programs. */
export const SYSTEM_PROGRAM = '11111111111111111111111111111111'
export const COMPUTE_BUDGET_PROGRAM = 'ComputeBudget111111111111111111111111111111'
export const ADDRESS_LOOKUP_TABLE_PROGRAM = 'AddressLookupTab1e1111111111111111111111111'
export const MEMO_PROGRAMS = ['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo']

/** The rent epoch Solana gives rent-exempt accounts. */
export const RENT_EXEMPT_RENT_EPOCH = 18_446_744_073_709_551_615n
