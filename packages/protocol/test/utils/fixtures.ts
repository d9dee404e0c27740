import type { CapabilityAdvert, CapsRequest, CapsResponse, ClientFrame, Receipt, SignedAdvert, SignedReceipt, TensorMap, WorkerFrame } from '../../src/index.js'

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

/** A shard's items: empty, short and binary. */
export function fullItemList (): Uint8Array<ArrayBuffer>[] {
  return [new Uint8Array(0), filled(3, 0x61), Uint8Array.from([0, 0xff, 0x80, 0x7f])]
}

/** Two tensors with every field set. */
export function fullTensorMap (): TensorMap {
  return {
    tensors: [
      { name: 'X', dtype: 'float32', dims: [1n, 3n], data: filled(12, 0x3f) },
      { name: 'mask', dtype: 'int64', dims: [2n ** 40n], data: filled(8, 1) }
    ]
  }
}

/** One client frame of each kind. */
export function fullClientFrames (input: Uint8Array): ClientFrame[] {
  return [
    {
      request: {
        id: 7,
        jobId: filled(16, 0xaa),
        shardIndex: 41,
        workload: 'ocr-rec',
        version: '1.0.0',
        input: input as Uint8Array<ArrayBuffer>,
        model: filled(32, 0x11),
        timeoutMs: 30_000
      }
    },
    { cancel: { id: 7 } },
    { model: { id: 7, digest: filled(32, 0x11), total: 1_000_000n, offset: 65_536n, data: filled(64, 0x22) } }
  ]
}

/** One worker frame of each kind. */
export function fullWorkerFrames (output: Uint8Array, receipt: Uint8Array): WorkerFrame[] {
  return [
    { progress: { id: 7, done: 3 } },
    { result: { id: 7, output: output as Uint8Array<ArrayBuffer>, receipt: receipt as Uint8Array<ArrayBuffer> } },
    { error: { id: 0, code: 'ERR_INVALID_INPUT', message: 'item 2 is not an image' } },
    { needModel: { id: 7, digest: filled(32, 0x11) } }
  ]
}

/** A receipt with every field set to a non-default value. */
export function fullReceipt (): Receipt {
  return {
    version: 1,
    jobId: filled(16, 0xaa),
    shardIndex: 41,
    workload: 'ocr-rec',
    workloadVersion: '1.0.0',
    inputDigest: filled(32, 1),
    outputDigest: filled(32, 2),
    worker: Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...filled(32, 7)]),
    requester: Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...filled(32, 8)]),
    startedAt: 1_717_000_000_000n,
    finishedAt: 1_717_000_000_250n,
    items: 8,
    cpuMicros: 2n ** 40n
  }
}

export function fullSignedReceipt (receipt: Uint8Array): SignedReceipt {
  return {
    receipt: receipt as Uint8Array<ArrayBuffer>,
    workerKey: filled(36, 9),
    workerSignature: filled(64, 5),
    verification: { policy: 'spot-check:0.1', outcome: 'checked' },
    requesterKey: filled(36, 10),
    requesterSignature: filled(64, 6)
  }
}
