import { chmod, rename, rm, writeFile } from 'node:fs/promises'

/**
 * Write a file whole or not at all: it is written under a private name beside `path`, then
 * renamed over it, so a reader (another process polling for it) never sees it half written.
 * `mode` is applied to the new file whatever the umask.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    await writeFile(tmp, data, { mode })
    await chmod(tmp, mode)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
