import { anchorMemo } from '@shardmesh/receipts'
import {
  BlockhashExpiredError,
  LedgerClosedError,
  MAX_ANCHOR_ATTEMPTS,
  TransactionFailedError,
  TransactionRejectedError,
  UnfundedAccountError,
  anchorWithRetries,
  buildAnchorTransaction,
  checkAnchorRecord,
  classifySendError,
  describeChainError,
  parseTransaction,
  preparedPayments,
  preparedWireBytes,
  silentLogger
} from '@shardmesh/solana'
import type { EmbeddedChain } from './chain.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { AnchorMeta, AnchorRecord, AnchorResult, AnchorStatus, Ledger, LedgerCallOptions, PreparedAnchor } from '@shardmesh/solana'
import type { KeyPairSigner } from '@solana/kit'

export interface EmbeddedLedgerInit {
  /** the chain, open in this process; the ledger does not close it */
  chain: EmbeddedChain
  /** the node key: signs every memo, and is the address `verifyAnchor` expects */
  signer: KeyPairSigner
  /** pays the fees @default signer */
  feePayer?: KeyPairSigner
  /** the url the chain is served on, if it is: named in the hint of `UnfundedAccountError` */
  rpcUrl?: string
  /** prepared transactions `anchor()` tries before giving up on blockhash expiry @default 3 */
  maxAnchorAttempts?: number
  logger?: ComponentLogger
}

/**
 * A Ledger over the embedded LiteSVM chain in this process: no HTTP, no polling. The chain
 * executes a transaction as it is sent, so `submit` knows the outcome when `sendTransaction`
 * returns. Same transactions, same checks and same errors as `RpcLedger`.
 */
export class EmbeddedLedger implements Ledger {
  public readonly address: string
  /** the address that pays the fees */
  public readonly feePayerAddress: string
  private readonly chain: EmbeddedChain
  private readonly signer: KeyPairSigner
  private readonly feePayer: KeyPairSigner
  /**
   * the url in funding hints (not named `rpcUrl`: an anchoring service takes an object with an
   * `rpcUrl` property for a config to build an RpcLedger from, not for a ledger)
   */
  private readonly servedAt?: string
  private readonly maxAnchorAttempts: number
  private readonly log: Logger
  private closed = false

  constructor (init: EmbeddedLedgerInit) {
    this.chain = init.chain
    this.signer = init.signer
    this.feePayer = init.feePayer ?? init.signer
    this.address = this.signer.address
    this.feePayerAddress = this.feePayer.address
    this.servedAt = init.rpcUrl
    this.maxAnchorAttempts = init.maxAnchorAttempts ?? MAX_ANCHOR_ATTEMPTS
    this.log = init.logger?.forComponent('shardmesh:chain:embedded-ledger') ?? silentLogger()
  }

  async prepareAnchor (root: Uint8Array, meta: AnchorMeta, options: LedgerCallOptions = {}): Promise<PreparedAnchor> {
    this.check(options)
    return buildAnchorTransaction({ memo: anchorMemo(root, meta.count), signer: this.signer, feePayer: this.feePayer, payments: meta.payments, blockhash: this.chain.latestBlockhash() })
  }

