import { decodeBase58 } from './base58.js'
import { invalidParams, integerParam } from './json-rpc.js'
import type { AccountState } from './types.js'

/** `getProgramAccounts` / `programSubscribe` filters (`memcmp`, `dataSize`) and the SPL token account checks. */

/** Filters one request may carry, as on Solana. */
export const MAX_ACCOUNT_FILTERS = 4
/** Longest `memcmp.bytes` (decoded bytes), and longest base58 text, as on Solana. */
const MAX_MEMCMP_BYTES = 128
const MAX_MEMCMP_BASE58 = 175

export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'
export const TOKEN_2022_PROGRAM = 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb'
/** Bytes of an SPL token account (Token-2022 accounts with extensions are longer, typed at this offset). */
const TOKEN_ACCOUNT_LEN = 165
const TOKEN_2022_ACCOUNT_TYPE_ACCOUNT = 2

export type AccountFilter = { kind: 'memcmp', offset: number, bytes: Uint8Array } | { kind: 'dataSize', size: number }

/** Check and decode `config.filters`. */
export function parseAccountFilters (value: unknown): AccountFilter[] {
  if (value == null) {
    return []
  }
  if (!Array.isArray(value)) {
    throw invalidParams('filters must be an array')
  }
  if (value.length > MAX_ACCOUNT_FILTERS) {
    throw invalidParams(`Too many filters provided; max ${MAX_ACCOUNT_FILTERS}`)
  }
  return value.map((filter: any): AccountFilter => {
    if (filter?.dataSize != null) {
      return { kind: 'dataSize', size: Number(integerParam(filter.dataSize, 'dataSize')) }
    }
    const memcmp = filter?.memcmp
    if (memcmp == null || typeof memcmp.bytes !== 'string') {
      throw invalidParams('unsupported filter (memcmp with bytes, or dataSize)')
    }
    const offset = Number(integerParam(memcmp.offset, 'memcmp.offset'))
    const encoding = memcmp.encoding ?? 'base58'
    let bytes: Uint8Array
    if (encoding === 'base58') {
      if (memcmp.bytes.length > MAX_MEMCMP_BASE58) {
        throw invalidParams('memcmp encoded bytes too large')
      }
      try {
        bytes = decodeBase58(memcmp.bytes)
      } catch {
        throw invalidParams('invalid base58 in memcmp.bytes')
      }
    } else if (encoding === 'base64') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(memcmp.bytes) || memcmp.bytes.length % 4 !== 0) {
        throw invalidParams('invalid base64 in memcmp.bytes')
      }
      bytes = new Uint8Array(Buffer.from(memcmp.bytes, 'base64'))
    } else {
      // not JSON.stringify(encoding): a deeply nested value overflows the stack there
      throw invalidParams(`unsupported memcmp encoding: ${typeof encoding === 'string' ? JSON.stringify(encoding.slice(0, 40)) : `of type ${typeof encoding}`}`)
    }
    if (bytes.length > MAX_MEMCMP_BYTES) {
      throw invalidParams('memcmp bytes too large')
    }
    return { kind: 'memcmp', offset, bytes }
  })
}

/** Whether `account` passes every filter. */
export function matchesFilters (account: AccountState, filters: AccountFilter[]): boolean {
  return filters.every(filter => {
    if (filter.kind === 'dataSize') {
      return account.data.length === filter.size
    }
    const end = filter.offset + filter.bytes.length
    if (end > account.data.length) {
      return false
    }
    return Buffer.from(account.data.buffer, account.data.byteOffset + filter.offset, filter.bytes.length).equals(filter.bytes)
  })
}

export function isTokenProgram (address: string): boolean {
  return address === TOKEN_PROGRAM || address === TOKEN_2022_PROGRAM
}

/** Whether `account` is an SPL token account (not a mint, not a multisig). */
export function isTokenAccount (account: AccountState): boolean {
  if (!isTokenProgram(account.owner)) {
    return false
  }
  if (account.data.length === TOKEN_ACCOUNT_LEN) {
    return true
  }
  return account.owner === TOKEN_2022_PROGRAM && account.data.length > TOKEN_ACCOUNT_LEN && account.data[TOKEN_ACCOUNT_LEN] === TOKEN_2022_ACCOUNT_TYPE_ACCOUNT
}

/** A token account's mint (bytes 0..32) and owner (32..64), base58-comparable as raw bytes. */
export function tokenAccountMintAndOwner (account: AccountState): { mint: Uint8Array, owner: Uint8Array } {
  return { mint: account.data.subarray(0, 32), owner: account.data.subarray(32, 64) }
}
