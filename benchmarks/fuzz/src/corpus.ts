/**
 * Valid encodings of every message and file the fuzzer mutates, made with the packages' own
 * encoders and real keys and signatures, so a mutation starts from something every check
 * passes and reaches the checks behind the first.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  BatchRequest, ProofRequest, ProofResponse, decodeSignedAdvert, decodeSignedReceipt, encodeCapsRequest, encodeCapsResponse,
  encodeClientFrame, encodeItemList, encodeTensorMap, encodeWorkerFrame
} from '@shardmesh/protocol'
import { signAdvert } from '@shardmesh/capabilities'
import { MerkleTree, anchorMemo, countersignReceipts, encodeBundle, encodeReceiptProof, signReceipt, signReceipts } from '@shardmesh/receipts'
import { buildAnchorTransaction, preparedWireBytes } from '@shardmesh/solana'
import { signAttestation } from '@shardmesh/trust'
import { createKeyPairSignerFromPrivateKeyBytes } from '@solana/kit'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btc } from 'multiformats/bases/base58'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { AdvertContent } from '@shardmesh/capabilities'
import type { ReceiptFields } from '@shardmesh/receipts'

/** The clock adverts and attestations are made and checked at. */
export const NOW = 1_780_000_000_000

export interface Party { key: PrivateKey, peerId: PeerId }

/** A party whose Ed25519 key comes from a fixed seed byte: the corpus is the same in every run, so a path replays the same bytes. */
export async function party (seed: number): Promise<Party> {
  const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(seed))
  return { key, peerId: peerIdFromPrivateKey(key) }
}

export interface Corpus {
  worker: Party
  requester: Party
  /** what the worker's adverts say */
  advertContent: AdvertContent
  /** SignedAdvert encodings */
  signedAdverts: Uint8Array[]
  /** CapabilityAdvert encodings (the payloads) */
  adverts: Uint8Array[]
  capsRequests: Uint8Array[]
  capsResponses: Uint8Array[]
  itemLists: Uint8Array[]
  tensorMaps: Uint8Array[]
  clientFrames: Uint8Array[]
  workerFrames: Uint8Array[]
  /** Receipt encodings (inside a SignedReceipt) */
  receipts: Uint8Array[]
  /** SignedReceipt encodings: worker-signed only, countersigned, signed and countersigned in groups */
  signedReceipts: Uint8Array[]
  /** countersigned receipts of one batch, in leaf order */
  batch: Uint8Array[]
  /** the batch's proof files (JSON objects) */
  proofs: unknown[]
  /** the batch's bundle file (JSON object) */
  bundles: unknown[]
  proofRequests: Uint8Array[]
  proofResponses: Uint8Array[]
  batchRequests: Uint8Array[]
  attestations: Uint8Array[]
  memos: string[]
  transactions: Uint8Array[]
  swarmKeys: Uint8Array[]
  npy: Uint8Array[]
  jobBodies: unknown[]
  rpcRequests: unknown[]
}

function npyFile (descr: string, shape: number[], data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  // magic (6) + version (2) + header length (2) + header, padded to 64 with a final newline
  const total = Math.ceil((10 + header.length + 1) / 64) * 64
  header = header.padEnd(total - 10 - 1, ' ') + '\n'
  const out = new Uint8Array(10 + header.length + data.byteLength)
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8])
  out.set(new TextEncoder().encode(header), 10)
  out.set(data, 10 + header.length)
  return out
}

function fields (worker: Party, requester: Party, i: number): ReceiptFields {
  return {
    jobId: new Uint8Array(16).fill(0xa0 + i),
    shardIndex: i,
    workload: 'echo',
    workloadVersion: '1.0.0',
    inputDigest: new Uint8Array(32).fill(i + 1),
    outputDigest: new Uint8Array(32).fill(i + 2),
    worker: worker.peerId,
    requester: requester.peerId,
    startedAt: NOW - 250,
    finishedAt: NOW,
    items: 4,
    cpuMicros: 1_000 + i,
    lamportsPerItem: i % 2 === 0 ? 0n : 5_000n
  }
}

