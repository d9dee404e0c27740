/**
 * The fuzz targets, in one list: every decoder of bytes (or text, or JSON) that comes from a
 * peer, a file or a request, and every inbound stream handler (see handlers.ts). Each target
 * names the errors its decoder documents; the property is that a call returns, or throws one
 * of those (by `err.name`, and for a documented RangeError by its message too). Anything else
 * (a TypeError, a RangeError from a buffer index, an `undefined` property read, a hang) fails.
 */
import { Readable } from 'node:stream'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { streamPair } from '@libp2p/utils'
import fc from 'fast-check'
import {
  MAX_ADVERT_BYTES, MAX_CAPS_REQUEST_BYTES, MAX_CAPS_RESPONSE_BYTES, MAX_RECEIPT_BYTES, MAX_SHARD_FRAME_BYTES, MAX_SHARD_PAYLOAD_BYTES,
  MAX_SIGNED_ADVERT_BYTES, MAX_SIGNED_RECEIPT_BYTES, ADVERT_SIGNATURE_DOMAIN, ATTESTATION_SIGNATURE_DOMAIN, RECEIPT_SIGNATURE_DOMAIN, SignedAttestation,
  encodeSignedAdvert, encodeSignedReceipt, decodeCapabilityAdvert, decodeCapsRequest, decodeCapsResponse, decodeClientFrame,
  decodeItemList, decodeReceipt, decodeSignedAdvert, decodeSignedReceipt, decodeTensorMap, decodeWorkerFrame, fromWireError
} from '@shardmesh/protocol'
import { verifyAdvert, parseCapabilityKey, peekAdvert } from '@shardmesh/capabilities'
import {
  checkBundle, checkReceiptProof, decodeBundle, decodeReceiptProof, decodeTrustedReceipt, parseAnchorMemo, verifyReceipt
} from '@shardmesh/receipts'
import { parseSolanaKeypair, parseTransaction } from '@shardmesh/solana'
import { verifyAttestation } from '@shardmesh/trust'
import { parseVerification } from '@shardmesh/compute'
import { parseSwarmKey } from '@shardmesh/node'
import { builtinWorkloads, parseWorkloadSpec } from '@shardmesh/workloads'
import { bytesInput, framedChunks, jsonInput, mutated, textInput } from './arbitraries.js'
import { NOW } from './corpus.js'
import { handlerTargets } from './handlers.js'
import type { Corpus } from './corpus.js'
import type { Internals } from './internal.js'
import type { HandlerEnv } from './handlers.js'

/** An error a target may throw: by name, or by name and message (for a documented RangeError). */
export type AllowedError = string | { name: string, message: RegExp }

export interface FuzzContext {
  corpus: Corpus
  internals: Internals
  /** the libp2p nodes the handler targets talk to (started on first use) */
  env(): Promise<HandlerEnv>
}

export interface FuzzTarget<T = any> {
  name: string
  /** the package whose code it calls */
  package: string
  /** a decoder called directly, an inbound stream handler, or the client end of a protocol reading a hostile answer */
  kind: 'decoder' | 'handler' | 'client'
  /** the function or protocol, as the README lists it */
  subject: string
  /** the errors it documents; nothing else may come out */
  allowed: readonly AllowedError[]
  /** its share of the cases of a run (decoders 1) */
  weight: number
  /** the inputs */
  arbitrary(ctx: FuzzContext): fc.Arbitrary<T>
  /** feed one input: returns (a handler says how its stream ended), or throws (judged against `allowed`) */
  run(ctx: FuzzContext, input: T): unknown
  /**
   * After the cases: throws unless the target still does its job (a handler answers an honest
   * request; a decoder decodes a valid encoding).
   */
  check?(ctx: FuzzContext): Promise<void>
}

/** Whether `err` is one that `target` documents. */
export function isAllowed (target: Pick<FuzzTarget, 'allowed'>, err: unknown): boolean {
  if (!(err instanceof Error)) {
    return false
  }
  return target.allowed.some(a => typeof a === 'string' ? err.name === a : err.name === a.name && a.message.test(err.message))
}

const CODEC = ['InvalidMessageError', 'MessageTooLargeError'] as const

