import { setMaxListeners } from 'node:events'
import { anchorMemo } from '@shardmesh/receipts'
import { address, createSolanaRpcSubscriptions, isSignature } from '@solana/kit'
import {
  COMMITMENT,
  CONFIRM_TIMEOUT,
  MAX_ANCHOR_ATTEMPTS,
  POLL_INTERVAL,
  RESEND_INTERVAL,
  RETRY_MAX_DELAY,
  RETRY_MIN_DELAY,
  SHARDMESH_CHAIN_VERSION_KEY
} from './constants.js'
import {
  BlockhashExpiredError,
  ConfirmTimeoutError,
  LedgerClosedError,
  TransactionFailedError,
  TransactionRejectedError,
  UnfundedAccountError,
  describeChainError
} from './errors.js'
import { checkAnchorRecord } from './memo.js'
import { createRpc } from './rpc.js'
import { classifySendError, describeSendError } from './send-failure.js'
import { buildAnchorTransaction, parseTransaction, preparedPayments } from './transaction.js'
import { anchorWithRetries, linkSignals, silentLogger, sleep } from './utils.js'
import type { AnchorMeta, AnchorRecord, AnchorResult, AnchorStatus, Ledger, LedgerCallOptions, PreparedAnchor } from './ledger.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { Base64EncodedWireTransaction, KeyPairSigner, Rpc, RpcSubscriptions, Signature, SolanaRpcApi, SolanaRpcSubscriptionsApi } from '@solana/kit'

export interface RpcLedgerInit {
  /** the cluster's JSON-RPC endpoint, e.g. `https://api.devnet.solana.com` or `shardmesh chain`'s url */
  rpcUrl: string
  /** its WebSocket endpoint @default the rpcUrl's host and port with ws:// (wss:// for https://) */
  wsUrl?: string
  /** the node key: signs every memo, and is the address `verifyAnchor` expects */
  signer: KeyPairSigner
  /** pays the fees (e.g. a funded CLI keypair on devnet) @default signer */
  feePayer?: KeyPairSigner
  /** how settled an anchor must be before `submit` returns; reads use it too @default 'confirmed' */
  commitment?: 'confirmed' | 'finalized'
  /** longest `submit` waits for a confirmation (ms) @default 120000 */
  confirmTimeout?: number
  /** how often the confirmation poller asks for the status (ms) @default 400 */
  pollInterval?: number
  /** how often an unconfirmed transaction is sent again (ms) @default 2000 */
  resendInterval?: number
  /** prepared transactions `anchor()` tries before giving up on blockhash expiry @default 3 */
  maxAnchorAttempts?: number
  logger?: ComponentLogger
}

