import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import {
  createSolanaRpc, createSolanaRpcSubscriptions, generateKeyPairSigner, getBase64EncodedWireTransaction, getSignatureFromTransaction,
  lamports
} from '@solana/kit'
import { startChainServer } from '../src/index.js'
import { memoInstruction, sendAndConfirm, signOne } from './utils/harness.js'
import type { Harness, SignedTransaction } from './utils/harness.js'

/**
 * How many SPL Memo transactions per second the embedded chain takes through its JSON-RPC
 * server (persisted in a temp data dir, one fdatasync per transaction), driven by the stock
 * kit client. Modes:
 * - `send`: transactions signed ahead (in rounds of 100, each on a fresh blockhash; signing
 *   is not timed), sent with `sendTransaction` by `concurrency` senders. A transaction has
 *   landed, and is on disk, when the call returns: this measures the chain and its server.
 * - `confirm`: what a client does per transaction, all timed: `getLatestBlockhash`, sign,
 *   and kit's `sendAndConfirmTransaction` at `confirmed` (kit opens a WebSocket per
 *   confirmation when none is open).
 * With `clientThread` the client runs in a worker thread, so client and server do not share
 * one JavaScript thread.
 *
 * Run: `node packages/chain/dist/test/throughput.js [transactions] [concurrency]`.
 * The spec runs it tiny (a smoke test, no timing assertions).
 */

export type ThroughputMode = 'send' | 'confirm'

export interface ThroughputResult {
  mode: ThroughputMode
  transactions: number
  concurrency: number
  clientThread: boolean
  seconds: number
  perSecond: number
  /** transactions the chain recorded while timed (must equal `transactions`) */
  landed: number
}

interface ClientTask {
  url: string
  wsUrl: string
  mode: ThroughputMode
  transactions: number
  concurrency: number
}

const ROUND = 100

async function runWorkers (count: number, concurrency: number, work: (index: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (next < count) {
      await work(next++, worker)
    }
  }))
}

/** The client side: fund the payers, then send; returns the timed seconds. */
async function runClient (task: ClientTask): Promise<number> {
  const h = { rpc: createSolanaRpc(task.url), rpcSubscriptions: createSolanaRpcSubscriptions(task.wsUrl) } as unknown as Harness
  const payers = await Promise.all(Array.from({ length: task.concurrency }, async () => generateKeyPairSigner()))
  for (const payer of payers) {
    await h.rpc.requestAirdrop(payer.address, lamports(1_000_000_000_000n)).send()
  }
  let seconds = 0
  if (task.mode === 'send') {
    for (let start = 0; start < task.transactions; start += ROUND) {
      const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
      const round: SignedTransaction[] = []
      for (let i = start; i < Math.min(task.transactions, start + ROUND); i++) {
        const payer = payers[i % task.concurrency]
        round.push(await signOne(payer, memoInstruction(`shardmesh:throughput:${i}`, payer), lifetime))
      }
      const t0 = performance.now()
      await runWorkers(round.length, task.concurrency, async index => {
        const signature = await h.rpc.sendTransaction(getBase64EncodedWireTransaction(round[index]), { encoding: 'base64' }).send()
        if (signature !== getSignatureFromTransaction(round[index])) {
          throw new Error('the server returned another signature')
        }
      })
      seconds += (performance.now() - t0) / 1000
    }
  } else {
    const t0 = performance.now()
    await runWorkers(task.transactions, task.concurrency, async (index, worker) => {
      const payer = payers[worker]
      const { value: lifetime } = await h.rpc.getLatestBlockhash().send()
      await sendAndConfirm(h, await signOne(payer, memoInstruction(`shardmesh:throughput:${index}`, payer), lifetime))
    })
    seconds = (performance.now() - t0) / 1000
  }
  return seconds
}

async function runClientThread (task: ClientTask): Promise<number> {
  const worker = new Worker(new URL(import.meta.url), { workerData: task })
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', code => { reject(new Error(`the client thread exited (${code})`)) })
    })
  } finally {
    await worker.terminate()
  }
}

export async function measureMemoThroughput (mode: ThroughputMode, transactions: number, concurrency: number, clientThread = false): Promise<ThroughputResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-throughput-'))
  const server = await startChainServer({ dataDir, port: 0 })
  try {
    const task: ClientTask = { url: server.url, wsUrl: server.wsUrl, mode, transactions, concurrency }
    const before = server.chain.transactionCount + concurrency // the payers' airdrops are not timed
    const seconds = clientThread ? await runClientThread(task) : await runClient(task)
    return { mode, transactions, concurrency, clientThread, seconds, perSecond: transactions / seconds, landed: server.chain.transactionCount - before }
  } finally {
    await server.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (!isMainThread && parentPort != null) {
  parentPort.postMessage(await runClient(workerData as ClientTask))
} else if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const transactions = Number(process.argv[2] ?? 2000)
  const concurrency = Number(process.argv[3] ?? 16)
  for (const clientThread of [false, true]) {
    for (const mode of ['send', 'confirm'] as const) {
      for (const c of [1, concurrency]) {
        const r = await measureMemoThroughput(mode, transactions, c, clientThread)
        console.log(`${mode.padEnd(7)} client ${clientThread ? 'thread ' : 'inline '} concurrency ${String(c).padStart(3)}: ` +
          `${r.transactions} memos in ${r.seconds.toFixed(2)} s = ${r.perSecond.toFixed(0)} tx/s (landed ${r.landed})`)
      }
    }
  }
}
