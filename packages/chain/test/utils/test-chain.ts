import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { address, createSolanaRpc, getBase58Decoder, lamports } from '@solana/kit'
import { buildAnchorTransaction, parseTransaction } from '@shardmesh/solana'
import { waitFor } from '@shardmesh/test-utils'
import { startChainServer } from '../../src/index.js'
import type { Base64EncodedWireTransaction, KeyPairSigner, Rpc, Signature, SolanaRpcApi } from '@solana/kit'

/** A chain server on a free loopback port over a fresh data dir, and the stock kit client for it. */
export interface TestChain {
  url: string
  wsUrl: string
  server: Awaited<ReturnType<typeof startChainServer>>
  rpc: Rpc<SolanaRpcApi>
  stop(): Promise<void>
}

export async function startTestChain (): Promise<TestChain> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-solana-test-'))
  const server = await startChainServer({ port: 0, dataDir })
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    server,
    rpc: createSolanaRpc(server.url),
    stop: async () => {
      await server.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** Airdrop `sol` SOL to `to` with the stock kit client and wait until the balance shows it. */
export async function fund (rpc: Rpc<SolanaRpcApi>, to: string, sol = 10n): Promise<void> {
  const before = (await rpc.getBalance(address(to)).send()).value
  await rpc.requestAirdrop(address(to), lamports(sol * 1_000_000_000n)).send()
  await waitFor(async () => (await rpc.getBalance(address(to), { commitment: 'confirmed' }).send()).value >= before + sol * 1_000_000_000n, `the airdrop to ${to}`, { timeout: 5_000 })
}

export function randomRoot (): Uint8Array {
  return Uint8Array.from(randomBytes(32))
}

/** A well-formed signature that no transaction has. */
export function randomSignature (): string {
  return getBase58Decoder().decode(randomBytes(64))
}

/**
 * Move the chain's block height up by `blocks` with cheap memo transactions paid by `payer`
 * (each landed transaction is a block on the embedded chain).
 */
export async function advanceBlocks (rpc: Rpc<SolanaRpcApi>, payer: KeyPairSigner, blocks: number): Promise<void> {
  const start = await rpc.getBlockHeight({ commitment: 'confirmed' }).send()
  for (let i = 0; (await rpc.getBlockHeight({ commitment: 'confirmed' }).send()) < start + BigInt(blocks); i++) {
    const { value } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send()
    const tx = await buildAnchorTransaction({ memo: `tick ${i} ${Math.random()}`, signer: payer, blockhash: value })
    await rpc.sendTransaction(tx.wire as Base64EncodedWireTransaction, { encoding: 'base64' }).send()
    await waitFor(async () => (await rpc.getSignatureStatuses([tx.signature as Signature]).send()).value[0] != null, `tick ${i}`, { timeout: 5_000 })
  }
}

/** A ws:// url on which nothing listens. */
export async function deadWsUrl (): Promise<string> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return `ws://127.0.0.1:${port}`
}

/**
 * A JSON-RPC proxy in front of `target` that intercepts the first `drops` sendTransaction
 * calls: 'drop' answers them as if sent and drops them, 'fail' answers HTTP 503.
 */
export interface DroppingProxy {
  url: string
  /** wire transactions (base64) it dropped */
  dropped: string[]
  close(): Promise<void>
}

export async function startDroppingProxy (target: string, drops: number, mode: 'drop' | 'fail' = 'drop'): Promise<DroppingProxy> {
  const dropped: string[] = []
  const proxy = await startRpcProxy(target, request => {
    if (request.method !== 'sendTransaction' || dropped.length >= drops) {
      return undefined
    }
    dropped.push(request.params[0])
    if (mode === 'fail') {
      return { status: 503, body: 'try later' }
    }
    return { result: parseTransaction(Buffer.from(request.params[0], 'base64')).signature }
  })
  return { ...proxy, dropped }
}

/** What an intercepting proxy answers instead of the target: a JSON-RPC result, or a bare HTTP status. */
type Interception = { result: unknown } | { status: number, body: string } | undefined

/** A JSON-RPC proxy to `target` that lets `intercept` answer a request instead (undefined: forward it). */
async function startRpcProxy (target: string, intercept: (request: any) => Interception): Promise<{ url: string, close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const request = JSON.parse(body.toString('utf8'))
      const answer = intercept(request)
      if (answer != null && 'status' in answer) {
        res.statusCode = answer.status
        res.end(answer.body)
        return
      }
      res.setHeader('content-type', 'application/json')
      if (answer != null) {
        res.end(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: answer.result }))
        return
      }
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async response => {
          res.statusCode = response.status
          res.end(Buffer.from(await response.arrayBuffer()))
        })
        .catch(() => { res.statusCode = 502; res.end() })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
    }
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort (): Promise<number> {
  const server = createHttpServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return port
}

/** A JSON-RPC proxy to `target` whose getVersion answers as a stock validator's does (no `shardmesh-chain`). */
export async function startStockVersionProxy (target: string): Promise<{ url: string, close(): Promise<void> }> {
  return await startRpcProxy(target, request => request.method === 'getVersion' ? { result: { 'solana-core': '2.3.0', 'feature-set': 0 } } : undefined)
}
