import { ControlClient } from '@shardmesh/control/client'
import { EXIT_OK, parse } from '../args.js'
import { loginUrl } from '../daemon/login.js'
import { resolveDataDir } from '../data-dir.js'

export const DASHBOARD_HELP = `Usage: shardmesh dashboard [--data-dir DIR] [--json]

Print the login URL of the running node's dashboard: a page its control API serves on
loopback (peers and their liveness, jobs live, receipts, metrics). Open it in a browser on
this machine, or elsewhere through an SSH tunnel that keeps the port (the API answers only
to its own host and port: ssh -L PORT:127.0.0.1:PORT HOST, with a fixed --control-port).

The URL carries the node's control token in its fragment (#token=...), which the browser
never sends to any server: the page keeps it for its tab and sends it as a bearer header.
Whoever has the URL controls the node, as with <data dir>/control.token itself: do not paste
it where others read. The control API refuses other web pages (their Origin), names other
than its own loopback ones (DNS rebinding) and answers no CORS request, so a page elsewhere
cannot use the login of yours.

Options:
  --data-dir DIR   the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json           print { "url", "control", "peerId" }: the login URL, the control API's
                   URL and the node's peer id
  -h, --help       this help
`

/** `shardmesh dashboard`: the login URL of the data dir's running node (checked to answer first). */
export async function dashboardCommand (argv: string[]): Promise<number> {
  const { values } = parse('dashboard', argv, {
    'data-dir': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(DASHBOARD_HELP)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  const client = await ControlClient.fromDataDir(dataDir)
  // a control.json left by a node that died names a port nobody serves: ask before printing
  const { peerId } = await client.status()
  const url = await loginUrl(dataDir, client.url)
  process.stdout.write((values.json === true ? JSON.stringify({ url, control: client.url, peerId }) : url) + '\n')
  return EXIT_OK
}
