import assert from 'node:assert/strict'
import { parseAnchorMemo } from '@shardmesh/receipts'
import { parseTransaction } from '@shardmesh/solana'
import { address, createSolanaRpc } from '@solana/kit'

/**
 * The memo roots of every successful anchor `signer` (a base58 address) signed, as the chain at
 * `rpcUrl` reports them over JSON-RPC, each with the signatures of the transactions that carry
 * it: a root anchored once has exactly one.
 */
export async function anchorsOnChain (rpcUrl: string, signer: string): Promise<Map<string, string[]>> {
  const rpc = createSolanaRpc(rpcUrl)
  const sigs = await rpc.getSignaturesForAddress(address(signer), { limit: 1000 }).send()
  assert.ok(sigs.length < 1000, 'more anchors than one page of signatures')
  const roots = new Map<string, string[]>()
  for (const s of sigs.filter(s => s.err == null)) {
    const tx = await rpc.getTransaction(s.signature, { encoding: 'base64', maxSupportedTransactionVersion: 0 }).send()
    assert.ok(tx != null, `the chain lists ${s.signature} but does not return it`)
    const parsed = parseTransaction(Buffer.from(tx.transaction[0], 'base64'))
    for (const memo of parsed.memos) {
      const anchor = parseAnchorMemo(memo)
      if (anchor != null && parsed.signers.includes(signer)) {
        const root = Buffer.from(anchor.root).toString('hex')
        roots.set(root, [...(roots.get(root) ?? []), s.signature])
      }
    }
  }
  return roots
}
