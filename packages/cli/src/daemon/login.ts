import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { constants, dashboardUrl } from '@shardmesh/control/client'

/**
 * The dashboard's login URL of the node serving `controlUrl` from `dataDir`: the control URL with
 * the data dir's bearer token (`control.token`) in its fragment. Whoever holds it controls the
 * node: it is printed to the operator, never put in a file or a JSON event that scripts keep.
 */
export async function loginUrl (dataDir: string, controlUrl: string): Promise<string> {
  const token = (await readFile(join(dataDir, constants.TOKEN_FILE), 'utf8')).trim()
  return dashboardUrl(controlUrl, token)
}
