import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidCapabilityKeyError } from './errors.js'

/**
 * Capability keys name one thing a node can do, as `kind:value`:
 *
 * | key                  | meaning                                         |
 * | -------------------- | ----------------------------------------------- |
 * | `workload:<id>`      | runs the installed workload `<id>` (any version) |
 * | `model:<cid>`        | holds the model whose bytes hash to `<cid>`     |
 * | `gpu:<vendor>`       | has at least one GPU of `<vendor>` (`nvidia`)   |
 *
 * Each key is also a DHT provider record whose CID is CIDv1(raw, sha256(utf8(key))), so any
 * stock libp2p node finds the providers of `workload:ocr-rec` with
 * `libp2p.contentRouting.findProviders(await capabilityKeyToCid('workload:ocr-rec'))`.
 */
export type CapabilityKind = 'workload' | 'model' | 'gpu'

const KINDS = new Set<string>(['workload', 'model', 'gpu'])
const VALUE = /^[A-Za-z0-9._\-@+/=]{1,200}$/

export function capabilityKey (kind: CapabilityKind, value: string): string {
  const key = `${kind}:${value}`
  parseCapabilityKey(key)
  return key
}

export function parseCapabilityKey (key: string): { kind: CapabilityKind, value: string } {
  const i = key.indexOf(':')
  const kind = key.slice(0, i)
  const value = key.slice(i + 1)
  if (i < 1 || !KINDS.has(kind)) {
    throw new InvalidCapabilityKeyError(`capability key "${key.slice(0, 64)}" must start with workload:, model: or gpu:`)
  }
  if (!VALUE.test(value)) {
    throw new InvalidCapabilityKeyError(`capability key "${key.slice(0, 64)}" has an empty or invalid value`)
  }
  return { kind: kind as CapabilityKind, value }
}

/** CIDv1, raw codec, sha256 of the key's UTF-8 bytes: the DHT provider record of a capability. */
export async function capabilityKeyToCid (key: string): Promise<CID> {
  parseCapabilityKey(key)
  const digest = await sha256.digest(new TextEncoder().encode(key))
  return CID.createV1(raw.code, digest)
}

/**
 * The content address of a model named by the sha256 of its bytes (hex), as adverts carry
 * models and `model:<cid>` keys name them: CIDv1, raw codec, that sha256.
 */
export function modelCidOfDigest (sha256Hex: string): CID {
  return CID.createV1(raw.code, Digest.create(sha256.code, Buffer.from(sha256Hex, 'hex')))
}

/** The content address of a model file's bytes: `modelCidOfDigest` of their sha256. */
export async function modelCidOfBytes (bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes))
}
