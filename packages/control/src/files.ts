import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TOKEN_FILE } from './constants.js'

/** The data dir's bearer token, made (32 random bytes, hex, mode 0600) when there is none yet. */
export async function loadOrCreateToken (dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE)
  try {
    const token = (await readFile(path, 'utf8')).trim()
    if (token.length >= 32) {
      return token
    }
  } catch (err: any) {
    if (err.code !== 'ENOENT') {
      throw err
    }
  }
  const token = randomBytes(32).toString('hex')
  await writeFile(path, token, { mode: 0o600 })
  return token
}
