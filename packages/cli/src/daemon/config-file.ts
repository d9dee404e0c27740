import { open } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { UsageError } from '../args.js'
import type { Options } from '../args.js'

/** A config file larger than this is refused unread (bytes). */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024

/**
 * Keys of `node start`'s config file whose values are paths: a relative one is taken from the
 * file's own directory (not from wherever the daemon was started), so a unit file or a script
 * may start it from anywhere; `~/` is the home directory.
 */
export const PATH_KEYS: ReadonlySet<string> = new Set(['data-dir', 'solana-keypair', 'swarm-key', 'ready-file', 'workload-module'])

/**
 * Secrets (and what an operator may prefer to keep out of a file) read from the environment when
 * neither a flag nor the config file gives them: flag, then environment, then file.
 * `SHARDMESH_DATA_DIR` is read where the data dir is resolved (it applies without a file too).
 */
export const CONFIG_ENV: Readonly<Record<string, string>> = {
  'solana-keypair': 'SHARDMESH_SOLANA_KEYPAIR',
  'solana-rpc': 'SHARDMESH_SOLANA_RPC',
  'swarm-key': 'SHARDMESH_SWARM_KEY'
}

/** The values of a parsed config file, by flag name, typed as parseArgs types a flag's value. */
export type ConfigValues = Record<string, string | boolean | string[]>

export interface ReadConfigOptions {
  /** the command, for messages (`node start`) */
  command: string
  /** flags that have no key in the file (the `config` flag itself, `help`) */
  exclude?: string[]
}

/**
 * Read a JSON config file whose keys are the command's flag names as written on the command line
 * without the dashes (`"solana-rpc"`, `"listen"`): a string flag takes a string (or a number,
 * written as the flag would be), a repeatable flag an array of them, a boolean flag `true` or
 * `false`. An unknown key or a wrong type is a UsageError naming the key; relative paths of
 * `PATH_KEYS` are resolved against the file's directory.
 */
export async function readConfigFile (path: string, flags: Options, options: ReadConfigOptions): Promise<ConfigValues> {
  const where = `${options.command}: --config ${path}`
  const text = await readLimited(path, where)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err: any) {
    throw new UsageError(`${where}: not JSON (${err.message})`)
  }
  if (json == null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`${where}: must hold a JSON object of flag names and values (e.g. { "listen": ["/ip4/0.0.0.0/tcp/7077"] })`)
  }
  const exclude = new Set(['help', ...(options.exclude ?? [])])
  const base = dirname(resolve(path))
  const values: ConfigValues = {}
  for (const [key, value] of Object.entries(json)) {
    const flag = Object.hasOwn(flags, key) && !exclude.has(key) ? flags[key] : undefined
    if (flag == null) {
      throw new UsageError(`${where}: unknown key "${key}"${suggestion(key, flags, exclude)}`)
    }
    values[key] = checkValue(key, value, flag, where)
    if (PATH_KEYS.has(key)) {
      values[key] = resolvePaths(values[key], base)
    }
  }
  return values
}

/**
 * The command line's values over the config file's: a flag given on the command line wins
 * (a repeatable one replaces the file's whole list), then the environment (`CONFIG_ENV`), then
 * the file.
 */
export function mergeConfig (flags: Record<string, any>, file: ConfigValues, env: NodeJS.ProcessEnv = process.env): Record<string, any> {
  const merged: Record<string, any> = { ...file }
  for (const [key, name] of Object.entries(CONFIG_ENV)) {
    const value = env[name]
    if (value != null && value !== '') {
      merged[key] = value
    }
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value !== undefined) {
      merged[key] = value
    }
  }
  return merged
}

async function readLimited (path: string, where: string): Promise<string> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err: any) {
    throw new UsageError(`${where}: ${err.code === 'ENOENT' ? 'no such file' : `cannot read it (${err.code ?? err.message})`}`)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) {
      throw new UsageError(`${where}: not a file`)
    }
    if (stats.size > MAX_CONFIG_FILE_BYTES) {
      throw new UsageError(`${where}: ${stats.size} bytes is over the ${MAX_CONFIG_FILE_BYTES} byte limit of a config file`)
    }
    // read at most one byte past the limit: a file that grew since stat() is refused too
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1)
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, 0)
    if (bytesRead > MAX_CONFIG_FILE_BYTES) {
      throw new UsageError(`${where}: over the ${MAX_CONFIG_FILE_BYTES} byte limit of a config file`)
    }
    return buffer.subarray(0, bytesRead).toString('utf8')
  } catch (err: any) {
    if (err instanceof UsageError) {
      throw err
    }
    throw new UsageError(`${where}: cannot read it (${err.code ?? err.message})`)
  } finally {
    await handle.close()
  }
}

function checkValue (key: string, value: unknown, flag: Options[string], where: string): string | boolean | string[] {
  if (flag.type === 'boolean') {
    if (typeof value !== 'boolean') {
      throw new UsageError(`${where}: "${key}" must be true or false, got ${describe(value)}`)
    }
    return value
  }
  const scalar = (v: unknown): string | undefined => typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined
  if (flag.multiple === true) {
    const list = Array.isArray(value) ? value.map(scalar) : undefined
    if (list == null || list.some(v => v == null)) {
      throw new UsageError(`${where}: "${key}" must be an array of strings (the values of a repeatable flag), got ${describe(value)}`)
    }
    return list as string[]
  }
  const text = scalar(value)
  if (text == null) {
    throw new UsageError(`${where}: "${key}" must be a string${typeof value === 'object' ? '' : ' or a number'}, got ${describe(value)}`)
  }
  return text
}

function resolvePaths (value: string | boolean | string[], base: string): string | boolean | string[] {
  // no shell expands a JSON string: `~/` is the home dir here
  const one = (p: string): string => p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : isAbsolute(p) ? p : resolve(base, p)
  if (typeof value === 'string') {
    return one(value)
  }
  return Array.isArray(value) ? value.map(one) : value
}

function describe (value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array'
  }
  if (value === null) {
    return 'null'
  }
  const text = JSON.stringify(value) ?? typeof value
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`
}

/** `solanaRpc` → ` (did you mean "solana-rpc"?)`: the keys are the flags' own names. */
function suggestion (key: string, flags: Options, exclude: Set<string>): string {
  const kebab = key.replace(/^-+/, '').replace(/[A-Z]/g, c => `-${c.toLowerCase()}`).replace(/_/g, '-')
  return kebab !== key && Object.hasOwn(flags, kebab) && !exclude.has(kebab) ? ` (did you mean "${kebab}"?)` : ''
}
