import { MAX_RECEIPT_GROUP, decodeItemList, encodeItemList, plural, sha256 } from '@shardmesh/protocol'
import { signReceipts } from '@shardmesh/receipts'
import { InvalidInputError, UnknownWorkloadError, WorkloadFailedError } from '@shardmesh/workloads'
import { ModelMismatchError, ModelQuotaError } from '../errors.js'
import { TickBatch } from '../tick-batch.js'
import type { Admission } from './admission.js'
import type { ModelLease, ModelStore } from './model-store.js'
import type { WorkerReceipts } from './receipts.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { ReceiptFields } from '@shardmesh/receipts'
import type { ModelFile, WorkloadRegistry, WorkloadRunner } from '@shardmesh/workloads'

/** A shard as a worker receives it, whatever the transport. */
export interface ShardWork {
  jobId: Uint8Array
  shardIndex: number
  workload: string
  version: string
  /** encoded ItemList */
  input: Uint8Array
  /** sha256 hex of the model, for workloads that need one */
  model?: string
  requester: PeerId
  /** the price the requester asked (lamports per item): signed into the receipt @default unpaid */
  lamportsPerItem?: bigint
}

export interface ExecuteHooks {
  signal: AbortSignal
  onProgress?(done: number): void
  /** get a model this worker lacks from the requester */
  fetchModel?(digest: string): Promise<ModelFile>
}

export interface ShardOutput {
  /** encoded ItemList, one output per input item */
  output: Uint8Array
  /** encoded SignedReceipt, signed by this worker */
  receipt: Uint8Array
}

/** Test-only misbehaviour, to prove that verification catches it. Never set in production. */
export interface WorkerFaults {
  /** flip a byte of every output item */
  wrongAnswers?: boolean
  /** answer the first N shards right, then flip a byte of every output (a liar that passes its first challenge) */
  wrongAnswersAfter?: number
  /** advertise this many slots (and a throughput to match) whatever the node really runs */
  advertiseSlots?: number
  /** sign this price (lamports per item) into every receipt, whatever the requester asked */
  wrongPrice?: bigint
}

export interface ExecutorInit {
  peerId: PeerId
  privateKey: PrivateKey
  registry: WorkloadRegistry
  runner: WorkloadRunner
  admission: Admission
  models: ModelStore
  faults?: WorkerFaults
  /** serve only these workloads (`id` or `id@version`); undefined = all of the registry */
  offer?: string[]
  /** remembers every receipt signed, so that its countersigned copy can be kept when it comes back */
  receipts?: WorkerReceipts
}

/**
 * The worker half of a shard, independent of transport: admission, workload lookup, input
 * checks, the model, a slot, the kernel, and the signed receipt.
 */
export class ShardExecutor {
  /** shards answered so far (for the `wrongAnswersAfter` fault) */
  private answered = 0
  private running = 0
  /**
   * The receipts of shards that finish in the same turn of the event loop are signed together:
   * one signature per requester and group of up to `MAX_RECEIPT_GROUP`, each receipt with its
   * path (so each stays provable alone). Under load that is one Ed25519 signature for many
   * shards; a lone shard's receipt is signed alone, as soon as its turn ends.
   */
  private readonly signer: TickBatch<ReceiptFields, Uint8Array>

  /** Whether a test fault makes this shard's outputs wrong. */
  private lies (): boolean {
    const faults = this.init.faults
    this.answered++
    return faults?.wrongAnswers === true || (faults?.wrongAnswersAfter != null && this.answered > faults.wrongAnswersAfter)
  }

  constructor (private readonly init: ExecutorInit) {
    this.signer = new TickBatch(fields => signByRequester(init.privateKey, fields), 16 * MAX_RECEIPT_GROUP)
  }

  get admission (): Admission {
    return this.init.admission
  }

  /** Shards between their request and their answer: fetching a model, queued or running. */
  get inFlight (): number {
    return this.running
  }

  /** The receipts this worker signed lately, and where their countersigned copies go. */
  get receipts (): WorkerReceipts | undefined {
    return this.init.receipts
  }

  /** Whether this worker serves a workload. */
  offers (id: string, version: string): boolean {
    const offer = this.init.offer
    return offer == null || offer.includes(id) || offer.includes(`${id}@${version}`)
  }

