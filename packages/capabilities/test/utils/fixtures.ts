import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ADVERT_SIGNATURE_DOMAIN, CapabilityAdvert, encodeSignedAdvert } from '@shardmesh/protocol'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { AdvertContent } from '../../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

/** A fixed point in time (ms) that tests pass as `now`, so nothing depends on the wall clock. */
export const NOW = 1_750_000_000_000

export async function cidOf (text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
}

export async function content (overrides: Partial<AdvertContent> = {}): Promise<AdvertContent> {
  return {
    hardware: {
      cpuModel: 'Intel(R) Xeon(R) Platinum 8480+',
      cpuCores: 112,
      memoryBytes: 2_164_000_000_000,
      gpus: [{ vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 85_520_809_984, uuid: 'GPU-1234abcd', driver: '550.54.15' }],
      platform: 'linux',
      arch: 'x64'
    },
    workloads: [{ id: 'ocr-rec', version: '1.0.0', throughput: 34.5 }, { id: 'echo', version: '0.1.0', throughput: 0 }],
    models: [await cidOf('model-a')],
    loadPermille: 120,
    freeSlots: 6,
    totalSlots: 8,
    priceHint: '0.0001 SOL/item',
    addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip4/192.0.2.7/udp/4001/quic-v1')],
    ...overrides
  }
}

/** A raw advert (protobuf form) naming the peer of `key`, issued at `now` with a 30 s TTL. */
export function rawAdvert (key: PrivateKey, overrides: Partial<CapabilityAdvert> = {}, now = NOW): CapabilityAdvert {
  return {
    peerId: peerIdFromPrivateKey(key).toMultihash().bytes,
    seq: 1n,
    issuedAt: BigInt(now),
    expiresAt: BigInt(now + 30_000),
    hardware: { cpuModel: 'cpu', cpuCores: 4, memoryBytes: 8n << 30n, gpus: [], platform: 'linux', arch: 'x64' },
    workloads: [{ id: 'echo', version: '1', throughput: 0 }],
    models: [],
    loadPermille: 0,
    freeSlots: 4,
    totalSlots: 4,
    priceHint: '',
    addrs: [],
    ...overrides
  }
}

export function signedBytes (data: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode(ADVERT_SIGNATURE_DOMAIN)
  const out = new Uint8Array(domain.byteLength + data.byteLength)
  out.set(domain, 0)
  out.set(data, domain.byteLength)
  return out
}

/**
 * Sign arbitrary payload bytes the way `signAdvert` does (DOMAIN || payload) with `signer`,
 * bypassing every check of the encoder: this is what a hostile or buggy peer can send.
 */
export async function signPayload (signer: PrivateKey, payload: Uint8Array): Promise<Uint8Array> {
  const signature = await signer.sign(signedBytes(payload))
  return encodeSignedAdvert({ payload, publicKey: publicKeyToProtobuf(signer.publicKey), signature })
}

/** Encode a raw advert without the encoder's checks and sign it with `signer`. */
export async function signRaw (signer: PrivateKey, advert: CapabilityAdvert): Promise<Uint8Array> {
  return signPayload(signer, CapabilityAdvert.encode(advert))
}
