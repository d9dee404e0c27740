/** Defaults of challenges: every figure here is a policy choice. */

/** A challenge not answered within this long is a timeout (ms). */
export const CHALLENGE_DEADLINE = 30_000

/** Items of a challenge's input (one shard of them). */
export const CHALLENGE_ITEMS = 8

/** A peer measured, or challenged, within this long is not challenged again before a job (ms). */
export const CHALLENGE_FRESHNESS = 10 * 60_000

/**
 * An unreachable peer is not tried again by `ensureMeasured` within this long (ms), nor beyond
 * the freshness window: it may only have been restarting
 */
export const CHALLENGE_UNREACHABLE_RETRY = 60_000

/** The mean interval between random challenges of one active peer (ms). */
export const CHALLENGE_INTERVAL = 60_000

/** Challenges `ensureMeasured` runs at once. */
export const CHALLENGE_CONCURRENCY = 4

/**
 * A speed is evidence of a GPU only above this multiple of what every CPU core the peer claims
 * could reach at most (turbo, better caches and a kinder compiler than ours all fit below it).
 */
export const CPU_HEADROOM = 2

/** Challenge outcomes remembered for the freshness window, at most. */
export const MAX_REMEMBERED_CHALLENGES = 4096
