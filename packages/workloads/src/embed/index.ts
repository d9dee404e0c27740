/**
 * The `embed` built-in workload: text embedding with a MiniLM-L6-shaped BERT (6 layers,
 * hidden 384, 12 heads, intermediate 1536) whose weights are generated from a seed, a
 * WordPiece tokenizer over a vocabulary generated in code, and attention-masked mean pooling
 * with L2 normalisation. The model is built on first use into `<cacheDir>/models/`. Its weights
 * are random, so the vectors carry no meaning: it is a compute-equivalent benchmark workload,
 * not a usable embedding.
 *
 * @example
 *
 * ```ts
 * import { embed } from '@shardmesh/workloads'
 *
 * const workload = embed({ seed: 1 })
 * const [digest] = await workload.models?.('/var/cache/shardmesh') ?? []
 * ```
 */

export { embed } from './workload.js'
export type { EmbedInit } from './workload.js'
export { embedTextCodec, embedVectorCodec, compareEmbeddings } from './codecs.js'
export { buildEmbedModel, ensureEmbedModel, embedModelPath } from './model.js'
export type { EmbedModel, EmbedModelOptions } from './model.js'
export { WordPieceTokenizer, embedTokenizer } from './tokenizer.js'
export type { WordPieceEncoding, WordPieceTokenizerInit } from './tokenizer.js'
export { embedVocab, EMBED_VOCAB_SIZE } from './vocab.js'
export { EMBED_ID, EMBED_VERSION, EMBED_SEED, EMBED_DIMENSIONS, EMBED_MAX_TOKENS } from './constants.js'
