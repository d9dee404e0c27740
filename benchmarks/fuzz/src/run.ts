/**
 * Run fuzz targets with fast-check: each target gets its share of the cases, a seed derived
 * from the run's seed and its name (so `--target NAME --seed S` replays exactly what a whole
 * run did to it), and a tally of how its cases ended. A failure keeps fast-check's seed, path
 * and shrunk counterexample, and the command that replays it.
 */
import fc from 'fast-check'
import { makeCorpus } from './corpus.js'
import { startEnv } from './handlers.js'
import { internals } from './internal.js'
import { isAllowed } from './targets.js'
import type { FuzzContext, FuzzTarget } from './targets.js'
import type { HandlerEnv } from './handlers.js'

/** fast-check's per-case deadline for asynchronous targets: a failure detector for hangs (ms). */
export const CASE_TIMEOUT = 30_000

export interface Failure {
  /** fast-check's seed for this target */
  seed: number
  /** fast-check's path of the shrunk counterexample */
  path: string
  /** the shrunk input, readable (bytes as hex, cut at 4 KiB) */
  counterexample: string
  /** what the call threw, or why the case failed */
  error: string
  /** the command that runs this one case again */
  replay: string
}

export interface TargetResult {
  name: string
  package: string
  kind: FuzzTarget['kind']
  cases: number
  ms: number
  casesPerSec: number
  /** cases that returned */
  returned: number
  /** the documented errors that name a `reason` (which check refused the input), by name and reason */
  reasons?: Record<string, number>
  /** how the returned cases ended, for targets that say (a handler: answered, reset or silent) */
  outcomes?: Record<string, number>
  /** cases that threw a documented error, by `err.name` */
  errors: Record<string, number>
  /** the check after the cases: 'ok', 'none' (the target has none), or what went wrong */
  check: string
  failure?: Failure
}

export interface RunOptions {
  /** cases across all the targets given (split by weight) */
  cases: number
  seed: number
  /** replay one case of one target: fast-check's path (with that target's seed) */
  path?: string
  onProgress?(message: string): void
}

/** A stable 32-bit hash of a target's name, mixed into the run's seed. */
export function nameHash (name: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    h = Math.imul(h ^ name.charCodeAt(i), 0x01000193)
  }
  return h >>> 0
}

export function targetSeed (seed: number, name: string): number {
  return (seed ^ nameHash(name)) | 0
}

/** Split `total` cases across targets by weight (every target gets at least one). */
export function allocate (targets: readonly FuzzTarget[], total: number): number[] {
  const sum = targets.reduce((s, t) => s + t.weight, 0)
  return targets.map(t => Math.max(1, Math.round(total * t.weight / sum)))
}

function show (value: unknown): string {
  const replacer = (_: string, v: unknown): unknown => {
    if (v instanceof Uint8Array) {
      const hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
      return `<${v.byteLength} bytes: ${hex.length > 4096 ? `${hex.slice(0, 4096)}...` : hex}>`
    }
    if (typeof v === 'bigint') {
      return `${v}n`
    }
    return v
  }
  const text = JSON.stringify(value, replacer) ?? String(value)
  return text.length > 16_384 ? `${text.slice(0, 16_384)}... (${text.length} characters)` : text
}

function describeError (err: unknown): string {
  if (err instanceof Error) {
    const stack = err.stack?.split('\n').slice(1, 4).map(l => l.trim()).join(' | ')
    return `${err.name}: ${err.message}${stack != null && stack !== '' ? ` (${stack})` : ''}`
  }
  return `a thrown non-Error: ${show(err)}`
}

/** The context every target gets: the corpus, the internal modules, the handler nodes on first use. */
export async function makeContext (): Promise<FuzzContext & { close(): Promise<void> }> {
  const corpus = await makeCorpus()
  const mods = await internals()
  let env: Promise<HandlerEnv> | undefined
  return {
    corpus,
    internals: mods,
    env: async () => {
      env ??= startEnv(corpus)
      return env
    },
    close: async () => {
      if (env != null) {
        await (await env).stop()
      }
      const { stopHandlers } = await import('./handlers.js')
      await stopHandlers()
    }
  }
}

/** Run `cases` cases of one target. */
export async function runTarget (target: FuzzTarget, ctx: FuzzContext, cases: number, options: Omit<RunOptions, 'cases'>): Promise<TargetResult> {
  const seed = targetSeed(options.seed, target.name)
  const errors: Record<string, number> = {}
  let returned = 0
  const outcomes: Record<string, number> = {}
  const reasons: Record<string, number> = {}
  const property = fc.asyncProperty(target.arbitrary(ctx), async (input) => {
    try {
      const outcome = await target.run(ctx, input)
      returned++
      if (target.kind === 'handler' && typeof outcome === 'string') {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      }
    } catch (err: any) {
      if (!isAllowed(target, err)) {
        throw err
      }
      errors[err.name] = (errors[err.name] ?? 0) + 1
      if (typeof err.reason === 'string') {
        // which check refused it: how deep the cases got
        const key = `${err.name} ${err.reason}`
        reasons[key] = (reasons[key] ?? 0) + 1
      }
    }
  })
  const started = performance.now()
  const details = await fc.check(property, {
    numRuns: cases,
    seed,
    path: options.path,
    timeout: CASE_TIMEOUT,
    // replaying a path runs that one case
    endOnFailure: options.path != null
  })
  const ms = performance.now() - started
  const result: TargetResult = {
    name: target.name,
    package: target.package,
    kind: target.kind,
    cases: details.numRuns,
    ms: Math.round(ms),
    casesPerSec: Math.round(details.numRuns / (ms / 1000)),
    returned,
    errors,
    ...(Object.keys(reasons).length > 0 ? { reasons } : {}),
    ...(Object.keys(outcomes).length > 0 ? { outcomes } : {}),
    check: 'none'
  }
  if (details.failed) {
    const path = details.counterexamplePath ?? ''
    result.failure = {
      seed: details.seed,
      path,
      counterexample: show(details.counterexample?.[0]),
      error: details.errorInstance != null ? describeError(details.errorInstance) : 'the property failed (timeout or no error)',
      replay: `node benchmarks/fuzz/dist/src/index.js --target ${JSON.stringify(target.name)} --seed ${options.seed} --path ${JSON.stringify(path)}`
    }
  }
  if (target.check != null) {
    try {
      await target.check(ctx)
      result.check = 'ok'
    } catch (err) {
      result.check = `failed: ${describeError(err)}`
    }
  }
  return result
}

/** Run every target given its share of `options.cases`, one after the other. */
export async function runTargets (targets: readonly FuzzTarget[], options: RunOptions): Promise<TargetResult[]> {
  const ctx = await makeContext()
  const shares = options.path != null ? targets.map(() => 1) : allocate(targets, options.cases)
  const results: TargetResult[] = []
  try {
    for (let i = 0; i < targets.length; i++) {
      const r = await runTarget(targets[i], ctx, shares[i], options)
      options.onProgress?.(`${r.name}: ${r.cases} cases, ${r.casesPerSec}/s${r.failure != null ? ' FAILED' : ''}${r.check.startsWith('failed') ? ` check ${r.check}` : ''}`)
      results.push(r)
    }
  } finally {
    await ctx.close()
  }
  return results
}
