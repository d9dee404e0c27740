/**
 * Errors shared by every package. Each condition has a named class (matched by `err.name`)
 * and a stable code; errors that cross the wire travel as `{ code, message }`.
 */

export const ErrorCode = {
  INVALID_MESSAGE: 'ERR_INVALID_MESSAGE',
  MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  INVALID_SIGNATURE: 'ERR_INVALID_SIGNATURE',
  NOT_FOUND: 'ERR_NOT_FOUND',
  INTERNAL: 'ERR_INTERNAL'
} as const

export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

/**
 * Marks a shardmesh error. A symbol from the global registry, so that an error made by another
 * copy of a package (a workload that bundles its own) is still recognised: `instanceof` is not.
 */
const shardmeshErrorSymbol = Symbol.for('@shardmesh/error')

/** Base class: every shardmesh error carries a stable `code`. */
export class ShardmeshError extends Error {
  public readonly code: string

  constructor (message: string, code: string = ErrorCode.INTERNAL, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ShardmeshError'
    this.code = code
    Object.defineProperty(this, shardmeshErrorSymbol, { value: true })
  }
}

/**
 * True for a shardmesh error (any class of any package, from any copy of it): one whose coded
 * `{ code, message }` may be told to a peer. Match the condition itself by `err.name` or `err.code`.
 */
export function isShardmeshError (err: unknown): err is ShardmeshError {
  return err instanceof Error && (err as any)[shardmeshErrorSymbol] === true && typeof (err as any).code === 'string'
}

/** Bytes that do not decode as the expected message, or a message that breaks its rules. */
export class InvalidMessageError extends ShardmeshError {
  static readonly code = ErrorCode.INVALID_MESSAGE

  constructor (message = 'Invalid message', options?: ErrorOptions) {
    super(message, ErrorCode.INVALID_MESSAGE, options)
    this.name = 'InvalidMessageError'
  }
}

/** A message or one of its repeated fields is over its size limit. */
export class MessageTooLargeError extends ShardmeshError {
  static readonly code = ErrorCode.MESSAGE_TOO_LARGE

  constructor (message = 'Message too large', options?: ErrorOptions) {
    super(message, ErrorCode.MESSAGE_TOO_LARGE, options)
    this.name = 'MessageTooLargeError'
  }
}

/** A signature that does not verify against the claimed key. */
export class InvalidSignatureError extends ShardmeshError {
  static readonly code = ErrorCode.INVALID_SIGNATURE

  constructor (message = 'Invalid signature', options?: ErrorOptions) {
    super(message, ErrorCode.INVALID_SIGNATURE, options)
    this.name = 'InvalidSignatureError'
  }
}

/** The form in which an error crosses the wire. */
export interface WireErrorShape {
  code: string
  message: string
}

/** Turn any thrown value into the `{ code, message }` that may be sent to a peer. */
export function toWireError (err: unknown): WireErrorShape {
  if (isShardmeshError(err)) {
    return { code: err.code, message: err.message }
  }
  return { code: ErrorCode.INTERNAL, message: 'Internal error' }
}

/** Rebuild an error received from a peer; the message is the peer's words, kept short. */
export function fromWireError (wire: WireErrorShape): ShardmeshError {
  const message = wire.message.slice(0, 1024)
  switch (wire.code) {
    case ErrorCode.INVALID_MESSAGE: return new InvalidMessageError(message)
    case ErrorCode.MESSAGE_TOO_LARGE: return new MessageTooLargeError(message)
    case ErrorCode.INVALID_SIGNATURE: return new InvalidSignatureError(message)
    default: return new ShardmeshError(message, wire.code.slice(0, 64))
  }
}

/** A lock file is held by a live process (this one, when another part of it holds it). */
export class FileLockedError extends ShardmeshError {
  static readonly code = 'ERR_FILE_LOCKED'
  public readonly path: string
  /** pid of the holder, when the lock file names a live one */
  public readonly pid?: number
  /** another holder in this process */
  public readonly inProcess: boolean

  constructor (path: string, pid: number | undefined, inProcess: boolean, message?: string, options?: ErrorOptions) {
    super(message ?? `${path} is locked by ${inProcess ? 'this process' : `process ${pid}`}`, FileLockedError.code, options)
    this.name = 'FileLockedError'
    this.path = path
    this.pid = pid
    this.inProcess = inProcess
  }
}

/** An append-only log has a damaged record that its recovery policy does not drop. */
export class AppendLogCorruptError extends ShardmeshError {
  static readonly code = 'ERR_APPEND_LOG_CORRUPT'
  /** byte offset of the damaged record */
  public readonly offset: number

  constructor (message: string, offset: number, options?: ErrorOptions) {
    super(message, AppendLogCorruptError.code, options)
    this.name = 'AppendLogCorruptError'
    this.offset = offset
  }
}

/** An append-only log took no more appends: it is closed, read-only, or a write to it failed. */
export class AppendLogClosedError extends ShardmeshError {
  static readonly code = 'ERR_APPEND_LOG_CLOSED'
  /** closed by its owner, opened read-only, or stopped after a failed write */
  public readonly reason: 'closed' | 'read-only' | 'failed'

  constructor (reason: 'closed' | 'read-only' | 'failed', message: string, options?: ErrorOptions) {
    super(message, AppendLogClosedError.code, options)
    this.name = 'AppendLogClosedError'
    this.reason = reason
  }
}