function decoder <T> (name: string, pkg: string, allowed: readonly AllowedError[], arbitrary: (ctx: FuzzContext) => fc.Arbitrary<T>, run: (ctx: FuzzContext, input: T) => unknown, valid?: (ctx: FuzzContext) => T[]): FuzzTarget<T> {
  return {
    name,
    package: pkg,
    kind: 'decoder',
    subject: name,
    allowed,
    weight: 1,
    arbitrary,
    run,
    check: valid == null
      ? undefined
      : async (ctx) => {
        for (const input of valid(ctx)) {
          await run(ctx, input)
        }
      }
  }
}

function protobuf (name: string, decode: (bytes: Uint8Array) => unknown, corpus: (c: Corpus) => Uint8Array[], limit: number): FuzzTarget<Uint8Array> {
  return decoder(name, '@shardmesh/protocol', CODEC, ctx => bytesInput(corpus(ctx.corpus), limit), (_, bytes) => decode(bytes), ctx => corpus(ctx.corpus))
}

const text = new TextDecoder()

/**
 * A verifier fed a mutated payload signed again by the corpus worker's key over `domain` ‖
 * payload: `check` wraps and verifies it.
 */
function resigned (name: string, pkg: string, allowed: readonly AllowedError[], payloads: (c: Corpus) => Uint8Array[], domain: string, check: (ctx: FuzzContext, payload: Uint8Array, signature: Uint8Array) => Promise<void>): FuzzTarget<Uint8Array> {
  const prefix = new TextEncoder().encode(domain)
  return decoder(name, pkg, allowed, ctx => mutated(payloads(ctx.corpus)), async (ctx, payload) => {
    const message = new Uint8Array(prefix.byteLength + payload.byteLength)
    message.set(prefix, 0)
    message.set(payload, prefix.byteLength)
    await check(ctx, payload, await ctx.corpus.worker.key.sign(message))
  }, ctx => payloads(ctx.corpus))
}

/** The workloads whose item codecs are fuzzed: every built-in one. */
const workloads = builtinWorkloads()

function workloadCodecs (): FuzzTarget[] {
  const out: FuzzTarget[] = []
  for (const w of workloads) {
    for (const side of ['input', 'output'] as const) {
      out.push(decoder(`${w.id}.${side}.decode`, '@shardmesh/workloads', ['InvalidInputError'], ctx => {
        const valid: Uint8Array[] = [...ctx.corpus.itemLists, ...ctx.corpus.tensorMaps, new TextEncoder().encode('a line of text'), new Uint8Array(1536)]
        if (w.id === 'ocr-rec') {
          valid.push(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), Uint8Array.from([0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0x41, 0x42]))
        }
        return bytesInput(valid, 16 * 1024)
      }, (_, bytes) => w[side].decode(bytes)))
    }
  }
  return out
}

