import { createPublicKey, verify } from 'node:crypto'
import {
  AccountRole,
  address,
  appendTransactionMessageInstructions,
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
import { MAX_TRANSACTION_SIZE, SYSTEM_PROGRAM_ADDRESS } from './constants.js'
import { InvalidTransactionError, TransactionTooLargeError } from './errors.js'
import { decodeMemo, getMemoInstruction, isMemoProgram } from './memo.js'
import type { Payment, PreparedAnchor, Transfer } from './ledger.js'
import type { AccountMeta, AccountSignerMeta, Address, Instruction, ReadonlyUint8Array, TransactionSigner } from '@solana/kit'

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
  /** workers paid by `signer` in the same transaction, one System transfer each (settlement) @default none */
  payments?: Payment[]
}

const MAX_U64 = (1n << 64n) - 1n
/** The System Program's Transfer instruction (u32 little-endian discriminator). */
const SYSTEM_TRANSFER = 2
const SYSTEM_TRANSFER_DATA_BYTES = 12

/** One System Program Transfer of `lamports` from `from` (signing, writable) to `to` (writable). */
export function getTransferInstruction (from: TransactionSigner, to: Address, lamports: bigint): Instruction<string, readonly [AccountSignerMeta, AccountMeta]> & { data: Uint8Array } {
  const data = new Uint8Array(SYSTEM_TRANSFER_DATA_BYTES)
  const view = new DataView(data.buffer)
  view.setUint32(0, SYSTEM_TRANSFER, true)
  view.setBigUint64(4, lamports, true)
  return {
    programAddress: address(SYSTEM_PROGRAM_ADDRESS),
    accounts: [{ address: from.address, role: AccountRole.WRITABLE_SIGNER, signer: from }, { address: to, role: AccountRole.WRITABLE }],
    data
  }
}

/** The longest anchor memo: a 64-hex root and a count of up to MAX_BATCH_RECEIPTS (5 digits). */
const MAX_ANCHOR_MEMO_LENGTH = 'shardmesh:v1:'.length + 64 + ':'.length + 5

function compactLength (n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3
}

/**
 * The wire size of an anchor transaction (a v0 message without lookup tables) with `payees`
 * transfers: signatures, header, accounts (fee payer, node key when it is not the fee payer,
 * the memo program, the System Program and each payee when there are payments), blockhash,
 * the memo instruction and one 17-byte transfer instruction per payee.
 */
export function anchorTransactionSize (payees: number, options: { separateFeePayer?: boolean, memoLength?: number } = {}): number {
  const signers = options.separateFeePayer === true ? 2 : 1
  const memoLength = options.memoLength ?? MAX_ANCHOR_MEMO_LENGTH
  const accounts = signers + 1 + (payees > 0 ? 1 + payees : 0)
  const transfer = 1 + 1 + 2 + 1 + SYSTEM_TRANSFER_DATA_BYTES
  return compactLength(signers) + 64 * signers +
    1 + 3 + compactLength(accounts) + 32 * accounts + 32 +
    compactLength(1 + payees) + (1 + 1 + 1 + compactLength(memoLength) + memoLength) + payees * transfer +
    1
}

function maxPayments (): number {
  let n = 0
  while (anchorTransactionSize(n + 1, { separateFeePayer: true }) <= MAX_TRANSACTION_SIZE) {
    n++
  }
  return n
}

/**
 * Most payees one anchor transaction can pay and stay under MAX_TRANSACTION_SIZE, whatever the
 * batch's count and whether a separate key pays the fees (17): a batch that owes more workers
 * is split (`sealBatch({ maxPayees })`).
 */
export const MAX_ANCHOR_PAYMENTS = maxPayments()

/**
 * Lamports an empty System account must hold to exist (rent-exempt, 0 data bytes: 890,880 on
 * every cluster today). A payment below it to an address with no account is refused by the chain
 * ("insufficient funds for rent"); to an existing account any amount lands.
 */
export const RENT_EXEMPT_MINIMUM = 890_880n

/**
 * When a refused send says an account would be left below the rent-exempt minimum (a payee
 * with no account yet, paid less than it needs to exist): the index of that account in the
 * transaction's static accounts (`ParsedTransaction.accounts`); undefined for any other error.
 */
