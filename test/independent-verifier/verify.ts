/**
 * A receipt proof verifier written from docs/PROTOCOL.md alone. It imports nothing of
 * shardmesh and no protobuf or Solana library: node:crypto, and the few decoders the document
 * describes, written out here. If this file needs a fact the document does not state, the
 * document is incomplete.
 *
 * Input: a proof file (`shardmesh-receipt-proof/1` JSON), the anchor transaction as JSON-RPC
 * `getTransaction` returns it (encoding `base64` or `json`), and the cluster's genesis hash
 * (`getGenesisHash`). Output: what the proof shows, or a `ProofCheckError` naming the check.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto'

/** The checks, in the order they run. */
export type Check =
  | 'format'                // the proof file is not a shardmesh-receipt-proof/1
  | 'receipt'               // the SignedReceipt or Receipt does not decode, or names a non-Ed25519 peer
  | 'worker-signature'      // the worker's signature over the receipt does not verify with the worker's key
  | 'countersignature'      // the requester's countersignature does not verify with the requester's key
  | 'merkle-path'           // the receipt's leaf does not lead to the batch root along the path
  | 'transaction'           // the transaction is not the anchor signature's, or does not decode
  | 'transaction-signature' // a signature on the transaction does not verify over its message
  | 'transaction-failed'    // the transaction landed but failed
  | 'memo'                  // no memo instruction reads shardmesh:v1:<root>:<count>
  | 'requester-signed'      // the requester's address did not sign the transaction
  | 'worker-signed'         // anchor.by is "worker" and the worker's address did not sign the transaction
  | 'slot'                  // the transaction landed in another slot than the proof states
  | 'cluster'               // the cluster's genesis hash is not the one the proof names

export class ProofCheckError extends Error {
  constructor (public readonly check: Check, message: string) {
    super(`${check}: ${message}`)
    this.name = 'ProofCheckError'
  }
}

function fail (check: Check, message: string): never {
  throw new ProofCheckError(check, message)
}

// ---- base58 (Bitcoin alphabet) ----

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

export function base58Encode (bytes: Uint8Array): string {
  let n = 0n
  for (const b of bytes) {
    n = n * 256n + BigInt(b)
  }
  let out = ''
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out
    n /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) {
      break
    }
    out = '1' + out
  }
  return out
}

export function base58Decode (text: string): Uint8Array {
  let n = 0n
  for (const c of text) {
    const v = ALPHABET.indexOf(c)
    if (v < 0) {
      throw new Error('not base58')
    }
    n = n * 58n + BigInt(v)
  }
  const bytes: number[] = []
  while (n > 0n) {
    bytes.unshift(Number(n % 256n))
    n /= 256n
  }
  for (const c of text) {
    if (c !== '1') {
      break
    }
    bytes.unshift(0)
  }
  return Uint8Array.from(bytes)
}

// ---- protobuf (only what a receipt needs: varints and length-delimited fields) ----

function readVarint (bytes: Uint8Array, at: { pos: number }): bigint {
  let value = 0n
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at.pos >= bytes.length) {
      throw new Error('truncated varint')
    }
    const b = bytes[at.pos++]
    value |= BigInt(b & 0x7f) << shift
    if ((b & 0x80) === 0) {
      return value
    }
  }
  throw new Error('varint too long')
}

/** Field number → every value it has (bigint for varints, bytes for length-delimited). */
type Fields = Map<number, Array<bigint | Uint8Array>>

function readFields (bytes: Uint8Array): Fields {
  const fields: Fields = new Map()
  const at = { pos: 0 }
  while (at.pos < bytes.length) {
    const tag = readVarint(bytes, at)
    const field = Number(tag >> 3n)
    const wire = Number(tag & 7n)
    let value: bigint | Uint8Array
    if (wire === 0) {
      value = readVarint(bytes, at)
    } else if (wire === 2) {
      const length = Number(readVarint(bytes, at))
      if (at.pos + length > bytes.length) {
        throw new Error('truncated field')
      }
      value = bytes.subarray(at.pos, at.pos + length)
      at.pos += length
    } else if (wire === 1 || wire === 5) {
      at.pos += wire === 1 ? 8 : 4
      if (at.pos > bytes.length) {
        throw new Error('truncated field')
      }
      continue
    } else {
      throw new Error(`wire type ${wire}`)
    }
    fields.set(field, [...(fields.get(field) ?? []), value])
  }
  return fields
}

