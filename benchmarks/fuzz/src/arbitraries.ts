/**
 * The inputs the fuzzer feeds: random bytes, and structure-aware mutations of valid encodings
 * (bits flipped, bytes inserted, deleted, overwritten or duplicated, truncation, oversized
 * varint lengths spliced in, deep nesting), so that most inputs get past a decoder's first
 * check. Every mutation is a fast-check value: a failure shrinks to the fewest, smallest ones.
 */
import fc from 'fast-check'

/** One edit of a byte string; positions are taken modulo its length. */
export type Mutation =
  | { op: 'flip', at: number, bit: number }
  | { op: 'set', at: number, byte: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, length: number }
  | { op: 'truncate', at: number }
  | { op: 'duplicate', at: number, length: number }
  | { op: 'varint', at: number, value: bigint, replace: number }
  | { op: 'nest', depth: number, tag: number }

/** Lengths that break naive decoders: just over limits, 2^31, 2^32, 2^53 and beyond. */
const HOSTILE_LENGTHS = [0x7fn, 0x80n, 0x3fffn, 0x4000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]

/** The unsigned LEB128 varint of `value` (as protobuf and the stream framings write lengths). */
export function varint (value: bigint): Uint8Array {
  const out: number[] = []
  while (value >= 0x80n) {
    out.push(Number(value & 0x7fn) | 0x80)
    value >>= 7n
  }
  out.push(Number(value))
  return Uint8Array.from(out)
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** Apply one mutation to `bytes` (never in place). */
export function mutate (bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.byteLength
  const at = (k: number): number => n === 0 ? 0 : k % (n + 1)
  switch (m.op) {
    case 'flip': {
      if (n === 0) return bytes
      // a copy even of a Buffer (whose slice is a view)
      const out = Uint8Array.from(bytes)
      out[m.at % n] ^= 1 << m.bit
      return out
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(m.byte)
      const out = Uint8Array.from(bytes)
      out[m.at % n] = m.byte
      return out
    }
    case 'insert': {
      const i = at(m.at)
      return concat(bytes.subarray(0, i), m.bytes, bytes.subarray(i))
    }
    case 'delete': {
      const i = at(m.at)
      return concat(bytes.subarray(0, i), bytes.subarray(i + m.length))
    }
    case 'truncate':
      return bytes.subarray(0, at(m.at))
    case 'duplicate': {
      const i = at(m.at)
      return concat(bytes.subarray(0, i + m.length), bytes.subarray(i))
    }
    case 'varint': {
      // a length-delimited field's length (or any varint) replaced by a hostile one
      const i = at(m.at)
      return concat(bytes.subarray(0, i), varint(m.value), bytes.subarray(i + m.replace))
    }
    case 'nest': {
      // wrap the whole message `depth` times in a length-delimited field: deep recursion for
      // decoders of nested messages, a long run of prefixes for the others
      let out = bytes
      for (let d = 0; d < m.depth; d++) {
        out = concat(Uint8Array.of((m.tag << 3) | 2), varint(BigInt(out.byteLength)), out)
      }
      return out
    }
  }
}

const position = fc.nat({ max: 1 << 20 })

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, byte: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x08) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('varint' as const),
      at: position,
      value: fc.oneof(fc.constantFrom(...HOSTILE_LENGTHS), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      replace: fc.integer({ min: 0, max: 5 })
    })
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), depth: fc.integer({ min: 1, max: 200 }), tag: fc.integer({ min: 1, max: 15 }) }) }
)

/** A valid encoding from `corpus` with 1 to 4 mutations applied. */
export function mutated (corpus: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  if (corpus.length === 0) {
    throw new RangeError('a mutation needs at least one valid encoding')
  }
  return fc.tuple(fc.constantFrom(...corpus), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    // a copy: a decoder may keep (or, wrongly, change) what it was given, never the corpus
    .map(([base, ms]) => Uint8Array.from(ms.reduce(mutate, base)))
}

/** Random bytes: mostly short, now and then around `around` (a size limit) or a few KiB. */
export function randomBytes (around?: number): fc.Arbitrary<Uint8Array> {
  const sizes: Array<fc.WeightedArbitrary<Uint8Array>> = [
    { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) }
  ]
  if (around != null) {
    // the limit itself and just over it, zero-filled: views of one buffer made once per limit
    // (a limit of megabytes would otherwise cost an allocation of megabytes a case); above 1 MiB
    // only just over it: decoding megabytes of zeros just under it takes ~100 ms a case
    const zeros = new Uint8Array(around + 2)
    const min = around > 1024 * 1024 ? around + 1 : Math.max(0, around - 2)
    sizes.push({ weight: 1, arbitrary: fc.integer({ min, max: around + 2 }).map(n => zeros.subarray(0, n)) })
  }
  return fc.oneof(...sizes)
}

/** What most byte decoders get: random bytes one time in four, mutated valid encodings otherwise. */
export function bytesInput (corpus: readonly Uint8Array[], limit?: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof({ weight: 1, arbitrary: randomBytes(limit) }, { weight: 3, arbitrary: mutated(corpus) })
}

