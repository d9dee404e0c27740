import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import type { KeyObject } from 'node:crypto'

/**
 * Ed25519 through node:crypto with the key objects cached. Receipts are signed and checked
 * once per shard on the hot path; building a KeyObject per call (as a generic key API must)
 * cost more than the signature itself. Same keys, same signatures as libp2p's.
 */

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const MAX_CACHED = 1024

const privateKeys = new WeakMap<PrivateKey, KeyObject>()
const publicKeys = new Map<string, KeyObject>()

function privateKeyObject (key: PrivateKey): KeyObject {
  let object = privateKeys.get(key)
  if (object == null) {
    if (key.type !== 'Ed25519') {
      throw new RangeError(`receipts are signed with Ed25519 keys, not ${key.type}`)
    }
    object = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, key.raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' })
    privateKeys.set(key, object)
  }
  return object
}

function publicKeyObject (key: PublicKey): KeyObject {
  const id = Buffer.from(key.raw).toString('base64')
  let object = publicKeys.get(id)
  if (object == null) {
    object = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, key.raw]), format: 'der', type: 'spki' })
    if (publicKeys.size >= MAX_CACHED) {
      publicKeys.delete(publicKeys.keys().next().value as string)
    }
    publicKeys.set(id, object)
  }
  return object
}

export function signEd25519 (key: PrivateKey, data: Uint8Array): Uint8Array {
  return sign(null, data, privateKeyObject(key))
}

export function verifyEd25519 (key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  if (key.type !== 'Ed25519' || signature.byteLength !== 64) {
    return false
  }
  try {
    return verify(null, data, publicKeyObject(key), signature)
  } catch {
    return false
  }
}
