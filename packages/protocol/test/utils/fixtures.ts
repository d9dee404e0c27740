import type { CapabilityAdvert, CapsRequest, CapsResponse, SignedAdvert } from '../../src/index.js'

function filled (length: number, value: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).fill(value)
}

/** An advert with every field set to a non-default value, so a round trip checks all of them. */
export function fullAdvert (): CapabilityAdvert {
  return {
    peerId: Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...filled(32, 7)]),
    seq: 1_717_000_000_123n,
    issuedAt: 1_717_000_000_000n,
    expiresAt: 1_717_000_030_000n,
    hardware: {
      cpuModel: 'AMD EPYC 9654 96-Core Processor',
      cpuCores: 192,
      memoryBytes: 1_649_267_441_664n,
      gpus: [
        { vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 85_520_809_984n, uuid: 'GPU-0f1e2d3c', driver: '550.54.15' },
        { vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 85_520_809_984n, uuid: 'GPU-4b5a6978', driver: '550.54.15' }
      ],
      platform: 'linux',
      arch: 'x64'
    },
    workloads: [
      { id: 'ocr-rec', version: '1.0.0', throughput: 34.5 },
      { id: 'echo', version: '0.1.0', throughput: 0 }
    ],
    models: [filled(36, 1), filled(36, 2)],
    loadPermille: 250,
    freeSlots: 3,
    totalSlots: 8,
    priceHint: '0.0001 SOL/item',
    // /ip4/127.0.0.1/tcp/4001
    addrs: [Uint8Array.from([0x04, 127, 0, 0, 1, 0x06, 0x0f, 0xa1])]
  }
}

/** An advert with every field at its protobuf default (and no hardware). */
export function emptyAdvert (): CapabilityAdvert {
  return {
    peerId: new Uint8Array(0),
    seq: 0n,
    issuedAt: 0n,
    expiresAt: 0n,
    workloads: [],
    models: [],
    loadPermille: 0,
    freeSlots: 0,
    totalSlots: 0,
    priceHint: '',
    addrs: []
  }
}

export function fullSignedAdvert (payload: Uint8Array): SignedAdvert {
  return { payload: payload as Uint8Array<ArrayBuffer>, publicKey: filled(36, 9), signature: filled(64, 5) }
}

export function fullCapsRequest (): CapsRequest {
  return { includeKnown: true, maxAdverts: 1024 }
}

export function fullCapsResponse (advert: Uint8Array): CapsResponse {
  return { advert: advert as Uint8Array<ArrayBuffer>, more: 17, error: { code: 'ERR_NOT_FOUND', message: 'no such advert' } }
}
