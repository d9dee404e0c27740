import { InvalidTransactionError } from '@shardmesh/solana'
import { encodeBase58 } from './base58.js'
import {
  COMPUTE_BUDGET_PROGRAM, DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT, LAMPORTS_PER_SIGNATURE, MAX_COMPUTE_UNIT_LIMIT, MEMO_PROGRAMS
} from './constants.js'

/**
 * Reading legacy and v0 wire transactions (Solana's bincode layout with compact-u16
 * lengths): signatures, header, keys, blockhash, instructions, address-table lookups. Bytes
 * that are not exactly one such transaction (short, trailing bytes, indices out of range, a
 * signature count that does not match the header) are an `InvalidTransactionError`.
 */

export interface CompiledInstruction {
  programIdIndex: number
  accounts: number[]
  data: Uint8Array
}

export interface AddressLookup {
  lookupTableAddress: string
  writableIndexes: number[]
  readonlyIndexes: number[]
}

export interface CompiledMessage {
  version: 'legacy' | 0
  header: {
    numRequiredSignatures: number
    numReadonlySignedAccounts: number
    numReadonlyUnsignedAccounts: number
  }
  /** the static account keys, base58 */
  staticAccounts: string[]
  recentBlockhash: string
  instructions: CompiledInstruction[]
  addressTableLookups: AddressLookup[]
}

export interface ParsedWire {
  /** the bytes as received */
  wire: Uint8Array
  signatures: Uint8Array[]
  messageBytes: Uint8Array
  message: CompiledMessage
  version: 'legacy' | 0
  /** base58 fee payer signature; null when it is all zeros (missing) */
  signature: string | null
  /** whether every required signature is present (non-zero) */
  fullySigned: boolean
  blockhash: string
}

class Reader {
  offset = 0
  constructor (private readonly bytes: Uint8Array) {}

  get done (): boolean {
    return this.offset === this.bytes.length
  }

  u8 (): number {
    if (this.offset >= this.bytes.length) {
      throw new Error('unexpected end of data')
    }
    return this.bytes[this.offset++]
  }

  /** compact-u16: 7 bits per byte, at most 3 bytes */
  length (): number {
    let value = 0
    for (let i = 0; i < 3; i++) {
      const byte = this.u8()
      value |= (byte & 0x7f) << (7 * i)
      if ((byte & 0x80) === 0) {
        return value
      }
    }
    throw new Error('bad compact-u16 length')
  }

