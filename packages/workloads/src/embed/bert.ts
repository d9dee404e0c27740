/**
 * The graph of a MiniLM-L6-shaped BERT encoder (6 layers, hidden 384, 12 heads, intermediate
 * 1536, exact GELU, post-LayerNorm) with seeded weights, followed by attention-masked mean
 * pooling and L2 normalisation, in ONNX opset 17 (for `LayerNormalization`).
 *
 * Inputs `input_ids`, `attention_mask`, `token_type_ids`: int64 `[batch, sequence]`, sequence
 * at most `MAX_SEQUENCE_LENGTH`. Output `sentence_embedding`: float32 `[batch, 384]`.
 */

import {
  HEAD_SIZE, HIDDEN_SIZE, INIT_STD, INTERMEDIATE_SIZE, LAYER_NORM_EPS, MAX_SEQUENCE_LENGTH,
  NUM_HEADS, NUM_LAYERS, TYPE_VOCAB_SIZE
} from './constants.js'
import { ElemType, GraphBuilder } from './onnx-graph.js'
import { filled, normalish } from './weights.js'

export const INPUT_IDS = 'input_ids'
export const ATTENTION_MASK = 'attention_mask'
export const TOKEN_TYPE_IDS = 'token_type_ids'
export const SENTENCE_EMBEDDING = 'sentence_embedding'

/** the opset of the graph: 17 is the first with `LayerNormalization` */
export const OPSET = 17
/** ONNX IR version 8 (opset 17 needs IR ≥ 8) */
export const IR_VERSION = 8

/** A MiniLM-L6-shaped BERT with weights from `seed`, as a graph. */
export function buildBertGraph (seed: number, vocabSize: number): GraphBuilder {
  const g = new GraphBuilder('minilm-l6-seeded')
  const random = (name: string, dims: number[]): string =>
    g.float(name, dims, normalish(dims.reduce((a, b) => a * b, 1), INIT_STD, seed, name))
  const zeros = (name: string, size: number): string => g.float(name, [size], filled(size, 0))
  const ones = (name: string, size: number): string => g.float(name, [size], filled(size, 1))
  const layerNorm = (x: string, prefix: string): string =>
    g.node('LayerNormalization', [x, ones(`${prefix}.weight`, HIDDEN_SIZE), zeros(`${prefix}.bias`, HIDDEN_SIZE)], {
      axis: -1,
      epsilon: { float: LAYER_NORM_EPS }
    })
  const linear = (x: string, prefix: string, inSize: number, outSize: number): string =>
    g.node('Add', [g.node('MatMul', [x, random(`${prefix}.weight`, [inSize, outSize])]), zeros(`${prefix}.bias`, outSize)])

  const inputIds = g.input(INPUT_IDS, ElemType.INT64, ['batch', 'sequence'])
  const attentionMask = g.input(ATTENTION_MASK, ElemType.INT64, ['batch', 'sequence'])
  const tokenTypeIds = g.input(TOKEN_TYPE_IDS, ElemType.INT64, ['batch', 'sequence'])

  // embeddings: word + position + token type, then LayerNorm
  const words = g.node('Gather', [random('embeddings.word_embeddings.weight', [vocabSize, HIDDEN_SIZE]), inputIds])
  const types = g.node('Gather', [random('embeddings.token_type_embeddings.weight', [TYPE_VOCAB_SIZE, HIDDEN_SIZE]), tokenTypeIds])
  const sequenceLength = g.node('Shape', [inputIds], { start: 1, end: 2 })
  const positions = g.node('Slice', [
    random('embeddings.position_embeddings.weight', [MAX_SEQUENCE_LENGTH, HIDDEN_SIZE]),
    g.ints([0]), sequenceLength, g.ints([0])
  ])
  let hidden = layerNorm(g.node('Add', [g.node('Add', [words, positions]), types]), 'embeddings.LayerNorm')

  // the additive attention mask: 0 where attended, -10000 where padded, [batch, 1, 1, sequence]
  const mask = g.node('Cast', [attentionMask], { to: ElemType.FLOAT })
  const maskBias = g.node('Mul', [
    g.node('Sub', [g.scalar(1), g.node('Unsqueeze', [mask, g.ints([1, 2])])]),
    g.scalar(-10000)
  ])

  const heads = g.ints([0, 0, NUM_HEADS, HEAD_SIZE])
  const merged = g.ints([0, 0, HIDDEN_SIZE])
  for (let l = 0; l < NUM_LAYERS; l++) {
    const p = `encoder.layer.${l}`
    const split = (name: string, perm: number[]): string =>
      g.node('Transpose', [g.node('Reshape', [linear(hidden, `${p}.attention.self.${name}`, HIDDEN_SIZE, HIDDEN_SIZE), heads])], { perm })
    const query = split('query', [0, 2, 1, 3]) // [batch, heads, sequence, head]
    const key = split('key', [0, 2, 3, 1]) // [batch, heads, head, sequence]
    const value = split('value', [0, 2, 1, 3])
    const scores = g.node('Add', [
      g.node('Mul', [g.node('MatMul', [query, key]), g.scalar(1 / Math.sqrt(HEAD_SIZE))]),
      maskBias
    ])
    const probs = g.node('Softmax', [scores], { axis: -1 })
    const context = g.node('Reshape', [
      g.node('Transpose', [g.node('MatMul', [probs, value])], { perm: [0, 2, 1, 3] }),
      merged
    ])
    const attention = linear(context, `${p}.attention.output.dense`, HIDDEN_SIZE, HIDDEN_SIZE)
    hidden = layerNorm(g.node('Add', [attention, hidden]), `${p}.attention.output.LayerNorm`)

    // feed-forward with exact GELU: x · ½ · (1 + erf(x / √2))
    const inner = linear(hidden, `${p}.intermediate.dense`, HIDDEN_SIZE, INTERMEDIATE_SIZE)
    const gelu = g.node('Mul', [
      g.node('Mul', [inner, g.scalar(0.5)]),
      g.node('Add', [g.node('Erf', [g.node('Div', [inner, g.scalar(Math.SQRT2)])]), g.scalar(1)])
    ])
    const output = linear(gelu, `${p}.output.dense`, INTERMEDIATE_SIZE, HIDDEN_SIZE)
    hidden = layerNorm(g.node('Add', [output, hidden]), `${p}.output.LayerNorm`)
  }

  // attention-masked mean pooling, then L2 normalisation
  const tokenMask = g.node('Unsqueeze', [mask, g.ints([2])]) // [batch, sequence, 1]
  const summed = g.node('ReduceSum', [g.node('Mul', [hidden, tokenMask]), g.ints([1])], { keepdims: 0 })
  const counted = g.node('Max', [g.node('ReduceSum', [tokenMask, g.ints([1])], { keepdims: 0 }), g.scalar(1e-9)])
  const mean = g.node('Div', [summed, counted])
  const norm = g.node('Max', [g.node('ReduceL2', [mean], { axes: [-1], keepdims: 1 }), g.scalar(1e-12)])
  g.node('Div', [mean, norm], {}, SENTENCE_EMBEDDING)
  g.output(SENTENCE_EMBEDDING, ElemType.FLOAT, ['batch', HIDDEN_SIZE])
  return g
}
