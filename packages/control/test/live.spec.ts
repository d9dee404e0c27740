import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { meshServices } from '@shardmesh/node'
import { memoryListen, waitFor } from '@shardmesh/test-utils'
import { createLibp2p } from 'libp2p'
import { ControlClient, ControlServer } from '../src/index.js'
import { explorerCluster, solanaStatus } from '../src/serialize.js'

/** A node of `meshServices()` on the memory transport that offers echo. */
async function meshNode () {
  const { transports, listen } = memoryListen('shardmesh-control-live')
  return createLibp2p({
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: meshServices({ capabilities: { nvidiaSmi: false }, compute: { offer: ['echo'], poolSize: 1, challenges: false, calibrate: false } })
  })
}

type MeshNode = Awaited<ReturnType<typeof meshNode>>

/** What the dashboard reads: the jobs, whether a peer is connected now, and the Solana cluster. */
describe('control API: the live view (GET /v1/jobs, connected peers, the Solana cluster)', function () {
  this.timeout(30_000)
  let dirs: string[]
  let node: MeshNode
  let other: MeshNode | undefined
  let server: ControlServer
  let client: ControlClient

  before(async () => {
    dirs = [await mkdtemp(join(tmpdir(), 'shardmesh-control-live-'))]
    node = await meshNode()
    server = new ControlServer({ node, dataDir: dirs[0], onStop: () => {}, solanaRpc: 'https://api.devnet.solana.com' })
    await server.start()
    client = await ControlClient.fromDataDir(dirs[0])
  })

  after(async () => {
    await server?.stop()
    await other?.stop()
    await node?.stop()
    await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true })))
  })

  it('GET /v1/jobs: none at first; then each job this node requested, the newest first, with its state, shards, peers and placement', async () => {
    const empty = await client.jobs()
    assert.deepEqual(empty.jobs, [])
    assert.equal(typeof empty.now, 'number')
    const items = ['a', 'b', 'c'].map(t => Buffer.from(t).toString('base64'))
    const ok = await client.runJob({ workload: 'echo', items, shardSize: 1 })
    // no peer but itself, and the job may not run here: it fails before any shard
    await assert.rejects(client.runJob({ workload: 'echo', items, includeSelf: false }), { code: 'ERR_NO_PEERS' })
    const { now, jobs } = await client.jobs()
    assert.deepEqual(jobs.map(j => j.state), ['error', 'ok'])
    const [failed, done] = jobs
    assert.equal(done.jobId, ok.jobId)
    assert.equal(done.workload, 'echo@1.0.0')
    assert.equal(done.verification, 'none')
    assert.equal(done.items, 3)
    assert.ok(done.finishedAt != null && done.startedAt <= done.finishedAt && done.finishedAt <= now)
    assert.deepEqual([done.progress.shardsDone, done.progress.shardsTotal, done.progress.itemsDone, done.progress.itemsTotal], [3, 3, 3, 3])
    assert.deepEqual(done.shards, { total: 3, done: 3, inFlight: 0, attempts: 3, retries: 0, hedged: 0, checked: 0, disputed: 0 })
    assert.deepEqual(done.peers.map(p => [p.peerId, p.local, p.shards, p.inFlight]), [[node.peerId.toString(), true, 3, 0]])
    assert.deepEqual(done.placement.used, [node.peerId.toString()])
    assert.deepEqual(done.disputes, [])
    assert.equal('error' in done, false)
    assert.equal(failed.error?.code, 'ERR_NO_PEERS')
    assert.match(failed.error?.message ?? '', /no peer offers workload echo@1\.0\.0/)
    assert.deepEqual([failed.shards.total, failed.peers.length], [0, 0])
  })

  it('GET /v1/status: the Solana cluster receipts are anchored on, and its explorer cluster', async () => {
    const status = await client.status()
    assert.deepEqual(status.solana, { rpc: 'https://api.devnet.solana.com', explorerCluster: 'devnet' })
    assert.equal(status.advert?.connected, true)
  })

  it('GET /v1/peers and /v1/find: connected while this node has a connection to the peer, not once it is gone (its advert stays)', async () => {
    other = await meshNode()
    await node.dial(other.getMultiaddrs())
    const id = other.peerId.toString()
    // its advert offering echo (a first advert may come before its workloads are offered)
    const row = await waitFor(async () => (await client.peers()).peers.find(p => p.peerId === id && p.workloads.some(w => w.id === 'echo')), 'the other node\'s advert offering echo')
    assert.equal(row.connected, true)
    const found = await client.find({ workload: 'echo', source: 'table' })
    assert.equal(found.peers.find(p => p.peerId === id)?.connected, true)
    for (const p of found.peers.filter(p => p.peerId === node.peerId.toString())) {
      assert.equal(p.connected, true, 'this node\'s own row')
    }

    await other.stop()
    other = undefined
    const gone = await waitFor(async () => (await client.peers()).peers.find(p => p.peerId === id && !p.connected), 'the other node listed as not connected')
    assert.equal(gone.trust?.peerId, id)
    assert.equal((await client.find({ workload: 'echo', source: 'table' })).peers.find(p => p.peerId === id)?.connected, false)
    assert.equal((await client.status()).connectedPeers, 0)
  })

  it('a node that anchors nothing says so: solana is null', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shardmesh-control-live-'))
    dirs.push(dir)
    const plain = new ControlServer({ node, dataDir: dir, onStop: () => {} })
    await plain.start()
    try {
      assert.equal((await (await ControlClient.fromDataDir(dir)).status()).solana, null)
    } finally {
      await plain.stop()
    }
  })
})

describe('control API: the explorer cluster of a Solana RPC', () => {
  const cases: Array<[string, ReturnType<typeof explorerCluster>]> = [
    ['https://api.devnet.solana.com', 'devnet'],
    ['https://api.testnet.solana.com', 'testnet'],
    ['https://api.mainnet-beta.solana.com', 'mainnet-beta'],
    ['https://mainnet.helius-rpc.com/?api-key=secret', 'mainnet-beta'],
    ['https://solana-devnet.g.alchemy.com/v2/secret', 'devnet'],
    ['http://127.0.0.1:8899', null],
    ['http://localhost:8899', null],
    ['http://127.0.0.1:8899/devnet', null],
    ['not a url', null],
    ['', null]
  ]
  for (const [rpc, cluster] of cases) {
    it(`${JSON.stringify(rpc)} -> ${String(cluster)}`, () => {
      assert.equal(explorerCluster(rpc), cluster)
    })
  }

  it('reports the RPC by its origin only: no path, query or credentials (where API keys go)', () => {
    assert.deepEqual(solanaStatus('https://user:pass@mainnet.helius-rpc.com/v2/secret?api-key=secret#x'), { rpc: 'https://mainnet.helius-rpc.com', explorerCluster: 'mainnet-beta' })
    assert.deepEqual(solanaStatus('http://127.0.0.1:8899'), { rpc: 'http://127.0.0.1:8899', explorerCluster: null })
    assert.equal(solanaStatus(undefined), null)
    assert.equal(solanaStatus(''), null)
  })
})
