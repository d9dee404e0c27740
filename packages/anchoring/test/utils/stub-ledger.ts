import { createHash } from 'node:crypto'
import { anchorMemo } from '@shardmesh/receipts'
import { base58btc } from 'multiformats/bases/base58'
import type { AnchorMeta, AnchorRecord, AnchorResult, AnchorStatus, Ledger, Payment, PreparedAnchor } from '@shardmesh/solana'

export interface StubLedgerInit {
  /** submits that fail (each with an error) before they succeed */
  failures?: number
  /** the node key's address (the anchorer pays workers only for receipts whose requester it is) @default a fixed one */
  address?: string
}

/**
 * A ledger in memory: every transaction it prepares lands when submitted, one slot each, at
 * 5,000 lamports; the block height never moves, so no transaction expires.
 */
/** The cluster of the stub ledger: base58 of 32 bytes of 7. */
export const STUB_GENESIS_HASH = 'US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx'

export class StubLedger implements Ledger {
  readonly address: string
  /** transactions prepared (signed) */
  prepared = 0
  /** signatures submitted, in order */
  readonly submitted: string[] = []
  closed = false
  private failures: number
  private slot = 0n
  private readonly landed = new Map<string, { slot: bigint, memo: string }>()
  /** the payments of every transaction prepared, by signature */
  readonly payments = new Map<string, Payment[]>()

  constructor (init: StubLedgerInit = {}) {
    this.failures = init.failures ?? 0
    this.address = init.address ?? 'StubLedger1111111111111111111111111111111111'
  }

  async prepareAnchor (root: Uint8Array, meta: AnchorMeta): Promise<PreparedAnchor> {
    this.prepared++
    const memo = anchorMemo(root, meta.count)
    // 64 bytes, as a transaction signature: distinct per transaction
    const signature = base58btc.baseEncode(createHash('sha512').update(`${this.prepared}:${memo}`).digest())
    this.payments.set(signature, meta.payments ?? [])
    return { signature, wire: Buffer.from(memo).toString('base64'), lastValidBlockHeight: 150n, memo }
  }

  async submit (prepared: PreparedAnchor): Promise<AnchorResult> {
    if (this.failures > 0) {
      this.failures--
      throw new Error('the stub ledger is down')
    }
    this.submitted.push(prepared.signature)
    this.slot++
    this.landed.set(prepared.signature, { slot: this.slot, memo: prepared.memo })
    return { signature: prepared.signature, slot: this.slot, fee: 5_000n }
  }

  async anchor (root: Uint8Array, meta: AnchorMeta): Promise<AnchorResult> {
    return this.submit(await this.prepareAnchor(root, meta))
  }

  async status (signature: string): Promise<AnchorStatus> {
    const tx = this.landed.get(signature)
    return tx == null ? { state: 'unknown' } : { state: 'landed', slot: tx.slot, err: null }
  }

  /** a fixed genesis hash (32 bytes of 7, base58): the cluster every stub anchor lands on */
  async genesisHash (): Promise<string> {
    return STUB_GENESIS_HASH
  }

  async blockHeight (): Promise<bigint> {
    return 0n
  }

  async lookup (signature: string): Promise<AnchorRecord | undefined> {
    const tx = this.landed.get(signature)
    return tx == null ? undefined : { signature, slot: tx.slot, blockTime: null, fee: 5_000n, err: null, memos: [tx.memo], signers: [this.address], transfers: (this.payments.get(signature) ?? []).map(p => ({ from: this.address, to: p.to, lamports: p.lamports })) }
  }

  async verifyAnchor (signature: string): Promise<AnchorRecord> {
    return await this.lookup(signature) ?? Promise.reject(new Error(`no transaction ${signature}`))
  }

  async close (): Promise<void> {
    this.closed = true
  }
}
