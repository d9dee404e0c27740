import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { ControlClient, ControlServer, constants } from '../src/index.js'
import type { ControlNode } from '../src/index.js'
import type { PeerId } from '@libp2p/interface'
import type { PeerCapabilities } from '@shardmesh/capabilities'
import type { PeerTrust, PlacementReport, PlanRequest, RunJobOptions } from '@shardmesh/compute'

type ClaimStatus = PeerTrust['gpus']['status']

const SELF = peerIdFromString('12D3KooWHbkKh1QwGkySDizaTtLaKcbryMoaxqYG9Ffr9J8cyTaK')
const MEASURED = peerIdFromString('12D3KooWA1v39Txjgaf9HSKfTPGzE6sMvkQdygtU6MmBLomJhtAu')
const CLAIMED = peerIdFromString('12D3KooWAt8Pai1TiSmGQrjax4xGTC84qWKCZn8qnMjFx3hbjnw1')
/** its trust throws: a listing must still answer, with `trust: null` for it */
const BROKEN = peerIdFromString('12D3KooWCQr85hbc1J7h1gPu5P3dTXsbBjZmSpcfpMCE3P3AgTF9')

function advert (peerId: PeerId): PeerCapabilities {
  return {
    peerId,
    seq: 1,
    issuedAt: 1_000,
    expiresAt: 61_000,
    receivedAt: 1_000,
    localIssuedAt: 1_000,
    heldUntil: 61_000,
    firstSeenAt: 1_000,
    ageMs: 0,
    source: 'gossip',
    bytes: new Uint8Array(),
    hardware: { cpuModel: 'cpu', cpuCores: 8, memoryBytes: 2 ** 30, platform: 'linux', arch: 'x64', gpus: [{ vendor: 'nvidia', model: 'NVIDIA H100 80GB HBM3', memoryBytes: 2 ** 30, uuid: 'GPU-1', driver: '550' }] },
    workloads: [{ id: 'echo', version: '1.0.0', throughput: 100 }],
    models: [],
    loadPermille: 0,
    freeSlots: 4,
    totalSlots: 4,
    priceHint: '',
    addrs: []
  }
}

function trust (peerId: PeerId, gpus: ClaimStatus): PeerTrust {
  const evidence = { 'shard-accepted': 3, 'shard-failed': 0, 'shard-timeout': 0, unresponsive: 0, 'dispute-won': 0, 'dispute-lost': 0, 'challenge-passed': 1, 'challenge-failed': 0, 'challenge-timeout': 0 }
  return {
    peerId: peerId.toString(),
    liveness: { state: 'alive', evidence: 'heartbeat', ageMs: 400, since: 500 },
    score: { value: 0.9, probation: false, evidence, attestations: { count: 0, weight: 0 }, reasons: ['passed 1 challenge'] },
    workloads: [{ workload: 'echo', version: '1.0.0', claimed: 100, claimedPerSlot: 25, status: 'claimed', reason: 'not measured' }],
    gpus: { count: 1, models: ['NVIDIA H100 80GB HBM3'], status: gpus, reason: gpus },
    slots: { claimed: 4, earned: [{ workload: 'echo', window: 2 }] }
  }
}

/** A node with just enough behind the control API: its peers, their trust, `plan()` and `run()` recorded. */
function stubNode (): { node: ControlNode, plans: PlanRequest[], runs: RunJobOptions[] } {
  const plans: PlanRequest[] = []
  const runs: RunJobOptions[] = []
  const peers = [advert(MEASURED), advert(CLAIMED), advert(BROKEN)]
  const echo = { id: 'echo', version: '1.0.0' }
  const report: PlacementReport = {
    workload: 'echo@1.0.0',
    verification: 'none',
    minScore: 0.5,
    peers: [
      { peerId: MEASURED.toString(), local: false, used: true, window: 2, trust: trust(MEASURED, 'measured') },
      { peerId: CLAIMED.toString(), local: false, used: false, reason: 'low-score', detail: 'score 0.12 < 0.5: lost 3 disputes' }
    ]
  }
  const node = {
    peerId: SELF,
    getMultiaddrs: () => [],
    getConnections: () => [],
    services: {
      capabilities: {
        getAdvert: () => undefined,
        getPeers: () => peers,
        getPeer: (id: PeerId) => peers.find(p => p.peerId.equals(id)),
        findPeers: async () => peers
      },
      compute: {
        registry: {
          get: (id: string, version?: string) => id === echo.id && (version == null || version === echo.version) ? echo : undefined,
          require: (id: string, version?: string) => {
            if (id === echo.id && (version == null || version === echo.version)) {
              return echo
            }
            throw Object.assign(new Error(`no workload ${id} is installed here (installed: echo@1.0.0)`), { code: 'ERR_UNKNOWN_WORKLOAD' })
          },
          list: () => [echo]
        },
        peerTrust: (peer: PeerId | string) => {
          const id = peer.toString()
          if (id === BROKEN.toString()) {
            throw new Error('the trust book is not loaded')
          }
          return trust(peerIdFromString(id), id === MEASURED.toString() ? 'measured' : 'claimed')
        },
        plan: async (request: PlanRequest) => {
          plans.push(request)
          return report
        },
        run: async (_job: unknown, options: RunJobOptions) => {
          runs.push(options)
          return { jobId: '00', workload: 'echo', version: '1.0.0', verification: 'none', outputs: [], shards: [], peers: [], disputes: [], receipts: [], items: 0, elapsedMs: 1, itemsPerSec: 0, placement: { considered: 0, used: [], excluded: [] } }
        }
      }
    }
  }
  return { node: node as unknown as ControlNode, plans, runs }
}

