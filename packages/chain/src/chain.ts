import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { isAddress } from '@solana/kit'
import { InvalidTransactionError, TransactionTooLargeError } from '@shardmesh/solana'
import { closedAccount, refused, resolveKeys } from './account-keys.js'
import { encodeBase58 } from './base58.js'
import { BlockhashWindow } from './blockhash-window.js'
import { ChainLog } from './chain-log.js'
import { BLOCKHASH_WINDOW, FAUCET_LAMPORTS, PACKET_DATA_SIZE, SLOTS_PER_EPOCH, SYSTEM_PROGRAM } from './constants.js'
import { ChainClosedError, ChainLogCorruptError, InvalidAirdropError, SignatureVerificationError } from './errors.js'
import { Faucet } from './faucet.js'
import { ChainHistory } from './history.js'
import { executionMeta } from './meta.js'
import { ChainSvm, FailedTransactionMetadata } from './svm.js'
import { transactionErrorToJson } from './tx-error.js'
import { feeForMessage, parseMessage, parseWire } from './wire.js'
import type { ResolvedKeys } from './account-keys.js'
import type { GenesisRecord, LogRecord } from './log-record.js'
import type {
  AccountState, AddressSignature, ChainBlock, EmbeddedChainEvents, EmbeddedChainInit, EpochInfo, RecentBlockhash, SendTransactionOptions, SignatureStatus,
  SimulateTransactionOptions, SimulationResult, TransactionRecord
} from './types.js'
import type { ParsedWire } from './wire.js'
import type { TransactionMetadata } from 'litesvm'

/**
 * One LiteSVM (a real Solana runtime, in process) run as a single-node chain: every landed
 * transaction (and every airdrop, a real transfer from the chain's faucet) is one new slot,
 * block and blockhash, and is final at once. Transactions may name any of the last 150
 * blockhashes. The chain keeps the whole history (LiteSVM keeps 32 transactions) and, given a
 * `dataDir`, persists every landed transaction with the post-state of the accounts it wrote,
 * so a reopened chain serves its old transactions and continues its slots.
 *
 * Everything runs synchronously on the caller's thread, one transaction at a time, so
 * concurrent callers cannot interleave inside a transaction.
 */
export class EmbeddedChain extends EventEmitter<EmbeddedChainEvents> {
  /** base58 hash naming this chain (random at genesis) */
  public readonly genesisHash: string
  /** unix seconds */
  public readonly genesisTime: number
  /** the faucet's address; airdrops come from it */
  public readonly faucetAddress: string

  private readonly svm: ChainSvm
  private readonly log: ChainLog | undefined
  private readonly faucet: Faucet
  private readonly window: BlockhashWindow
  private readonly history = new ChainHistory()
  private currentSlot = 0n
  private currentHeight = 0n
  private lastBlockTime: number
  private failure: Error | undefined
  private closed = false

  private constructor (svm: ChainSvm, log: ChainLog | undefined, genesis: GenesisRecord) {
    super()
    this.svm = svm
    this.log = log
    this.faucet = new Faucet(genesis.faucetSeed)
    this.faucetAddress = this.faucet.address
    this.genesisHash = genesis.genesisHash
    this.genesisTime = genesis.genesisTime
    this.lastBlockTime = genesis.genesisTime
    this.window = new BlockhashWindow({ blockhash: BlockhashWindow.genesisBlockhash(genesis.genesisHash), lastValidBlockHeight: BigInt(BLOCKHASH_WINDOW) })
    svm.writeAccount({ address: this.faucet.address, lamports: genesis.faucetLamports, owner: SYSTEM_PROGRAM, data: new Uint8Array(0), executable: false, rentEpoch: 0n })
  }

  /** Open the chain in `dataDir` (replaying its log), or a new in-memory chain. */
  static async open (init: EmbeddedChainInit = {}): Promise<EmbeddedChain> {
    let log: ChainLog | undefined
    let records: LogRecord[] = []
    if (init.dataDir != null) {
      ({ log, records } = await ChainLog.open(init.dataDir))
    }
    try {
      let genesis = records[0]
      if (genesis == null) {
        const faucet = Faucet.generate()
        genesis = {
          type: 'genesis',
          version: 1,
          faucetSeed: faucet.seed,
          faucetLamports: init.faucetLamports ?? FAUCET_LAMPORTS,
          genesisTime: Math.floor(Date.now() / 1000),
          genesisHash: encodeBase58(randomBytes(32))
        }
        log?.append(genesis)
      }
      if (genesis.type !== 'genesis') {
        throw new ChainLogCorruptError('the chain log does not start with a genesis record')
      }
      const chain = new EmbeddedChain(new ChainSvm(), log, genesis)
      chain.replay(records.slice(1))
      return chain
    } catch (err) {
      await log?.close()
      throw err
    }
  }

