import { open } from 'node:fs/promises'
import { createKeyPairSignerFromBytes, getAddressDecoder } from '@solana/kit'
import { MAX_KEYPAIR_FILE_SIZE } from './constants.js'
import { InvalidKeypairFileError, KeypairFileNotFoundError, UnsupportedKeyError } from './errors.js'
import type { PeerId, PrivateKey, PublicKey } from '@libp2p/interface'
import type { KeyPairSigner } from '@solana/kit'

/**
 * One key, two worlds: a node's libp2p Ed25519 key is also its Solana account. The raw
 * libp2p private key is seed ‖ public key, the layout Solana keypairs use, so the signer's
 * address is the base58 of the PeerId's public key.
 */

const addressDecoder = getAddressDecoder()

/** A Solana signer for a libp2p Ed25519 private key (the node key). */
export async function signerFromPrivateKey (key: PrivateKey): Promise<KeyPairSigner> {
  if (key.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`a Solana account needs an Ed25519 key, not ${key.type}`)
  }
  return createKeyPairSignerFromBytes(key.raw)
}

/** The Solana address (base58) of an Ed25519 public key. */
export function addressOfPublicKey (key: PublicKey): string {
  if (key.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`a Solana account needs an Ed25519 key, not ${key.type}`)
  }
  return addressDecoder.decode(key.raw)
}

/** The Solana address of a peer: the base58 of its Ed25519 public key. */
export function addressOfPeerId (peerId: PeerId): string {
  if (peerId.type !== 'Ed25519' || peerId.publicKey == null) {
    throw new UnsupportedKeyError(`peer ${peerId.toString()} has a ${peerId.type} key; only Ed25519 peers have a Solana address`)
  }
  return addressOfPublicKey(peerId.publicKey)
}

async function readKeypairFile (path: string): Promise<string> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      throw new KeypairFileNotFoundError(path, { cause: err })
    }
    throw new InvalidKeypairFileError(path, `cannot open it (${err.code ?? err.message})`, { cause: err })
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) {
      throw new InvalidKeypairFileError(path, 'not a regular file')
    }
    if (stat.size > MAX_KEYPAIR_FILE_SIZE) {
      throw new InvalidKeypairFileError(path, `${stat.size} bytes, over the ${MAX_KEYPAIR_FILE_SIZE} byte limit`)
    }
    const buffer = Buffer.alloc(MAX_KEYPAIR_FILE_SIZE + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0)
    if (bytesRead > MAX_KEYPAIR_FILE_SIZE) {
      throw new InvalidKeypairFileError(path, `over the ${MAX_KEYPAIR_FILE_SIZE} byte limit`)
    }
    return buffer.subarray(0, bytesRead).toString('utf8')
  } catch (err: any) {
    if (err instanceof InvalidKeypairFileError) {
      throw err
    }
    throw new InvalidKeypairFileError(path, `cannot read it (${err.code ?? err.message})`, { cause: err })
  } finally {
    await handle.close()
  }
}

/**
 * Load a Solana CLI keypair file (`solana-keygen new -o <path>`): a JSON array of 64 byte
 * values, secret key then public key. Throws `KeypairFileNotFoundError` when there is no
 * file, `InvalidKeypairFileError` when it is not that format or its halves do not match.
 */
export async function loadKeypairFile (path: string): Promise<KeyPairSigner> {
  const parsed = parseSolanaKeypair(await readKeypairFile(path))
  if (!parsed.ok) {
    throw new InvalidKeypairFileError(path, parsed.problem)
  }
  try {
    return await createKeyPairSignerFromBytes(parsed.bytes)
  } catch (err: any) {
    throw new InvalidKeypairFileError(path, 'its public key does not belong to its secret key', { cause: err })
  } finally {
    parsed.bytes.fill(0)
  }
}

/**
 * The 64 bytes (secret key, then public key) of a Solana CLI keypair, from its JSON text or
 * the parsed array, or what is wrong with it. The halves are not checked against each other.
 */
export function parseSolanaKeypair (keypair: string | unknown[]): { ok: true, bytes: Uint8Array } | { ok: false, problem: string } {
  let values: unknown = keypair
  if (typeof keypair === 'string') {
    try {
      values = JSON.parse(keypair)
    } catch {
      return { ok: false, problem: 'not JSON' }
    }
  }
  if (!Array.isArray(values) || values.length !== 64) {
    return { ok: false, problem: `expected a JSON array of 64 numbers, found ${Array.isArray(values) ? `an array of ${values.length}` : typeof values}` }
  }
  if (!values.every(v => Number.isInteger(v) && v >= 0 && v <= 255)) {
    return { ok: false, problem: 'every value must be an integer from 0 to 255' }
  }
  return { ok: true, bytes: Uint8Array.from(values as number[]) }
}