describe('control API: what the node knows of its peers', () => {
  let dir: string
  let server: ControlServer
  let client: ControlClient
  let plans: PlanRequest[]
  let runs: RunJobOptions[]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-control-trust-'))
    const stub = stubNode()
    plans = stub.plans
    runs = stub.runs
    server = new ControlServer({ node: stub.node, dataDir: dir, onStop: () => {} })
    await server.start()
    client = await ControlClient.fromDataDir(dir)
  })

  after(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('GET /v1/peers: each row carries the peer\'s trust; a peer whose trust throws gets null, never a 500', async () => {
    const { peers } = await client.peers()
    const byId = new Map(peers.map(p => [p.peerId, p]))
    assert.equal(byId.get(MEASURED.toString())?.trust?.gpus.status, 'measured')
    assert.deepEqual(byId.get(CLAIMED.toString())?.trust?.liveness, { state: 'alive', evidence: 'heartbeat', ageMs: 400, since: 500 })
    assert.deepEqual(byId.get(CLAIMED.toString())?.trust?.slots, { claimed: 4, earned: [{ workload: 'echo', window: 2 }] })
    assert.equal(byId.get(BROKEN.toString())?.trust, null)
  })

  it('GET /v1/find gpu: only measured GPUs unless claimed=true, and how many claims were left out', async () => {
    const believed = await client.find({ gpu: 'nvidia', source: 'table' })
    assert.deepEqual(believed.peers.map(p => p.peerId), [MEASURED.toString()])
    assert.equal(believed.omittedClaims, 2)
    const all = await client.find({ gpu: 'nvidia', source: 'table', claimed: true })
    assert.deepEqual(all.peers.map(p => [p.peerId, p.trust?.gpus.status ?? null]), [[MEASURED.toString(), 'measured'], [CLAIMED.toString(), 'claimed'], [BROKEN.toString(), null]])
    assert.equal(all.omittedClaims, 0)
  })

  it('GET /v1/find without gpu leaves no claim out', async () => {
    const res = await client.find({ workload: 'echo', source: 'table' })
    assert.equal(res.peers.length, 3)
    assert.equal(res.omittedClaims, 0)
  })

  it('GET /v1/find refuses a claimed that is not true or false', async () => {
    const token = (await readFile(join(dir, constants.TOKEN_FILE), 'utf8')).trim()
    const res = await fetch(`${server.url}/v1/find?gpu=nvidia&claimed=yes`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 400)
    assert.deepEqual(await res.json(), { error: 'claimed must be true or false' })
  })

  it('POST /v1/jobs/plan: hands the request to plan() (workload@version split, peers as ids) and answers its report', async () => {
    const report = await client.plan({ workload: 'echo@1.0.0', verification: 'spot-check:0.5', peers: [MEASURED.toString()], includeSelf: false, minScore: 0.5, challenge: true })
    assert.equal(report.peers[1].reason, 'low-score')
    assert.equal(report.peers[0].trust?.gpus.status, 'measured')
    const asked = plans.at(-1)
    assert.equal(asked?.workload, 'echo')
    assert.equal(asked?.version, '1.0.0')
    assert.equal(asked?.verification, 'spot-check:0.5')
    assert.deepEqual(asked?.peers?.map(String), [MEASURED.toString()])
    assert.equal(asked?.includeSelf, false)
    assert.equal(asked?.minScore, 0.5)
    assert.equal(asked?.challenge, true)
  })

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no workload', {}, /^workload is required$/],
    ['an unknown workload', { workload: 'nope' }, /no workload nope is installed here/],
    ['a minScore over 1', { workload: 'echo', minScore: 2 }, /^minScore must be a number from 0 to 1$/],
    ['a minScore that is not a number', { workload: 'echo', minScore: '0.5' }, /^minScore must be a number from 0 to 1$/],
    ['a challenge that is not a boolean', { workload: 'echo', challenge: 'yes' }, /^challenge must be true or false$/],
    ['a bad verification', { workload: 'echo', verification: 'replicate:x' }, /replicate/],
    ['a peer that is not a peer id', { workload: 'echo', peers: ['nope'] }, /"nope" is not a peer id/],
    ['a peer the node does not know', { workload: 'echo', peers: ['12D3KooWSo5zyyTZopn6RfswWUUw4w71ikKNVDS5CwFaoDubDDYt'] }, /is not in this node's peer table/]
  ]
  for (const [what, body, message] of refusals) {
    it(`POST /v1/jobs/plan refuses ${what} with 400`, async () => {
      await assert.rejects(client.plan(body as any), (err: any) => {
        assert.equal(err.name, 'ControlRequestError')
        assert.equal(err.status, 400)
        assert.match(err.message, message)
        return true
      })
    })
  }

  it('POST /v1/jobs passes minScore to run(), and refuses one outside 0..1', async () => {
    await client.runJob({ workload: 'echo', items: [], minScore: 0.7 })
    assert.equal(runs.at(-1)?.minScore, 0.7)
    await assert.rejects(client.runJob({ workload: 'echo', items: [], minScore: -0.1 }), { name: 'ControlRequestError', status: 400, message: 'minScore must be a number from 0 to 1' })
  })
})
