import { MAX_BODY } from './constants.js'
import { HttpError } from './errors.js'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A query parameter that must be a whole number, when given. */
export function optionalCount (text: string | null, name: string): number | undefined {
  if (text == null) {
    return undefined
  }
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) {
    throw new HttpError(400, `${name} must be a whole number`)
  }
  return n
}

/** A JSON object request body of at most `maxBody` bytes (413 over it, 400 when not an object). */
export async function readJson (req: IncomingMessage, maxBody = MAX_BODY): Promise<any> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBody) {
      throw new HttpError(413, `request body over ${maxBody} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  if (size === 0) {
    // a POST without a body asks with every field left to its default
    return {}
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (value == null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('not an object')
    }
    return value
  } catch {
    throw new HttpError(400, 'request body must be a JSON object')
  }
}

export function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