  async execute (work: ShardWork, hooks: ExecuteHooks): Promise<ShardOutput> {
    this.init.admission.check(work.requester)
    this.running++
    try {
      return await this.run(work, hooks)
    } finally {
      this.running--
    }
  }

  private async run (work: ShardWork, hooks: ExecuteHooks): Promise<ShardOutput> {
    const { registry, runner, admission, models } = this.init
    const workload = registry.get(work.workload, work.version)
    if (workload == null || !this.offers(workload.id, workload.version)) {
      throw new UnknownWorkloadError(`workload ${work.workload}@${work.version} is not installed on this worker`)
    }
    let items: Uint8Array[]
    try {
      items = decodeItemList(work.input).items
    } catch (err: any) {
      throw new InvalidInputError(`undecodable shard input: ${err.message}`)
    }
    // the model is held from here to the end of the run, so the cache never evicts it under the shard
    let model: ModelLease | undefined
    if (workload.needsModel === true) {
      if (work.model == null || work.model === '') {
        throw new InvalidInputError(`workload ${workload.id} needs a model digest with the shard`)
      }
      model = await models.acquire(work.model)
      if (model == null) {
        if (hooks.fetchModel == null) {
          throw new ModelMismatchError(`model ${work.model} is not on this worker and cannot be fetched`)
        }
        await hooks.fetchModel(work.model)
        model = await models.acquire(work.model)
        if (model == null) {
          throw new ModelQuotaError(`model ${work.model} was evicted before it could run: this worker's model cache is too small for the models in use`)
        }
      }
    }
    let startedAt: number
    let result
    try {
      await admission.acquire(hooks.signal)
      startedAt = Date.now()
      try {
        result = await runner.run(workload, items, { signal: hooks.signal, onProgress: hooks.onProgress, model: model == null ? undefined : { digest: model.digest, path: model.path } })
      } finally {
        admission.release()
      }
    } finally {
      model?.release()
    }
    const finishedAt = Date.now()
    if (!Array.isArray(result.outputs) || result.outputs.some(o => !(o instanceof Uint8Array))) {
      throw new WorkloadFailedError('kernel returned something other than an array of byte items')
    }
    if (result.outputs.length !== items.length) {
      // the kernel broke its contract on this worker: not the input's fault, so another peer may do better
      throw new WorkloadFailedError(`kernel returned ${plural(result.outputs.length, 'output')} for ${plural(items.length, 'item')}`)
    }
    const outputs = this.lies() ? result.outputs.map(corrupt) : result.outputs
    const output = encodeItemList(outputs)
    const receipt = await this.signer.add({
      jobId: work.jobId,
      shardIndex: work.shardIndex,
      workload: workload.id,
      workloadVersion: workload.version,
      inputDigest: sha256(work.input),
      outputDigest: sha256(output),
      worker: this.init.peerId,
      requester: work.requester,
      startedAt,
      finishedAt,
      items: items.length,
      cpuMicros: result.cpuMicros,
      lamportsPerItem: this.init.faults?.wrongPrice ?? work.lamportsPerItem
    })
    this.init.receipts?.remember(receipt, work.requester)
    // noted durably before the result leaves: a worker killed after sending it can still ask for its receipt
    await this.init.receipts?.whenNoted()
    return { output, receipt }
  }
}

/** Sign receipts in groups of one requester each, at most `MAX_RECEIPT_GROUP` a group; in the order given. */
function signByRequester (key: PrivateKey, fields: ReceiptFields[]): Uint8Array[] {
  const byRequester = new Map<string, number[]>()
  fields.forEach((f, i) => {
    const key = f.requester.toString()
    const list = byRequester.get(key)
    if (list == null) {
      byRequester.set(key, [i])
    } else {
      list.push(i)
    }
  })
  const signed = new Array<Uint8Array>(fields.length)
  for (const indices of byRequester.values()) {
    for (let start = 0; start < indices.length; start += MAX_RECEIPT_GROUP) {
      const group = indices.slice(start, start + MAX_RECEIPT_GROUP)
      signReceipts(key, group.map(i => fields[i])).forEach((receipt, j) => { signed[group[j]] = receipt })
    }
  }
  return signed
}

function corrupt (item: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(item)
  if (copy.byteLength > 0) {
    copy[copy.byteLength >> 1] ^= 0x20
  }
  return copy
}