/** A JSON value replaced somewhere in a valid JSON document, or a field deleted. */
export type JsonEdit = { path: number, kind: 'replace', value: unknown } | { path: number, kind: 'delete' } | { path: number, kind: 'deep', depth: number }

function paths (value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(prefix)
  if (Array.isArray(value)) {
    value.forEach((v, i) => paths(v, [...prefix, i], out))
  } else if (value != null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      paths(v, [...prefix, k], out)
    }
  }
  return out
}

/** Marks where deep nesting goes (made in the text, after the edits: walking it would take as deep a stack). */
const DEEP = '\u0000deep\u0000'
const DEEP_MARK = /"\\u0000deep\\u0000(\d+)\\u0000deep\\u0000"/g

/** The JSON text of an edited document, its deep-nesting marks expanded. */
export function jsonText (doc: unknown): string {
  const text = JSON.stringify(doc) ?? 'null'
  return text.replace(DEEP_MARK, (_, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)))
}

/** Apply a JSON edit to a deep copy of `doc`. */
export function editJson (doc: unknown, edit: JsonEdit): unknown {
  const copy = structuredClone(doc)
  const all = paths(copy)
  const path = all[edit.path % all.length]
  const replacement = edit.kind === 'replace'
    ? edit.value
    : edit.kind === 'deep' ? `${DEEP}${edit.depth}${DEEP}` : undefined
  if (path.length === 0) {
    return edit.kind === 'delete' ? {} : replacement
  }
  let parent: any = copy
  for (const key of path.slice(0, -1)) {
    parent = parent[key]
  }
  const last = path[path.length - 1]
  if (edit.kind === 'delete') {
    if (Array.isArray(parent)) {
      parent.splice(last as number, 1)
    } else {
      delete parent[last]
    }
  } else {
    parent[last] = replacement
  }
  return copy
}

const jsonEditArb: fc.Arbitrary<JsonEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ path: fc.nat(), kind: fc.constant('replace' as const), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 1e308, -0, 2 ** 53, '', 'x'.repeat(70), null, [], {})) }) },
  { weight: 2, arbitrary: fc.record({ path: fc.nat(), kind: fc.constant('delete' as const) }) },
  { weight: 1, arbitrary: fc.record({ path: fc.nat(), kind: fc.constant('deep' as const), depth: fc.integer({ min: 1, max: 20_000 }) }) }
)

/**
 * What JSON decoders get: a valid document from `docs` with 1 to 3 edits (a value replaced by
 * any JSON, a field deleted, deep nesting), as text; or that text mutated as bytes; or random bytes.
 */
export function jsonInput (docs: readonly unknown[], limit?: number): fc.Arbitrary<Uint8Array> {
  const encoder = new TextEncoder()
  const edited = fc.tuple(fc.constantFrom(...docs), fc.array(jsonEditArb, { minLength: 1, maxLength: 3 }))
    .map(([doc, edits]) => encoder.encode(jsonText(edits.reduce(editJson, doc))))
  const texts = docs.map(d => encoder.encode(JSON.stringify(d)))
  return fc.oneof(
    { weight: 4, arbitrary: edited },
    { weight: 2, arbitrary: mutated(texts) },
    { weight: 1, arbitrary: randomBytes(limit) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(v => encoder.encode(JSON.stringify(v))) }
  )
}

/** Random text and mutations of valid ones, for decoders of strings (memos, keys, specs). */
export function textInput (valid: readonly string[]): fc.Arbitrary<string> {
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
    { weight: 3, arbitrary: mutated(valid.map(v => encoder.encode(v))).map(b => decoder.decode(b)) },
    { weight: 1, arbitrary: fc.constantFrom(...valid).chain(v => fc.nat({ max: v.length }).map(i => v.slice(0, i) + v.slice(i).toUpperCase())) }
  )
}

/** Valid frames (length-prefixed) concatenated, mutated, then cut into chunks anywhere. */
export function framedChunks (frames: Uint8Array[]): fc.Arbitrary<Uint8Array[]> {
  const framed = frames.map(f => {
    const prefix: number[] = []
    let n = f.byteLength
    while (n >= 0x80) {
      prefix.push((n & 0x7f) | 0x80)
      n = Math.floor(n / 0x80)
    }
    prefix.push(n)
    return Uint8Array.from([...prefix, ...f])
  })
  const stream = fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...framed), { minLength: 1, maxLength: 4 }).map(parts => Uint8Array.from(parts.flatMap(p => [...p]))).chain(b => mutated([b])) },
    { weight: 1, arbitrary: randomBytes() }
  )
  return fc.tuple(stream, fc.array(fc.nat(), { maxLength: 4 })).map(([bytes, cuts]) => {
    const at = [...new Set(cuts.map(c => c % (bytes.byteLength + 1)))].sort((a, b) => a - b)
    const chunks: Uint8Array[] = []
    let from = 0
    for (const c of [...at, bytes.byteLength]) {
      if (c > from) {
        chunks.push(bytes.subarray(from, c))
        from = c
      }
    }
    return chunks
  })
}
