import { isGenesisHash } from '../proof.js'
import { MAX_MERKLE_PATH_LENGTH, MERKLE_HASH_BYTES } from '../constants.js'
import { toHex, u64FromDecimal } from '../encoding.js'
import type { ReceiptRole } from './types.js'

/**
 * The records of the receipt log. Each is one frame's payload: a kind byte, then
 *
 * - receipt: u64 storedAt (ms) ‖ the signed receipt's bytes (held as the requester; kind 1)
 * - worker receipt: the same, held as the worker (kind 5; a log without it reads as before)
 * - batch:   u64 sealedAt (ms) ‖ root (32) ‖ the receipt ids in leaf order (32 each)
 * - attempt: JSON { root, signature, wire, lastValidBlockHeight: decimal }
 * - anchor:  JSON { root, signature, slot: decimal, fee?: decimal, anchoredAt }
 * - proof:   JSON { id, root, count, index, path: [hex], signature, slot: decimal, cluster?, storedAt }:
 *            the Merkle path and anchor of a `worker` receipt, as its requester sent them (kind 6;
 *            a log without it reads as before)
 * - signed:  u64 signedAt (ms) ‖ receipt id (32) ‖ the requester's peer id (multihash bytes): a
 *            receipt this node signed as the worker, whose countersigned receipt it has yet to
 *            get (kind 7; a log without it reads as before)
 *
 * Receipts and batches are binary (they are most of the log); the rare anchor records are JSON.
 */

export const RecordKind = {
  RECEIPT: 1,
  BATCH: 2,
  ATTEMPT: 3,
  ANCHOR: 4,
  WORKER_RECEIPT: 5,
  PROOF: 6,
  SIGNED: 7
} as const

/** A stored receipt; `role` defaults to `requester` (kind 1). */
export interface ReceiptRecord { kind: 'receipt', storedAt: number, bytes: Uint8Array, role?: ReceiptRole }
export interface BatchRecord { kind: 'batch', sealedAt: number, root: string, receiptIds: string[] }
export interface AttemptRecord { kind: 'attempt', root: string, signature: string, wire: string, lastValidBlockHeight: bigint }
export interface AnchorRecord { kind: 'anchor', root: string, signature: string, slot: bigint, fee?: bigint, anchoredAt: number, cluster?: string }
/** The proof of a `worker` receipt: its batch (root, size, leaf index, audit path) and the anchor, all hex/base58. */
export interface ProofRecord { kind: 'proof', id: string, root: string, count: number, index: number, path: string[], signature: string, slot: bigint, cluster?: string, storedAt: number }
/** A receipt this node signed as the worker (its id, hex) for `requester` (multihash bytes). */
export interface SignedRecord { kind: 'signed', signedAt: number, id: string, requester: Uint8Array }
export type LogRecord = ReceiptRecord | BatchRecord | AttemptRecord | AnchorRecord | ProofRecord | SignedRecord

const HEADER = 1 + 8

function withHeader (kind: number, time: number, size: number): { payload: Uint8Array, view: DataView } {
  const payload = new Uint8Array(HEADER + size)
  const view = new DataView(payload.buffer)
  payload[0] = kind
  view.setBigUint64(1, BigInt(Math.max(0, Math.floor(time))))
  return { payload, view }
}

function jsonPayload (kind: number, value: Record<string, unknown>): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(value))
  const payload = new Uint8Array(1 + json.byteLength)
  payload[0] = kind
  payload.set(json, 1)
  return payload
}

export function encodeRecord (record: LogRecord): Uint8Array {
  switch (record.kind) {
    case 'receipt': {
      const { payload } = withHeader(record.role === 'worker' ? RecordKind.WORKER_RECEIPT : RecordKind.RECEIPT, record.storedAt, record.bytes.byteLength)
      payload.set(record.bytes, HEADER)
      return payload
    }
    case 'batch': {
      const { payload } = withHeader(RecordKind.BATCH, record.sealedAt, MERKLE_HASH_BYTES * (1 + record.receiptIds.length))
      payload.set(Buffer.from(record.root, 'hex'), HEADER)
      record.receiptIds.forEach((id, i) => { payload.set(Buffer.from(id, 'hex'), HEADER + MERKLE_HASH_BYTES * (i + 1)) })
      return payload
    }
    case 'attempt':
      return jsonPayload(RecordKind.ATTEMPT, {
        root: record.root, signature: record.signature, wire: record.wire, lastValidBlockHeight: record.lastValidBlockHeight.toString()
      })
    case 'anchor':
      return jsonPayload(RecordKind.ANCHOR, {
        root: record.root, signature: record.signature, slot: record.slot.toString(), fee: record.fee?.toString(), anchoredAt: record.anchoredAt, cluster: record.cluster
      })
    case 'signed': {
      const { payload } = withHeader(RecordKind.SIGNED, record.signedAt, MERKLE_HASH_BYTES + record.requester.byteLength)
      payload.set(Buffer.from(record.id, 'hex'), HEADER)
      payload.set(record.requester, HEADER + MERKLE_HASH_BYTES)
      return payload
    }
    case 'proof':
      return jsonPayload(RecordKind.PROOF, {
        id: record.id, root: record.root, count: record.count, index: record.index, path: record.path, signature: record.signature, slot: record.slot.toString(), cluster: record.cluster, storedAt: record.storedAt
      })
  }
}