export function rentRefusedAccount (err: unknown): number | undefined {
  if ((err as any)?.name !== 'TransactionRejectedError') {
    return undefined
  }
  const match = /account \((\d{1,3})\) with insufficient funds for rent/i.exec(String((err as any)?.message))
  return match == null ? undefined : Number(match[1])
}

function checkPayments (payments: Payment[], from: string): Array<{ to: Address, lamports: bigint }> {
  if (payments.length > MAX_ANCHOR_PAYMENTS) {
    throw new RangeError(`an anchor pays at most ${MAX_ANCHOR_PAYMENTS} workers, not ${payments.length}`)
  }
  const seen = new Set<string>()
  return payments.map(payment => {
    if (typeof payment.lamports !== 'bigint' || payment.lamports < 1n || payment.lamports > MAX_U64) {
      throw new RangeError(`a payment is 1 to 2^64-1 lamports, not ${String(payment.lamports)}`)
    }
    const to = address(payment.to)
    if (seen.has(to) || to === from) {
      throw new RangeError(`payee ${to} is ${to === from ? 'the payer itself' : 'named twice'}`)
    }
    seen.add(to)
    return { to, lamports: payment.lamports }
  })
}

/**
 * Build and sign an anchor transaction: the SPL Memo instruction, then one System transfer per
 * payment from `signer`. Throws `TransactionTooLargeError` over 1232 bytes, `RangeError` on a
 * payment that is not a positive u64 to a distinct address other than the signer's.
 */
export async function buildAnchorTransaction (init: AnchorTransactionInit): Promise<PreparedAnchor> {
  const { memo, signer, blockhash } = init
  // one signer object per address: kit refuses two different signers for the same address
  const feePayer = init.feePayer == null || init.feePayer.address === signer.address ? signer : init.feePayer
  assertIsBlockhash(blockhash.blockhash)
  const payments = checkPayments(init.payments ?? [], signer.address)
  const lifetime = { blockhash: blockhash.blockhash, lastValidBlockHeight: blockhash.lastValidBlockHeight }
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    m => setTransactionMessageFeePayerSigner(feePayer, m),
    m => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
    m => appendTransactionMessageInstructions([getMemoInstruction(memo, signer), ...payments.map(p => getTransferInstruction(signer, p.to, p.lamports))], m)
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
  /**
   * every System Program Transfer, in order, whose accounts are static (not from lookup tables)
   * and whose sender's signature verifies
   */
  transfers: Transfer[]
  /** the fee payer's address (the first account) */
  feePayer: string
  /** the static account keys in message order (what a chain error's "account (N)" indexes) */
  accounts: string[]
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
  const transfers: Transfer[] = []
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
    } else if (program === SYSTEM_PROGRAM_ADDRESS) {
      const transfer = readTransfer(instruction.data as Uint8Array | undefined, instruction.accountIndices, accounts)
      if (transfer != null && signers.includes(transfer.from)) {
        transfers.push(transfer)
      }
    }
  }
  return {
    signature: base58.decode(first),
    signers,
    memos,
    transfers,
    feePayer,
    accounts: [...accounts],
    lifetimeToken: message.lifetimeToken
  }
}

/** A System Program Transfer instruction's sender, receiver and amount, or undefined if it is not one. */
function readTransfer (data: Uint8Array | undefined, indices: readonly number[] | undefined, accounts: readonly string[]): Transfer | undefined {
  if (data == null || data.byteLength !== SYSTEM_TRANSFER_DATA_BYTES || indices == null || indices.length < 2) {
    return undefined
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (view.getUint32(0, true) !== SYSTEM_TRANSFER) {
    return undefined
  }
  const from = accounts[indices[0]]
  const to = accounts[indices[1]]
  if (from == null || to == null) {
    // an account from a lookup table: not read here
    return undefined
  }
  return { from, to, lamports: view.getBigUint64(4, true) }
}

/** Lamports a prepared anchor pays workers: the sum of its System transfers (0 when it pays none or does not parse). */
export function preparedPayments (prepared: PreparedAnchor): bigint {
  try {
    return parseTransaction(preparedWireBytes(prepared)).transfers.reduce((sum, t) => sum + t.lamports, 0n)
  } catch {
    return 0n
  }
}

/** The wire bytes of a prepared anchor. */
export function preparedWireBytes (prepared: PreparedAnchor): Uint8Array {
  return Buffer.from(prepared.wire, 'base64')
}
