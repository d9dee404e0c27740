/** The SPL Memo program (v2+, the one clusters and LiteSVM ship); anchors are written with it. */
export const MEMO_PROGRAM_ADDRESS = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr'

/** The original SPL Memo program (v1); its memos are read too, never written. */
export const MEMO_V1_PROGRAM_ADDRESS = 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo'

/** The System Program: anchors pay workers with its Transfer instruction. */
export const SYSTEM_PROGRAM_ADDRESS = '11111111111111111111111111111111'

/** The largest transaction a Solana cluster accepts: an IPv6 MTU less headers (bytes). */
export const MAX_TRANSACTION_SIZE = 1232

/** Most bytes of a keypair file (a JSON array of 64 numbers is well under 1 KiB). */
export const MAX_KEYPAIR_FILE_SIZE = 4096

/** Commitment an anchor must reach before `submit` returns, and that reads use. */
export const COMMITMENT = 'confirmed'

/** How often the confirmation poller asks for the signature's status (ms). */
export const POLL_INTERVAL = 400

/** Longest `submit` waits for a confirmation before giving up (ms); blockhash expiry usually ends it sooner. */
export const CONFIRM_TIMEOUT = 120_000

/** While a sent transaction has no status, it is sent again this often (ms); resending a signed transaction is idempotent. */
export const RESEND_INTERVAL = 2_000

/** First and largest pause between retries of a failed RPC call (ms); the pause doubles each time. */
export const RETRY_MIN_DELAY = 100
export const RETRY_MAX_DELAY = 5_000

/** Times `anchor()` prepares a fresh transaction after the previous one's blockhash expired. */
export const MAX_ANCHOR_ATTEMPTS = 3

/** Lamports in one SOL. */
export const LAMPORTS_PER_SOL = 1_000_000_000n

/** The field of `getVersion` by which a `shardmesh chain` endpoint tells itself apart from other clusters. */
export const SHARDMESH_CHAIN_VERSION_KEY = 'shardmesh-chain'
