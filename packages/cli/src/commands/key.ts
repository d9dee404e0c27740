import { readFile, writeFile } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportSolanaKeypair, importSolanaKeypair, loadOrCreatePrivateKey, solanaAddress, writePrivateKey } from '@shardmesh/node'
import { EXIT_OK, UsageError, parse } from '../args.js'
import { resolveDataDir } from '../data-dir.js'

export const KEY_HELP = `Usage: shardmesh key <show|export|import> [options]

The node key is one Ed25519 key: the libp2p PeerId and the node's Solana address.

  key show   [--data-dir D] [--json]           peer id and Solana address (creates the key if absent)
  key export [--data-dir D] --out FILE         write the Solana CLI keypair JSON (64-number array), mode 0600
  key import [--data-dir D] --in FILE [--force]  use a Solana CLI keypair as the node key
`

export async function keyCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub == null || sub === '--help' || sub === '-h') {
    process.stdout.write(KEY_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  const { values } = parse(`key ${sub}`, rest, {
    'data-dir': { type: 'string' },
    out: { type: 'string' },
    in: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(KEY_HELP)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  switch (sub) {
    case 'show': {
      const key = await loadOrCreatePrivateKey(dataDir)
      const peerId = peerIdFromPrivateKey(key)
      const out = { peerId: peerId.toString(), solanaAddress: solanaAddress(peerId), dataDir }
      process.stdout.write(values.json === true ? JSON.stringify(out) + '\n' : `peer id  ${out.peerId}\nsolana   ${out.solanaAddress}\n`)
      return EXIT_OK
    }
    case 'export': {
      if (values.out == null) throw new UsageError('key export: --out FILE is required')
      const key = await loadOrCreatePrivateKey(dataDir)
      await writeFile(values.out, JSON.stringify(exportSolanaKeypair(key)), { mode: 0o600, flag: values.force === true ? 'w' : 'wx' })
      return EXIT_OK
    }
    case 'import': {
      if (values.in == null) throw new UsageError('key import: --in FILE is required')
      const key = await importSolanaKeypair(await readFile(values.in, 'utf8'))
      const existing = await readFile(`${dataDir}/peer.key`).catch(() => undefined)
      if (existing != null && values.force !== true) {
        throw new UsageError(`key import: ${dataDir} already has a node key; --force replaces it (its PeerId changes)`)
      }
      await writePrivateKey(dataDir, key)
      process.stdout.write(`peer id  ${peerIdFromPrivateKey(key).toString()}\nsolana   ${solanaAddress(key.publicKey)}\n`)
      return EXIT_OK
    }
    default:
      throw new UsageError(`key: unknown subcommand "${sub}"`)
  }
}