  async submit (prepared: PreparedAnchor, options: LedgerCallOptions = {}): Promise<AnchorResult> {
    this.check(options)
    const signature = prepared.signature
    try {
      this.chain.sendTransaction(preparedWireBytes(prepared))
    } catch (err) {
      const failure = classifySendError(err)
      this.log('sending %s failed (%s): %s', signature, failure, describeChainError(err))
      switch (failure) {
        case 'already-processed':
          break
        case 'unfunded':
          throw this.unfunded(err, prepared)
        case 'blockhash-not-found': {
          const height = this.chain.blockHeight
          if (height > prepared.lastValidBlockHeight && this.chain.signatureStatus(signature) == null) {
            throw new BlockhashExpiredError(signature, prepared.lastValidBlockHeight, height, { cause: err })
          }
          throw new TransactionRejectedError(signature, describeChainError(err), { cause: err })
        }
        case 'rejected':
          throw new TransactionRejectedError(signature, describeChainError(err), { cause: err })
        default:
          if ((err as Error)?.name === 'ChainClosedError') {
            throw err
          }
          // a bad signature, undecodable bytes, ...
          throw new TransactionRejectedError(signature, describeChainError(err), { cause: err })
      }
    }
    const record = this.chain.getTransaction(signature)
    if (record == null) {
      throw new TransactionRejectedError(signature, 'the chain took the transaction but has no record of it')
    }
    if (record.err != null) {
      throw new TransactionFailedError(signature, record.slot, record.err)
    }
    this.log('anchor %s landed in slot %d', signature, record.slot)
    return { signature, slot: record.slot, fee: record.fee }
  }

  async anchor (root: Uint8Array, meta: AnchorMeta, options: LedgerCallOptions = {}): Promise<AnchorResult> {
    return anchorWithRetries(this, root, meta, options, this.maxAnchorAttempts, this.log)
  }

  async status (signature: string, options: LedgerCallOptions = {}): Promise<AnchorStatus> {
    this.check(options)
    const status = this.chain.signatureStatus(signature)
    return status == null ? { state: 'unknown' } : { state: 'landed', slot: status.slot, err: status.err }
  }

  async genesisHash (): Promise<string> {
    return this.chain.genesisHash
  }

  async blockHeight (options: LedgerCallOptions = {}): Promise<bigint> {
    this.check(options)
    return this.chain.blockHeight
  }

  /** The fee payer's balance in lamports. */
  async balance (options: LedgerCallOptions = {}): Promise<bigint> {
    this.check(options)
    return this.chain.getBalance(this.feePayerAddress)
  }

  async lookup (signature: string, options: LedgerCallOptions = {}): Promise<AnchorRecord | undefined> {
    this.check(options)
    const record = this.chain.getTransaction(signature)
    if (record == null) {
      return undefined
    }
    // read who signed what from the bytes, as from any other ledger
    const parsed = parseTransaction(record.wire)
    if (parsed.signature !== signature) {
      return undefined
    }
    return {
      signature,
      slot: record.slot,
      blockTime: record.blockTime,
      fee: record.fee,
      err: record.err,
      memos: parsed.memos,
      signers: parsed.signers,
      transfers: parsed.transfers
    }
  }

  async verifyAnchor (signature: string, root: Uint8Array, count: number, signer: string, options: LedgerCallOptions = {}): Promise<AnchorRecord> {
    return checkAnchorRecord(await this.lookup(signature, options), signature, root, count, signer)
  }

  /** Stops this ledger; the chain stays open (it belongs to whoever opened it). */
  async close (): Promise<void> {
    this.closed = true
  }

  private check (options: LedgerCallOptions): void {
    if (this.closed) {
      throw new LedgerClosedError()
    }
    options.signal?.throwIfAborted()
  }

  /**
   * The error of a transaction an account could not pay for: the node key when the anchor pays
   * workers more than it holds (settlement), the fee payer otherwise.
   */
  private unfunded (err: unknown, prepared: PreparedAnchor): UnfundedAccountError {
    const hint = (address: string): string => this.servedAt != null ? `shardmesh chain airdrop ${address} --solana-rpc ${this.servedAt}` : `chain.airdrop('${address}', 1_000_000_000n)`
    const payments = preparedPayments(prepared)
    if (payments > 0n && (this.address === this.feePayerAddress || this.chain.getBalance(this.address) < payments)) {
      return new UnfundedAccountError(this.address, this.chain.getBalance(this.address), hint(this.address), { cause: err, payments })
    }
    const address = this.feePayerAddress
    return new UnfundedAccountError(address, this.chain.getBalance(address), hint(address), { cause: err })
  }
}
