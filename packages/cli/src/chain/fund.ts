import { createRpc } from '@shardmesh/solana'
import { address, lamports } from '@solana/kit'

/** Lamports each node of a local cluster gets: 1 SOL pays 200,000 single-signer anchors. */
export const LOCAL_FUNDING = 1_000_000_000n

/**
 * Fund addresses on a local chain with `requestAirdrop` (the stock JSON-RPC call, which any
 * test validator also serves) and wait until every airdrop landed.
 */
export async function fundAddresses (rpcUrl: string, addresses: string[], amount = LOCAL_FUNDING, options: { timeout?: number } = {}): Promise<void> {
  // unreachable: RpcUnreachableError names the URL and the network error
  const rpc = createRpc(rpcUrl)
  const signatures = await Promise.all(addresses.map(async a => rpc.requestAirdrop(address(a), lamports(amount), { commitment: 'confirmed' }).send()))
  const deadline = Date.now() + (options.timeout ?? 30_000)
  let pending = signatures
  while (pending.length > 0) {
    const { value } = await rpc.getSignatureStatuses(pending, { searchTransactionHistory: true }).send()
    const failed = value.find(s => s?.err != null)
    if (failed != null) {
      throw new Error(`an airdrop failed: ${JSON.stringify(failed.err)}`)
    }
    pending = pending.filter((_, i) => value[i] == null || value[i]?.confirmationStatus === 'processed')
    if (pending.length === 0) {
      return
    }
    if (Date.now() > deadline) {
      throw new Error(`${pending.length} airdrops not confirmed within ${options.timeout ?? 30_000} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}
