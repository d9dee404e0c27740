import { ShardmeshError } from '@shardmesh/protocol'

/** Why a receipt was rejected. */
export type ReceiptRejection =
  | 'undecodable'
  | 'bad-worker-key'
  | 'worker-mismatch'
  | 'bad-worker-signature'
  | 'missing-countersignature'
  | 'bad-requester-key'
  | 'requester-mismatch'
  | 'bad-countersignature'
  | 'unexpected-worker'
  | 'unexpected-requester'

/** A receipt failed a check; `reason` names which. */
export class InvalidReceiptError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_RECEIPT'
  public readonly reason: ReceiptRejection

  constructor (reason: ReceiptRejection, message: string, options?: ErrorOptions) {
    super(`${reason}: ${message}`, InvalidReceiptError.code, options)
    this.name = 'InvalidReceiptError'
    this.reason = reason
  }
}

/** Why a receipt proof was rejected. */
export type ReceiptProofRejection =
  | 'undecodable'       // not JSON, or a field is missing or malformed (`field` names it)
  | 'unsupported-format' // a `format` other than RECEIPT_PROOF_FORMAT
  | 'merkle-path'       // the receipt's leaf does not lead to the batch root along the path
  | 'not-anchored'      // the proof names no anchor, or the anchor transaction is not on chain
  | 'anchor-mismatch'   // the anchor transaction does not carry this batch's memo

/** A receipt proof failed a check; `reason` names which, `field` the malformed field if any. */
export class InvalidReceiptProofError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_RECEIPT_PROOF'
  public readonly reason: ReceiptProofRejection
  public readonly field?: string

  constructor (reason: ReceiptProofRejection, message: string, field?: string, options?: ErrorOptions) {
    super(`${reason}: ${message}`, InvalidReceiptProofError.code, options)
    this.name = 'InvalidReceiptProofError'
    this.reason = reason
    this.field = field
  }
}

/** A Merkle tree needs at least one leaf (RFC 9162 defines no inclusion proof in an empty tree). */
export class EmptyMerkleTreeError extends ShardmeshError {
  static readonly code = 'ERR_EMPTY_MERKLE_TREE'

  constructor (message = 'a Merkle tree needs at least one leaf', options?: ErrorOptions) {
    super(message, EmptyMerkleTreeError.code, options)
    this.name = 'EmptyMerkleTreeError'
  }
}

/** Another live process holds the store's lock: a store has one writer. */
export class ReceiptStoreLockedError extends ShardmeshError {
  static readonly code = 'ERR_RECEIPT_STORE_LOCKED'
  /** pid of the holder, when the lock file names one */
  public readonly pid?: number

  constructor (message: string, pid?: number, options?: ErrorOptions) {
    super(message, ReceiptStoreLockedError.code, options)
    this.name = 'ReceiptStoreLockedError'
    this.pid = pid
  }
}

/** A write was asked of a store opened with `readOnly: true`. */
export class ReceiptStoreReadOnlyError extends ShardmeshError {
  static readonly code = 'ERR_RECEIPT_STORE_READ_ONLY'

  constructor (message = 'the receipt store is open read-only', options?: ErrorOptions) {
    super(message, ReceiptStoreReadOnlyError.code, options)
    this.name = 'ReceiptStoreReadOnlyError'
  }
}

/** A write was asked of a store that is closed, or whose log failed a write (see `cause`). */
export class ReceiptStoreClosedError extends ShardmeshError {
  static readonly code = 'ERR_RECEIPT_STORE_CLOSED'

  constructor (message = 'the receipt store is closed', options?: ErrorOptions) {
    super(message, ReceiptStoreClosedError.code, options)
    this.name = 'ReceiptStoreClosedError'
  }
}

/**
 * A log record passed its checksum but does not make sense (an unknown kind, a batch naming a
 * receipt that is not there): written by a newer version, or a bug. The store refuses to open
 * rather than drop it.
 */
export class ReceiptLogCorruptError extends ShardmeshError {
  static readonly code = 'ERR_RECEIPT_LOG_CORRUPT'
  /** file offset of the record */
  public readonly offset: number

  constructor (message: string, offset: number, options?: ErrorOptions) {
    super(`${message} (record at byte ${offset})`, ReceiptLogCorruptError.code, options)
    this.name = 'ReceiptLogCorruptError'
    this.offset = offset
  }
}

/** No sealed batch has this root. */
export class BatchNotFoundError extends ShardmeshError {
  static readonly code = 'ERR_BATCH_NOT_FOUND'

  constructor (root: string, options?: ErrorOptions) {
    super(`no batch with root ${root}`, BatchNotFoundError.code, options)
    this.name = 'BatchNotFoundError'
  }
}

/** An anchor attempt or anchor with a malformed field (signature, wire, slot...). */
export class InvalidAnchorError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_ANCHOR'

  constructor (message: string, options?: ErrorOptions) {
    super(message, InvalidAnchorError.code, options)
    this.name = 'InvalidAnchorError'
  }
}

/** A batch is already anchored by another transaction. */
export class AnchorConflictError extends ShardmeshError {
  static readonly code = 'ERR_ANCHOR_CONFLICT'

  constructor (message: string, options?: ErrorOptions) {
    super(message, AnchorConflictError.code, options)
    this.name = 'AnchorConflictError'
  }
}
