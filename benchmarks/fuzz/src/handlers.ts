/**
 * Handler targets: a real mesh node (`createMeshNode`, every service, on libp2p's in-memory
 * transport with Noise and Yamux) serves every inbound protocol it registers; an attacker node
 * opens a real stream per case, sends the bytes, closes its end and reads whatever comes back.
 * Each handler is wrapped where the registrar holds it, so that the fuzzer sees every call end:
 * a handler that throws, or that does not end once its stream has ended (and then been
 * aborted), fails the case. After the cases, an honest request on each protocol must still get
 * its answer.
 *
 * Client targets: the requesting end of a protocol reading a hostile answer over a stream pair.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { memory } from '@libp2p/memory'
import { lpStream, streamPair } from '@libp2p/utils'
import { BatchExchange, requestBatch, requestProofs } from '@shardmesh/anchoring'
import { signAdvert, verifyAdvert } from '@shardmesh/capabilities'
import { createMeshNode } from '@shardmesh/node'
import {
  ATTESTATION_TOPIC, CAPS_PROTOCOL, CAPS_TOPIC, MAX_CAPS_RESPONSE_BYTES, MAX_SHARD_FRAME_BYTES, RECEIPT_BATCHES_PROTOCOL, RECEIPT_PROOFS_PROTOCOL, SHARD_PROTOCOL,
  decodeCapsResponse, decodeItemList, decodeWorkerFrame, encodeCapsRequest, encodeClientFrame, encodeItemList
} from '@shardmesh/protocol'
import { ReceiptStore, verifyReceipt } from '@shardmesh/receipts'
import { signAttestation } from '@shardmesh/trust'
import { echo } from '@shardmesh/workloads'
import fc from 'fast-check'
import { createLibp2p } from 'libp2p'
import { framedChunks, jsonInput, mutated } from './arbitraries.js'
import { party } from './corpus.js'
import type { Corpus } from './corpus.js'
import type { FuzzContext, FuzzTarget } from './targets.js'
import type { Connection, Libp2p, PeerId, Stream, StreamHandler } from '@libp2p/interface'
import type { MeshNode } from '@shardmesh/node'

/** How long a case waits for the handler to end after its stream ended, then after aborting it (ms). A failure detector, not a speed bound. */
const HANDLER_END_DEADLINE = 10_000

export interface HandlerCall {
  protocol: string
  /** settles when the handler's call ends */
  done: Promise<void>
  /** what the handler threw, if it did */
  error?: unknown
}

export interface HandlerEnv {
  victim: MeshNode
  attacker: Libp2p
  /** every handler call of the victim, in order (cleared by each case) */
  calls: HandlerCall[]
  /** errors that escaped into the process while the victim ran */
  escaped: unknown[]
  /** the receipt the victim (as requester) holds countersigned for the attacker (as worker): its id */
  heldId: Uint8Array
  /** protocols whose handlers are wrapped */
  protocols: string[]
  stop(): Promise<void>
}

function silentLog (): any {
  const log: any = () => {}
  log.error = () => {}
  log.trace = () => {}
  log.enabled = false
  return log
}

