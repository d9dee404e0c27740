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