/** Every valid encoding, the same in every run (fixed keys, times and nonces; Ed25519 signs deterministically). */
export async function makeCorpus (): Promise<Corpus> {
  const worker = await party(1)
  const requester = await party(2)

  const cid = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode('model-a')))
  const advertContent: AdvertContent = {
    hardware: {
      cpuModel: 'Intel(R) Xeon(R) Platinum 8480+',
      cpuCores: 112,
      memoryBytes: 2_164_000_000_000,
      gpus: [{ vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 85_520_809_984, uuid: 'GPU-1234abcd', driver: '550.54.15' }],
      platform: 'linux',
      arch: 'x64'
    },
    workloads: [{ id: 'ocr-rec', version: '1.0.0', throughput: 34.5 }, { id: 'echo', version: '1.0.0', throughput: 0 }],
    models: [cid],
    loadPermille: 120,
    freeSlots: 6,
    totalSlots: 8,
    priceHint: '0.0001 SOL/item',
    addrs: [multiaddr('/ip4/127.0.0.1/tcp/4001'), multiaddr('/ip4/192.0.2.7/udp/4001/quic-v1')]
  }
  const advert = await signAdvert(worker.key, advertContent, { seq: 9, issuedAt: NOW, ttl: 30_000 })
  const signedAdverts = [advert.bytes]
  const adverts = [decodeSignedAdvert(advert.bytes).payload]

  const items = [new Uint8Array(0), new TextEncoder().encode('item-1'), Uint8Array.from([0, 0xff, 0x80, 0x7f])]
  const itemList = encodeItemList(items)
  const tensorMap = encodeTensorMap({
    tensors: [
      { name: 'X', dtype: 'float32', dims: [1n, 3n], data: new Uint8Array(12).fill(0x3f) },
      { name: 'mask', dtype: 'int64', dims: [1n], data: new Uint8Array(8).fill(1) }
    ]
  })

  // single receipts, worker-signed and countersigned; and a group signed and countersigned together
  const workerSigned = await signReceipt(worker.key, fields(worker, requester, 0))
  const group = signReceipts(worker.key, [1, 2, 3, 4].map(i => fields(worker, requester, i)))
  const batch = await countersignReceipts(requester.key, [workerSigned, ...group].map((receipt, i) => ({
    receipt,
    verification: { policy: i % 2 === 0 ? 'none' : 'spot-check:0.1', outcome: 'accepted' as const }
  })), { verified: true })
  const single = await countersignReceipts(requester.key, [{ receipt: workerSigned, verification: { policy: 'replicate:3', outcome: 'checked' } }], { verified: true })
  const signedReceipts = [workerSigned, group[0], batch[0], batch[2], single[0]]
  const receipts = [decodeSignedReceipt(workerSigned).receipt, decodeSignedReceipt(group[1]).receipt]

  const tree = MerkleTree.fromLeaves(batch)
  const anchor = { signature: base58btc.baseEncode(new Uint8Array(64).fill(3)), slot: 42n }
  const cluster = base58btc.baseEncode(new Uint8Array(32).fill(7))
  const proofs = [0, 3].map(index => JSON.parse(encodeReceiptProof({ receipt: batch[index], root: tree.root, count: batch.length, index, path: tree.proof(index), anchor, cluster })))
  proofs.push(JSON.parse(encodeReceiptProof({ receipt: batch[1], root: tree.root, count: batch.length, index: 1, path: tree.proof(1) })))
  const bundles = [JSON.parse(encodeBundle({ root: tree.root, count: batch.length, receipts: batch, anchor, cluster }))]
  const proofFile = new TextEncoder().encode(JSON.stringify(proofs[0]))

  const clientFrames = [
    encodeClientFrame({ request: { id: 7, jobId: new Uint8Array(16).fill(0xaa), shardIndex: 3, workload: 'echo', version: '1.0.0', input: itemList, model: new Uint8Array(0), timeoutMs: 30_000, lamportsPerItem: 5n } }),
    encodeClientFrame({ cancel: { id: 7 } }),
    encodeClientFrame({ model: { id: 7, digest: new Uint8Array(32).fill(0x11), total: 1_000_000n, offset: 65_536n, data: new Uint8Array(64).fill(0x22) } }),
    encodeClientFrame({ ping: { seq: 12 } }),
    encodeClientFrame({ countersigned: { jobId: new Uint8Array(16).fill(0xa0), shardIndex: 0, receipts: [batch[0]] } })
  ]
  const workerFrames = [
    encodeWorkerFrame({ progress: { id: 7, done: 3 } }),
    encodeWorkerFrame({ result: { id: 7, output: itemList, receipt: workerSigned } }),
    encodeWorkerFrame({ error: { id: 7, code: 'ERR_INVALID_INPUT', message: 'item 2 is not an image' } }),
    encodeWorkerFrame({ needModel: { id: 7, digest: new Uint8Array(32).fill(0x11) } }),
    encodeWorkerFrame({ pong: { seq: 12 } })
  ]

  const subject = await party(3)
  const attestation = await signAttestation(worker.key, { subject: subject.peerId, workload: 'sha256-batch', version: '1.0.0', items: 7, itemsPerSec: 123.5, ok: true, beyondCpu: false }, { at: NOW, nonce: new Uint8Array(16).fill(5) })

  const signer = await createKeyPairSignerFromPrivateKeyBytes(new Uint8Array(32).fill(4))
  const payee = await createKeyPairSignerFromPrivateKeyBytes(new Uint8Array(32).fill(5))
  const prepared = await buildAnchorTransaction({
    memo: anchorMemo(tree.root, batch.length),
    signer,
    blockhash: { blockhash: base58btc.baseEncode(new Uint8Array(32).fill(9)), lastValidBlockHeight: 1_000n },
    payments: [{ to: payee.address, lamports: 20_000n }]
  })

  return {
    worker,
    requester,
    advertContent,
    signedAdverts,
    adverts,
    capsRequests: [encodeCapsRequest({ includeKnown: true, maxAdverts: 16 }), encodeCapsRequest({ includeKnown: false, maxAdverts: 0 })],
    capsResponses: [encodeCapsResponse({ advert: advert.bytes, more: 3 }), encodeCapsResponse({ advert: new Uint8Array(0), more: 0, error: { code: 'ERR_INVALID_MESSAGE', message: 'no' } })],
    itemLists: [itemList],
    tensorMaps: [tensorMap],
    clientFrames,
    workerFrames,
    receipts,
    signedReceipts,
    batch,
    proofs,
    bundles,
    proofRequests: [ProofRequest.encode({ receiptIds: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)], signedIds: [new Uint8Array(32).fill(3)] })],
    proofResponses: [ProofResponse.encode({ proofs: [new Uint8Array(proofFile)], receipts: [new Uint8Array(batch[1])] })],
    batchRequests: [BatchRequest.encode({ root: new Uint8Array(tree.root) })],
    attestations: [attestation.bytes],
    memos: [anchorMemo(tree.root, batch.length), anchorMemo(new Uint8Array(32), 1)],
    transactions: [new Uint8Array(preparedWireBytes(prepared))],
    // the file format generateSwarmKey writes, with a fixed key
    swarmKeys: [new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${'5a'.repeat(32)}\n`)],
    npy: [
      npyFile('<f4', [2, 3], new Uint8Array(24).fill(0x3f)),
      npyFile('<i8', [4], new Uint8Array(32).fill(1)),
      npyFile('|u1', [], new Uint8Array(1))
    ],
    jobBodies: [
      { workload: 'echo', items: ['aGk=', ''], verification: 'spot-check:0.25', peers: [worker.peerId.toString()], hedge: true, pay: { lamportsPerItem: 5000 } },
      { workload: 'echo', version: '1.0.0', items: [] }
    ],
    rpcRequests: [
      { jsonrpc: '2.0', id: 1, method: 'getSlot', params: [{ commitment: 'confirmed' }] },
      { jsonrpc: '2.0', id: 'a', method: 'sendTransaction', params: [Buffer.from(preparedWireBytes(prepared)).toString('base64'), { encoding: 'base64' }] }
    ]
  }
}
