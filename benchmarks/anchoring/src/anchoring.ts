/**
 * Anchoring: batch roots anchored on the embedded chain (`startChainServer`, LiteSVM served as
 * Solana JSON-RPC + WebSocket on loopback, in this process) by `RpcLedger` over real HTTP and
 * WebSocket, signed and paid by the requester's node key (as a node does).
 *
 * - throughput: anchors of random roots one after the other, then with 4 in flight (one
 *   ledger); each `anchor()` is prepare (getLatestBlockhash) + send + confirmation.
 * - cost: real batches of B countersigned receipts, their Merkle root anchored; the fee is read
 *   back from the chain (`verifyAnchor` → `getTransaction` meta fee) and checked against the
 *   payer's balance change; the transactions a batch took are counted from the chain (the
 *   payer's new `getSignaturesForAddress` entries, and `getTransactionCount` before and after).
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MerkleTree } from '@shardmesh/receipts'
import { startChainServer } from '@shardmesh/chain'
import { RpcLedger, signerFromPrivateKey } from '@shardmesh/solana'
import { waitFor } from '@shardmesh/test-utils'
import { address, createSolanaRpc, lamports } from '@solana/kit'
import { countersignedReceipts, parties } from './fixtures.js'
import { loadavg, perSec, progress, round, rounds, summary, timed } from './stats.js'
import type { Rounds, Summary } from './stats.js'
import type { Rpc, Signature, SolanaRpcApi } from '@solana/kit'

export interface AnchoringOptions {
  /** anchors per sequential run */
  sequential: number
  /** anchors per concurrent run, and how many are in flight */
  concurrent: { anchors: number, inFlight: number }
  /** receipts per anchored batch, for the cost */
  batchSizes: number[]
  rounds: number
}

export interface ThroughputRun {
  inFlight: number
  anchors: number
  anchorsPerSec: Rounds
  /** one `anchor()` call, prepare to confirmation, all rounds' samples */
  latencyMs: Summary
  /** this process's CPU (client, RPC server and chain together), in cores */
  cpuCores: Rounds
}

export interface CostRun {
  receipts: number
  /** fee of the batch's anchor transaction, lamports, from `getTransaction` meta (median) */
  feeLamports: Rounds
  lamportsPerReceipt: Rounds
  /** the payer's balance before minus after the anchor (lamports, median) */
  balanceDeltaLamports: number
  /** transactions the batch took: the payer's new `getSignaturesForAddress` entries (each round) */
  transactions: number[]
  /** `getTransactionCount` after minus before the anchor: every transaction the chain took meanwhile (each round) */
  chainTransactions: number[]
  /** `verifyAnchor` found the memo `shardmesh:v1:<root>:<count>` signed by the node key */
  verified: boolean
}

export interface AnchoringResult {
  /** the anchoring account: the requester's node key, also the fee payer */
  payer: string
  /** the confirmation commitment `RpcLedger` waited for */
  commitment: 'confirmed'
  sequential: ThroughputRun
  concurrent: ThroughputRun
  cost: CostRun[]
  loadavg: { start: number[], end: number[] }
}

const SOL = 1_000_000_000n

/** Airdrop with the stock kit client and wait until the chain reports the transfer. */
async function fund (rpc: Rpc<SolanaRpcApi>, to: string, sol: bigint): Promise<void> {
  const signature: Signature = await rpc.requestAirdrop(address(to), lamports(sol * SOL)).send()
  await waitFor(async () => {
    const { value: [status] } = await rpc.getSignatureStatuses([signature]).send()
    return status != null && status.err == null && status.confirmationStatus !== 'processed'
  }, `the airdrop to ${to}`, { timeout: 30_000 })
}

/** The newest signature touching `of`. */
async function newestSignature (rpc: Rpc<SolanaRpcApi>, of: string): Promise<Signature | undefined> {
  return (await rpc.getSignaturesForAddress(address(of), { limit: 1 }).send())[0]?.signature
}

/** How many transactions touching `of` landed after `since` (newest first, as the RPC lists them). */
async function signaturesSince (rpc: Rpc<SolanaRpcApi>, of: string, since: Signature | undefined): Promise<number> {
  return (await rpc.getSignaturesForAddress(address(of), { limit: 1000, until: since }).send()).length
}

async function throughput (ledger: RpcLedger, anchors: number, inFlight: number, latencies: number[]): Promise<{ rate: number, cpuCores: number }> {
  let next = 0
  const t = await timed(async () => {
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < anchors) {
        next++
        const start = performance.now()
        await ledger.anchor(randomBytes(32), { count: 1 })
        latencies.push(performance.now() - start)
      }
    }))
  })
  return { rate: perSec(anchors, t.wallMs), cpuCores: t.cpuCores }
}