  take (n: number): Uint8Array {
    if (this.offset + n > this.bytes.length) {
      throw new Error('unexpected end of data')
    }
    const out = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  list (): number[] {
    return [...this.take(this.length())]
  }
}

function readMessage (reader: Reader): CompiledMessage {
  let version: 'legacy' | 0 = 'legacy'
  let first = reader.u8()
  if ((first & 0x80) !== 0) {
    if ((first & 0x7f) !== 0) {
      throw new Error(`unsupported transaction version ${first & 0x7f}`)
    }
    version = 0
    first = reader.u8()
  }
  const header = { numRequiredSignatures: first, numReadonlySignedAccounts: reader.u8(), numReadonlyUnsignedAccounts: reader.u8() }
  const keyCount = reader.length()
  const staticAccounts: string[] = []
  for (let i = 0; i < keyCount; i++) {
    staticAccounts.push(encodeBase58(reader.take(32)))
  }
  const recentBlockhash = encodeBase58(reader.take(32))
  const instructions: CompiledInstruction[] = []
  for (let i = reader.length(); i > 0; i--) {
    instructions.push({ programIdIndex: reader.u8(), accounts: reader.list(), data: reader.take(reader.length()) })
  }
  const addressTableLookups: AddressLookup[] = []
  if (version === 0) {
    for (let i = reader.length(); i > 0; i--) {
      addressTableLookups.push({ lookupTableAddress: encodeBase58(reader.take(32)), writableIndexes: reader.list(), readonlyIndexes: reader.list() })
    }
  }
  const loaded = addressTableLookups.reduce((n, l) => n + l.writableIndexes.length + l.readonlyIndexes.length, 0)
  const total = keyCount + loaded
  if (header.numRequiredSignatures === 0 || header.numRequiredSignatures > keyCount ||
    header.numReadonlySignedAccounts >= header.numRequiredSignatures || header.numReadonlyUnsignedAccounts > keyCount - header.numRequiredSignatures) {
    throw new Error('the message header does not fit its keys')
  }
  for (const instruction of instructions) {
    if (instruction.programIdIndex >= keyCount || instruction.accounts.some(index => index >= total)) {
      throw new Error('an instruction refers to an account the message does not have')
    }
  }
  return { version, header, staticAccounts, recentBlockhash, instructions, addressTableLookups }
}

/** Decode a signed wire transaction. */
export function parseWire (wire: Uint8Array): ParsedWire {
  try {
    const reader = new Reader(wire)
    const signatures: Uint8Array[] = []
    for (let i = reader.length(); i > 0; i--) {
      signatures.push(reader.take(64))
    }
    const start = reader.offset
    const message = readMessage(reader)
    if (!reader.done) {
      throw new Error('trailing bytes after the message')
    }
    if (signatures.length !== message.header.numRequiredSignatures) {
      throw new Error(`${signatures.length} signatures for ${message.header.numRequiredSignatures} required signers`)
    }
    const present = signatures.map(s => s.some(byte => byte !== 0))
    return {
      wire,
      signatures,
      messageBytes: wire.subarray(start),
      message,
      version: message.version,
      signature: present[0] ? encodeBase58(signatures[0]) : null,
      fullySigned: present.every(Boolean),
      blockhash: message.recentBlockhash
    }
  } catch (err: any) {
    throw new InvalidTransactionError(`failed to deserialize the transaction: ${err.message}`, { cause: err })
  }
}

/** Decode message bytes alone (`getFeeForMessage`). */
export function parseMessage (bytes: Uint8Array): CompiledMessage {
  try {
    const reader = new Reader(bytes)
    const message = readMessage(reader)
    if (!reader.done) {
      throw new Error('trailing bytes after the message')
    }
    return message
  } catch (err: any) {
    throw new InvalidTransactionError(`failed to deserialize the message: ${err.message}`, { cause: err })
  }
}

/** Whether static key `index` is writable under the message header. */
export function isStaticWritable (message: CompiledMessage, index: number): boolean {
  const { numRequiredSignatures, numReadonlySignedAccounts, numReadonlyUnsignedAccounts } = message.header
  if (index < numRequiredSignatures) {
    return index < numRequiredSignatures - numReadonlySignedAccounts
  }
  return index < message.staticAccounts.length - numReadonlyUnsignedAccounts
}

/** Size of an address lookup table's metadata, before its addresses. */
const LOOKUP_TABLE_META_SIZE = 56

/** The addresses stored in an address lookup table account's data. */
export function lookupTableAddresses (data: Uint8Array): string[] {
  const out: string[] = []
  for (let offset = LOOKUP_TABLE_META_SIZE; offset + 32 <= data.length; offset += 32) {
    out.push(encodeBase58(data.subarray(offset, offset + 32)))
  }
  return out
}

const utf8 = new TextDecoder()

/** The memos of a message as Solana lists them: `[len] text` joined by `; `, or null when there are none. */
export function extractMemos (message: CompiledMessage): string | null {
  const memos: string[] = []
  for (const instruction of message.instructions) {
    if (MEMO_PROGRAMS.includes(message.staticAccounts[instruction.programIdIndex])) {
      const text = utf8.decode(instruction.data)
      memos.push(`[${Buffer.byteLength(text)}] ${text}`)
    }
  }
  return memos.length === 0 ? null : memos.join('; ')
}

/**
 * What the message costs: 5000 lamports per signature plus the priority fee
 * (compute-unit price × limit, rounded up) from its ComputeBudget instructions.
 */
export function feeForMessage (message: CompiledMessage): bigint {
  let price = 0n
  let limit: number | undefined
  let otherInstructions = 0
  for (const { programIdIndex, data } of message.instructions) {
    if (message.staticAccounts[programIdIndex] !== COMPUTE_BUDGET_PROGRAM || data.length === 0) {
      otherInstructions++
      continue
    }
    const view = new DataView(data.buffer, data.byteOffset, data.length)
    if (data[0] === 2 && data.length >= 5) {
      limit = view.getUint32(1, true)
    } else if (data[0] === 3 && data.length >= 9) {
      price = view.getBigUint64(1, true)
    }
  }
  const units = BigInt(Math.min(MAX_COMPUTE_UNIT_LIMIT, limit ?? otherInstructions * DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT))
  const priority = (price * units + 999_999n) / 1_000_000n
  return LAMPORTS_PER_SIGNATURE * BigInt(message.header.numRequiredSignatures) + priority
}
