/**
 * Protocol ids, topics and size limits shared by every shardmesh package.
 * A limit here is part of the wire contract: a peer that sends more is misbehaving.
 */

/** Prefix of every shardmesh protocol id, and the kad-dht protocol prefix of the mesh. */
export const PROTOCOL_PREFIX = '/shardmesh'

/** Request/response protocol: ask a peer for its current signed capability advert. */
export const CAPS_PROTOCOL = `${PROTOCOL_PREFIX}/caps/1.0.0`

/** Gossipsub topic on which nodes publish their signed capability adverts. */
export const CAPS_TOPIC = `${PROTOCOL_PREFIX}/caps/1`

/** Domain-separation prefix for advert signatures: a signature never verifies as any other message. */
export const ADVERT_SIGNATURE_DOMAIN = 'shardmesh:advert:v1'

/** Largest encoded `CapabilityAdvert` accepted (bytes). */
export const MAX_ADVERT_BYTES = 32 * 1024

/** Largest encoded `SignedAdvert` accepted: the advert plus a key and a signature. */
export const MAX_SIGNED_ADVERT_BYTES = MAX_ADVERT_BYTES + 512

/** Largest `CapsRequest` frame accepted on the caps protocol. */
export const MAX_CAPS_REQUEST_BYTES = 64

/** Largest `CapsResponse` frame accepted on the caps protocol. */
export const MAX_CAPS_RESPONSE_BYTES = MAX_SIGNED_ADVERT_BYTES + 1024

/** Element limits on the repeated fields of an advert (checked while decoding). */
export const MAX_ADVERT_GPUS = 64
export const MAX_ADVERT_WORKLOADS = 128
export const MAX_ADVERT_MODELS = 256
export const MAX_ADVERT_ADDRS = 32

/** Largest text field we keep from a peer (CPU model, GPU model, workload id...). */
export const MAX_TEXT_FIELD_LENGTH = 256

/** Stream protocol on which a requester sends shards to a worker and gets results back. */
export const SHARD_PROTOCOL = `${PROTOCOL_PREFIX}/shard/1.0.0`

/** Largest encoded `ItemList` of one shard (input or output), in bytes. */
export const MAX_SHARD_PAYLOAD_BYTES = 16 * 1024 * 1024

/** Most items in one shard. */
export const MAX_SHARD_ITEMS = 100_000

/** Largest frame on the shard protocol: a payload plus its envelope (or a receipt). */
export const MAX_SHARD_FRAME_BYTES = MAX_SHARD_PAYLOAD_BYTES + 8 * 1024

/** Largest piece of a model in one `ModelChunk`. */
export const MAX_MODEL_CHUNK_BYTES = 1024 * 1024

/** Largest model a worker accepts from a requester (a node may set a lower limit). */
export const MAX_MODEL_BYTES = 1024 * 1024 * 1024

/** Most tensors in one `TensorMap`, and most dimensions of one tensor. */
export const MAX_TENSORS = 64
export const MAX_TENSOR_DIMS = 8

/** Largest encoded `Receipt` and `SignedReceipt`. */
export const MAX_RECEIPT_BYTES = 1024
export const MAX_SIGNED_RECEIPT_BYTES = 4096

/**
 * Most receipts in one `Countersigned` frame: the replicas a shard may have (the compute
 * service's `MAX_REPLICAS`), though a requester sends each worker only its own.
 */
export const MAX_COUNTERSIGNED_RECEIPTS = 7

/** Domain-separation prefixes of the worker's receipt signature and the requester's countersignature. */
export const RECEIPT_SIGNATURE_DOMAIN = 'shardmesh:receipt:v1'
export const COUNTERSIGN_SIGNATURE_DOMAIN = 'shardmesh:countersign:v1'
/** The domain of a worker's one signature over a group of receipts (the root of their Merkle tree). */
export const RECEIPT_GROUP_SIGNATURE_DOMAIN = 'shardmesh:receipt-group:v1'
/** The domain of a requester's one countersignature over a group of receipts. */
export const COUNTERSIGN_GROUP_SIGNATURE_DOMAIN = 'shardmesh:countersign-group:v1'
/**
 * Most receipts one group signature covers: a receipt carries the audit path of its group (at
 * most log2 of this many hashes, 6), so a group never makes a receipt much larger.
 */
export const MAX_RECEIPT_GROUP = 64

/** Gossipsub topic on which nodes publish the signed attestations of the challenges they ran. */
export const ATTESTATION_TOPIC = `${PROTOCOL_PREFIX}/attestations/1`

/** Domain-separation prefix of attestation signatures: a signature never verifies as any other message. */
export const ATTESTATION_SIGNATURE_DOMAIN = 'shardmesh:attestation:v1'

/** Largest encoded `Attestation` accepted (bytes): two peer ids, two text fields and a nonce fit well within it. */
export const MAX_ATTESTATION_BYTES = 1024

/** Largest encoded `SignedAttestation` accepted: the attestation plus a key and a signature. */
export const MAX_SIGNED_ATTESTATION_BYTES = MAX_ATTESTATION_BYTES + 256

/**
 * Protocol id of the receipt-proof pull: a worker asks a requester for the Merkle paths and
 * anchors of the countersigned receipts it holds (one `ProofRequest`, one `ProofResponse`).
 */
export const RECEIPT_PROOFS_PROTOCOL = `${PROTOCOL_PREFIX}/receipt-proofs/1.0.0`

/** Most receipt ids in one `ProofRequest` (and so most proofs in one `ProofResponse`). */
export const MAX_PROOF_REQUEST_IDS = 256

/** Largest encoded `ProofRequest`: 256 ids of 32 bytes, each with a 2-byte tag and length. */
export const MAX_PROOF_REQUEST_BYTES = MAX_PROOF_REQUEST_IDS * (32 + 2) + 64

/**
 * Largest proof file sent in a `ProofResponse` (a receipt of at most 4096 bytes in base64, a path
 * of up to 64 hashes in hex, the anchor and the cluster fit well within it); a larger one is not sent.
 */
export const MAX_WIRE_PROOF_BYTES = 16 * 1024

/** Largest encoded `ProofResponse`: 256 proofs of at most 16 KiB, each with its tag and length (about 4 MiB). */
export const MAX_PROOF_RESPONSE_BYTES = MAX_PROOF_REQUEST_IDS * (MAX_WIRE_PROOF_BYTES + 4) + 64

/** Most inbound receipt-proof streams a node serves at once. */
export const MAX_PROOF_INBOUND_STREAMS = 4

/**
 * Protocol id of the batch fetch: anyone asks a node for every receipt of one anchored batch by
 * its root (one `BatchRequest`, answered by one frame holding the batch's bundle file, or an
 * empty frame when the node does not hold it).
 */
export const RECEIPT_BATCHES_PROTOCOL = `${PROTOCOL_PREFIX}/receipt-batches/1.0.0`

/** Largest encoded `BatchRequest`: a 32-byte root with its tag and length, and room to spare. */
export const MAX_BATCH_REQUEST_BYTES = 64

/** Most inbound receipt-batch streams a node serves at once (each answer may be megabytes). */
export const MAX_BATCH_INBOUND_STREAMS = 2
