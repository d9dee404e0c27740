/**
 * Limits and names of the receipts package. A limit on a decoder is part of the contract: input
 * over it is refused before it is parsed.
 */

/** Bytes of a Merkle hash (sha256). */
export const MERKLE_HASH_BYTES = 32

/** Longest audit path accepted: enough for 2^64 leaves. */
export const MAX_MERKLE_PATH_LENGTH = 64

/** Largest receipt proof file accepted by `decodeReceiptProof` (bytes of JSON). */
export const MAX_RECEIPT_PROOF_BYTES = 64 * 1024

/** The `format` field of a receipt proof file. */
export const RECEIPT_PROOF_FORMAT = 'shardmesh-receipt-proof/1'

/** Prefix of the memo that anchors a batch root on Solana: `shardmesh:v1:<root hex>:<count>`. */
export const ANCHOR_MEMO_PREFIX = 'shardmesh:v1'

/** Bytes of a Solana transaction signature (base58 in text). */
export const TX_SIGNATURE_BYTES = 64

/** Longest base64 signed anchor transaction kept with an anchor attempt (Solana's packet is 1232 bytes). */
export const MAX_ANCHOR_WIRE_LENGTH = 4096

/** File of the receipt store's append-only log, in the store's directory. */
export const RECEIPT_LOG_FILE = 'receipts.log'

/** Lock file that marks the store's one writer (it holds the writer's pid). */
export const RECEIPT_LOCK_FILE = 'LOCK'

/** Largest payload of one log record; a frame that claims more is a torn or corrupt frame. */
export const MAX_LOG_RECORD_BYTES = 4 * 1024 * 1024

/** Most receipts in one sealed batch (and the default `maxCount` of `sealBatch`). */
export const MAX_BATCH_RECEIPTS = 65_536

/** Bytes read at a time while the log is replayed at open. */
export const LOG_READ_CHUNK_BYTES = 1024 * 1024

/** Merkle trees of this many batches are kept for `proof()`; others are rebuilt when asked. */
export const MERKLE_TREE_CACHE_SIZE = 4

/**
 * Most receipts a worker's store remembers as signed and awaiting their countersigned form
 * (`ReceiptStore.recordSigned`); the oldest are forgotten first.
 */
export const MAX_PENDING_SIGNED = 65_536
