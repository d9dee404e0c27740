import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** `--data-dir`, else $SHARDMESH_DATA_DIR, else ~/.shardmesh. */
export function resolveDataDir (flag: string | undefined): string {
  return resolve(flag ?? process.env.SHARDMESH_DATA_DIR ?? join(homedir(), '.shardmesh'))
}
