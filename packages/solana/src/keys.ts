import { open } from 'node:fs/promises'
import { createKeyPairSignerFromBytes } from '@solana/kit'
import { parseSolanaKeypair } from './address.js'
import { MAX_KEYPAIR_FILE_SIZE } from './constants.js'
import { InvalidKeypairFileError, KeypairFileNotFoundError, UnsupportedKeyError } from './errors.js'
import type { PrivateKey } from '@libp2p/interface'
import type { KeyPairSigner } from '@solana/kit'

/**
 * One key, two worlds: a node's libp2p Ed25519 key is also its Solana account. The raw
 * libp2p private key is seed ‖ public key, the layout Solana keypairs use, so the signer's
 * address is the base58 of the PeerId's public key (`./address.ts`, which needs no kit).
 */

/** A Solana signer for a libp2p Ed25519 private key (the node key). */
export async function signerFromPrivateKey (key: PrivateKey): Promise<KeyPairSigner> {
  if (key.type !== 'Ed25519') {
    throw new UnsupportedKeyError(`a Solana account needs an Ed25519 key, not ${key.type}`)
  }
  return createKeyPairSignerFromBytes(key.raw)
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