function bytesField (fields: Fields, n: number): Uint8Array {
  const values = fields.get(n)
  const last = values?.[values.length - 1]
  if (last == null) {
    return new Uint8Array(0)
  }
  if (!(last instanceof Uint8Array)) {
    throw new Error(`field ${n} is not length-delimited`)
  }
  return last
}

function uintField (fields: Fields, n: number): bigint {
  const values = fields.get(n)
  const last = values?.[values.length - 1]
  if (last == null) {
    return 0n
  }
  if (typeof last !== 'bigint') {
    throw new Error(`field ${n} is not a varint`)
  }
  return last
}

function writeVarint (n: number): number[] {
  const out: number[] = []
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return out
}

/** A protobuf string field as proto3 writes it: absent when empty. */
function stringField (n: number, text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8')
  return bytes.length === 0 ? new Uint8Array(0) : Buffer.concat([Uint8Array.from([(n << 3) | 2, ...writeVarint(bytes.length)]), bytes])
}

// ---- keys and peer ids ----

/** The raw 32-byte key of a libp2p protobuf public key (KeyType Ed25519 = 1, Data = 32 bytes). */
function ed25519FromProtobuf (bytes: Uint8Array, what: string): Uint8Array {
  const fields = readFields(bytes)
  const data = bytesField(fields, 2)
  if (uintField(fields, 1) !== 1n || data.length !== 32) {
    fail('receipt', `${what} is not an Ed25519 key`)
  }
  return data
}

/** The raw key of an Ed25519 peer id: an identity multihash (0x00, length 36) of its protobuf public key. */
function ed25519FromPeerId (multihash: Uint8Array, what: string): Uint8Array {
  if (multihash.length !== 38 || multihash[0] !== 0x00 || multihash[1] !== 36) {
    fail('receipt', `${what} is not an Ed25519 peer id`)
  }
  return ed25519FromProtobuf(multihash.subarray(2), what)
}

function ed25519Verify (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) {
    return false
  }
  try {
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]), format: 'der', type: 'spki' })
    return verifySignature(null, data, key, signature)
  } catch {
    return false
  }
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b))
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) {
    h.update(p)
  }
  return h.digest()
}

// ---- Merkle (RFC 9162 §2.1.3.2) ----

function verifyInclusion (leaf: Uint8Array, index: number, size: number, path: Uint8Array[], root: Uint8Array): boolean {
  const r = rootFromPath(leaf, index, size, path)
  return r != null && same(r, root)
}

