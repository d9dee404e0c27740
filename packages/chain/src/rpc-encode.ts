import { encodeBase58 } from './base58.js'
import { MEMO_PROGRAMS } from './constants.js'
import { INVALID_REQUEST, JsonRpcError, UNSUPPORTED_TRANSACTION_VERSION, invalidParams, integerParam } from './json-rpc.js'
import { isStaticWritable, parseWire } from './wire.js'
import type { AccountState, TransactionRecord } from './types.js'

/** The JSON-RPC shapes of transactions (`getTransaction`) and accounts (`getAccountInfo`, notifications). */

const utf8 = new TextDecoder()
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')

/** Largest account data served base58-encoded, as on Solana. */
const MAX_BASE58_BYTES = 128

type TransactionEncoding = 'json' | 'jsonParsed' | 'base64' | 'base58'

/** `getTransaction`'s result for `record`, honouring `encoding` and `maxSupportedTransactionVersion`. */
export function encodeTransaction (record: TransactionRecord, config: Record<string, unknown>): unknown {
  const encoding = (config.encoding ?? 'json') as TransactionEncoding
  if (!['json', 'jsonParsed', 'base64', 'base58'].includes(encoding)) {
    throw invalidParams(`unsupported encoding: ${JSON.stringify(encoding)}`)
  }
  const maxVersion = config.maxSupportedTransactionVersion == null ? undefined : Number(integerParam(config.maxSupportedTransactionVersion, 'maxSupportedTransactionVersion'))
  if (record.version === 0 && (maxVersion == null || maxVersion < 0)) {
    throw new JsonRpcError(UNSUPPORTED_TRANSACTION_VERSION,
      'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0')
  }
  const withVersion = maxVersion != null
  const parsed = parseWire(record.wire)
  const message = parsed.message
  let transaction: unknown
  if (encoding === 'base64') {
    transaction = [b64(record.wire), 'base64']
  } else if (encoding === 'base58') {
    transaction = [encodeBase58(record.wire), 'base58']
  } else {
    const signatures = parsed.signatures.map(encodeBase58)
    const lookups = message.addressTableLookups.map(l => ({ accountKey: l.lookupTableAddress, writableIndexes: l.writableIndexes, readonlyIndexes: l.readonlyIndexes }))
    const instructions = message.instructions.map(ix => encoding === 'jsonParsed'
      ? parsedInstruction(record.accountKeys, ix.programIdIndex, ix.accounts, ix.data)
      : { programIdIndex: ix.programIdIndex, accounts: ix.accounts, data: encodeBase58(ix.data), stackHeight: null })
    const accountKeys = encoding === 'jsonParsed'
      ? record.accountKeys.map((pubkey, i) => ({
        pubkey,
        signer: i < message.header.numRequiredSignatures,
        writable: i < message.staticAccounts.length ? isStaticWritable(message, i) : i < message.staticAccounts.length + record.loadedAddresses.writable.length,
        source: i < message.staticAccounts.length ? 'transaction' : 'lookupTable'
      }))
      : message.staticAccounts
    transaction = {
      signatures,
      message: {
        accountKeys,
        ...(encoding === 'json' ? { header: message.header } : {}),
        recentBlockhash: message.recentBlockhash,
        instructions,
        ...(withVersion && record.version === 0 ? { addressTableLookups: lookups } : {})
      }
    }
  }
  return {
    slot: record.slot,
    blockTime: record.blockTime,
    ...(withVersion ? { version: record.version } : {}),
    meta: encodeMeta(record, withVersion, encoding === 'jsonParsed'),
    transaction
  }
}

function encodeMeta (record: TransactionRecord, withVersion: boolean, parsed: boolean): unknown {
  return {
    err: record.err,
    status: record.err == null ? { Ok: null } : { Err: record.err },
    fee: record.fee,
    preBalances: record.preBalances,
    postBalances: record.postBalances,
    innerInstructions: parsed
      ? record.innerInstructions.map(group => ({
        index: group.index,
        instructions: group.instructions.map(ix => ({ programId: record.accountKeys[ix.programIdIndex], accounts: ix.accounts.map(i => record.accountKeys[i]), data: ix.data, stackHeight: ix.stackHeight }))
      }))
      : record.innerInstructions,
    logMessages: record.logMessages,
    preTokenBalances: [],
    postTokenBalances: [],
    rewards: [],
    ...(withVersion ? { loadedAddresses: record.loadedAddresses } : {}),
    ...(record.returnData == null ? {} : { returnData: { programId: record.returnData.programId, data: [b64(record.returnData.data), 'base64'] } }),
    computeUnitsConsumed: record.computeUnitsConsumed
  }
}

/** A `jsonParsed` instruction: memos are parsed (their text), others are only partially decoded (no parsers here). */
function parsedInstruction (keys: string[], programIndex: number, accounts: readonly number[], data: Uint8Array): Record<string, unknown> {
  const programId = keys[programIndex]
  if (MEMO_PROGRAMS.includes(programId)) {
    return { parsed: utf8.decode(data), program: 'spl-memo', programId, stackHeight: null }
  }
  return { programId, accounts: accounts.map(i => keys[i]), data: encodeBase58(data), stackHeight: null }
}

const ACCOUNT_ENCODINGS = ['binary', 'base58', 'base64', 'jsonParsed']

/** Refuse an account encoding this chain does not serve (e.g. `base64+zstd`). */
export function assertAccountEncoding (config: Record<string, unknown>): void {
  if (config.encoding != null && !ACCOUNT_ENCODINGS.includes(config.encoding as string)) {
    throw invalidParams(`unsupported encoding: ${JSON.stringify(config.encoding)}`)
  }
}

/** An account as `getAccountInfo` and `accountNotification` give it, in `encoding` (default: bare base58). */
export function encodeAccount (account: AccountState, config: Record<string, unknown>): unknown {
  assertAccountEncoding(config)
  const encoding = config.encoding ?? 'binary'
  let data = account.data
  const slice = config.dataSlice as { offset?: unknown, length?: unknown } | undefined
  if (slice != null) {
    const offset = Number(integerParam(slice.offset, 'dataSlice.offset'))
    const length = Number(integerParam(slice.length, 'dataSlice.length'))
    data = data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length))
  }
  let encoded: unknown
  switch (encoding) {
    case 'binary':
    case 'base58':
      if (data.length > MAX_BASE58_BYTES) {
        throw new JsonRpcError(INVALID_REQUEST, 'Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.')
      }
      encoded = encoding === 'binary' ? encodeBase58(data) : [encodeBase58(data), 'base58']
      break
    case 'base64':
    case 'jsonParsed':
      // no account parsers here: jsonParsed falls back to base64, as Solana does for unknown owners
      encoded = [b64(data), 'base64']
      break
    default:
      throw invalidParams(`unsupported encoding: ${JSON.stringify(encoding)}`)
  }
  return {
    data: encoded,
    executable: account.executable,
    lamports: account.lamports,
    owner: account.owner,
    rentEpoch: account.rentEpoch,
    space: BigInt(account.data.length)
  }
}