/** The victim and the attacker, connected; the victim holds the corpus batch as its requester receipts. */
export async function startEnv (corpus: Corpus): Promise<HandlerEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'shardmesh-fuzz-'))
  const escaped: unknown[] = []
  const onEscape = (err: unknown): void => { escaped.push(err) }
  process.on('uncaughtException', onEscape)
  process.on('unhandledRejection', onEscape)
  const victim = await createMeshNode({
    transports: [memory()],
    listen: [`/memory/fuzz-victim-${process.pid}-${Date.now()}`],
    dataDir: dir,
    privateKey: corpus.requester.key,
    awaitJoin: false,
    rateLimits: false,
    capabilities: { nvidiaSmi: false, workloads: [{ id: 'echo', version: '1.0.0' }] },
    compute: { workloads: [echo()], poolSize: 1, calibrate: false, challenges: false }
  } as any)
  const attacker = await createLibp2p({
    privateKey: corpus.worker.key,
    addresses: { listen: [`/memory/fuzz-attacker-${process.pid}-${Date.now()}`] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  await attacker.dial(victim.getMultiaddrs())

  // the victim requested the corpus batch from the attacker: a countersigned receipt it holds for it
  await victim.services.receipts.store(corpus.batch)
  const heldId = (await verifyReceipt(corpus.batch[0])).id

  const calls: HandlerCall[] = []
  const protocols = [SHARD_PROTOCOL, CAPS_PROTOCOL, RECEIPT_PROOFS_PROTOCOL, RECEIPT_BATCHES_PROTOCOL]
  const registrar = (victim as any).components.registrar
  for (const protocol of protocols) {
    const { handler, options } = registrar.getHandler(protocol) as { handler: StreamHandler, options: any }
    const wrapped: StreamHandler = (stream: Stream, connection: Connection) => {
      const call: HandlerCall = { protocol, done: Promise.resolve() }
      call.done = (async () => { await handler(stream, connection) })().catch((err: unknown) => { call.error = err ?? new Error('rejected with nothing') })
      calls.push(call)
      return call.done
    }
    await registrar.unhandle(protocol)
    await registrar.handle(protocol, wrapped, options)
  }

  return {
    victim,
    attacker,
    calls,
    escaped,
    heldId,
    protocols,
    stop: async () => {
      await attacker.stop()
      await victim.stop()
      process.off('uncaughtException', onEscape)
      process.off('unhandledRejection', onEscape)
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function withDeadline <T> (promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** How a hostile stream ended, seen from the attacker: an answer, a reset (the handler refused it), or silence. */
export type StreamOutcome = 'answered' | 'reset' | 'silent'

/** Drain a stream's incoming bytes until it ends or fails (what a hostile peer does with the answer). */
async function drain (stream: Stream): Promise<StreamOutcome> {
  let bytes = 0
  try {
    for await (const chunk of stream) {
      bytes += chunk.byteLength
    }
  } catch {
    // a reset or abort: the handler refused us, as it may
    return 'reset'
  }
  return bytes > 0 ? 'answered' : 'silent'
}

/** Why a handler case failed. */
export class HandlerFailure extends Error {
  override name = 'HandlerFailure'
}

/** One hostile stream: open, send, close our end, read the answer, and judge how the handler's call ended. */
async function attack (env: HandlerEnv, protocol: string, chunks: Uint8Array[]): Promise<StreamOutcome> {
  env.calls.length = 0
  const before = env.escaped.length
  const stream = await env.attacker.dialProtocol(env.victim.peerId, protocol)
  const answered = drain(stream)
  try {
    for (const chunk of chunks) {
      if (stream.writeStatus !== 'writable') {
        break
      }
      if (!stream.send(chunk)) {
        await withDeadline(stream.onDrain(), HANDLER_END_DEADLINE)
      }
    }
    if (stream.writeStatus === 'writable') {
      await withDeadline(stream.close().catch(() => {}), HANDLER_END_DEADLINE)
    }
  } catch {
    // the handler aborted the stream under us
  }
  let outcome = await withDeadline(answered, HANDLER_END_DEADLINE)
  if (outcome === 'timeout') {
    stream.abort(new Error('the fuzzer gave up waiting for an answer'))
    outcome = 'silent'
  }
  const call = env.calls[0]
  if (call == null) {
    // the stream reached no handler (libp2p refused it first): wait a moment for a late one
    await new Promise(resolve => setImmediate(resolve))
  }
  if (env.calls.length > 1) {
    throw new HandlerFailure(`one ${protocol} stream ran the handler ${env.calls.length} times`)
  }
  for (const c of env.calls) {
    if (await withDeadline(c.done, HANDLER_END_DEADLINE) === 'timeout') {
      throw new HandlerFailure(`the ${protocol} handler did not end within ${HANDLER_END_DEADLINE} ms of its stream ending`)
    }
    if (c.error != null) {
      const err = c.error as any
      throw new HandlerFailure(`the ${protocol} handler threw ${err?.name}: ${err?.message}`)
    }
  }
  if (env.escaped.length > before) {
    const err = env.escaped[before] as any
    throw new HandlerFailure(`an error escaped into the process during a ${protocol} case: ${err?.name}: ${err?.message}`)
  }
  return outcome
}

// ----- honest requests: each handler still answers after the fuzz -----

async function honestShard (env: HandlerEnv): Promise<void> {
  const stream = await env.attacker.dialProtocol(env.victim.peerId, SHARD_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: MAX_SHARD_FRAME_BYTES })
  const items = [new TextEncoder().encode('still'), new TextEncoder().encode('serving')]
  await lp.write(encodeClientFrame({
    request: { id: 1, jobId: crypto.getRandomValues(new Uint8Array(16)), shardIndex: 0, workload: 'echo', version: '1.0.0', input: encodeItemList(items), model: new Uint8Array(0), timeoutMs: 30_000 }
  }), { signal: AbortSignal.timeout(30_000) })
  while (true) {
    const frame = decodeWorkerFrame((await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray())
    if (frame.error != null) {
      throw new HandlerFailure(`an honest echo shard failed after the fuzz: ${frame.error.code} ${frame.error.message}`)
    }
    if (frame.result != null) {
      const out = decodeItemList(frame.result.output).items.map(i => new TextDecoder().decode(i))
      if (out.join(' ') !== 'still serving') {
        throw new HandlerFailure(`an honest echo shard came back as ${JSON.stringify(out)}`)
      }
      break
    }
  }
  stream.abort(new Error('done'))
}

async function honestCaps (env: HandlerEnv): Promise<void> {
  const stream = await env.attacker.dialProtocol(env.victim.peerId, CAPS_PROTOCOL)
  const lp = lpStream(stream, { maxDataLength: MAX_CAPS_RESPONSE_BYTES })
  await lp.write(encodeCapsRequest({ includeKnown: false, maxAdverts: 0 }), { signal: AbortSignal.timeout(30_000) })
  const first = decodeCapsResponse((await lp.read({ signal: AbortSignal.timeout(30_000) })).subarray())
  if (first.error != null) {
    throw new HandlerFailure(`an honest caps request was refused after the fuzz: ${first.error.code}`)
  }
  const advert = await verifyAdvert(first.advert)
  if (!advert.peerId.equals(env.victim.peerId)) {
    throw new HandlerFailure('the caps answer after the fuzz is not the victim\'s own advert')
  }
  stream.abort(new Error('done'))
}

async function honestProofs (env: HandlerEnv): Promise<void> {
  const stream = await env.attacker.dialProtocol(env.victim.peerId, RECEIPT_PROOFS_PROTOCOL)
  const response = await requestProofs(stream, [], { signed: [env.heldId], signal: AbortSignal.timeout(30_000) })
  if (response.receipts.length !== 1) {
    throw new HandlerFailure(`an honest proof request after the fuzz got ${response.receipts.length} receipts, not the one held`)
  }
}

async function honestBatches (env: HandlerEnv): Promise<void> {
  const stream = await env.attacker.dialProtocol(env.victim.peerId, RECEIPT_BATCHES_PROTOCOL)
  // a batch the victim does not hold (it anchors nothing without a ledger): the protocol's empty answer
  const answer = await requestBatch(stream, new Uint8Array(32).fill(0xee), { signal: AbortSignal.timeout(30_000) })
  if (answer !== undefined) {
    throw new HandlerFailure('an honest batch request after the fuzz got a bundle of a batch the victim does not hold')
  }
}

function handler (protocol: string, what: string, frames: (c: Corpus) => Uint8Array[], honest: (env: HandlerEnv) => Promise<void>, weight: number): FuzzTarget<Uint8Array[]> {
  return {
    name: `handler ${protocol}`,
    package: what,
    kind: 'handler',
    subject: `${protocol} inbound handler`,
    allowed: [],
    weight,
    arbitrary: ctx => framedChunks(frames(ctx.corpus)),
    run: async (ctx, chunks) => await attack(await ctx.env(), protocol, chunks),
    check: async (ctx) => { await honest(await ctx.env()) }
  }
}

/** A stream pair whose far end answers `answer` (then closes): what a client reads from a hostile peer. */
async function hostile (chunks: Uint8Array[]): Promise<Stream> {
  const [near, far] = await streamPair()
  void (async () => {
    // read the request, then answer
    for await (const chunk of far) {
      void chunk
      break
    }
    for (const chunk of chunks) {
      if (far.writeStatus !== 'writable') return
      far.send(chunk)
    }
    await far.close().catch(() => {})
  })().catch(() => {})
  return near
}

function framed (bytes: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = bytes.byteLength
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 0x80)
  }
  prefix.push(n)
  return Uint8Array.from([...prefix, ...bytes])
}

let batchExchange: Promise<{ exchange: BatchExchange, answer: { chunks: Uint8Array[] }, peer: PeerId }> | undefined

async function batchClient (ctx: FuzzContext): Promise<{ exchange: BatchExchange, answer: { chunks: Uint8Array[] }, peer: PeerId }> {
  batchExchange ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shardmesh-fuzz-fetch-'))
    const store = await ReceiptStore.open(dir)
    const answer = { chunks: [] as Uint8Array[] }
    const exchange = new BatchExchange({
      store,
      dir,
      log: silentLog(),
      timeout: 10_000,
      protocol: RECEIPT_BATCHES_PROTOCOL,
      openStream: async () => hostile(answer.chunks)
    })
    cleanups.push(async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    })
    return { exchange, answer, peer: ctx.corpus.requester.peerId }
  })()
  return batchExchange
}

/** Resources the client targets made, released by `stopHandlers`. */
const cleanups: Array<() => Promise<void>> = []

export async function stopHandlers (): Promise<void> {
  for (const c of cleanups.splice(0)) {
    await c()
  }
  batchExchange = undefined
}

/** A gossip message as gossipsub hands it to a topic validator. */
interface GossipInput { data: Uint8Array, signed: boolean, fromSigner: boolean }

let gossipSeq = 0n

/**
 * A gossipsub topic validator of the victim node (where its pubsub holds it), fed the messages a
 * peer may publish: signed by the advert's or attestation's own signer or by another peer, or
 * unsigned. It must return accept, ignore or reject, never throw; afterwards a fresh valid
 * message from the signer is accepted.
 */
function gossip (topic: string, pkg: string, corpus: (c: Corpus) => Uint8Array[], fresh: (ctx: FuzzContext) => Promise<Uint8Array>): FuzzTarget<GossipInput> {
  const validate = async (ctx: FuzzContext, input: GossipInput): Promise<string> => {
    const env = await ctx.env()
    const validator = env.victim.services.pubsub.topicValidators.get(topic)
    if (validator == null) {
      throw new HandlerFailure(`the victim validates no gossip on ${topic}`)
    }
    const from = input.fromSigner ? ctx.corpus.worker.peerId : env.victim.peerId
    const message: any = input.signed
      ? { type: 'signed', from, topic, data: input.data, sequenceNumber: ++gossipSeq, signature: new Uint8Array(64), key: from.publicKey }
      : { type: 'unsigned', topic, data: input.data }
    const before = env.escaped.length
    const result: string = await validator(from, message)
    if (result !== 'accept' && result !== 'ignore' && result !== 'reject') {
      throw new HandlerFailure(`the ${topic} validator returned ${String(result)}`)
    }
    if (env.escaped.length > before) {
      const err = env.escaped[before] as any
      throw new HandlerFailure(`an error escaped into the process during a ${topic} message: ${err?.name}: ${err?.message}`)
    }
    return result
  }
  return {
    name: `gossip ${topic}`,
    package: pkg,
    kind: 'handler',
    subject: `${topic} gossipsub topic validator`,
    allowed: [],
    weight: 0.5,
    arbitrary: ctx => fc.record({ data: fc.oneof({ weight: 3, arbitrary: mutated(corpus(ctx.corpus)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) }), signed: fc.boolean(), fromSigner: fc.boolean() }),
    run: validate,
    check: async (ctx) => {
      const result = await validate(ctx, { data: await fresh(ctx), signed: true, fromSigner: true })
      if (result !== 'accept') {
        throw new HandlerFailure(`a fresh valid message on ${topic} after the fuzz was ${result}, not accepted`)
      }
    }
  }
}

export function handlerTargets (): FuzzTarget[] {
  return [
    gossip(CAPS_TOPIC, '@shardmesh/capabilities', c => c.signedAdverts, async (ctx) => {
      const now = Date.now()
      return (await signAdvert(ctx.corpus.worker.key, ctx.corpus.advertContent, { seq: now, issuedAt: now, ttl: 30_000 })).bytes
    }),
    gossip(ATTESTATION_TOPIC, '@shardmesh/compute', c => c.attestations, async (ctx) => {
      const subject = await party(3)
      return (await signAttestation(ctx.corpus.worker.key, { subject: subject.peerId, workload: 'sha256-batch', version: '1.0.0', items: 7, itemsPerSec: 123.5, ok: true, beyondCpu: false })).bytes
    }),
    handler(SHARD_PROTOCOL, '@shardmesh/compute', c => c.clientFrames, honestShard, 0.25),
    handler(CAPS_PROTOCOL, '@shardmesh/capabilities', c => c.capsRequests, honestCaps, 0.25),
    handler(RECEIPT_PROOFS_PROTOCOL, '@shardmesh/anchoring', c => c.proofRequests, honestProofs, 0.25),
    handler(RECEIPT_BATCHES_PROTOCOL, '@shardmesh/anchoring', c => c.batchRequests, honestBatches, 0.25),
    {
      name: 'client requestProofs',
      package: '@shardmesh/anchoring',
      kind: 'client',
      subject: 'requestProofs (a worker reading a hostile requester\'s answer)',
      allowed: ['MessageTooLargeError', 'InvalidMessageError'],
      weight: 0.5,
      arbitrary: ctx => framedChunks(ctx.corpus.proofResponses),
      run: async (ctx, chunks: Uint8Array[]) => {
        await requestProofs(await hostile(chunks), [ctx.corpus.batch[0].subarray(0, 32)], { signal: AbortSignal.timeout(10_000) })
      }
    },
    {
      name: 'client BatchExchange.fetch',
      package: '@shardmesh/anchoring',
      kind: 'client',
      subject: 'BatchExchange.fetch (anyone reading a hostile node\'s bundle)',
      allowed: ['BatchFetchError'],
      weight: 0.5,
      arbitrary: ctx => fc.oneof(
        { weight: 3, arbitrary: jsonInput(ctx.corpus.bundles).map(b => [framed(b)]) },
        { weight: 1, arbitrary: framedChunks([new TextEncoder().encode(JSON.stringify(ctx.corpus.bundles[0]))]) },
        { weight: 1, arbitrary: mutated([framed(new TextEncoder().encode(JSON.stringify(ctx.corpus.bundles[0])))]).map(b => [b]) }
      ),
      run: async (ctx, chunks: Uint8Array[]) => {
        const { exchange, answer, peer } = await batchClient(ctx)
        answer.chunks = chunks
        await exchange.fetch(peer, (ctx.corpus.bundles[0] as any).root)
      }
    }
  ]
}
