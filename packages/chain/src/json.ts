/**
 * JSON for the RPC wire: bigints are written as plain JSON numbers with every digit (kit's
 * client parses large integers losslessly; `JSON.stringify` would throw on a bigint and a
 * `Number` would round lamports above 2^53).
 */
export function stringifyJson (value: unknown): string {
  if (value === null) {
    return 'null'
  }
  switch (typeof value) {
    case 'bigint':
      return value.toString()
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'string':
    case 'boolean':
      return JSON.stringify(value)
    case 'object':
      break
    default:
      return 'null'
  }
  if (Array.isArray(value)) {
    return `[${value.map(item => item === undefined ? 'null' : stringifyJson(item)).join(',')}]`
  }
  const parts: string[] = []
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function') {
      continue
    }
    parts.push(`${JSON.stringify(key)}:${stringifyJson(item)}`)
  }
  return `{${parts.join(',')}}`
}