/** The root a leaf hash leads to along an audit path (RFC 9162 §2.1.3.2); undefined if the path cannot fit. */
function rootFromPath (leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): Uint8Array | undefined {
  if (index < 0 || index >= size || path.some(p => p.length !== 32)) {
    return undefined
  }
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) {
      return undefined
    }
    if (fn % 2 === 1 || fn === sn) {
      r = sha256(Uint8Array.of(1), p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2
        sn = Math.floor(sn / 2)
      }
    } else {
      r = sha256(Uint8Array.of(1), r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : undefined
}

/**
 * What a signature over `leaf` covers: the single-receipt message, or, when the SignedReceipt
 * carries a GroupPath (field `groupField`), domain ‖ u32be(count) ‖ the group's root. Undefined
 * when the GroupPath cannot be one of a group of 2 to 64.
 */
function signedMessage (signed: Fields, groupField: number, leaf: Uint8Array, single: Uint8Array, groupDomain: string): Uint8Array | undefined {
  if (!signed.has(groupField)) {
    return single
  }
  const group = readFields(bytesField(signed, groupField))
  const index = Number(uintField(group, 1))
  const count = Number(uintField(group, 2))
  const path = (group.get(3) ?? []).map(p => {
    if (!(p instanceof Uint8Array)) {
      throw new Error('a group path entry is not length-delimited')
    }
    return p
  })
  if (count < 2 || count > 64) {
    return undefined
  }
  const root = rootFromPath(sha256(Uint8Array.of(0), leaf), index, count, path)
  if (root == null) {
    return undefined
  }
  const countBytes = Buffer.alloc(4)
  countBytes.writeUInt32BE(count)
  return Buffer.concat([Buffer.from(groupDomain), countBytes, root])
}

// ---- Solana transactions ----

function readCompactU16 (bytes: Uint8Array, at: { pos: number }): number {
  let value = 0
  for (let i = 0; i < 3; i++) {
    const b = bytes[at.pos++]
    if (b === undefined) {
      throw new Error('truncated')
    }
    value |= (b & 0x7f) << (7 * i)
    if ((b & 0x80) === 0) {
      return value
    }
  }
  throw new Error('compact-u16 too long')
}

interface ParsedTransaction {
  signatures: Uint8Array[]
  message: Uint8Array
  numRequiredSignatures: number
  accountKeys: Uint8Array[]
  instructions: Array<{ programIdIndex: number, data: Uint8Array }>
}

/** A wire transaction (legacy or v0): signatures, then the message they sign. */
function parseWireTransaction (wire: Uint8Array): ParsedTransaction {
  const at = { pos: 0 }
  const count = readCompactU16(wire, at)
  const signatures: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    signatures.push(wire.subarray(at.pos, at.pos + 64))
    at.pos += 64
  }
  const message = wire.subarray(at.pos)
  const m = { pos: 0 }
  if ((message[0] & 0x80) !== 0) {
    m.pos++ // version prefix (0x80 | version)
  }
  const numRequiredSignatures = message[m.pos]
  m.pos += 3
  const keys = readCompactU16(message, m)
  const accountKeys: Uint8Array[] = []
  for (let i = 0; i < keys; i++) {
    accountKeys.push(message.subarray(m.pos, m.pos + 32))
    m.pos += 32
  }
  m.pos += 32 // recent blockhash
  const instructions: ParsedTransaction['instructions'] = []
  const n = readCompactU16(message, m)
  for (let i = 0; i < n; i++) {
    const programIdIndex = message[m.pos++]
    const accounts = readCompactU16(message, m)
    m.pos += accounts // one byte per account index
    const length = readCompactU16(message, m)
    instructions.push({ programIdIndex, data: message.subarray(m.pos, m.pos + length) })
    m.pos += length
  }
  if (m.pos > message.length || signatures.some(s => s.length !== 64)) {
    throw new Error('truncated')
  }
  return { signatures, message, numRequiredSignatures, accountKeys, instructions }
}

/**
 * The wire bytes of a `json`-encoded transaction (legacy, or v0 without address table lookups:
 * `version` is the result's `version`), rebuilt from its fields.
 */
function wireFromJson (tx: any, version: unknown): Uint8Array {
  const m = tx.message
  if (m.addressTableLookups != null && m.addressTableLookups.length > 0) {
    throw new Error('address table lookups are not rebuilt here')
  }
  const parts: number[] = [...writeCompactU16(tx.signatures.length)]
  for (const s of tx.signatures) {
    parts.push(...base58Decode(s))
  }
  if (version === 0) {
    parts.push(0x80)
  }
  parts.push(m.header.numRequiredSignatures, m.header.numReadonlySignedAccounts, m.header.numReadonlyUnsignedAccounts)
  parts.push(...writeCompactU16(m.accountKeys.length))
  for (const k of m.accountKeys) {
    parts.push(...base58Decode(k))
  }
  parts.push(...base58Decode(m.recentBlockhash))
  parts.push(...writeCompactU16(m.instructions.length))
  for (const ix of m.instructions) {
    const data = base58Decode(ix.data)
    parts.push(ix.programIdIndex, ...writeCompactU16(ix.accounts.length), ...ix.accounts, ...writeCompactU16(data.length), ...data)
  }
  if (version === 0) {
    parts.push(0) // no address table lookups
  }
  return Uint8Array.from(parts)
}

function writeCompactU16 (n: number): number[] {
  return writeVarint(n)
}

const MEMO_PROGRAMS = new Set(['MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr', 'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo'])

// ---- the proof ----