export async function anchoring (options: AnchoringOptions): Promise<AnchoringResult> {
  const start = loadavg()
  const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-anchoring-bench-chain-'))
  const server = await startChainServer({ port: 0, dataDir })
  const p = await parties()
  const signer = await signerFromPrivateKey(p.requester.key)
  const rpc = createSolanaRpc(server.url)
  const ledger = new RpcLedger({ rpcUrl: server.url, wsUrl: server.wsUrl, signer })
  try {
    await fund(rpc, signer.address, 100n)
    progress(`anchoring: chain at ${server.url}, payer ${signer.address} funded`)
    // warm-up: connections, the subscription socket, JIT
    for (let i = 0; i < 2; i++) {
      await ledger.anchor(randomBytes(32), { count: 1 })
    }

    const seq = { rates: [] as number[], cpu: [] as number[], latencies: [] as number[] }
    const conc = { rates: [] as number[], cpu: [] as number[], latencies: [] as number[] }
    const costs = options.batchSizes.map(() => ({ fee: [] as number[], perReceipt: [] as number[], balance: [] as number[], transactions: [] as number[], chainTransactions: [] as number[], verified: true }))

    for (let r = 0; r < options.rounds; r++) {
      const s = await throughput(ledger, options.sequential, 1, seq.latencies)
      seq.rates.push(s.rate)
      seq.cpu.push(s.cpuCores)
      const c = await throughput(ledger, options.concurrent.anchors, options.concurrent.inFlight, conc.latencies)
      conc.rates.push(c.rate)
      conc.cpu.push(c.cpuCores)

      for (const [i, size] of options.batchSizes.entries()) {
        const receipts = await countersignedReceipts(p, size)
        const tree = MerkleTree.fromLeaves(receipts)
        const balanceBefore = (await rpc.getBalance(address(signer.address), { commitment: 'confirmed' }).send()).value
        const newest = await newestSignature(rpc, signer.address)
        const chainTxBefore = await rpc.getTransactionCount({ commitment: 'confirmed' }).send()
        const anchored = await ledger.anchor(tree.root, { count: size })
        const record = await ledger.verifyAnchor(anchored.signature, tree.root, size, ledger.address)
        const balanceAfter = (await rpc.getBalance(address(signer.address), { commitment: 'confirmed' }).send()).value
        const payerTransactions = await signaturesSince(rpc, signer.address, newest)
        const chainTxAfter = await rpc.getTransactionCount({ commitment: 'confirmed' }).send()
        const cost = costs[i]
        cost.fee.push(Number(record.fee))
        cost.perReceipt.push(Number(record.fee) / size)
        cost.balance.push(Number(balanceBefore - balanceAfter))
        cost.transactions.push(payerTransactions)
        cost.chainTransactions.push(Number(chainTxAfter - chainTxBefore))
        cost.verified &&= record.err == null
      }
      progress(`anchoring round ${r + 1}/${options.rounds}: sequential ${round(s.rate, 1)}/s, ${options.concurrent.inFlight} in flight ${round(c.rate, 1)}/s; ${options.batchSizes.map((size, i) => `batch ${size}: ${costs[i].fee[r]} lamports, ${costs[i].transactions[r]} tx`).join('; ')}`)
    }

    return {
      payer: signer.address,
      commitment: 'confirmed',
      sequential: { inFlight: 1, anchors: options.sequential, anchorsPerSec: rounds(seq.rates, 1), latencyMs: summary(seq.latencies), cpuCores: rounds(seq.cpu, 2) },
      concurrent: { inFlight: options.concurrent.inFlight, anchors: options.concurrent.anchors, anchorsPerSec: rounds(conc.rates, 1), latencyMs: summary(conc.latencies), cpuCores: rounds(conc.cpu, 2) },
      cost: options.batchSizes.map((size, i) => ({
        receipts: size,
        feeLamports: rounds(costs[i].fee, 0),
        lamportsPerReceipt: rounds(costs[i].perReceipt, 4),
        balanceDeltaLamports: rounds(costs[i].balance, 0).median,
        transactions: costs[i].transactions,
        chainTransactions: costs[i].chainTransactions,
        verified: costs[i].verified
      })),
      loadavg: { start, end: loadavg() }
    }
  } finally {
    await ledger.close()
    await server.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}
