/** How long an advert stays valid after it is issued (ms). A dead node leaves every table within this. */
export const ADVERT_TTL = 30_000

/** How often a node re-publishes its advert even when nothing changed (ms). Must be well under the TTL. */
export const REFRESH_INTERVAL = 10_000

/** How often the peer table drops expired adverts (ms). */
export const SWEEP_INTERVAL = 500

/**
 * The clock skew tolerated between two peers (ms): an advert issued further than this in the
 * future is refused (clock-skew), one expired longer than this ago too (expired). Two peers each
 * within 30 s of true time may be 60 s apart, and must still hold each other's adverts.
 */
export const MAX_CLOCK_SKEW = 60_000

/** The longest TTL we accept from a peer (ms): no advert may claim to live for hours. */
export const MAX_ADVERT_TTL = 10 * 60_000

/** Coalesce bursts of changes (load, slots, new subscribers) into one publish (ms). */
export const PUBLISH_DEBOUNCE = 100

/** Deadline for one request on the caps protocol, inbound or outbound (ms). */
export const CAPS_TIMEOUT = 10_000

/** Tries of the table sync with a newly connected peer, and the pause between them (ms). */
export const SYNC_ATTEMPTS = 3
export const SYNC_RETRY_DELAY = 1_000

/** A starting node pulls whole tables from this many peers; later neighbours send only their own advert. */
export const FULL_SYNCS_ON_JOIN = 3

/** Most adverts one peer may hand us in a single table sync. */
export const MAX_SYNC_ADVERTS = 1_024

/** Most adverts the peer table holds; beyond it, new peers are refused until some expire. */
export const MAX_TABLE_SIZE = 10_000

/** Concurrent inbound/outbound caps streams per connection. */
export const MAX_INBOUND_STREAMS = 4
export const MAX_OUTBOUND_STREAMS = 4

/** How long one DHT provider query may run inside `findPeers` (ms). */
export const FIND_PROVIDERS_TIMEOUT = 10_000

/** Most providers dialled per `findPeers` call. */
export const MAX_PROVIDERS = 20

/** Re-announce our DHT provider records this often (ms). */
export const PROVIDE_INTERVAL = 5 * 60_000

/** Retry announcing after a failure (e.g. an empty routing table) this soon (ms). */
export const PROVIDE_RETRY_INTERVAL = 5_000

/** Deadline of one round of announcements (ms). */
export const PROVIDE_TIMEOUT = 60_000

/** Deadline for the nvidia-smi probe (ms). */
export const GPU_PROBE_TIMEOUT = 5_000
