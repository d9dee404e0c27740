import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { writeFileAtomic } from '@shardmesh/protocol'
import { addressOfPeerId, addressOfPublicKey, parseSolanaKeypair } from '@shardmesh/solana/core'
import { KEY_FILE } from './constants.js'
import { InvalidKeyError, KeyNotFoundError } from './errors.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'

/**
 * Load the node key from `<dataDir>/peer.key`; `KeyNotFoundError` when there is none. For
 * commands that only read the key: they must not create an identity in a mistyped dir.
 */
export async function loadPrivateKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, KEY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      throw new KeyNotFoundError(dataDir, { cause: err })
    }
    throw err
  }
  return parseKeyFile(bytes, path)
}

/**
 * Load the node key from `<dataDir>/peer.key`, or create an Ed25519 key there (mode 0600,
 * written atomically). The key is the libp2p PeerId and the node's Solana account.
 */
export async function loadOrCreatePrivateKey (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, KEY_FILE)
  try {
    return parseKeyFile(await readFile(path), path)
  } catch (err: any) {
    if (err.code !== 'ENOENT') {
      throw err
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const key = await generateKeyPair('Ed25519')
  await writePrivateKey(dataDir, key)
  return key
}

/** Store a key as the node key of a data dir (replacing any there). */
export async function writePrivateKey (dataDir: string, key: PrivateKey): Promise<void> {
  if (key.type !== 'Ed25519') {
    throw new InvalidKeyError(`the node key must be Ed25519, not ${key.type}`)
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFileAtomic(join(dataDir, KEY_FILE), privateKeyToProtobuf(key), 0o600)
}

function parseKeyFile (bytes: Uint8Array, path: string): PrivateKey {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err: any) {
    throw new InvalidKeyError(`${path} is not a libp2p private key: ${err.message}`, { cause: err })
  }
  if (key.type !== 'Ed25519') {
    throw new InvalidKeyError(`${path} holds a ${key.type} key; the node key must be Ed25519`)
  }
  return key
}

/**
 * The Solana CLI keypair form of a node key: a JSON array of 64 numbers (seed ‖ public key),
 * as written by `solana-keygen`. libp2p's Ed25519 `raw` is the same 64 bytes.
 */
export function exportSolanaKeypair (key: PrivateKey): number[] {
  if (key.type !== 'Ed25519' || key.raw.byteLength !== 64) {
    throw new InvalidKeyError('only an Ed25519 key has a Solana keypair form')
  }
  return [...key.raw]
}

/** Read a Solana CLI keypair (the JSON text or the parsed array) as a libp2p private key. */
export async function importSolanaKeypair (keypair: string | number[]): Promise<PrivateKey> {
  const parsed = parseSolanaKeypair(keypair)
  if (!parsed.ok) {
    throw new InvalidKeyError(`a Solana keypair file is a JSON array of 64 numbers from 0 to 255: ${parsed.problem}`)
  }
  const raw = parsed.bytes
  // derive the key from the seed (first 32 bytes): the stored public half must match it
  const key = await generateKeyPairFromSeed('Ed25519', raw.subarray(0, 32))
  if (!key.publicKey.raw.every((b, i) => b === raw[32 + i])) {
    throw new InvalidKeyError('the keypair\'s public half does not match its secret half')
  }
  return key
}

/**
 * The Solana address (base58 of the raw Ed25519 public key) of a key or peer id: the node's
 * account. `@shardmesh/solana`'s `addressOfPublicKey`/`addressOfPeerId` compute it; a key
 * that is no Solana account is an `InvalidKeyError` here, as every key this package refuses.
 */
export function solanaAddress (key: PublicKey | PeerId): string {
  try {
    return 'raw' in key ? addressOfPublicKey(key) : addressOfPeerId(key)
  } catch (err: any) {
    if (err?.name === 'UnsupportedKeyError') {
      throw new InvalidKeyError('only Ed25519 keys are Solana addresses', { cause: err })
    }
    throw err
  }
}
