import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { InvalidSwarmKeyError } from './errors.js'

/**
 * Swarm keys: the pre-shared key of a private mesh (libp2p's private networks, `@libp2p/pnet`).
 * Every connection of a node that has one starts with an XSalsa20 stream keyed by it, before
 * Noise: a peer without the same key cannot complete a connection, so it cannot gossip, find
 * peers through this node or send it shards. The file format is libp2p's (and IPFS's):
 *
 *     /key/swarm/psk/1.0.0/
 *     /base16/
 *     <64 hex digits: 32 random bytes>
 */

const TAG = '/key/swarm/psk/1.0.0/'
const CODEC = '/base16/'
/** A swarm key file is 95 bytes, 96 with a final newline: more is not one. */
export const MAX_SWARM_KEY_FILE_BYTES = 1024

/** A new swarm key file's bytes: 32 random bytes, in the format above, with a final newline. */
export function generateSwarmKey (): Uint8Array {
  return new TextEncoder().encode(`${TAG}\n${CODEC}\n${randomBytes(32).toString('hex')}\n`)
}

/**
 * Check that `bytes` is a swarm key file and return it as `@libp2p/pnet` takes it (the three
 * lines, without a final newline). Throws `InvalidSwarmKeyError` saying what is wrong.
 */
export function parseSwarmKey (bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength > MAX_SWARM_KEY_FILE_BYTES) {
    throw new InvalidSwarmKeyError(`${bytes.byteLength} bytes: a swarm key file is about 96`)
  }
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/)
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') {
    lines.pop()
  }
  if (lines.length !== 3) {
    throw new InvalidSwarmKeyError(`${lines.length} line(s): a swarm key file has 3 (${TAG}, ${CODEC} and 64 hex digits)`)
  }
  const [tag, codec, key] = lines.map(l => l.trim())
  if (tag !== TAG) {
    throw new InvalidSwarmKeyError(`its first line is not ${TAG}`)
  }
  if (codec !== CODEC) {
    throw new InvalidSwarmKeyError(`its second line is not ${CODEC} (the only encoding supported)`)
  }
  if (!/^[0-9a-fA-F]{64}$/.test(key)) {
    throw new InvalidSwarmKeyError('its third line is not 64 hex digits (32 bytes)')
  }
  return new TextEncoder().encode(`${TAG}\n${CODEC}\n${key.toLowerCase()}`)
}

/** Read and check a swarm key file. */
export async function loadSwarmKey (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    throw new InvalidSwarmKeyError(err.code === 'ENOENT' ? 'no such file' : err.message, { cause: err })
  }
  return parseSwarmKey(bytes)
}
