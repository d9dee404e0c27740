import { chmod, readFile, writeFile } from 'node:fs/promises'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { exportSolanaKeypair, generateSwarmKey, importSolanaKeypair, loadPrivateKey, solanaAddress, writePrivateKey } from '@shardmesh/node'
import { EXIT_OK, UsageError, parse } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import type { PrivateKey } from '@libp2p/interface'

export const KEY_HELP = `Usage: shardmesh key <show|export|import|swarm> [options]

The node key is one Ed25519 key: the libp2p PeerId and the node's Solana address. Only
'node start' and 'key import' create one; 'show' and 'export' read the data dir's key.

  key show   [--data-dir D] [--json]                 peer id and Solana address
  key export [--data-dir D] --out FILE [--force]     write the Solana CLI keypair JSON (64-number
                                                     array), mode 0600; --force replaces FILE
  key import [--data-dir D] --in FILE [--force]      use a Solana CLI keypair as the node key;
                                                     --force replaces the data dir's key
  key swarm  --out FILE [--force]                    write a new swarm key (a private mesh's
                                                     pre-shared key, libp2p's format), mode 0600;
                                                     give the same file to every node of the mesh
                                                     with 'node start --swarm-key FILE'
`

const SUBCOMMAND_OPTIONS = {
  show: { json: { type: 'boolean' } },
  export: { out: { type: 'string' }, force: { type: 'boolean' } },
  import: { in: { type: 'string' }, force: { type: 'boolean' } },
  swarm: { out: { type: 'string' }, force: { type: 'boolean' } }
} as const

export async function keyCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub == null || sub === '--help' || sub === '-h') {
    process.stdout.write(KEY_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  if (sub !== 'show' && sub !== 'export' && sub !== 'import' && sub !== 'swarm') {
    throw new UsageError(`key: unknown subcommand "${sub}" (try: shardmesh key --help)`)
  }
  const { values } = parse(`key ${sub}`, rest, { 'data-dir': { type: 'string' }, ...SUBCOMMAND_OPTIONS[sub] })
  if (values.help === true) {
    process.stdout.write(KEY_HELP)
    return EXIT_OK
  }
  if (sub === 'swarm') {
    if (values.out == null) throw new UsageError('key swarm: --out FILE is required')
    await writeSecret('key swarm', values.out, generateSwarmKey(), values.force === true)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  switch (sub) {
    case 'show': {
      const key = await readKey(dataDir)
      const peerId = peerIdFromPrivateKey(key)
      const out = { peerId: peerId.toString(), solanaAddress: solanaAddress(peerId), dataDir }
      process.stdout.write(values.json === true ? JSON.stringify(out) + '\n' : `peer id  ${out.peerId}\nsolana   ${out.solanaAddress}\n`)
      return EXIT_OK
    }
    case 'export': {
      if (values.out == null) throw new UsageError('key export: --out FILE is required')
      const key = await readKey(dataDir)
      await writeSecret('key export', values.out, JSON.stringify(exportSolanaKeypair(key)), values.force === true)
      return EXIT_OK
    }
    case 'import': {
      if (values.in == null) throw new UsageError('key import: --in FILE is required')
      let text: string
      try {
        text = await readFile(values.in, 'utf8')
      } catch (err: any) {
        throw new UsageError(`key import: cannot read --in ${values.in}: ${err.code === 'ENOENT' ? 'no such file' : err.code ?? err.message}`)
      }
      const key = await importSolanaKeypair(text)
      const existing = await readFile(`${dataDir}/peer.key`).catch(() => undefined)
      if (existing != null && values.force !== true) {
        throw new UsageError(`key import: ${dataDir} already has a node key; --force replaces it (its PeerId changes)`)
      }
      await writePrivateKey(dataDir, key)
      process.stdout.write(`peer id  ${peerIdFromPrivateKey(key).toString()}\nsolana   ${solanaAddress(key.publicKey)}\n`)
      return EXIT_OK
    }
  }
}

/** Write a secret to `path`, mode 0600; an existing file only with `force`. */
async function writeSecret (command: string, path: string, data: string | Uint8Array, force: boolean): Promise<void> {
  try {
    await writeFile(path, data, { mode: 0o600, flag: force ? 'w' : 'wx' })
  } catch (err: any) {
    if (err.code === 'EEXIST') {
      throw new UsageError(`${command}: --out ${path} exists; --force replaces it`)
    }
    throw new Error(`cannot write --out ${path}: ${err.code ?? err.message}`, { cause: err })
  }
  if (force) {
    // an existing file keeps its mode on 'w': a secret must not stay readable by others
    await chmod(path, 0o600)
  }
}

/** The data dir's node key; a dir without one is an error (a typo must not create an identity). */
async function readKey (dataDir: string): Promise<PrivateKey> {
  try {
    return await loadPrivateKey(dataDir)
  } catch (err: any) {
    if (err.name === 'KeyNotFoundError') {
      throw new UsageError(`${err.message}`)
    }
    throw err
  }
}