  private replay (records: LogRecord[]): void {
    const accounts = new Map<string, AccountState>()
    for (const entry of records) {
      if (entry.type !== 'tx') {
        throw new ChainLogCorruptError('a second genesis record in the chain log')
      }
      this.apply(entry.record, entry.blockhash)
      for (const account of entry.accounts) {
        accounts.set(account.address, account)
      }
    }
    for (const account of accounts.values()) {
      this.svm.writeAccount(account)
    }
    this.svm.setSlot(this.currentSlot, this.lastBlockTime, this.genesisTime)
  }

  /** Advance the chain state past a landed transaction (live and on replay). */
  private apply (record: TransactionRecord, blockhash: string): void {
    this.currentSlot = record.slot
    this.currentHeight = record.blockHeight
    this.lastBlockTime = record.blockTime
    this.window.push(blockhash, record.blockHeight)
    this.history.add(record, blockhash)
  }

  get slot (): bigint {
    return this.currentSlot
  }

  get blockHeight (): bigint {
    return this.currentHeight
  }

  /** landed transactions, airdrops included */
  get transactionCount (): number {
    return this.history.size
  }

  latestBlockhash (): RecentBlockhash {
    return this.window.latest
  }

  /** Whether a transaction naming `blockhash` can still land (in the next block, at most at its `lastValidBlockHeight`). */
  isBlockhashValid (blockhash: string): boolean {
    return this.window.isValid(blockhash, this.currentHeight + 1n)
  }

  epochInfo (): EpochInfo {
    return {
      absoluteSlot: this.currentSlot,
      blockHeight: this.currentHeight,
      epoch: this.currentSlot / SLOTS_PER_EPOCH,
      slotIndex: this.currentSlot % SLOTS_PER_EPOCH,
      slotsInEpoch: SLOTS_PER_EPOCH,
      transactionCount: BigInt(this.history.size)
    }
  }

  /**
   * Execute a signed wire transaction and return its signature once it landed (and, with a
   * `dataDir`, is on disk). Refused, not recorded and not charged: over 1232 bytes or not
   * decodable (`TransactionTooLargeError`, `InvalidTransactionError`), a bad or missing
   * signature (`SignatureVerificationError`), and `ChainTransactionError` for an unknown or
   * expired blockhash (`BlockhashNotFound`), a signature already in history
   * (`AlreadyProcessed`), an unfunded fee payer (`AccountNotFound`,
   * `InsufficientFundsForFee`) and, unless `skipPreflight`, any failure while executing.
   */
  sendTransaction (wire: Uint8Array, options: SendTransactionOptions = {}): string {
    this.assertOpen()
    const parsed = this.parse(wire)
    if (!parsed.fullySigned || parsed.signature == null) {
      throw new SignatureVerificationError()
    }
    const signature = parsed.signature
    if (this.history.has(signature)) {
      throw refused('AlreadyProcessed')
    }
    if (!this.isBlockhashValid(parsed.blockhash)) {
      throw refused('BlockhashNotFound')
    }
    const keys = resolveKeys(parsed.message, address => this.svm.readAccount(address))
    const slot = this.currentSlot + 1n
    const blockTime = Math.max(this.lastBlockTime, Math.floor(Date.now() / 1000))
    this.svm.setSlot(slot, blockTime, this.genesisTime)
    let result: TransactionMetadata | FailedTransactionMetadata
    let preBalances: bigint[]
    try {
      preBalances = keys.all.map(key => this.svm.readBalance(key))
      if (options.skipPreflight !== true) {
        const simulation = this.runtime(() => this.svm.simulate(parsed))
        if (simulation instanceof FailedTransactionMetadata) {
          throw failure(simulation)
        }
      }
      result = this.runtime(() => this.svm.execute(parsed))
      if (result instanceof FailedTransactionMetadata && this.svm.readBalance(keys.all[0]) === preBalances[0]) {
        throw failure(result) // not committed: it failed before the fee was charged
      }
    } catch (err) {
      this.svm.setSlot(this.currentSlot, this.lastBlockTime, this.genesisTime)
      throw err
    }
    this.land(parsed, keys, slot, blockTime, preBalances, result)
    return signature
  }

