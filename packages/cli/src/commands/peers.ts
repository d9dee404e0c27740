import { EXIT_OK, parse } from '../args.js'
import { ControlClient } from '@shardmesh/control'
import { resolveDataDir } from '../data-dir.js'
import { age, bytes, table } from '../format.js'
import type { PeerRow } from '@shardmesh/control'

export const PEERS_HELP = `Usage: shardmesh peers [options]

The running node's peer table: every verified, unexpired capability advert and its age.

Options:
  --data-dir DIR   the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json           print { "now", "peers": [...] }
  -h, --help       this help
`

export async function peersCommand (argv: string[]): Promise<number> {
  const { values } = parse('peers', argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } })
  if (values.help === true) {
    process.stdout.write(PEERS_HELP)
    return EXIT_OK
  }
  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  const res = await client.peers()
  if (values.json === true) {
    process.stdout.write(JSON.stringify(res) + '\n')
  } else {
    process.stdout.write(renderPeers(res.peers) + '\n')
  }
  return EXIT_OK
}

export function renderPeers (peers: PeerRow[]): string {
  if (peers.length === 0) {
    return '(no verified adverts yet)'
  }
  return table(
    ['peer', 'cpu', 'cores', 'memory', 'gpus', 'workloads', 'slots', 'load', 'age'],
    peers.map(p => [
      p.peerId,
      p.hardware.cpuModel.slice(0, 28),
      String(p.hardware.cpuCores),
      bytes(p.hardware.memoryBytes),
      p.hardware.gpus.length === 0 ? '-' : p.hardware.gpus.map(g => g.model).join(', '),
      p.workloads.length === 0 ? '-' : p.workloads.map(w => `${w.id}@${w.version}`).join(','),
      `${p.freeSlots}/${p.totalSlots}`,
      `${(p.loadPermille / 10).toFixed(0)}%`,
      age(p.ageMs)
    ])
  )
}
