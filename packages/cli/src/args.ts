import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

/** A bad flag, a missing value, an unknown command: exit code 2 with a one-line message. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export type Options = NonNullable<ParseArgsConfig['options']>

/** parseArgs with strict checking whose errors become UsageErrors naming the command. */
export function parse <O extends Options> (command: string, argv: string[], options: O, allowPositionals = false): { values: Record<string, any>, positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals })
    return { values, positionals }
  } catch (err: any) {
    throw new UsageError(`${command}: ${String(err.message).replace(/\. To specify a positional.*$/, '')}`)
  }
}

/** "15s", "500ms", "2m", "1h" or a bare number of seconds → milliseconds. */
export function parseDuration (text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (m == null) {
    throw new UsageError(`${flag}: "${text}" is not a duration (try 15s, 500ms, 2m)`)
  }
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  return Math.round(n * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit]!)
}

export function parseInteger (text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text == null) {
    return undefined
  }
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: "${text}" must be a whole number from ${min} to ${max}`)
  }
  return n
}

/** A number from `min` to `max` (fractions allowed), when given. */
export function parseNumber (text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text == null) {
    return undefined
  }
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag}: "${text}" must be a number from ${min} to ${max}`)
  }
  return n
}