  private land (parsed: ParsedWire, keys: ResolvedKeys, slot: bigint, blockTime: number, preBalances: bigint[], result: TransactionMetadata | FailedTransactionMetadata): void {
    const postBalances = keys.all.map(key => this.svm.readBalance(key))
    const accounts = keys.writable.map(address => this.svm.readAccount(address) ?? closedAccount(address))
    const sum = (list: bigint[]): bigint => list.reduce((a, b) => a + b, 0n)
    const failed = result instanceof FailedTransactionMetadata
    const record: TransactionRecord = {
      signature: parsed.signature ?? '',
      slot,
      blockHeight: this.currentHeight + 1n,
      blockTime,
      wire: Uint8Array.from(parsed.wire),
      version: parsed.version,
      fee: sum(preBalances) - sum(postBalances),
      err: failed ? transactionErrorToJson(result.err()) : null,
      ...executionMeta(failed ? result.meta() : result),
      preBalances,
      postBalances,
      accountKeys: keys.all,
      loadedAddresses: keys.loaded,
      index: this.history.size
    }
    // LiteSVM's own blockhash moves on too (a durable nonce may advance once per block)
    this.svm.expireBlockhash()
    const blockhash = BlockhashWindow.next(this.window.latest.blockhash, slot)
    try {
      this.log?.append({ type: 'tx', record, blockhash, accounts })
    } catch (err: any) {
      this.failure = new ChainClosedError(`the chain stopped: it could not persist transaction ${record.signature}: ${err.message}`, { cause: err })
      throw this.failure
    }
    this.apply(record, blockhash)
    this.emit('slot', { slot, parent: slot - 1n, root: slot })
    this.emit('transaction', { record, accounts })
  }

  /**
   * Run a transaction without committing it (`simulateTransaction`). A blockhash the chain
   * does not accept gives `err: 'BlockhashNotFound'` unless `replaceRecentBlockhash`.
   */
  simulateTransaction (wire: Uint8Array, options: SimulateTransactionOptions = {}): SimulationResult {
    this.assertOpen()
    const parsed = this.parse(wire)
    if (options.sigVerify === true && !parsed.fullySigned) {
      throw new SignatureVerificationError()
    }
    const replacementBlockhash = options.replaceRecentBlockhash === true ? this.window.latest : null
    if (replacementBlockhash == null && !this.isBlockhashValid(parsed.blockhash)) {
      return { err: 'BlockhashNotFound', logs: [], unitsConsumed: 0n, returnData: null, replacementBlockhash }
    }
    const sigverify = options.sigVerify === true
    this.svm.setSlot(this.currentSlot + 1n, Math.max(this.lastBlockTime, Math.floor(Date.now() / 1000)), this.genesisTime)
    if (!sigverify) {
      this.svm.setSigverify(false)
    }
    try {
      const result = this.runtime(() => this.svm.simulate(parsed))
      const failed = result instanceof FailedTransactionMetadata
      const meta = executionMeta(result.meta())
      return {
        err: failed ? transactionErrorToJson(result.err()) : null,
        logs: meta.logMessages,
        unitsConsumed: meta.computeUnitsConsumed,
        returnData: meta.returnData,
        replacementBlockhash
      }
    } finally {
      if (!sigverify) {
        this.svm.setSigverify(true)
      }
      this.svm.setSlot(this.currentSlot, this.lastBlockTime, this.genesisTime)
    }
  }

  /** Send `lamports` from the faucet to `address` (a System Program transfer); returns its signature. */
  airdrop (address: string, lamports: bigint): string {
    this.assertOpen()
    if (!isAddress(address)) {
      throw new InvalidAirdropError(`not a Solana address: ${address}`)
    }
    if (lamports <= 0n || lamports >= 2n ** 64n) {
      throw new InvalidAirdropError(`cannot airdrop ${lamports} lamports`)
    }
    if (address === this.faucet.address) {
      throw new InvalidAirdropError('cannot airdrop to the faucet itself')
    }
    return this.sendTransaction(this.faucet.transfer(address, lamports, this.window.latest.blockhash))
  }

