/** Receipts per batch; a full batch is sealed at once. */
export const BATCH_SIZE = 1_000

/**
 * Largest batch size: one memo transaction anchors up to this many receipts (at 5,000
 * lamports a signature, 0.5 lamports each). Proof paths grow with log2 of it only.
 */
export const MAX_BATCH_SIZE = 10_000

/** Seal whatever waits once the oldest unbatched receipt is this old (ms). */
export const BATCH_INTERVAL = 10_000

/** First retry delay after a failed anchoring attempt, doubled up to RETRY_MAX (ms). */
export const RETRY_BASE = 1_000
export const RETRY_MAX = 30_000

/** Anchor transactions of one batch that may expire unlanded before the loop gives up a round. */
export const MAX_BLOCKHASH_ATTEMPTS = 5

/** How often a worker asks its requesters for the proofs of the receipts it holds (ms). */
export const PROOF_PULL_INTERVAL = 5_000

/** A pull this long after a worker receipt is stored (ms): its batch may be anchored by then. */
export const PROOF_PULL_DELAY = 2_000

/** Deadline of one receipt-proof request, inbound or outbound (ms). */
export const PROOF_REQUEST_TIMEOUT = 30_000

/** A worker anchors the countersigned receipts it holds without a proof itself after this long (ms). */
export const SELF_ANCHOR_AFTER = 10 * 60_000

/**
 * Receipts signed here whose countersigned form never arrived are asked for while younger than
 * this (ms): a shard the requester dropped (failed, disputed, cancelled) is never countersigned,
 * and is not asked for forever.
 */
export const PENDING_SIGNED_WINDOW = 60 * 60_000

/** The first re-ask of such a receipt waits this long (ms), doubling up to PENDING_SIGNED_RETRY_MAX. */
export const PENDING_SIGNED_RETRY_BASE = 5_000
export const PENDING_SIGNED_RETRY_MAX = 10 * 60_000

/** Deadline of one receipt-batch request, inbound or outbound (ms): a bundle may be megabytes. */
export const BATCH_REQUEST_TIMEOUT = 60_000

/** A requester whose pull rounds give nothing new is asked again after this long (ms), doubling up to PULL_BACKOFF_MAX, until new receipts arrive. */
export const PULL_BACKOFF_BASE = 5_000
export const PULL_BACKOFF_MAX = 60_000
