/**
 * A DePIN node that earns shardmesh work receipts, from start to proof.
 *
 * Your node is a libp2p node you already run (your key, transports and services). Spreading
 * `meshServices()` into its services makes it a mesh peer: it offers a workload (`echo` here),
 * keeps the receipts of the work it does in a durable store, and pulls the proofs of those
 * receipts (each anchored on Solana by the requester that countersigned it). `ControlServer`
 * of `@shardmesh/control` serves the node's local control API, so `shardmesh peers`,
 * `shardmesh receipts` and `/metrics` work against it (`--data-dir` of this example's dir).
 *
 * Here everything runs in one process on loopback: a local Solana chain (the embedded one of
 * `@shardmesh/chain`; on a real deployment, the RPC URL of devnet or mainnet), your DePIN node,
 * and a requester: a plain mesh node elsewhere that sends your node a job. The program ends
 * with your node's own proofs of the receipts it earned, each verified on the chain.
 *
 * Run: npm run build && node examples/depin-node/dist/index.js [--items N] [--data-dir DIR] [--json]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { startChainServer } from '@shardmesh/chain'
import { ControlClient, ControlServer } from '@shardmesh/control'
import { createMeshNode, meshServices } from '@shardmesh/node' // importing it also installs the Node 20 polyfill
import { addressOfPeerId, describeVerificationFailure, verifyReceiptProof } from '@shardmesh/solana'
import { createLibp2p } from 'libp2p'

const SOL = 1_000_000_000n

/** Bad flags: one line naming the flag, exit 2. */
const usage = (message: string): never => {
  console.error(`depin-node: ${message}`)
  process.exit(2)
}
const { values: flags } = (() => {
  try {
    return parseArgs({ options: { items: { type: 'string', default: '12' }, 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } } })
  } catch (err: any) {
    return usage(err.message)
  }
})()
const itemCount = Number(flags.items)
if (!Number.isSafeInteger(itemCount) || itemCount < 1 || itemCount > 10_000) usage(`--items: expected 1..10000, got "${flags.items}"`)
const json = flags.json === true
const say = (line: string): void => { if (!json) console.info(line) }

