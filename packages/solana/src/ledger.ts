/**
 * The Ledger: where receipt batches are anchored. Two implementations share this contract:
 * `RpcLedger` (any Solana cluster over JSON-RPC, including `shardmesh chain`) and
 * `EmbeddedLedger` in `@shardmesh/chain` (the LiteSVM chain in this process).
 *
 * Anchoring is split into prepare / submit so that a caller can persist the signed
 * transaction (and its signature) *before* it is sent: after a crash the caller asks the
 * ledger for that signature's status instead of anchoring the same batch twice.
 */

/** What an anchor memo states besides its root. */
export interface AnchorMeta {
  /** number of receipts in the batch */
  count: number
  /**
   * Workers to pay in the same transaction (settlement): one System Program transfer each, from
   * the node key (the address that signs the memo). Distinct payees, at most
   * `MAX_ANCHOR_PAYMENTS`, each a positive amount. @default none
   */
  payments?: Payment[]
}

/** A payment an anchor transaction makes. */
export interface Payment {
  /** the payee's address (base58) */
  to: string
  lamports: bigint
}

/** A System Program transfer read from a transaction. */
export interface Transfer {
  /** base58 addresses */
  from: string
  to: string
  lamports: bigint
}

/** A signed anchor transaction, not yet (known to be) on chain. */
export interface PreparedAnchor {
  /** base58 transaction signature (the fee payer's signature) */
  signature: string
  /** the signed wire transaction, base64 */
  wire: string
  /** the transaction is dead once the chain's block height passes this */
  lastValidBlockHeight: bigint
  /** the memo text, `shardmesh:v1:<root hex>:<count>` */
  memo: string
}

/** An anchor transaction that landed. */
export interface AnchorResult {
  signature: string
  slot: bigint
  /** lamports paid, when the ledger knows it */
  fee?: bigint
}

/** Where a signature stands on the ledger. */
export type AnchorStatus =
  | { state: 'landed', slot: bigint, err: unknown }
  | { state: 'unknown' }

/** What the ledger holds for one transaction, checked by the client (signatures verified locally). */
export interface AnchorRecord {
  signature: string
  slot: bigint
  blockTime: number | null
  /** lamports paid for the transaction */
  fee: bigint
  /** the transaction's error, or null if it succeeded */
  err: unknown
  /** the UTF-8 text of every SPL Memo instruction in the transaction */
  memos: string[]
  /** base58 addresses whose signatures on the transaction verify */
  signers: string[]
  /**
   * every System Program transfer in the transaction, in order, from an address whose signature
   * verifies (a transfer moved lamports only if `err` is null: a failed transaction moves none)
   */
  transfers: Transfer[]
}

export interface LedgerCallOptions {
  signal?: AbortSignal
}

export interface Ledger {
  /** the address that pays for and signs anchors (base58) */
  readonly address: string

  /** sign (but do not send) an anchor transaction for `root` */
  prepareAnchor(root: Uint8Array, meta: AnchorMeta, options?: LedgerCallOptions): Promise<PreparedAnchor>

  /**
   * send a prepared anchor and wait until it is confirmed. Throws `BlockhashExpiredError`
   * when the chain passed `lastValidBlockHeight` without it landing (then it never will).
   */
  submit(prepared: PreparedAnchor, options?: LedgerCallOptions): Promise<AnchorResult>

  /** prepare + submit, re-preparing on blockhash expiry */
  anchor(root: Uint8Array, meta: AnchorMeta, options?: LedgerCallOptions): Promise<AnchorResult>

  /** whether a signature landed */
  status(signature: string, options?: LedgerCallOptions): Promise<AnchorStatus>

  /** the chain's current block height */
  blockHeight(options?: LedgerCallOptions): Promise<bigint>

  /** the base58 genesis hash naming the cluster anchors land on (it goes into every proof) */
  genesisHash?(options?: LedgerCallOptions): Promise<string>

  /** the transaction, or undefined if the ledger has none with that signature */
  lookup(signature: string, options?: LedgerCallOptions): Promise<AnchorRecord | undefined>

  /**
   * check that `signature` is a successful transaction carrying the memo for
   * `root`/`count` and signed by `signer`; throws `AnchorVerificationError` naming the check
   */
  verifyAnchor(signature: string, root: Uint8Array, count: number, signer: string, options?: LedgerCallOptions): Promise<AnchorRecord>

  close(): Promise<void>
}