export interface VerifiedProof {
  /** hex sha256 of the Receipt bytes */
  receiptId: string
  worker: Uint8Array
  requester: Uint8Array
  /** base58 Solana address of the requester (its Ed25519 public key) */
  requesterAddress: string
  /** who signed the anchor: the requester, or the worker when the proof says `anchor.by: "worker"` */
  anchoredBy: 'requester' | 'worker'
  policy: string
  outcome: string
  items: number
  root: string
  slot: bigint
}

/**
 * Verify `proofText` (the proof file), `transaction` (the `result` of `getTransaction` for the
 * proof's anchor signature, in `base64` or `json` encoding) and `genesisHash` (the `result`
 * of `getGenesisHash` on the same RPC).
 */
export function verifyProof (proofText: string, transaction: any, genesisHash: string): VerifiedProof {
  let proof: any
  try {
    proof = JSON.parse(proofText)
  } catch {
    fail('format', 'not JSON')
  }
  if (proof?.format !== 'shardmesh-receipt-proof/1' || typeof proof.receipt !== 'string' || proof.batch == null || proof.anchor == null) {
    fail('format', 'not a shardmesh-receipt-proof/1 with an anchor')
  }
  const signedReceipt = Buffer.from(proof.receipt, 'base64')
  const root = Buffer.from(String(proof.batch.root), 'hex')
  const path: Uint8Array[] = (proof.batch.path as string[]).map(h => Buffer.from(h, 'hex'))
  const { count, index } = proof.batch
  if (root.length !== 32 || path.some(p => p.length !== 32) || !Number.isSafeInteger(count) || !Number.isSafeInteger(index)) {
    fail('format', 'malformed batch')
  }

  // the SignedReceipt and its Receipt
  let receipt: Uint8Array, workerKey: Uint8Array, requesterKey: Uint8Array, worker: Uint8Array, requester: Uint8Array
  let signed: Fields, fields: Fields, policy: string, outcome: string
  try {
    signed = readFields(signedReceipt)
    receipt = bytesField(signed, 1)
    fields = readFields(receipt)
    const verification = readFields(bytesField(signed, 4))
    policy = Buffer.from(bytesField(verification, 1)).toString('utf8')
    outcome = Buffer.from(bytesField(verification, 2)).toString('utf8')
    worker = ed25519FromPeerId(bytesField(fields, 8), 'the worker')
    requester = ed25519FromPeerId(bytesField(fields, 9), 'the requester')
    workerKey = ed25519FromProtobuf(bytesField(signed, 2), 'worker_key')
    requesterKey = ed25519FromProtobuf(bytesField(signed, 5), 'requester_key')
  } catch (err: any) {
    if (err instanceof ProofCheckError) {
      throw err
    }
    fail('receipt', `does not decode (${err.message})`)
  }

  // the worker's signature: Ed25519 over "shardmesh:receipt:v1" || Receipt bytes, or, for a
  // receipt signed in a group (field 7), over "shardmesh:receipt-group:v1" || u32be(count) || root
  let workerMessage: Uint8Array | undefined
  let requesterMessage: Uint8Array | undefined
  try {
    workerMessage = signedMessage(signed, 7, receipt, Buffer.concat([Buffer.from('shardmesh:receipt:v1'), receipt]), 'shardmesh:receipt-group:v1')
    // the countersignature: "shardmesh:countersign:v1" || u32be(len(receipt)) || receipt || Verification,
    // or, countersigned in a group (field 8), "shardmesh:countersign-group:v1" || u32be(count) || the
    // root over each receipt's u32be(len(receipt)) || receipt || Verification
    const length = Buffer.alloc(4)
    length.writeUInt32BE(receipt.length)
    const verificationBytes = Buffer.concat([stringField(1, policy), stringField(2, outcome)])
    const body = Buffer.concat([length, receipt, verificationBytes])
    requesterMessage = signedMessage(signed, 8, body, Buffer.concat([Buffer.from('shardmesh:countersign:v1'), body]), 'shardmesh:countersign-group:v1')
  } catch (err: any) {
    fail('receipt', `does not decode (${err.message})`)
  }
  if (workerMessage == null || !same(workerKey, worker) || !ed25519Verify(worker, workerMessage, bytesField(signed, 3))) {
    fail('worker-signature', 'the worker named in the receipt did not sign it')
  }
  if (requesterMessage == null || !same(requesterKey, requester) || !ed25519Verify(requester, requesterMessage, bytesField(signed, 6))) {
    fail('countersignature', 'the requester named in the receipt did not countersign it')
  }

  // the leaf (sha256 of 0x00 || the whole SignedReceipt) and its audit path to the root
  if (!verifyInclusion(sha256(Uint8Array.of(0), signedReceipt), index, count, path, root)) {
    fail('merkle-path', `the receipt is not leaf ${index} of ${count} under root ${root.toString('hex')}`)
  }

  // the anchor transaction
  let tx: ParsedTransaction
  try {
    const t = transaction.transaction
    const wire = Array.isArray(t) ? (t[1] === 'base58' ? base58Decode(t[0]) : Buffer.from(t[0], 'base64')) : wireFromJson(t, transaction.version)
    tx = parseWireTransaction(wire)
  } catch (err: any) {
    fail('transaction', `does not decode (${String(err?.message)})`)
  }
  if (tx.signatures.length === 0 || base58Encode(tx.signatures[0]) !== proof.anchor.signature) {
    fail('transaction', `this is not transaction ${String(proof.anchor.signature)}`)
  }
  for (let i = 0; i < tx.numRequiredSignatures; i++) {
    if (!ed25519Verify(tx.accountKeys[i], tx.message, tx.signatures[i])) {
      fail('transaction-signature', `signature ${i} does not verify over the message`)
    }
  }
  if (transaction.meta == null || transaction.meta.err != null) {
    fail('transaction-failed', `the transaction failed: ${JSON.stringify(transaction.meta?.err)}`)
  }
  const memo = `shardmesh:v1:${root.toString('hex')}:${count}`
  const memos = tx.instructions
    .filter(ix => MEMO_PROGRAMS.has(base58Encode(tx.accountKeys[ix.programIdIndex] ?? new Uint8Array(0))))
    .map(ix => Buffer.from(ix.data).toString('utf8'))
  if (!memos.includes(memo)) {
    fail('memo', `no memo reads ${memo} (found ${JSON.stringify(memos)})`)
  }
  // the party that anchored signed it: the requester, unless anchor.by says the worker did
  const anchoredBy = proof.anchor.by === undefined ? 'requester' : proof.anchor.by
  if (anchoredBy !== 'requester' && anchoredBy !== 'worker') {
    fail('format', `anchor.by is ${JSON.stringify(proof.anchor.by)}`)
  }
  const requesterAddress = base58Encode(requester)
  const anchorerAddress = anchoredBy === 'worker' ? base58Encode(worker) : requesterAddress
  const signers = tx.accountKeys.slice(0, tx.numRequiredSignatures).map(base58Encode)
  if (!signers.includes(anchorerAddress)) {
    fail(anchoredBy === 'worker' ? 'worker-signed' : 'requester-signed', `${anchorerAddress} did not sign the transaction (signers: ${signers.join(', ')})`)
  }
  if (String(transaction.slot) !== String(proof.anchor.slot)) {
    fail('slot', `the proof states slot ${String(proof.anchor.slot)}, the transaction is in slot ${String(transaction.slot)}`)
  }
  if (proof.cluster !== undefined && proof.cluster !== genesisHash) {
    fail('cluster', `the proof names cluster ${String(proof.cluster)}, the RPC serves ${genesisHash}`)
  }

  return {
    receiptId: Buffer.from(sha256(receipt)).toString('hex'),
    worker,
    requester,
    requesterAddress,
    anchoredBy,
    policy,
    outcome,
    items: Number(uintField(fields, 12)),
    root: root.toString('hex'),
    slot: BigInt(transaction.slot)
  }
}

/** One JSON-RPC call with plain fetch. */
export async function rpcCall (url: string, method: string, params: unknown[]): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const body = await res.json() as { result?: unknown, error?: { message: string } }
  if (body.error != null) {
    throw new Error(`${method}: ${body.error.message}`)
  }
  return body.result
}
