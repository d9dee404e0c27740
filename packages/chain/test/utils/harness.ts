import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AccountRole,
  address,
  airdropFactory,
  appendTransactionMessageInstruction,
  assertIsTransactionWithBlockhashLifetime,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase58Decoder,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners
} from '@solana/kit'
import { startChainServer } from '../../src/index.js'
import type { ChainServer } from '../../src/index.js'
import type {
  AccountSignerMeta, Address, Blockhash, Instruction, KeyPairSigner, Rpc, RpcSubscriptions, SolanaRpcApi, SolanaRpcSubscriptionsApi, TransactionSigner
} from '@solana/kit'

export const MEMO_PROGRAM = address('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr')
export const SYSTEM_PROGRAM = address('11111111111111111111111111111111')
export const LAMPORTS_PER_SOL = 1_000_000_000n

/** A chain server on port 0 over a fresh temp data dir, with the stock kit clients for it. */
export interface Harness {
  server: ChainServer
  dataDir: string
  rpc: Rpc<SolanaRpcApi>
  rpcSubscriptions: RpcSubscriptions<SolanaRpcSubscriptionsApi>
  /** close the server and start a new one on the same data dir (new port, new clients) */
  restart(): Promise<void>
  stop(): Promise<void>
}

export async function startHarness (): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-embedded-'))
  const harness: Harness = {
    dataDir,
    server: await startChainServer({ dataDir, port: 0 }),
    rpc: undefined as unknown as Rpc<SolanaRpcApi>,
    rpcSubscriptions: undefined as unknown as RpcSubscriptions<SolanaRpcSubscriptionsApi>,
    restart: async () => {
      await harness.server.close()
      harness.server = await startChainServer({ dataDir, port: 0 })
      connect()
    },
    stop: async () => {
      await harness.server.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
  const connect = (): void => {
    harness.rpc = createSolanaRpc(harness.server.url)
    harness.rpcSubscriptions = createSolanaRpcSubscriptions(harness.server.wsUrl)
  }
  connect()
  return harness
}

/** kit's airdrop helper (requestAirdrop, then wait for confirmation over the WebSocket). */
export async function airdrop (h: Harness, to: Address, sol = 10n): Promise<string> {
  return airdropFactory({ rpc: h.rpc, rpcSubscriptions: h.rpcSubscriptions })({
    recipientAddress: to,
    lamports: lamports(sol * LAMPORTS_PER_SOL),
    commitment: 'confirmed'
  })
}

export async function fundedSigner (h: Harness, sol = 10n): Promise<KeyPairSigner> {
  const signer = await generateKeyPairSigner()
  await airdrop(h, signer.address, sol)
  return signer
}

function signerMeta (signer: TransactionSigner, role: AccountRole.READONLY_SIGNER | AccountRole.WRITABLE_SIGNER): AccountSignerMeta {
  return { address: signer.address, role, signer }
}

/** An SPL Memo instruction built by hand: the signer as a readonly-signer account, the text as UTF-8 data. */
export function memoInstruction (text: string, signer: TransactionSigner): Instruction {
  return {
    programAddress: MEMO_PROGRAM,
    accounts: [signerMeta(signer, AccountRole.READONLY_SIGNER)],
    data: new TextEncoder().encode(text)
  }
}

/** A System Program transfer built by hand. */
export function transferInstruction (from: TransactionSigner, to: Address, amount: bigint): Instruction {
  const data = new Uint8Array(12)
  const view = new DataView(data.buffer)
  view.setUint32(0, 2, true)
  view.setBigUint64(4, amount, true)
  return {
    programAddress: SYSTEM_PROGRAM,
    accounts: [signerMeta(from, AccountRole.WRITABLE_SIGNER), { address: to, role: AccountRole.WRITABLE }],
    data
  }
}

export interface Lifetime { blockhash: Blockhash, lastValidBlockHeight: bigint }

/** Sign a one-instruction transaction paid by `payer`. */
export async function signOne (payer: TransactionSigner, instruction: Instruction, lifetime: Lifetime, version: 0 | 'legacy' = 0) {
  const message = pipe(
    createTransactionMessage({ version }),
    m => setTransactionMessageFeePayerSigner(payer, m),
    m => setTransactionMessageLifetimeUsingBlockhash(lifetime, m),
    m => appendTransactionMessageInstruction(instruction, m)
  )
  return signTransactionMessageWithSigners(message)
}

/** Sign a memo by `payer` with the chain's latest blockhash. */
export async function signMemo (h: Harness, payer: KeyPairSigner, text: string): ReturnType<typeof signOne> {
  const { value } = await h.rpc.getLatestBlockhash().send()
  return signOne(payer, memoInstruction(text, payer), value)
}

/** kit's sendAndConfirmTransaction at `confirmed` (subscriptions and polling, as against any cluster). */
export type SignedTransaction = Awaited<ReturnType<typeof signOne>>

export async function sendAndConfirm (h: Harness, transaction: SignedTransaction): Promise<void> {
  assertIsTransactionWithBlockhashLifetime(transaction)
  await sendAndConfirmTransactionFactory({ rpc: h.rpc, rpcSubscriptions: h.rpcSubscriptions })(transaction, { commitment: 'confirmed' })
}

export function randomBlockhash (): Blockhash {
  return getBase58Decoder().decode(crypto.getRandomValues(new Uint8Array(32))) as Blockhash
}

/** POST a raw body to the server; returns the status and the parsed body (or the text when it is not JSON). */
export async function post (url: string, body: string): Promise<{ status: number, body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) }
  } catch {
    return { status: response.status, body: text }
  }
}
