/** The `embed` workload: text in, a mean-pooled, L2-normalised 384-float vector out. */

import { stat } from 'node:fs/promises'
import { RandomSource } from '../random.js'
import { calibrationCount, mergeItems, repeatItems, splitItems } from '../workload.js'
import { compareEmbeddings, embedTextCodec, embedVectorCodec } from './codecs.js'
import { EMBED_ID, EMBED_SEED, EMBED_VERSION, TOLERANCE } from './constants.js'
import { embedModelPath, embedSeed, ensureEmbedModel } from './model.js'
import { embedTokenizer } from './tokenizer.js'
import { embedVocab } from './vocab.js'
import type { CalibrationOptions, Workload } from '../workload.js'

export interface EmbedInit {
  /**
   * The weight seed (unsigned 32-bit): requester and workers must agree, it picks the model
   *
   * @default EMBED_SEED
   */
  seed?: number
}

/** Sentences of 10–40 tokens, used to measure throughput at start. */
const CALIBRATION: readonly string[] = [
  'The quick brown fox jumps over the lazy dog.',
  'A peer-to-peer network shares compute between many small machines without a central server.',
  'Each job is split into shards, and every shard is sent to a worker that has the right model.',
  'She bought fresh bread, cheese and apples at the market before the rain started.',
  'Verification runs the same shard twice and compares the outputs within a stated tolerance.',
  'The river flows south through the valley, past the old mill and the stone bridge.',
  'Embeddings map sentences with similar meaning to vectors that point in similar directions.',
  'Temperatures will drop sharply tonight, with snow expected in the mountains by morning.',
  'He wrote the first version of the program in a weekend and spent a year fixing it.',
  'Payment is released once the requester has checked a sample of the results.',
  'Children were playing in the garden while their parents cooked dinner in the kitchen.',
  'The library keeps old maps, letters and photographs from the early history of the city.',
  'Latency matters less than throughput for batch jobs that run for minutes or hours.',
  'Our team measured 140 sequences per second on one core at thirty-two tokens each.',
  'Please remember to close the door, turn off the lights and feed the cat before you leave.',
  'Models are generated from a seed, so every peer builds exactly the same weights.'
]

let shapes: { lengths: number[], words: string[] } | undefined

/**
 * What random calibration texts are made of: the word-piece count of each fixed sentence (its
 * cost: the model's work grows with the sequence length), and the vocabulary's whole words,
 * each of which is exactly one word piece.
 */
function calibrationShapes (): { lengths: number[], words: string[] } {
  if (shapes == null) {
    const tokenizer = embedTokenizer()
    shapes = {
      lengths: CALIBRATION.map(text => tokenizer.tokenize(text).length),
      words: embedVocab().filter(token => /^[a-z]+$/.test(token))
    }
  }
  return shapes
}

/**
 * The calibration input: the fixed sentences (repeated to `items`), or, with `random`, texts of
 * random vocabulary words with the same word-piece counts in the same order.
 */
async function calibration (options: CalibrationOptions = {}): Promise<string[]> {
  const count = calibrationCount(CALIBRATION.length, options)
  if (options.random == null) {
    return repeatItems(CALIBRATION, count)
  }
  const random = new RandomSource(options.random)
  const { lengths, words } = calibrationShapes()
  return repeatItems(lengths, count).map(length => Array.from({ length }, () => random.pick(words)).join(' '))
}

/**
 * The `embed` workload definition: the compute of a MiniLM-L6 sentence embedder, with seeded
 * random weights. A benchmark workload: its vectors carry no meaning (unrelated sentences can
 * score a cosine of 0.9), so it is not a usable embedding.
 */
export function embed (init: EmbedInit = {}): Workload<string, Float32Array> {
  const seed = embedSeed(init.seed ?? EMBED_SEED)
  return {
    id: EMBED_ID,
    version: EMBED_VERSION,
    description: 'Text embedding benchmark: MiniLM-L6-shaped BERT with seeded random weights (compute-equivalent; its vectors carry no meaning), WordPiece, mean-pooled, L2-normalised 384-d float32',
    executor: 'pool',
    kernel: { module: new URL('./kernel.js', import.meta.url).href },
    params: { seed },
    input: embedTextCodec,
    output: embedVectorCodec,
    tolerance: `element-wise |a - b| <= ${TOLERANCE}`,
    split: splitItems,
    merge: mergeItems,
    compare: compareEmbeddings,
    calibration,
    // only a model already generated here is held; a node does not build 46 MB just to advertise it
    models: async (cacheDir: string) => (await stat(embedModelPath(cacheDir, { seed })).catch(() => undefined)) == null
      ? []
      : [(await ensureEmbedModel(cacheDir, { seed })).digest]
  }
}
