import { isAddress } from '@solana/kit'
import { InvalidTransactionError, TransactionTooLargeError } from '@shardmesh/solana'
import { decodeBase58 } from './base58.js'
import { ChainClosedError, ChainTransactionError, InvalidAirdropError, SignatureVerificationError } from './errors.js'

/** JSON-RPC 2.0 plumbing shared by the HTTP and WebSocket sides: errors, request checks, params. */

export const PARSE_ERROR = -32700
export const INVALID_REQUEST = -32600
export const METHOD_NOT_FOUND = -32601
export const INVALID_PARAMS = -32602
export const INTERNAL_ERROR = -32603
/** Solana's server errors */
export const SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002
export const TRANSACTION_SIGNATURE_VERIFICATION_FAILURE = -32003
export const BLOCK_NOT_AVAILABLE = -32004
export const UNSUPPORTED_TRANSACTION_VERSION = -32015
export const MIN_CONTEXT_SLOT_NOT_REACHED = -32016

export class JsonRpcError extends Error {
  public readonly code: number
  public readonly data: unknown

  constructor (code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'JsonRpcError'
    this.code = code
    this.data = data
  }
}

export type JsonRpcId = string | number | null

export interface JsonRpcRequest {
  id: JsonRpcId
  /** false for a notification (no `id`): it gets no response */
  hasId: boolean
  method: string
  params: unknown[]
}

export function invalidParams (message: string): JsonRpcError {
  return new JsonRpcError(INVALID_PARAMS, `Invalid params: ${message}`)
}

/** Check one JSON-RPC request object; positional (array) params only, as Solana takes them. */
export function parseRequest (value: unknown): JsonRpcRequest | JsonRpcError {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    return new JsonRpcError(INVALID_REQUEST, 'Invalid request')
  }
  const request = value as Record<string, unknown>
  const id = request.id
  const validId = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))
  if (request.jsonrpc !== '2.0' || typeof request.method !== 'string' || !validId) {
    return new JsonRpcError(INVALID_REQUEST, 'Invalid request')
  }
  if (request.params !== undefined && !Array.isArray(request.params)) {
    return invalidParams('params must be an array')
  }
  return { id: id ?? null, hasId: id !== undefined, method: request.method, params: (request.params as unknown[] | undefined) ?? [] }
}

export function successResponse (id: JsonRpcId, result: unknown): unknown {
  return { jsonrpc: '2.0', result, id }
}

export function errorResponse (id: JsonRpcId, error: JsonRpcError): unknown {
  return { jsonrpc: '2.0', error: error.data === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, data: error.data }, id }
}

/** A chain error as the JSON-RPC error a Solana node would answer with. */
export function toJsonRpcError (err: unknown): JsonRpcError {
  if (err instanceof JsonRpcError) {
    return err
  }
  if (err instanceof ChainTransactionError) {
    return new JsonRpcError(SEND_TRANSACTION_PREFLIGHT_FAILURE, `Transaction simulation failed: ${err.message}`, {
      err: err.transactionError,
      logs: err.logs ?? [],
      accounts: null,
      unitsConsumed: err.unitsConsumed ?? 0n,
      returnData: null,
      innerInstructions: null,
      replacementBlockhash: null
    })
  }
  if (err instanceof SignatureVerificationError) {
    return new JsonRpcError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, 'Transaction signature verification failure')
  }
  if (err instanceof TransactionTooLargeError) {
    return invalidParams(`transaction too large: ${err.size} bytes (max: ${err.limit})`)
  }
  if (err instanceof InvalidTransactionError || err instanceof InvalidAirdropError) {
    return invalidParams(err.message)
  }
  if (err instanceof ChainClosedError) {
    return new JsonRpcError(INTERNAL_ERROR, `Internal error: ${err.message}`)
  }
  return new JsonRpcError(INTERNAL_ERROR, `Internal error: ${(err as Error)?.message ?? String(err)}`)
}

/** The config object at `params[index]` (absent → `{}`). */
export function configParam (params: unknown[], index: number): Record<string, unknown> {
  const value = params[index]
  if (value === undefined || value === null) {
    return {}
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParams(`expected a config object at position ${index}`)
  }
  return value as Record<string, unknown>
}

export function stringParam (params: unknown[], index: number, what: string): string {
  const value = params[index]
  if (typeof value !== 'string') {
    throw invalidParams(`expected ${what} (a string) at position ${index}`)
  }
  return value
}

export function addressParam (params: unknown[], index: number): string {
  const value = stringParam(params, index, 'an address')
  if (!isAddress(value)) {
    throw invalidParams(`not a base58 address: ${value}`)
  }
  return value
}

export function signatureParam (value: unknown): string {
  if (typeof value !== 'string' || !isSignature(value)) {
    throw invalidParams(`not a base58 signature: ${String(value)}`)
  }
  return value
}

function isSignature (value: string): boolean {
  if (value.length < 64 || value.length > 88) {
    return false
  }
  try {
    return decodeBase58(value).length === 64
  } catch {
    return false
  }
}

/** A non-negative integer (JSON number or bigint) → bigint. */
export function integerParam (value: unknown, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) {
    return value
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return BigInt(value)
  }
  throw invalidParams(`${what} must be a non-negative integer`)
}

/** Refuse a request whose `minContextSlot` the chain has not reached. */
export function checkMinContextSlot (config: Record<string, unknown>, slot: bigint): void {
  if (config.minContextSlot == null) {
    return
  }
  if (integerParam(config.minContextSlot, 'minContextSlot') > slot) {
    throw new JsonRpcError(MIN_CONTEXT_SLOT_NOT_REACHED, 'Minimum context slot has not been reached', { contextSlot: slot })
  }
}
