import { existsSync } from 'node:fs'
import { UsageError } from '../args.js'
import type { LocalClusterOptions } from '../cluster/local-cluster.js'

/** The flags `cluster` and `demo` share to pick where receipts are anchored. */
export const SOLANA_FLAGS = {
  'solana-rpc': { type: 'string' },
  'solana-ws': { type: 'string' },
  'solana-keypair': { type: 'string' },
  'no-chain': { type: 'boolean' }
} as const

export const SOLANA_HELP = `  --solana-rpc URL      anchor receipts on this Solana cluster instead of a local chain
  --solana-ws URL       its WebSocket endpoint (default: the RPC's host and port)
  --solana-keypair FILE Solana CLI keypair paying the fees on that cluster (the node keys
                        still sign every anchor)
  --no-chain            start no local chain: receipts are stored but not anchored
`

/** `'local'` (the default: a `shardmesh chain` process), an RPC config, or none. */
export function solanaOption (command: string, values: Record<string, any>): LocalClusterOptions['solana'] {
  const rpcUrl = values['solana-rpc'] as string | undefined
  if (values['no-chain'] === true) {
    if (rpcUrl != null) {
      throw new UsageError(`${command}: --no-chain and --solana-rpc exclude each other`)
    }
    return undefined
  }
  if (rpcUrl == null) {
    if (values['solana-ws'] != null || values['solana-keypair'] != null) {
      throw new UsageError(`${command}: --solana-ws and --solana-keypair need --solana-rpc`)
    }
    return 'local'
  }
  if (!/^https?:\/\/\S+$/.test(rpcUrl)) {
    throw new UsageError(`${command}: --solana-rpc must be an http(s):// URL`)
  }
  if (values['solana-ws'] != null && !/^wss?:\/\/\S+$/.test(values['solana-ws'])) {
    throw new UsageError(`${command}: --solana-ws must be a ws(s):// URL`)
  }
  if (values['solana-keypair'] != null && !existsSync(values['solana-keypair'])) {
    throw new UsageError(`${command}: --solana-keypair ${values['solana-keypair']}: no such file`)
  }
  return { rpcUrl, wsUrl: values['solana-ws'], keypair: values['solana-keypair'] }
}
