import { createPublicKey, verify } from 'node:crypto'
import {
  appendTransactionMessageInstruction,
  assertIsBlockhash,
  createTransactionMessage,
  getAddressEncoder,
  getBase58Decoder,
  getBase64EncodedWireTransaction,
  getCompiledTransactionMessageDecoder,
  getSignatureFromTransaction,
  getTransactionDecoder,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners
} from '@solana/kit'
import { MAX_TRANSACTION_SIZE } from './constants.js'
import { InvalidTransactionError, TransactionTooLargeError } from './errors.js'
import { decodeMemo, getMemoInstruction, isMemoProgram } from './memo.js'
import type { PreparedAnchor } from './ledger.js'
import type { Address, ReadonlyUint8Array, TransactionSigner } from '@solana/kit'

/**
 * Anchor transactions: built and signed with @solana/kit, and read back from wire bytes
 * without trusting anyone's account of them (every signature is checked here).
 */

export interface AnchorTransactionInit {
  /** the memo text, e.g. `anchorMemo(root, count)` */
  memo: string
  /** signs the memo: the node key, the address `verifyAnchor` expects */
  signer: TransactionSigner
  /** pays the fee @default signer */
  feePayer?: TransactionSigner
  /** a recent blockhash and the block height past which the transaction is dead */
  blockhash: { blockhash: string, lastValidBlockHeight: bigint }
}

/** Build and sign the one-instruction (SPL Memo) anchor transaction. Throws `TransactionTooLargeError` over 1232 bytes. */
export async function buildAnchorTransaction (init: AnchorTransactionInit): Promise<PreparedAnchor> {
  const { memo, signer, blockhash } = init
  // one signer object per address: kit refuses two different signers for the same address
  const feePayer = init.feePayer == null || init.feePayer.address === signer.address ? signer : init.feePayer
  assertIsBlockhash(blockhash.blockhash)
  const lifetime = { blockhash: blockhash.blockhash, lastValidBlockHeight: blockhash.lastValidBlockHeight }
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    m => setTransactionMessageFeePayerSigner(feePayer, m),
    m => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
    m => appendTransactionMessageInstruction(getMemoInstruction(memo, signer), m)
  )
  const transaction = await signTransactionMessageWithSigners(message)
  const wire = getBase64EncodedWireTransaction(transaction)
  const size = Buffer.byteLength(wire, 'base64')
  if (size > MAX_TRANSACTION_SIZE) {
    throw new TransactionTooLargeError(size, MAX_TRANSACTION_SIZE)
  }
  return {
    signature: getSignatureFromTransaction(transaction),
    wire,
    lastValidBlockHeight: blockhash.lastValidBlockHeight,
    memo
  }
}

/** A transaction as read from its wire bytes. */
export interface ParsedTransaction {
  /** the first (fee payer's) signature, base58: the transaction's id */
  signature: string
  /** addresses whose Ed25519 signature over the message verifies, in account order */
  signers: string[]
  /** the UTF-8 text of every SPL Memo instruction (v2+ and v1 programs), in order */
  memos: string[]
  /** the fee payer's address (the first account) */
  feePayer: string
  /** the blockhash (or durable nonce) the transaction was signed against */
  lifetimeToken: string
}

const transactionDecoder = getTransactionDecoder()
const messageDecoder = getCompiledTransactionMessageDecoder()
const addressEncoder = getAddressEncoder()
const base58 = getBase58Decoder()
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

function verifies (signer: Address, message: ReadonlyUint8Array, signature: ReadonlyUint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, addressEncoder.encode(signer) as Uint8Array]), format: 'der', type: 'spki' })
    return verify(null, message as Uint8Array, key, signature as Uint8Array)
  } catch {
    return false
  }
}

/**
 * Read a wire transaction: its id, which signatures verify (checked here, against the message
 * bytes), its memos and fee payer. Throws `TransactionTooLargeError` over 1232 bytes and
 * `InvalidTransactionError` on anything that does not decode as one.
 */
export function parseTransaction (wire: Uint8Array): ParsedTransaction {
  if (wire.byteLength > MAX_TRANSACTION_SIZE) {
    throw new TransactionTooLargeError(wire.byteLength, MAX_TRANSACTION_SIZE)
  }
  if (wire.byteLength === 0) {
    throw new InvalidTransactionError('empty transaction')
  }
  let transaction, message
  try {
    const [decoded, end] = transactionDecoder.read(wire, 0)
    if (end !== wire.byteLength) {
      throw new Error(`${wire.byteLength - end} bytes after the transaction`)
    }
    const [compiled, messageEnd] = messageDecoder.read(decoded.messageBytes, 0)
    if (messageEnd !== decoded.messageBytes.byteLength) {
      throw new Error(`${decoded.messageBytes.byteLength - messageEnd} bytes after the message`)
    }
    transaction = decoded
    message = compiled
  } catch (err: any) {
    throw new InvalidTransactionError(`undecodable transaction: ${err.message}`, { cause: err })
  }
  if (message.version === 1) {
    // no cluster runs v1 messages yet: refuse rather than half-read one
    throw new InvalidTransactionError('version 1 transaction messages are not supported')
  }
  const accounts = message.staticAccounts
  const signerCount = message.header.numSignerAccounts
  const signatures = Object.entries(transaction.signatures)
  if (signerCount < 1 || accounts.length < signerCount || signatures.length !== signerCount) {
    throw new InvalidTransactionError(`the header names ${signerCount} signers, the transaction carries ${signatures.length} signatures for ${accounts.length} accounts`)
  }
  const feePayer = accounts[0]
  const first = transaction.signatures[feePayer]
  if (first == null) {
    throw new InvalidTransactionError('the fee payer has not signed')
  }
  const signers: string[] = []
  for (const account of accounts.slice(0, signerCount)) {
    const signature = transaction.signatures[account]
    if (signature != null && verifies(account, transaction.messageBytes, signature)) {
      signers.push(account)
    }
  }
  const memos: string[] = []
  for (const instruction of message.instructions) {
    const program = accounts[instruction.programAddressIndex]
    if (program == null) {
      // programs cannot come from lookup tables; an index past the static accounts is malformed
      throw new InvalidTransactionError(`instruction names program #${instruction.programAddressIndex} of ${accounts.length} accounts`)
    }
    if (isMemoProgram(program)) {
      const memo = decodeMemo((instruction.data ?? new Uint8Array(0)) as Uint8Array)
      if (memo != null) {
        memos.push(memo)
      }
    }
  }
  return {
    signature: base58.decode(first),
    signers,
    memos,
    feePayer,
    lifetimeToken: message.lifetimeToken
  }
}

/** The wire bytes of a prepared anchor. */
export function preparedWireBytes (prepared: PreparedAnchor): Uint8Array {
  return Buffer.from(prepared.wire, 'base64')
}
