/** Default listen address: loopback, any free port. Pass `/ip4/0.0.0.0/tcp/<port>` to accept other hosts. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** kad-dht protocol of the mesh: a private DHT, not the public IPFS one. */
export const DHT_PROTOCOL = '/shardmesh/kad/1.0.0'

/** File in the data dir holding the node's Ed25519 key (libp2p protobuf form, mode 0600). */
export const KEY_FILE = 'peer.key'

/** Directory of the receipt store (the anchoring service's `dir`) inside the data dir. */
export const RECEIPTS_DIR = 'receipts'

/**
 * Many nodes share one host (or one NAT) in a cluster: libp2p's defaults of 5 inbound
 * connections per second per IP and 10 pending would isolate them.
 */
export const INBOUND_CONNECTION_THRESHOLD = 1_000
export const MAX_INCOMING_PENDING_CONNECTIONS = 256
export const MAX_CONNECTIONS = 400

/**
 * Ping each connection this often to detect frozen peers (no FIN). Measured on 12 nodes in a
 * full mesh: a 2 s interval doubled the idle CPU of a node (7.8 s vs 3.7 s per 20 s for all 12),
 * so we keep libp2p's 10 s. Liveness of a peer's offer does not rest on this: its advert
 * expires by TTL, and compute requests carry their own deadlines.
 */
export const CONNECTION_MONITOR_INTERVAL = 10_000

/** How long joining may take: dialling the bootstrap peers and the DHT self-lookup (ms). */
export const JOIN_TIMEOUT = 15_000

/** How long joining waits for kad-dht's own first self-query before running a lookup itself (ms). */
export const SELF_QUERY_WAIT = 6_000

/** How often a node with no connections at all re-dials its bootstrap peers (ms). */
export const REJOIN_INTERVAL = 5_000

/** Known mesh peers a join round dials when no bootstrap peer answered. */
export const KNOWN_PEER_DIALS = 16

/** The file in the data dir where the node keeps what it learned of its peers (evidence, scores, attestations). */
export const TRUST_FILE = 'trust.json'

/**
 * Default per-peer rate of inbound streams, on each protocol: a burst of 500, then 50 a second
 * on average. Far above what an honest peer opens (gossipsub and the shard protocol reuse one
 * stream; kad-dht, identify, capabilities, receipt proofs and batches open a few per lookup or
 * round), low enough that a peer flooding one protocol with streams is reset past it.
 */
export const INBOUND_STREAM_RATE = { streams: 500, interval: 10_000 }

/** Peers whose inbound stream buckets a node keeps (least recently seen forgotten first). */
export const INBOUND_GUARD_MAX_PEERS = 4096