/** Every target: the decoders, then the handlers and clients. */
export function allTargets (): FuzzTarget[] {
  return [
    // @shardmesh/protocol: the protobuf messages of every protocol, each behind its size limit
    protobuf('decodeCapabilityAdvert', decodeCapabilityAdvert, c => c.adverts, MAX_ADVERT_BYTES),
    protobuf('decodeSignedAdvert', decodeSignedAdvert, c => c.signedAdverts, MAX_SIGNED_ADVERT_BYTES),
    protobuf('decodeCapsRequest', decodeCapsRequest, c => c.capsRequests, MAX_CAPS_REQUEST_BYTES),
    protobuf('decodeCapsResponse', decodeCapsResponse, c => c.capsResponses, MAX_CAPS_RESPONSE_BYTES),
    protobuf('decodeItemList', b => decodeItemList(b), c => c.itemLists, MAX_SHARD_PAYLOAD_BYTES),
    protobuf('decodeTensorMap', b => decodeTensorMap(b), c => c.tensorMaps, MAX_SHARD_PAYLOAD_BYTES),
    protobuf('decodeClientFrame', b => decodeClientFrame(b), c => c.clientFrames, MAX_SHARD_FRAME_BYTES),
    protobuf('decodeWorkerFrame', b => decodeWorkerFrame(b), c => c.workerFrames, MAX_SHARD_FRAME_BYTES),
    protobuf('decodeReceipt', decodeReceipt, c => c.receipts, MAX_RECEIPT_BYTES),
    protobuf('decodeSignedReceipt', decodeSignedReceipt, c => c.signedReceipts, MAX_SIGNED_RECEIPT_BYTES),
    decoder('fromWireError', '@shardmesh/protocol', [], () => fc.record({ code: fc.string({ maxLength: 200 }), message: fc.string({ maxLength: 5000 }) }), (_, wire) => {
      const err = fromWireError(wire)
      if (err.message.length > 1024 || err.code.length > 64) {
        throw new Error(`a peer's error came back ${err.message.length} characters long, code ${err.code.length}`)
      }
    }),

    // @shardmesh/receipts: signed receipts (both signatures checked, or trusted), proof and bundle files, anchor memos
    decoder('verifyReceipt', '@shardmesh/receipts', ['InvalidReceiptError', 'MessageTooLargeError'], ctx => bytesInput(ctx.corpus.signedReceipts, MAX_SIGNED_RECEIPT_BYTES), async (_, bytes) => await verifyReceipt(bytes, { requireCountersignature: false }), ctx => ctx.corpus.signedReceipts),
    decoder('decodeTrustedReceipt', '@shardmesh/receipts', ['InvalidReceiptError', 'MessageTooLargeError'], ctx => bytesInput(ctx.corpus.signedReceipts, MAX_SIGNED_RECEIPT_BYTES), (_, bytes) => decodeTrustedReceipt(bytes, { requireCountersignature: false }), ctx => ctx.corpus.signedReceipts),
    decoder('decodeReceiptProof', '@shardmesh/receipts', ['InvalidReceiptProofError', 'MessageTooLargeError'], ctx => jsonInput(ctx.corpus.proofs), (_, bytes) => decodeReceiptProof(bytes), ctx => ctx.corpus.proofs.map(p => new TextEncoder().encode(JSON.stringify(p)))),
    decoder('checkReceiptProof', '@shardmesh/receipts', ['InvalidReceiptProofError', 'MessageTooLargeError', 'InvalidReceiptError'], ctx => jsonInput(ctx.corpus.proofs), async (_, bytes) => {
      // what a worker does with a proof a requester sent: decode, then both signatures and the Merkle path
      await checkReceiptProof(decodeReceiptProof(bytes))
    }, ctx => ctx.corpus.proofs.map(p => new TextEncoder().encode(JSON.stringify(p)))),
    decoder('decodeBundle', '@shardmesh/receipts', ['InvalidReceiptBundleError', 'MessageTooLargeError'], ctx => jsonInput(ctx.corpus.bundles), (_, bytes) => decodeBundle(bytes), ctx => ctx.corpus.bundles.map(b => new TextEncoder().encode(JSON.stringify(b)))),
    decoder('checkBundle', '@shardmesh/receipts', ['InvalidReceiptBundleError', 'MessageTooLargeError'], ctx => jsonInput(ctx.corpus.bundles), async (_, bytes) => {
      await checkBundle(decodeBundle(bytes))
    }, ctx => ctx.corpus.bundles.map(b => new TextEncoder().encode(JSON.stringify(b)))),
    decoder('parseAnchorMemo', '@shardmesh/receipts', [], ctx => textInput(ctx.corpus.memos), (_, memo) => parseAnchorMemo(memo), ctx => ctx.corpus.memos),

    // the payloads mutated, then signed again with the right key and domain: past the signature
    // check, into every check behind it (a mutation of the signed bytes mostly breaks the signature)
    resigned('verifyReceipt (re-signed)', '@shardmesh/receipts', ['InvalidReceiptError', 'MessageTooLargeError'], c => c.receipts, RECEIPT_SIGNATURE_DOMAIN, async (ctx, receipt, signature) => {
      const bytes = encodeSignedReceipt({ receipt: receipt, workerKey: publicKeyToProtobuf(ctx.corpus.worker.key.publicKey), workerSignature: signature, requesterKey: new Uint8Array(0), requesterSignature: new Uint8Array(0) })
      await verifyReceipt(bytes, { requireCountersignature: false })
    }),
    resigned('verifyAdvert (re-signed)', '@shardmesh/capabilities', ['AdvertRejectedError'], c => c.adverts, ADVERT_SIGNATURE_DOMAIN, async (ctx, payload, signature) => {
      const bytes = encodeSignedAdvert({ payload: payload, publicKey: publicKeyToProtobuf(ctx.corpus.worker.key.publicKey), signature: signature })
      await verifyAdvert(bytes, { now: NOW })
    }),
    resigned('verifyAttestation (re-signed)', '@shardmesh/trust', ['AttestationRejectedError'], c => c.attestations.map(a => SignedAttestation.decode(a).payload), ATTESTATION_SIGNATURE_DOMAIN, async (ctx, payload, signature) => {
      const bytes = SignedAttestation.encode({ payload: payload as Uint8Array<ArrayBuffer>, publicKey: publicKeyToProtobuf(ctx.corpus.worker.key.publicKey) as Uint8Array<ArrayBuffer>, signature: signature as Uint8Array<ArrayBuffer> })
      await verifyAttestation(bytes, { now: NOW + 1_000 })
    }),

    // @shardmesh/capabilities: signed adverts (gossip, caps protocol, DHT records), capability keys
    decoder('verifyAdvert', '@shardmesh/capabilities', ['AdvertRejectedError'], ctx => bytesInput(ctx.corpus.signedAdverts, MAX_SIGNED_ADVERT_BYTES), async (_, bytes) => await verifyAdvert(bytes, { now: NOW }), ctx => ctx.corpus.signedAdverts),
    decoder('peekAdvert', '@shardmesh/capabilities', [], ctx => bytesInput(ctx.corpus.signedAdverts, MAX_SIGNED_ADVERT_BYTES), (_, bytes) => peekAdvert(bytes)),
    decoder('parseCapabilityKey', '@shardmesh/capabilities', ['InvalidCapabilityKeyError'], () => textInput(['workload:ocr-rec@1.0.0', 'model:bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku', 'gpu:nvidia', 'cpu:x64']), (_, key) => parseCapabilityKey(key)),

    // @shardmesh/trust: attestations (gossip)
    decoder('verifyAttestation', '@shardmesh/trust', ['AttestationRejectedError'], ctx => bytesInput(ctx.corpus.attestations, 4096), async (_, bytes) => await verifyAttestation(bytes, { now: NOW + 1_000 }), ctx => ctx.corpus.attestations),

    // @shardmesh/compute: the shard stream's frame reader (varint-length frames, split anyhow), verification policies
    {
      name: 'FrameReader',
      package: '@shardmesh/compute',
      kind: 'decoder',
      subject: 'FrameReader (shard stream framing, over a stream pair)',
      allowed: ['InvalidDataLengthError', 'InvalidDataLengthLengthError', 'UnexpectedEOFError', 'StreamBufferError'],
      weight: 0.5,
      arbitrary: ctx => framedChunks(ctx.corpus.clientFrames),
      run: async (ctx, chunks: Uint8Array[]) => {
        const [a, b] = await streamPair()
        const reader = new ctx.internals.frames.FrameReader(b, { maxDataLength: MAX_SHARD_FRAME_BYTES, maxBufferSize: 4 * MAX_SHARD_FRAME_BYTES })
        try {
          for (const chunk of chunks) {
            a.send(chunk)
          }
          await a.close()
          while ((await reader.read()) != null) {
            // frames are cut, whatever they hold
          }
        } finally {
          reader.close()
          a.abort(new Error('done'))
          b.abort(new Error('done'))
        }
      }
    },
    decoder('parseVerification', '@shardmesh/compute', [{ name: 'RangeError', message: /^bad verification/ }], () => textInput(['none', 'spot-check:0.1', 'replicate:3', 'spot-check:1']), (_, t) => parseVerification(t), () => ['none', 'spot-check:0.1', 'replicate:3']),

    // @shardmesh/workloads: every built-in workload's item codecs (a worker decodes inputs, a requester outputs)
    ...workloadCodecs(),
    decoder('parseWorkloadSpec', '@shardmesh/workloads', [{ name: 'RangeError', message: /^bad workload/ }], () => textInput(['ocr-rec@1.0.0', 'echo', 'embed@1.0.0']), (_, t) => parseWorkloadSpec(t)),

    // @shardmesh/solana: wire transactions (read back from RPC), Solana keypair files
    decoder('parseTransaction', '@shardmesh/solana', ['InvalidTransactionError', 'TransactionTooLargeError'], ctx => bytesInput(ctx.corpus.transactions, 1232), (_, wire) => parseTransaction(wire), ctx => ctx.corpus.transactions),
    decoder('parseSolanaKeypair', '@shardmesh/solana', [], () => fc.oneof(
      fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 80 }),
      fc.constant(Array.from({ length: 64 }, (_, i) => i)).chain(valid => fc.array(fc.tuple(fc.nat({ max: 63 }), fc.jsonValue()), { minLength: 1, maxLength: 3 }).map(edits => {
        const copy: unknown[] = [...valid]
        for (const [i, v] of edits) copy[i] = v
        return copy
      })),
      fc.string({ maxLength: 120 })
    ), (_, value) => parseSolanaKeypair(value as any)),

    // @shardmesh/chain: the local chain's JSON-RPC server reads wire transactions, messages, base58 and requests
    decoder('chain parseWire', '@shardmesh/chain', ['InvalidTransactionError'], ctx => bytesInput(ctx.corpus.transactions, 1232), (ctx, wire) => ctx.internals.chainWire.parseWire(wire), ctx => ctx.corpus.transactions),
    decoder('chain parseMessage', '@shardmesh/chain', ['InvalidTransactionError'], ctx => bytesInput(ctx.corpus.transactions.map(t => t.subarray(65)), 1232), (ctx, bytes) => ctx.internals.chainWire.parseMessage(bytes), ctx => ctx.corpus.transactions.map(t => t.subarray(65))),
    decoder('chain parseRequest', '@shardmesh/chain', [], ctx => jsonInput(ctx.corpus.rpcRequests), (ctx, bytes) => {
      let value: unknown
      try {
        value = JSON.parse(text.decode(bytes))
      } catch {
        return
      }
      ctx.internals.chainJsonRpc.parseRequest(value)
    }),
    decoder('chain parseAccountFilters', '@shardmesh/chain', ['JsonRpcError'], () => jsonInput([
      [{ memcmp: { offset: 0, bytes: '3Mc6vR', encoding: 'base58' } }, { dataSize: 165 }],
      [{ memcmp: { offset: 32, bytes: 'AAECAw==', encoding: 'base64' } }]
    ]), (ctx, bytes) => {
      let value: unknown
      try {
        value = JSON.parse(text.decode(bytes))
      } catch {
        return
      }
      ctx.internals.chainAccountFilters.parseAccountFilters(value)
    }),
    decoder('chain decodeBase58', '@shardmesh/chain', ['SolanaError'], () => textInput(['11111111111111111111111111111111', 'US517G5965aydkZ46HS38QLi7UQiSojurfbQfKCELFx']), (ctx, t) => ctx.internals.chainBase58.decodeBase58(t)),

    // @shardmesh/node: swarm key files
    decoder('parseSwarmKey', '@shardmesh/node', ['InvalidSwarmKeyError'], ctx => bytesInput(ctx.corpus.swarmKeys, 4096), (_, bytes) => parseSwarmKey(bytes), ctx => ctx.corpus.swarmKeys),

    // @shardmesh/cli: .npy arrays given as job inputs
    decoder('decodeNpy', '@shardmesh/cli', ['NpyFormatError'], ctx => bytesInput(ctx.corpus.npy), (ctx, bytes) => ctx.internals.npy.decodeNpy(bytes, 1 << 20), ctx => ctx.corpus.npy),

    // @shardmesh/control: request bodies of the control API
    decoder('control readJson', '@shardmesh/control', ['HttpError'], ctx => fc.tuple(jsonInput(ctx.corpus.jobBodies, 64 * 1024), fc.integer({ min: 1, max: 8 })), async (ctx, [bytes, parts]) => {
      const size = Math.ceil(bytes.byteLength / parts)
      const chunks = Array.from({ length: parts }, (_, i) => Buffer.from(bytes.subarray(i * size, (i + 1) * size)))
      await ctx.internals.controlHttp.readJson(Readable.from(chunks), 64 * 1024)
    }),

    ...handlerTargets()
  ]
}
