import type { AccountState, TransactionRecord } from './types.js'

/**
 * The records of the chain log and their JSON form (bigints as decimal strings, bytes as
 * base64). Decoding checks every field it restores: a record that decodes is one the chain
 * can replay.
 */

export interface GenesisRecord {
  type: 'genesis'
  version: 1
  /** the faucet's Ed25519 seed (a test faucet: the key lives in the data dir) */
  faucetSeed: Uint8Array
  faucetLamports: bigint
  /** unix seconds */
  genesisTime: number
  genesisHash: string
}

export interface TransactionLogRecord {
  type: 'tx'
  record: TransactionRecord
  /** the latest blockhash once the transaction landed */
  blockhash: string
  /** the post-state of every writable account */
  accounts: AccountState[]
}

export type LogRecord = GenesisRecord | TransactionLogRecord

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')
const fromB64 = (text: unknown): Uint8Array => new Uint8Array(Buffer.from(str(text), 'base64'))

function str (value: unknown): string {
  if (typeof value !== 'string') {
    throw new Error(`expected a string, got ${typeof value}`)
  }
  return value
}

function num (value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`expected a number, got ${typeof value}`)
  }
  return value
}

function big (value: unknown): bigint {
  return BigInt(str(value))
}

function arr (value: unknown): unknown[] {
  if (!Array.isArray(value)) {
    throw new Error('expected an array')
  }
  return value
}

function encodeAccount (a: AccountState): unknown {
  return { address: a.address, lamports: a.lamports.toString(), owner: a.owner, data: b64(a.data), executable: a.executable, rentEpoch: a.rentEpoch.toString() }
}

function decodeAccount (a: any): AccountState {
  return { address: str(a.address), lamports: big(a.lamports), owner: str(a.owner), data: fromB64(a.data), executable: a.executable === true, rentEpoch: big(a.rentEpoch) }
}

function encodeTransaction (r: TransactionRecord): unknown {
  return {
    signature: r.signature,
    slot: r.slot.toString(),
    blockHeight: r.blockHeight.toString(),
    blockTime: r.blockTime,
    wire: b64(r.wire),
    version: r.version,
    fee: r.fee.toString(),
    err: r.err,
    logMessages: r.logMessages,
    computeUnitsConsumed: r.computeUnitsConsumed.toString(),
    preBalances: r.preBalances.map(String),
    postBalances: r.postBalances.map(String),
    accountKeys: r.accountKeys,
    loadedAddresses: r.loadedAddresses,
    innerInstructions: r.innerInstructions,
    returnData: r.returnData == null ? null : { programId: r.returnData.programId, data: b64(r.returnData.data) },
    index: r.index
  }
}

function decodeTransaction (r: any): TransactionRecord {
  return {
    signature: str(r.signature),
    slot: big(r.slot),
    blockHeight: big(r.blockHeight),
    blockTime: num(r.blockTime),
    wire: fromB64(r.wire),
    version: r.version === 0 ? 0 : 'legacy',
    fee: big(r.fee),
    err: r.err ?? null,
    logMessages: arr(r.logMessages).map(str),
    computeUnitsConsumed: big(r.computeUnitsConsumed),
    preBalances: arr(r.preBalances).map(big),
    postBalances: arr(r.postBalances).map(big),
    accountKeys: arr(r.accountKeys).map(str),
    loadedAddresses: { writable: arr(r.loadedAddresses?.writable).map(str), readonly: arr(r.loadedAddresses?.readonly).map(str) },
    innerInstructions: arr(r.innerInstructions) as TransactionRecord['innerInstructions'],
    returnData: r.returnData == null ? null : { programId: str(r.returnData.programId), data: fromB64(r.returnData.data) },
    index: num(r.index)
  }
}

export function encodeLogRecord (record: LogRecord): string {
  if (record.type === 'genesis') {
    return JSON.stringify({ ...record, faucetSeed: b64(record.faucetSeed), faucetLamports: record.faucetLamports.toString() })
  }
  return JSON.stringify({ type: 'tx', record: encodeTransaction(record.record), blockhash: record.blockhash, accounts: record.accounts.map(encodeAccount) })
}

export function decodeLogRecord (text: string): LogRecord {
  const value = JSON.parse(text)
  if (value?.type === 'genesis') {
    if (value.version !== 1) {
      throw new Error(`unknown chain log version ${value.version}`)
    }
    return {
      type: 'genesis',
      version: 1,
      faucetSeed: fromB64(value.faucetSeed),
      faucetLamports: big(value.faucetLamports),
      genesisTime: num(value.genesisTime),
      genesisHash: str(value.genesisHash)
    }
  }
  if (value?.type === 'tx') {
    return { type: 'tx', record: decodeTransaction(value.record), blockhash: str(value.blockhash), accounts: arr(value.accounts).map(decodeAccount) }
  }
  throw new Error(`unknown record type ${value?.type}`)
}
