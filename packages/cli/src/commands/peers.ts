import { plural } from '@shardmesh/protocol/wording'
import { EXIT_OK, UsageError, parse } from '../args.js'
import { ControlClient } from '@shardmesh/control/client'
import { resolveDataDir } from '../data-dir.js'
import { age, seconds, shortId, table } from '../format.js'
import { formatSlots, renderWhy, trustCells } from '../trust.js'
import type { FindResponse, PeerRow } from '@shardmesh/control/client'

export const PEERS_HELP = `Usage: shardmesh peers [--find KEY [--claimed] | --why PEER] [options]

The running node's peer table: every verified, unexpired capability advert, and what this node
knows of each peer. Every figure says where it comes from: a peer's advert only claims; this
node measures (challenges, timed shards) or believes a measurement attested by a peer whose
standing counts.

Columns:
  liveness   the state and the age of the newest evidence behind it: alive (a heartbeat, a
             result or a challenge answered lately), suspect / dead (its heartbeat went silent
             with work in flight), advert (only its signed advert vouches for it), unknown
  score      0..1 from this node's own evidence and others' attestations (0.5: nothing known);
             probation: lost a dispute or failed a challenge, gets no unverified work
  workloads  items/s a slot: claimed in its advert; measured; contradicted when the claim
             exceeds what was measured
  gpus       count and model, with the claim's status: claimed, measured (a speed beyond its
             CPUs was measured), implausible
  slots      free/claimed in its advert; win: the in-flight window it earned in this node's jobs
  advert     age of its advert

Options:
  --find KEY       look up peers by workload:ID, model:CID or gpu:VENDOR in the table and the
                   DHT; a gpu lookup lists only measured GPUs unless --claimed
  --claimed        with --find gpu:VENDOR, also list GPUs only claimed (each with its status)
  --why PEER       everything behind one peer's standing: score reasons, evidence counts,
                   measurements, claims and liveness (PEER: its id, a prefix, or the short
                   form this table prints)
  --data-dir DIR   the node's data dir (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --json           print the node's answer: { "now", "peers": [...] } (each peer with "trust");
                   with --find { "elapsedMs", "peers", "omittedClaims" }; with --why
                   { "now", "peer" }
  -h, --help       this help
`

const BASE58 = '[1-9A-HJ-NP-Za-km-z]'
/** a peer id, a prefix of one, or the short form `shortId()` prints (`12D3KooW…abcdef`) */
const PEER_REF = new RegExp(`^${BASE58}{1,128}((…|\\.\\.\\.)${BASE58}{1,64})?$`)
const FIND_KEY = /^(workload|model|gpu):(.+)$/

export async function peersCommand (argv: string[]): Promise<number> {
  const { values } = parse('peers', argv, {
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
    find: { type: 'string' },
    claimed: { type: 'boolean' },
    why: { type: 'string' }
  })
  if (values.help === true) {
    process.stdout.write(PEERS_HELP)
    return EXIT_OK
  }
  const find = values.find == null ? undefined : FIND_KEY.exec(values.find)
  if (values.find != null && find == null) {
    throw new UsageError(`peers: --find must be workload:ID, model:CID or gpu:VENDOR, not "${values.find}"`)
  }
  if (values.claimed === true && find?.[1] !== 'gpu') {
    throw new UsageError('peers: --claimed lists GPUs only claimed: it needs --find gpu:VENDOR')
  }
  if (values.why != null && values.find != null) {
    throw new UsageError('peers: --why and --find exclude each other')
  }
  if (values.why != null && !PEER_REF.test(values.why)) {
    throw new UsageError(`peers: --why must be a peer id, a prefix of one, or the short form peers prints, not "${values.why}"`)
  }
  const json = values.json === true
  const client = await ControlClient.fromDataDir(resolveDataDir(values['data-dir']))
  if (find != null) {
    const res = await client.find({ [find[1]]: find[2], source: 'all', claimed: values.claimed === true })
    process.stdout.write((json ? JSON.stringify(res) : renderFound(res, values.find, values.claimed === true)) + '\n')
    return EXIT_OK
  }
  const res = await client.peers()
  if (values.why != null) {
    const row = pickPeer(res.peers, values.why)
    process.stdout.write((json ? JSON.stringify({ now: res.now, peer: row }) : renderWhy(row, res.now)) + '\n')
    return EXIT_OK
  }
  process.stdout.write((json ? JSON.stringify(res) : renderPeers(res.peers)) + '\n')
  return EXIT_OK
}

/** The one row `ref` names: an id, a unique prefix, or `shortId()`'s form. */
export function pickPeer (peers: PeerRow[], ref: string): PeerRow {
  const exact = peers.find(p => p.peerId === ref)
  if (exact != null) {
    return exact
  }
  const [head, tail] = ref.split(/…|\.\.\./)
  const matches = peers.filter(p => p.peerId.startsWith(head) && (tail == null || p.peerId.endsWith(tail)))
  if (matches.length === 0) {
    throw new Error(`no peer ${ref} in the node's peer table (shardmesh peers lists them)`)
  }
  if (matches.length > 1) {
    throw new UsageError(`peers: --why ${ref} matches ${plural(matches.length, 'peer')} (${matches.map(p => shortId(p.peerId)).join(', ')}): give more of its id`)
  }
  return matches[0]
}

/** The peer table: liveness, score and each figure with its status, per peer. */
export function renderPeers (peers: PeerRow[]): string {
  if (peers.length === 0) {
    return '(no verified adverts yet)'
  }
  return table(
    ['peer', 'liveness', 'score', 'workloads (items/s a slot)', 'gpus', 'slots', 'load', 'advert'],
    peers.map(p => {
      const cells = trustCells(p)
      return [
        shortId(p.peerId),
        cells.liveness,
        cells.score,
        cells.workloads,
        cells.gpus,
        formatSlots(p),
        `${(p.loadPermille / 10).toFixed(0)}%`,
        seconds(p.ageMs)
      ]
    })
  )
}

/** A --find answer: the peers, and the unverified GPU claims it left out. */
export function renderFound (res: FindResponse, key: string, claimed: boolean): string {
  const lines = [`${key}: ${plural(res.peers.length, 'peer')} in ${age(res.elapsedMs)}${res.peers.length === 0 ? '' : '\n\n' + renderPeers(res.peers)}`]
  if (res.omittedClaims > 0 && !claimed) {
    lines.push(`\n${plural(res.omittedClaims, 'peer')} only claiming such a GPU (not measured by this node or a peer whose standing counts) left out: add --claimed to list them`)
  }
  return lines.join('\n')
}
