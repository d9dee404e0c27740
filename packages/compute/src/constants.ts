import { MAX_SHARD_FRAME_BYTES } from '@shardmesh/protocol'

/** Shards that may wait for a slot when `maxQueue` is not set, per slot (slots default to one per pool thread). */
export const DEFAULT_QUEUE_PER_SLOT = 4

/**
 * Bytes a shard stream may buffer while a frame arrives: one whole frame of the largest size
 * plus its length prefix. libp2p's default (4 MiB) would reset the stream under any shard
 * frame larger than that.
 */
export const STREAM_READ_BUFFER_BYTES = MAX_SHARD_FRAME_BYTES + 16

/** Most inbound shard streams per connection, and outbound ones we open per connection. */
export const MAX_INBOUND_STREAMS = 8
export const MAX_OUTBOUND_STREAMS = 8

/** A shard attempt that reports neither progress nor a result for this long is abandoned (ms). */
export const IDLE_TIMEOUT = 30_000

/**
 * An inbound shard stream with no shard in flight that sends no frame for this long is closed
 * (ms): a requester opens its stream to send a shard, and opens a new one when it needs one.
 */
export const INBOUND_IDLE_TIMEOUT = 60_000

/** Retries of one shard on other peers before the job fails. */
export const MAX_RETRIES = 3

/** Consecutive failures after which a peer is dropped from a job. */
export const MAX_PEER_FAILURES = 3

/** Per-peer backoff after a failure: BASE × 2^(failures-1), capped (ms). */
export const PEER_BACKOFF_BASE = 100
export const PEER_BACKOFF_MAX = 5_000

/** Backoff after a worker said it is busy (ms). */
export const BUSY_BACKOFF = 50

/** Hedge an attempt running longer than this multiple of the completed shards' percentile. */
export const HEDGE_PERCENTILE = 0.9
export const HEDGE_FACTOR = 2
/** ... but never before this many shards completed, nor before this long (ms). */
export const HEDGE_MIN_SAMPLES = 4
export const HEDGE_MIN_DELAY = 250

/** How long a job waits for a free peer before failing as "all busy" (ms). */
export const QUEUE_TIMEOUT = 60_000

/** Shards in flight per peer beyond its slots, so a worker never idles waiting for the next one. */
export const PIPELINE_DEPTH = 1

/** Slots assumed of a peer that advertised none, when placing a job. */
export const UNKNOWN_PEER_SLOTS = 2

/** How often progress frames are sent per shard, at most (ms). */
export const PROGRESS_INTERVAL = 100

/** How long a worker waits for the model it asked for (ms). */
export const MODEL_TIMEOUT = 120_000

/** Largest model a worker accepts (bytes). */
export const MAX_MODEL_SIZE = 512 * 1024 * 1024

/** Most bytes of models a worker keeps in its cache; least recently used ones not in use go first. */
export const MODEL_CACHE_BYTES = 4 * 1024 * 1024 * 1024

/** The largest fraction of the model cache that the models one requester sent may take. */
export const MODEL_CACHE_SHARE = 0.5

/** Default shard size (items). */
export const SHARD_SIZE = 8

/** How often a requester pings a peer while it has shards in flight on the peer's stream (ms). */
export const HEARTBEAT_INTERVAL = 200

/**
 * A peer with shards in flight that sends nothing for longer than this is suspect (ms): with a
 * check every HEARTBEAT_INTERVAL, a peer frozen right after its last frame is suspect within 1 s.
 */
export const SUSPECT_AFTER = 700

/** ... and dead after this long (within 2 s with the check interval): its shards in flight fail and are placed elsewhere (ms). */
export const DEAD_AFTER = 1_600

/** A peer not heartbeated now counts as alive this long after its last direct evidence (ms). */
export const LIVENESS_ALIVE_FOR = 10_000

/** A peer with no evidence and no heartbeat for this long is forgotten by the liveness book (ms). */
export const LIVENESS_FORGET_AFTER = 600_000

/** Most peers the liveness book remembers; the longest silent go first. */
export const MAX_LIVENESS_PEERS = 10_000

/** A worker answers at most one ping per this long on one stream; faster pings are ignored (ms). */
export const PING_MIN_INTERVAL = 50

/** A peer given work of a workload within this long is a target of random challenges (ms). */
export const ACTIVE_PEER_WINDOW = 10 * 60_000

/**
 * Receipts a worker remembers having signed, awaiting the requester's countersigned copy (about
 * 150 bytes each); the oldest are forgotten first, and a countersigned receipt sent back after
 * its own is forgotten is refused.
 */
export const MAX_SIGNED_REMEMBERED = 16_384

/** Countersigned frames checked and stored at once on one inbound stream; the stream is read no further until one ends. */
export const MAX_COUNTERSIGNED_QUEUE = 64

/** How long `drain()` waits for the shards in flight and their countersigned receipts by default (ms). */
export const DRAIN_TIMEOUT = 30_000

/**
 * How long `drain()` waits, once no shard is in flight, for countersigned receipts still to
 * come (ms): a requester sends them a round trip after the result, and some never come (a
 * challenge's receipt, a result the requester rejected).
 */
export const DRAIN_RECEIPT_GRACE = 3_000

/** How often `drain()` looks whether it is done (ms). */
export const DRAIN_POLL_INTERVAL = 25

/** Finished jobs `Compute.jobs()` keeps (the newest), beside those still running. */
export const FINISHED_JOBS_KEPT = 20

/**
 * Frames waiting on a shard stream go out together, up to about this many bytes a write (at
 * least one frame): small frames share a Yamux frame and a Noise message (and their socket
 * writes), while a ping still gets ahead of a model sent in chunks.
 */
export const MAX_WRITE_BATCH_BYTES = 256 * 1024