  /** Where a landed transaction stands, or null if the chain has none with that signature. */
  signatureStatus (signature: string): SignatureStatus | null {
    const record = this.history.get(signature)
    return record == null ? null : { slot: record.slot, blockHeight: record.blockHeight, err: record.err }
  }

  getTransaction (signature: string): TransactionRecord | null {
    return this.history.get(signature) ?? null
  }

  /** Transactions naming `address`, newest first (`getSignaturesForAddress`). */
  signaturesForAddress (address: string, options: { limit?: number, before?: string, until?: string } = {}): AddressSignature[] {
    return this.history.signaturesForAddress(address, options)
  }

  /**
   * The block in `slot` (`getBlock`): every slot from 0 to the current one has one; slot 0 is
   * the genesis block (no transactions), each later one holds the one transaction that landed
   * in it. Null for a slot the chain has not reached.
   */
  block (slot: bigint): ChainBlock | null {
    if (slot < 0n || slot > this.currentSlot) {
      return null
    }
    if (slot === 0n) {
      return { slot, parentSlot: 0n, blockhash: BlockhashWindow.genesisBlockhash(this.genesisHash), previousBlockhash: this.genesisHash, blockHeight: 0n, blockTime: this.genesisTime, transactions: [] }
    }
    const entry = this.history.atSlot(slot)
    if (entry == null) {
      return null
    }
    const previous = slot === 1n ? BlockhashWindow.genesisBlockhash(this.genesisHash) : this.history.atSlot(slot - 1n)?.blockhash ?? ''
    const { record } = entry
    return { slot, parentSlot: slot - 1n, blockhash: entry.blockhash, previousBlockhash: previous, blockHeight: record.blockHeight, blockTime: record.blockTime, transactions: [record] }
  }

  /**
   * The current state of every account the chain knows by address: the faucet and every
   * account a landed transaction named. LiteSVM cannot list its accounts, so accounts it
   * preloads (builtin programs, sysvars) and never named by a transaction are not included.
   */
  knownAccounts (): AccountState[] {
    const out: AccountState[] = []
    const seen = new Set<string>([this.faucetAddress])
    const faucet = this.svm.readAccount(this.faucetAddress)
    if (faucet != null) {
      out.push(faucet)
    }
    for (const address of this.history.addresses()) {
      if (seen.has(address)) {
        continue
      }
      seen.add(address)
      const account = this.svm.readAccount(address)
      if (account != null) {
        out.push(account)
      }
    }
    return out
  }

  getBalance (address: string): bigint {
    return this.svm.readBalance(address)
  }

  getAccount (address: string): AccountState | null {
    return this.svm.readAccount(address)
  }

  minimumBalanceForRentExemption (dataLength: number): bigint {
    return this.svm.minimumBalanceForRentExemption(dataLength)
  }

  /** The fee for compiled message bytes, or null when its blockhash is not (or no longer) accepted. */
  feeForMessage (messageBytes: Uint8Array): bigint | null {
    const message = parseMessage(messageBytes)
    return this.isBlockhashValid(message.recentBlockhash) ? feeForMessage(message) : null
  }

  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    this.failure = new ChainClosedError()
    await this.log?.close()
    this.emit('close')
  }

  private assertOpen (): void {
    if (this.failure != null) {
      throw this.failure
    }
  }

  private parse (wire: Uint8Array): ParsedWire {
    if (wire.length > PACKET_DATA_SIZE) {
      throw new TransactionTooLargeError(wire.length, PACKET_DATA_SIZE)
    }
    return parseWire(wire)
  }

  /** Call into LiteSVM; a throw there (it rejects some malformed input that way) is an invalid transaction. */
  private runtime<T> (call: () => T): T {
    try {
      return call()
    } catch (err: any) {
      throw new InvalidTransactionError(`the runtime refused the transaction: ${err.message}`, { cause: err })
    }
  }
}

/** The refusal for a transaction LiteSVM did not commit. */
function failure (result: FailedTransactionMetadata): Error {
  const err = transactionErrorToJson(result.err())
  if (err === 'SignatureFailure') {
    return new SignatureVerificationError()
  }
  const meta = executionMeta(result.meta())
  return refused(err, meta.logMessages, meta.computeUnitsConsumed)
}
