/**
 * BERT's tokenizer: basic tokenisation (clean, lowercase, strip accents, split on whitespace,
 * punctuation and CJK characters) then greedy longest-match-first WordPiece with `##`
 * continuation pieces, as in google-research/bert `tokenization.py` (`do_lower_case=True`).
 */

import { WorkloadFailedError } from '../errors.js'
import { MAX_SEQUENCE_LENGTH, MAX_WORD_CHARS } from './constants.js'
import { CLS_TOKEN, SEP_TOKEN, UNK_TOKEN, embedVocab } from './vocab.js'

/** A tokenised sequence. */
export interface WordPieceEncoding {
  /** token strings, `[CLS]` first and `[SEP]` last */
  tokens: string[]
  /** their vocabulary ids */
  ids: number[]
  /** true when word pieces were dropped to fit the maximum length */
  truncated: boolean
}

export interface WordPieceTokenizerInit {
  /** words longer than this many characters become `[UNK]` @default 100 */
  maxWordChars?: number
}

const CONTROL = /^[\p{Cc}\p{Cf}]$/u
const WHITESPACE = /^[\t\n\r\p{Zs}]$/u
const PUNCTUATION = /^[\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]$/u
const COMBINING_MARK = /\p{Mn}/gu

function isCjk (cp: number): boolean {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
    (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
    (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
    (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F)
}

export class WordPieceTokenizer {
  private readonly ids: Map<string, number>
  private readonly maxWordChars: number
  private readonly unkId: number
  private readonly clsId: number
  private readonly sepId: number

  constructor (vocab: readonly string[], init: WordPieceTokenizerInit = {}) {
    this.ids = new Map(vocab.map((token, id) => [token, id]))
    this.maxWordChars = init.maxWordChars ?? MAX_WORD_CHARS
    this.unkId = this.idOf(UNK_TOKEN)
    this.clsId = this.idOf(CLS_TOKEN)
    this.sepId = this.idOf(SEP_TOKEN)
  }

  /** The id of a token, `[UNK]`'s id when it is not in the vocabulary. */
  idOf (token: string): number {
    const id = this.ids.get(token) ?? this.ids.get(UNK_TOKEN)
    if (id === undefined) {
      throw new WorkloadFailedError(`vocabulary has no ${UNK_TOKEN}`)
    }
    return id
  }

  /** Clean, lowercase, strip accents, split on whitespace, punctuation and CJK characters. */
  basicTokenize (text: string): string[] {
    return [...this.words(text)]
  }

  /** The words of `basicTokenize`, lazily: truncated texts are not tokenised to their end. */
  private * words (text: string): Generator<string> {
    let raw = ''
    for (const char of text) {
      const cp = char.codePointAt(0) ?? 0
      if (cp === 0 || cp === 0xFFFD || (CONTROL.test(char) && !WHITESPACE.test(char))) continue
      if (WHITESPACE.test(char) || isCjk(cp)) {
        yield * this.splitPunctuation(raw)
        raw = ''
        if (isCjk(cp)) yield char
      } else {
        raw += char
      }
    }
    yield * this.splitPunctuation(raw)
  }

  /** Lowercase and strip accents of one whitespace-separated word, then split off punctuation. */
  private * splitPunctuation (raw: string): Generator<string> {
    if (raw === '') return
    const word = raw.toLowerCase().normalize('NFD').replace(COMBINING_MARK, '')
    let current = ''
    for (const char of word) {
      if (PUNCTUATION.test(char)) {
        if (current !== '') yield current
        yield char
        current = ''
      } else {
        current += char
      }
    }
    if (current !== '') yield current
  }

  /** Greedy longest-match-first WordPiece of one basic token: `['un', '##aff', '##able']`. */
  wordPiece (word: string): string[] {
    const chars = Array.from(word)
    if (chars.length > this.maxWordChars) return [UNK_TOKEN]
    const pieces: string[] = []
    let start = 0
    while (start < chars.length) {
      let end = chars.length
      let piece: string | undefined
      while (start < end) {
        const candidate = (start > 0 ? '##' : '') + chars.slice(start, end).join('')
        if (this.ids.has(candidate)) {
          piece = candidate
          break
        }
        end--
      }
      if (piece === undefined) return [UNK_TOKEN]
      pieces.push(piece)
      start = end
    }
    return pieces
  }

  /** Word pieces of a text, no special tokens; stops after `limit` pieces. */
  tokenize (text: string, limit = Infinity): string[] {
    const pieces: string[] = []
    for (const word of this.words(text)) {
      for (const piece of this.wordPiece(word)) {
        if (pieces.length >= limit) return pieces
        pieces.push(piece)
      }
    }
    return pieces
  }

  /** `[CLS] pieces… [SEP]`, truncated to `maxLength` tokens in all. */
  encode (text: string, maxLength = MAX_SEQUENCE_LENGTH): WordPieceEncoding {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new RangeError(`maximum length must be an integer of at least 2, got ${maxLength}`)
    }
    const pieces = this.tokenize(text, maxLength - 1)
    const truncated = pieces.length > maxLength - 2
    if (truncated) pieces.length = maxLength - 2
    const tokens = [CLS_TOKEN, ...pieces, SEP_TOKEN]
    const ids = tokens.map((token, i) => {
      if (i === 0) return this.clsId
      if (i === tokens.length - 1) return this.sepId
      return this.ids.get(token) ?? this.unkId
    })
    return { tokens, ids, truncated }
  }
}

let tokenizer: WordPieceTokenizer | undefined

/** The tokenizer of the `embed` workload, over {@link embedVocab}. */
export function embedTokenizer (): WordPieceTokenizer {
  tokenizer ??= new WordPieceTokenizer(embedVocab())
  return tokenizer
}
