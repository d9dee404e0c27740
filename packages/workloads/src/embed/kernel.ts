/**
 * The `embed` kernel, created inside a worker thread: one warm onnxruntime session on one
 * thread, running one sequence at a time so that an item's vector does not depend on what
 * else shares its shard.
 */

import { InferenceSession, Tensor } from 'onnxruntime-node'
import { AbortError, InvalidInputError, WorkloadFailedError } from '../errors.js'
import { disableOnnxRuntimeTelemetry } from '../onnxruntime-env.js'
import { ATTENTION_MASK, INPUT_IDS, SENTENCE_EMBEDDING, TOKEN_TYPE_IDS } from './bert.js'
import { embedTextCodec, embedVectorCodec } from './codecs.js'
import { HIDDEN_SIZE, MAX_SEQUENCE_LENGTH } from './constants.js'
import { embedSeed, loadEmbedModel } from './model.js'
import { embedTokenizer } from './tokenizer.js'
import type { WordPieceTokenizer } from './tokenizer.js'
import type { Kernel, KernelContext, KernelFactory } from '../workload.js'

const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3
}

class EmbedKernel implements Kernel {
  constructor (
    private readonly session: InferenceSession,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly digest: string
  ) {}

  async run (items: Uint8Array[], context: KernelContext): Promise<Uint8Array[]> {
    if (context.model !== undefined && context.model.digest !== this.digest) {
      throw new InvalidInputError(`embed runs model ${this.digest}, the shard asks for ${context.model.digest}`)
    }
    const outputs: Uint8Array[] = []
    for (const item of items) {
      if (context.signal?.aborted === true) {
        throw new AbortError()
      }
      const vector = await this.embed(embedTextCodec.decode(item))
      outputs.push(embedVectorCodec.encode(vector))
      context.onProgress?.(outputs.length)
    }
    return outputs
  }

  /** The embedding of one text: one sequence, batch 1. */
  async embed (text: string): Promise<Float32Array> {
    const { ids } = this.tokenizer.encode(text, MAX_SEQUENCE_LENGTH)
    const dims = [1, ids.length]
    const results = await this.session.run({
      [INPUT_IDS]: new Tensor('int64', BigInt64Array.from(ids, id => BigInt(id)), dims),
      [ATTENTION_MASK]: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
      [TOKEN_TYPE_IDS]: new Tensor('int64', new BigInt64Array(ids.length), dims)
    })
    const data = results[SENTENCE_EMBEDDING]?.data
    if (!(data instanceof Float32Array) || data.length !== HIDDEN_SIZE) {
      throw new WorkloadFailedError(`embed model returned no ${HIDDEN_SIZE}-float ${SENTENCE_EMBEDDING}`)
    }
    return data
  }

  async close (): Promise<void> {
    await this.session.release()
  }
}

/** Load (generating it on first use) the model for `params.seed` and open a session on it. */
export const createKernel: KernelFactory = async (options) => {
  disableOnnxRuntimeTelemetry()
  const seed = embedSeed(options.params.seed)
  const model = await loadEmbedModel(options.cacheDir, { seed })
  const session = await InferenceSession.create(model.bytes, SESSION_OPTIONS)
  return new EmbedKernel(session, embedTokenizer(), model.digest)
}