/** The ws(s):// url on the same host and port as an http(s):// one. */
export function defaultWsUrl (rpcUrl: string): string {
  const url = new URL(rpcUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return url.toString()
}

const COMMITMENT_RANK = { processed: 0, confirmed: 1, finalized: 2 } as const

interface Landed {
  slot: bigint
  err: unknown
}

/**
 * A Ledger on any Solana cluster over JSON-RPC (@solana/kit). Confirmation races a
 * `signatureNotifications` subscription against a `getSignatureStatuses` poller, so a dead
 * WebSocket slows nothing down and cannot hang a submit; the poller also watches the block
 * height and gives up with `BlockhashExpiredError` once the transaction can no longer land.
 */
export class RpcLedger implements Ledger {
  public readonly address: string
  /** the address that pays the fees */
  public readonly feePayerAddress: string
  public readonly rpcUrl: string
  public readonly wsUrl: string
  private readonly rpc: Rpc<SolanaRpcApi>
  private genesis?: Promise<string>
  private readonly subscriptions: RpcSubscriptions<SolanaRpcSubscriptionsApi>
  private readonly signer: KeyPairSigner
  private readonly feePayer: KeyPairSigner
  private readonly commitment: 'confirmed' | 'finalized'
  private readonly confirmTimeout: number
  private readonly pollInterval: number
  private readonly resendInterval: number
  private readonly maxAnchorAttempts: number
  private readonly shutdown = new AbortController()
  private readonly log: Logger

  constructor (init: RpcLedgerInit) {
    this.rpcUrl = init.rpcUrl
    this.wsUrl = init.wsUrl ?? defaultWsUrl(init.rpcUrl)
    this.rpc = createRpc(this.rpcUrl)
    this.subscriptions = createSolanaRpcSubscriptions(this.wsUrl)
    this.signer = init.signer
    this.feePayer = init.feePayer ?? init.signer
    this.address = this.signer.address
    this.feePayerAddress = this.feePayer.address
    this.commitment = init.commitment ?? COMMITMENT
    this.confirmTimeout = init.confirmTimeout ?? CONFIRM_TIMEOUT
    this.pollInterval = init.pollInterval ?? POLL_INTERVAL
    this.resendInterval = init.resendInterval ?? RESEND_INTERVAL
    this.maxAnchorAttempts = init.maxAnchorAttempts ?? MAX_ANCHOR_ATTEMPTS
    this.log = init.logger?.forComponent('shardmesh:solana:rpc-ledger') ?? silentLogger()
    // every call in flight listens for the shutdown
    setMaxListeners(Infinity, this.shutdown.signal)
  }

  async prepareAnchor (root: Uint8Array, meta: AnchorMeta, options: LedgerCallOptions = {}): Promise<PreparedAnchor> {
    const call = this.link(options)
    try {
      const { value } = await this.rpc.getLatestBlockhash({ commitment: this.commitment }).send({ abortSignal: call.signal })
      return await buildAnchorTransaction({ memo: anchorMemo(root, meta.count), signer: this.signer, feePayer: this.feePayer, payments: meta.payments, blockhash: value })
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      call.clear()
    }
  }

  async submit (prepared: PreparedAnchor, options: LedgerCallOptions = {}): Promise<AnchorResult> {
    const signature = prepared.signature
    const call = this.link(options, () => new ConfirmTimeoutError(signature, this.confirmTimeout))
    try {
      // subscribe before sending, so that no notification can be missed
      const notified = this.watch(signature, call.signal)
      await this.send(prepared, call.signal)
      const polled = this.poll(prepared, call.signal)
      // the loser rejects with the abort below: not an error
      polled.catch(() => {})
      const landed = await Promise.race([notified, polled])
      if (landed.err != null) {
        throw new TransactionFailedError(signature, landed.slot, landed.err)
      }
      this.log('anchor %s landed in slot %d', signature, landed.slot)
      return { signature, slot: landed.slot }
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      // stops the subscription (closing its socket when it was the last) and the poller
      call.abort(new LedgerClosedError('submit finished'))
      call.clear()
    }
  }

  async anchor (root: Uint8Array, meta: AnchorMeta, options: LedgerCallOptions = {}): Promise<AnchorResult> {
    return anchorWithRetries(this, root, meta, options, this.maxAnchorAttempts, this.log)
  }

  async status (signature: string, options: LedgerCallOptions = {}): Promise<AnchorStatus> {
    if (!isSignature(signature)) {
      return { state: 'unknown' }
    }
    const call = this.link(options)
    try {
      const { value: [status] } = await this.rpc.getSignatureStatuses([signature], { searchTransactionHistory: true }).send({ abortSignal: call.signal })
      return status == null ? { state: 'unknown' } : { state: 'landed', slot: status.slot, err: status.err }
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      call.clear()
    }
  }

  async genesisHash (options: LedgerCallOptions = {}): Promise<string> {
    this.genesis ??= this.rpc.getGenesisHash().send({ abortSignal: options.signal }).then(hash => String(hash))
    try {
      return await this.genesis
    } catch (err) {
      this.genesis = undefined
      throw err
    }
  }

  async blockHeight (options: LedgerCallOptions = {}): Promise<bigint> {
    const call = this.link(options)
    try {
      return await this.rpc.getBlockHeight({ commitment: this.commitment }).send({ abortSignal: call.signal })
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      call.clear()
    }
  }

  /** The fee payer's balance in lamports. */
  async balance (options: LedgerCallOptions = {}): Promise<bigint> {
    const call = this.link(options)
    try {
      const { value } = await this.rpc.getBalance(address(this.feePayerAddress), { commitment: this.commitment }).send({ abortSignal: call.signal })
      return value
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      call.clear()
    }
  }

  async lookup (signature: string, options: LedgerCallOptions = {}): Promise<AnchorRecord | undefined> {
    if (!isSignature(signature)) {
      return undefined
    }
    const call = this.link(options)
    try {
      const result = await this.rpc.getTransaction(signature, { encoding: 'base64', maxSupportedTransactionVersion: 0, commitment: this.commitment }).send({ abortSignal: call.signal })
      if (result == null) {
        return undefined
      }
      // the RPC's word counts for where and whether it ran; who signed what is read from the bytes
      const parsed = parseTransaction(Buffer.from(result.transaction[0], 'base64'))
      if (parsed.signature !== signature) {
        return undefined
      }
      return {
        signature,
        slot: result.slot,
        blockTime: result.blockTime == null ? null : Number(result.blockTime),
        fee: result.meta?.fee ?? 0n,
        // no meta: the RPC does not say it succeeded, so it does not count as succeeded
        err: result.meta == null ? 'the RPC returned no transaction status' : result.meta.err,
        memos: parsed.memos,
        signers: parsed.signers,
      transfers: parsed.transfers
      }
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : err
    } finally {
      call.clear()
    }
  }

  async verifyAnchor (signature: string, root: Uint8Array, count: number, signer: string, options: LedgerCallOptions = {}): Promise<AnchorRecord> {
    return checkAnchorRecord(await this.lookup(signature, options), signature, root, count, signer)
  }

  async close (): Promise<void> {
    this.shutdown.abort(new LedgerClosedError())
  }

  private link (options: LedgerCallOptions, onTimeout?: () => unknown): ReturnType<typeof linkSignals> {
    if (this.shutdown.signal.aborted) {
      throw new LedgerClosedError()
    }
    // kit ignores a signal that is already aborted: refuse to start instead
    options.signal?.throwIfAborted()
    return linkSignals([this.shutdown.signal, options.signal], onTimeout == null ? undefined : this.confirmTimeout, onTimeout)
  }

  /** Send until the RPC takes it (or says it already has it); transport errors retry with backoff. */
  private async send (prepared: PreparedAnchor, signal: AbortSignal): Promise<void> {
    const wire = prepared.wire as Base64EncodedWireTransaction
    for (let delay = RETRY_MIN_DELAY; ; delay = Math.min(delay * 2, RETRY_MAX_DELAY)) {
      signal.throwIfAborted()
      try {
        await this.rpc.sendTransaction(wire, { encoding: 'base64', preflightCommitment: this.commitment }).send({ abortSignal: signal })
        return
      } catch (err) {
        signal.throwIfAborted()
        const failure = classifySendError(err)
        this.log('sending %s failed (%s): %s', prepared.signature, failure, describeChainError(err))
        switch (failure) {
          case 'already-processed':
            return
          case 'unfunded':
            throw await this.unfunded(err, prepared, signal)
          case 'rejected':
            throw new TransactionRejectedError(prepared.signature, describeSendError(err), { cause: err })
          default:
            // blockhash-not-found or transport: worth another try until the blockhash is dead
            await this.throwIfExpired(prepared, signal)
        }
      }
      await sleep(delay, signal)
    }
  }

  /**
   * The error of a transaction an account could not pay for: the node key when the anchor pays
   * workers more than it holds (settlement), the fee payer otherwise.
   */
  private async unfunded (err: unknown, prepared: PreparedAnchor, signal: AbortSignal): Promise<UnfundedAccountError> {
    const balanceOf = async (account: string): Promise<bigint | undefined> => {
      try {
        return (await this.rpc.getBalance(address(account), { commitment: this.commitment }).send({ abortSignal: signal })).value
      } catch {}
    }
    const payments = preparedPayments(prepared)
    if (payments > 0n) {
      const balance = await balanceOf(this.address)
      if (this.address === this.feePayerAddress || (balance != null && balance < payments)) {
        return new UnfundedAccountError(this.address, balance, await this.airdropHint(this.address, signal), { cause: err, payments })
      }
    }
    return new UnfundedAccountError(this.feePayerAddress, await balanceOf(this.feePayerAddress), await this.airdropHint(this.feePayerAddress, signal), { cause: err })
  }

  /** How to fund an account here: `shardmesh chain airdrop` on a shardmesh chain, the solana CLI elsewhere. */
  private async airdropHint (account: string, signal: AbortSignal): Promise<string> {
    let version: Record<string, unknown> | undefined
    try {
      version = await this.rpc.getVersion().send({ abortSignal: signal })
    } catch {}
    return version?.[SHARDMESH_CHAIN_VERSION_KEY] != null
      ? `shardmesh chain airdrop ${account} --solana-rpc ${this.rpcUrl}`
      : `solana airdrop 1 ${account} --url ${this.rpcUrl}`
  }

  /** Throws `BlockhashExpiredError` when the chain is past the transaction's last valid block height and it has not landed. */
  private async throwIfExpired (prepared: PreparedAnchor, signal: AbortSignal): Promise<void> {
    let height: bigint
    try {
      height = await this.rpc.getBlockHeight({ commitment: this.commitment }).send({ abortSignal: signal })
    } catch {
      signal.throwIfAborted()
      return
    }
    if (height > prepared.lastValidBlockHeight) {
      // a last look: it may have landed just before the height moved on
      let status
      try {
        status = (await this.rpc.getSignatureStatuses([prepared.signature as Signature], { searchTransactionHistory: true }).send({ abortSignal: signal })).value[0]
      } catch {
        signal.throwIfAborted()
        return
      }
      if (status == null) {
        throw new BlockhashExpiredError(prepared.signature, prepared.lastValidBlockHeight, height)
      }
    }
  }

  /** Resolves when the subscription reports the signature; never settles if the socket fails (the poller decides then). */
  private async watch (signature: string, signal: AbortSignal): Promise<Landed> {
    try {
      const notifications = await this.subscriptions.signatureNotifications(signature as Signature, { commitment: this.commitment }).subscribe({ abortSignal: signal })
      for await (const notification of notifications) {
        if ('err' in notification.value) {
          return { slot: notification.context.slot, err: notification.value.err }
        }
      }
    } catch (err) {
      if (!signal.aborted) {
        this.log('signature subscription for %s failed, polling only: %s', signature, describeChainError(err))
      }
    }
    return new Promise<Landed>(() => {})
  }

  /** Polls the signature's status (resending now and then) until it lands at our commitment or its blockhash expires. */
  private async poll (prepared: PreparedAnchor, signal: AbortSignal): Promise<Landed> {
    const signature = prepared.signature as Signature
    let lastSent = Date.now()
    for (let first = true; ; first = false) {
      // the first look is at once: many RPCs have the status by the time sendTransaction answers
      if (!first) {
        await sleep(this.pollInterval, signal)
      }
      signal.throwIfAborted()
      try {
        const { value: [status] } = await this.rpc.getSignatureStatuses([signature]).send({ abortSignal: signal })
        if (status != null) {
          // a null confirmationStatus means rooted: past every commitment
          if (status.confirmationStatus == null || COMMITMENT_RANK[status.confirmationStatus] >= COMMITMENT_RANK[this.commitment]) {
            return { slot: status.slot, err: status.err }
          }
          continue
        }
        await this.throwIfExpired(prepared, signal)
        if (Date.now() - lastSent >= this.resendInterval) {
          lastSent = Date.now()
          await this.rpc.sendTransaction(prepared.wire as Base64EncodedWireTransaction, { encoding: 'base64', skipPreflight: true }).send({ abortSignal: signal }).catch(() => {})
        }
      } catch (err) {
        if (err instanceof BlockhashExpiredError) {
          throw err
        }
        signal.throwIfAborted()
        this.log('polling %s failed, will retry: %s', signature, describeChainError(err))
      }
    }
  }
}