/** The record of a payload whose checksum passed; throws a plain Error if it makes no sense. */
export function decodeRecord (payload: Uint8Array): LogRecord {
  const kind = payload[0]
  if (kind === RecordKind.RECEIPT || kind === RecordKind.WORKER_RECEIPT || kind === RecordKind.BATCH) {
    if (payload.byteLength < HEADER) {
      throw new Error('record shorter than its header')
    }
    const time = Number(new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getBigUint64(1))
    const body = payload.subarray(HEADER)
    if (kind !== RecordKind.BATCH) {
      return { kind: 'receipt', storedAt: time, bytes: new Uint8Array(body), role: kind === RecordKind.WORKER_RECEIPT ? 'worker' : 'requester' }
    }
    if (body.byteLength < MERKLE_HASH_BYTES || body.byteLength % MERKLE_HASH_BYTES !== 0) {
      throw new Error(`batch record of ${body.byteLength} bytes`)
    }
    const receiptIds: string[] = []
    for (let at = MERKLE_HASH_BYTES; at < body.byteLength; at += MERKLE_HASH_BYTES) {
      receiptIds.push(toHex(body.subarray(at, at + MERKLE_HASH_BYTES)))
    }
    return { kind: 'batch', sealedAt: time, root: toHex(body.subarray(0, MERKLE_HASH_BYTES)), receiptIds }
  }
  if (kind === RecordKind.SIGNED) {
    // a peer id multihash is at most an identity multihash of a 36-byte public key, or a sha256 one
    if (payload.byteLength < HEADER + MERKLE_HASH_BYTES + 2 || payload.byteLength > HEADER + MERKLE_HASH_BYTES + 128) {
      throw new Error(`signed record of ${payload.byteLength} bytes`)
    }
    const signedAt = Number(new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getBigUint64(1))
    return { kind: 'signed', signedAt, id: toHex(payload.subarray(HEADER, HEADER + MERKLE_HASH_BYTES)), requester: new Uint8Array(payload.subarray(HEADER + MERKLE_HASH_BYTES)) }
  }
  if (kind === RecordKind.PROOF) {
    return decodeProofRecord(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1))))
  }
  if (kind === RecordKind.ATTEMPT || kind === RecordKind.ANCHOR) {
    const json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(1)))
    const root = String(json.root)
    const signature = String(json.signature)
    if (kind === RecordKind.ATTEMPT) {
      const lastValidBlockHeight = u64FromDecimal(json.lastValidBlockHeight)
      if (lastValidBlockHeight == null || typeof json.wire !== 'string') {
        throw new Error('malformed anchor attempt record')
      }
      return { kind: 'attempt', root, signature, wire: json.wire, lastValidBlockHeight }
    }
    const slot = u64FromDecimal(json.slot)
    const fee = json.fee == null ? undefined : u64FromDecimal(json.fee)
    if (slot == null || (json.fee != null && fee == null) || typeof json.anchoredAt !== 'number') {
      throw new Error('malformed anchor record')
    }
    if (json.cluster != null && (typeof json.cluster !== 'string' || !isGenesisHash(json.cluster))) {
      throw new Error('malformed anchor record: cluster')
    }
    return { kind: 'anchor', root, signature, slot, fee, anchoredAt: json.anchoredAt, ...(json.cluster != null ? { cluster: json.cluster } : {}) }
  }
  throw new Error(`unknown record kind ${kind}`)
}

const HEX_HASH = /^[0-9a-f]{64}$/

function decodeProofRecord (json: any): ProofRecord {
  const slot = u64FromDecimal(json?.slot)
  if (typeof json !== 'object' || json == null || !HEX_HASH.test(json.id) || !HEX_HASH.test(json.root) ||
    !Number.isSafeInteger(json.count) || json.count < 1 || !Number.isSafeInteger(json.index) || json.index < 0 || json.index >= json.count ||
    !Array.isArray(json.path) || json.path.length > MAX_MERKLE_PATH_LENGTH || !json.path.every((hash: unknown) => typeof hash === 'string' && HEX_HASH.test(hash)) ||
    typeof json.signature !== 'string' || slot == null || typeof json.storedAt !== 'number') {
    throw new Error('malformed proof record')
  }
  if (json.cluster != null && !isGenesisHash(json.cluster)) {
    throw new Error('malformed proof record: cluster')
  }
  return { kind: 'proof', id: json.id, root: json.root, count: json.count, index: json.index, path: json.path, signature: json.signature, slot, storedAt: json.storedAt, ...(json.cluster != null ? { cluster: json.cluster } : {}) }
}
