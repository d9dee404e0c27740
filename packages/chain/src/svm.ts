import { getTransactionDecoder, lamports as toLamports } from '@solana/kit'
import { Account, Clock, EpochSchedule, FailedTransactionMetadata, LiteSVM } from 'litesvm'
import { decodeBase58, encodeBase58 } from './base58.js'
import { RENT_EXEMPT_RENT_EPOCH, SLOTS_PER_EPOCH } from './constants.js'
import type { AccountState } from './types.js'
import type { ParsedWire } from './wire.js'
import type { Address } from '@solana/kit'
import type { TransactionMetadata } from 'litesvm'

/**
 * The chain's LiteSVM: configured for the chain, and driven through the napi object under
 * LiteSVM's kit-facing wrapper when it is there (raw wire bytes in, whole accounts with their
 * rent epoch out, no base58/kit codec round trips on the hot path), else through the wrapper.
 */

interface RawAccount {
  lamports(): bigint
  data(): Uint8Array
  owner(): Uint8Array
  executable(): boolean
  rentEpoch(): bigint
}

type Outcome = TransactionMetadata | FailedTransactionMetadata

interface RawSvm {
  getAccount(pubkey: Uint8Array): RawAccount | null
  setAccount(pubkey: Uint8Array, account: Account): void
  getBalance(pubkey: Uint8Array): bigint | null
  sendLegacyTransaction(bytes: Uint8Array): Outcome
  sendVersionedTransaction(bytes: Uint8Array): Outcome
  simulateLegacyTransaction(bytes: Uint8Array): { meta(): TransactionMetadata } | FailedTransactionMetadata
  simulateVersionedTransaction(bytes: Uint8Array): { meta(): TransactionMetadata } | FailedTransactionMetadata
}

const RAW_METHODS = ['getAccount', 'setAccount', 'getBalance', 'sendLegacyTransaction', 'sendVersionedTransaction', 'simulateLegacyTransaction', 'simulateVersionedTransaction']

export class ChainSvm {
  private readonly svm: LiteSVM
  private readonly raw: RawSvm | undefined
  private readonly transactionDecoder = getTransactionDecoder()

  constructor () {
    // LiteSVM only accepts its latest blockhash, a cluster any of the last 150: the chain checks
    // blockhashes itself. It keeps the whole history too, and answers duplicates itself.
    this.svm = new LiteSVM()
      .withBlockhashCheck(false)
      .withTransactionHistory(0n)
    this.svm.setEpochSchedule(new EpochSchedule(SLOTS_PER_EPOCH, SLOTS_PER_EPOCH, false, 0n, 0n))
    const inner = (this.svm as unknown as { inner?: Record<string, unknown> }).inner
    this.raw = inner != null && RAW_METHODS.every(name => typeof inner[name] === 'function') ? inner as unknown as RawSvm : undefined
  }

  /** Move the clock to `slot` at `unixTimestamp` (seconds). */
  setSlot (slot: bigint, unixTimestamp: number, genesisTime: number): void {
    this.svm.warpToSlot(slot)
    const epoch = slot / SLOTS_PER_EPOCH
    this.svm.setClock(new Clock(slot, BigInt(genesisTime), epoch, epoch, BigInt(unixTimestamp)))
  }

  /** LiteSVM's own blockhash moves on too (a durable nonce advances once per blockhash). */
  expireBlockhash (): void {
    this.svm.expireBlockhash()
  }

  setSigverify (on: boolean): void {
    this.svm.withSigverify(on)
  }

  minimumBalanceForRentExemption (dataLength: number): bigint {
    return this.svm.minimumBalanceForRentExemption(BigInt(dataLength))
  }

  execute (parsed: ParsedWire): Outcome {
    if (this.raw != null) {
      return parsed.version === 'legacy' ? this.raw.sendLegacyTransaction(parsed.wire) : this.raw.sendVersionedTransaction(parsed.wire)
    }
    return this.svm.sendTransaction(this.transactionDecoder.decode(parsed.wire))
  }

  /** Run without committing; the outcome's `meta()` is the execution's. */
  simulate (parsed: ParsedWire): { meta(): TransactionMetadata } | FailedTransactionMetadata {
    if (this.raw != null) {
      return parsed.version === 'legacy' ? this.raw.simulateLegacyTransaction(parsed.wire) : this.raw.simulateVersionedTransaction(parsed.wire)
    }
    return this.svm.simulateTransaction(this.transactionDecoder.decode(parsed.wire))
  }

  /** The whole account, or null when there is none (no record, or zero lamports). */
  readAccount (address: string): AccountState | null {
    if (this.raw != null) {
      const account = this.raw.getAccount(decodeBase58(address))
      if (account == null || account.lamports() === 0n) {
        return null
      }
      return {
        address,
        lamports: account.lamports(),
        owner: encodeBase58(account.owner()),
        data: account.data(),
        executable: account.executable(),
        rentEpoch: account.rentEpoch()
      }
    }
    const account = this.svm.getAccount(address as Address)
    if (!account.exists || account.lamports === 0n) {
      return null
    }
    return {
      address,
      lamports: account.lamports,
      owner: account.programAddress,
      data: Uint8Array.from(account.data),
      executable: account.executable,
      rentEpoch: RENT_EXEMPT_RENT_EPOCH
    }
  }

  /** Lamports held by `address` (0 when it has no account). */
  readBalance (address: string): bigint {
    if (this.raw != null) {
      return this.raw.getBalance(decodeBase58(address)) ?? 0n
    }
    return this.svm.getBalance(address as Address) ?? 0n
  }

  /** Create or overwrite an account; zero lamports removes it. */
  writeAccount (state: AccountState): void {
    if (this.raw != null) {
      this.raw.setAccount(decodeBase58(state.address), new Account(state.lamports, state.data, decodeBase58(state.owner), state.executable, state.rentEpoch))
      return
    }
    this.svm.setAccount({
      address: state.address as Address,
      lamports: toLamports(state.lamports),
      programAddress: state.owner as Address,
      data: state.data,
      executable: state.executable,
      space: BigInt(state.data.length)
    })
  }
}

export { FailedTransactionMetadata }
