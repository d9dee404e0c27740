import { createDefaultRpcTransport, createSolanaRpcFromTransport } from '@solana/kit'
import { RpcUnreachableError } from './errors.js'
import type { Rpc, RpcTransport, SolanaRpcApi } from '@solana/kit'

/**
 * `createSolanaRpc(url)` whose requests fail with `RpcUnreachableError` (naming the URL and
 * the network error, e.g. `connect ECONNREFUSED 127.0.0.1:8899`) where kit's own transport
 * rejects with a bare `TypeError: fetch failed`. Aborts and RPC errors pass through as they are.
 */
export function createRpc (url: string): Rpc<SolanaRpcApi> {
  const transport = createDefaultRpcTransport({ url })
  const named = (async (request: Parameters<RpcTransport>[0]) => {
    try {
      return await transport(request)
    } catch (err) {
      throw isFetchFailure(err, request.signal) ? new RpcUnreachableError(url, err) : err
    }
  }) as RpcTransport
  return createSolanaRpcFromTransport(named)
}

/** fetch() rejects with a TypeError whose cause is the network error; an abort is not one. */
function isFetchFailure (err: unknown, signal?: AbortSignal): boolean {
  return err instanceof TypeError && signal?.aborted !== true && (err as { cause?: unknown }).cause != null
}