const work = await mkdtemp(join(tmpdir(), 'shardmesh-depin-node-'))
const dataDir = flags['data-dir'] ?? join(work, 'depin') // your node's control.json, token and receipts
const cleanup: Array<() => Promise<void>> = [async () => { await rm(work, { recursive: true, force: true }) }]
try {
  // 0. A local Solana chain (on a real deployment: { rpcUrl: 'https://api.devnet.solana.com' })
  const chain = await startChainServer({ port: 0, pubsubPort: false })
  cleanup.unshift(async () => { await chain.close() })
  const ledger = { rpcUrl: chain.url, wsUrl: chain.wsUrl }
  say(`local chain at ${chain.url}`)

  // 1. Your existing libp2p node: your key, your transports, your services, plus shardmesh's
  const depin = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      ...meshServices({
        network: 'lan',
        capabilities: { nvidiaSmi: false },
        // serve the built-in `echo` workload to others (every built-in can still be requested)
        compute: { offer: ['echo'], poolSize: 1 },
        // the receipts of your work, durable in your data dir; with a ledger, the proofs that
        // their requesters anchored are pulled and checked on that chain
        receipts: { dir: join(dataDir, 'receipts'), ledger, proofPullInterval: 0 }
      })
      // ...and the services your node already had, e.g. `telemetry: myTelemetry()`
    }
  })
  cleanup.unshift(async () => { await depin.stop() })
  say(`your DePIN node ${depin.peerId} offers echo on ${depin.getMultiaddrs()[0]}`)

  // 2. Serve its control API (loopback, bearer token in <dataDir>/control.token)
  // (onStop: what POST /v1/stop of the control API does to your node)
  const control = new ControlServer({ node: depin, dataDir, onStop: () => { void depin.stop() } })
  const { url } = await control.start()
  cleanup.unshift(async () => { await control.stop() })
  const client = await ControlClient.fromDataDir(dataDir)
  say(`control API at ${url} (shardmesh receipts list --data-dir ${dataDir})`)
  // ...and with it the dashboard page, at its root: its login URL (the token in its fragment)
  // is what `shardmesh dashboard --data-dir DIR` prints, or dashboardUrl(url, token)
  const page = await fetch(`${url}/`)
  const dashboard = page.ok && (page.headers.get('content-type') ?? '').startsWith('text/html')
  say(`dashboard at ${url}/ (log in: shardmesh dashboard --data-dir ${dataDir})`)

  // 3. Somewhere on the mesh, a requester (here: a plain mesh node in this process) that pays
  //    the fees of its anchors, so its key's account is funded on the chain
  const requester = await createMeshNode({
    dataDir: join(work, 'requester'),
    bootstrap: depin.getMultiaddrs().map(ma => ma.toString()),
    network: 'lan',
    capabilities: { nvidiaSmi: false },
    compute: { offer: [] },
    receipts: { dir: join(work, 'requester', 'receipts'), ledger, batchInterval: 200 }
  })
  cleanup.unshift(async () => { await requester.stop() })
  chain.chain.airdrop(addressOfPeerId(requester.peerId), SOL)
  const deadline = Date.now() + 20_000
  while (requester.services.capabilities.getPeer(depin.peerId) == null && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }

  // 4. It sends your node a job: every shard runs on your node, which signs a receipt for each;
  //    the requester countersigns them, sends them back, and anchors them on the chain
  const items = Array.from({ length: itemCount }, (_, i) => new TextEncoder().encode(`reading ${i}`))
  const job = await requester.services.compute.run({ workload: 'echo', items, shardSize: 2 }, { peers: [depin.peerId] })
  await requester.services.receipts.flush({ signal: AbortSignal.timeout(60_000) })
  say(`the requester ran job ${job.jobId} on your node: ${job.shards.length} shards, their receipts anchored`)

  // 5. Your node pulls the proofs of the receipts it earned (it also does so on its own every
  //    5 s by default; here proofPullInterval is 0, so once, through its control API)
  const { pulled } = await client.pullReceiptProofs()
  say(`proof pull: asked ${pulled.requesters} requester(s) for ${pulled.asked} receipt(s), stored ${pulled.stored} proof(s)`)

  // 6. Its own proofs, each checked on the chain: both signatures, the Merkle path to the
  //    batch root, and the anchor transaction signed by the requester's key
  const earned = depin.services.receipts.list({ role: 'worker' })
  const proofs = []
  for (const receipt of earned) {
    const proof = depin.services.receipts.proof(receipt.id)
    if (proof == null) {
      proofs.push({ id: receipt.id, verified: false, failure: 'no proof held' })
      continue
    }
    try {
      const checked = await verifyReceiptProof(proof, depin.services.receipts.ledger ?? assertNever('no ledger'))
      proofs.push({ id: receipt.id, shard: receipt.shardIndex, items: checked.receipt.items, verified: true, anchor: proof.anchor?.signature, slot: String(checked.anchor.slot) })
    } catch (err) {
      proofs.push({ id: receipt.id, verified: false, failure: describeVerificationFailure(err) })
    }
  }
  const status = await client.receipts({ role: 'worker' })
  const result = {
    node: depin.peerId.toString(),
    requester: requester.peerId.toString(),
    jobId: job.jobId,
    shards: job.shards.length,
    shardsByNode: job.shards.filter(s => s.peer === depin.peerId.toString()).length,
    earned: earned.length,
    anchoredByControlApi: status.receipts.filter(r => r.anchor != null).length,
    dashboard,
    verified: proofs.filter(p => p.verified).length,
    proofs
  }
  if (json) {
    console.info(JSON.stringify(result))
  } else {
    say(`your node earned ${result.earned} receipt(s); ${result.verified} proof(s) verified on the chain:`)
    for (const p of proofs) {
      say(p.verified ? `  ${p.id.slice(0, 16)}…  shard ${p.shard}, ${p.items} items, anchor ${String(p.anchor).slice(0, 16)}… slot ${p.slot}: verified` : `  ${p.id.slice(0, 16)}…  NOT verified: ${JSON.stringify(p.failure)}`)
    }
  }
  // every shard of the job earned a receipt, and every receipt earned has a proof that checks
  process.exitCode = result.shardsByNode === job.shards.length && result.earned >= job.shards.length && result.verified === result.earned ? 0 : 1
} finally {
  for (const step of cleanup) {
    await step().catch(() => {})
  }
}

function assertNever (message: string): never {
  throw new Error(message)
}
