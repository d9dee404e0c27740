import { mkdir } from 'node:fs/promises'
import { createMeshNode, solanaAddress } from '@shardmesh/node'
import { Registry } from 'prom-client'
import { WorkloadRegistry, builtinWorkloads, parseWorkloadSpec } from '@shardmesh/workloads'
import { EXIT_OK, UsageError, parse, parseDuration, parseInteger } from '../args.js'
import { ControlServer } from '../control/server.js'
import { resolveDataDir } from '../data-dir.js'
import { watchParent } from '../parent.js'
import type { MeshNetwork } from '@shardmesh/node'

export const NODE_HELP = `Usage: shardmesh node start [options]

Run a mesh node until SIGINT/SIGTERM (or POST /v1/stop on its control API).

Options:
  --data-dir DIR          key, control token and state (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --listen ADDR           multiaddr to listen on, repeatable (default /ip4/127.0.0.1/tcp/0)
  --bootstrap ADDR        a peer to join through (multiaddr with /p2p/<id>), repeatable
  --control-port PORT     loopback port of the control API (default: any free port)
  --workload ID[@VERSION] serve only this built-in workload, repeatable (default: ocr-rec,
                          embed, echo, sleep; onnx, which runs any model a requester sends,
                          only when named); 'none' serves nothing. embed's weights are seeded
                          random: a compute benchmark, its vectors mean nothing
  --pool-size N           inference threads (default: CPU cores)
  --slots N               shards run at once (default: pool size)
  --max-queue N           shards that may wait for a slot (default: slots x 4)
  --allow PEER_ID         serve only these requesters, repeatable
  --deny PEER_ID          never serve these requesters, repeatable
  --sleep-ms MS           ms per item of the 'sleep' workload (default 10)
  --warm                  load the served models into every thread at start
  --solana-rpc URL        anchor receipt batches on this Solana cluster (a 'shardmesh chain',
                          a local validator, devnet, mainnet); without it receipts are stored
                          and batched but not anchored
  --solana-ws URL         its WebSocket endpoint (default: the RPC's host and port, ws://)
  --solana-keypair FILE   Solana CLI keypair that pays the fees (default: the node key pays;
                          the node key signs every anchor either way)
  --receipt-batch-size N  anchor as soon as N receipts wait (default 1000, at most 10000)
  --receipt-batch-interval DURATION  or once the oldest waited this long (default 10s)
  --test-fault KIND       TESTS ONLY: 'wrong-answers' corrupts every output;
                          'crash-after-anchor-send' SIGKILLs the node once an anchor was sent
  --network lan|public|mixed  which peer addresses the DHT keeps (default mixed)
  --advert-ttl DURATION   how long each advert is valid (default 30s)
  --refresh DURATION      re-publish interval, shorter than the TTL (default 10s)
  --no-gpu                skip the nvidia-smi probe
  --parent-pid PID        exit if this process dies (used by 'shardmesh cluster')
  --json                  print one JSON line when ready: { event, peerId, solanaAddress, addrs, control, pid }
  -h, --help              this help
`

export async function nodeCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '--help' || sub === '-h' || sub == null) {
    process.stdout.write(NODE_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  if (sub !== 'start') {
    throw new UsageError(`node: unknown subcommand "${sub}" (try: shardmesh node start --help)`)
  }
  const { values } = parse('node start', rest, {
    'data-dir': { type: 'string' },
    listen: { type: 'string', multiple: true },
    bootstrap: { type: 'string', multiple: true },
    'control-port': { type: 'string' },
    workload: { type: 'string', multiple: true },
    network: { type: 'string' },
    'advert-ttl': { type: 'string' },
    refresh: { type: 'string' },
    'no-gpu': { type: 'boolean' },
    'parent-pid': { type: 'string' },
    'pool-size': { type: 'string' },
    slots: { type: 'string' },
    'max-queue': { type: 'string' },
    allow: { type: 'string', multiple: true },
    deny: { type: 'string', multiple: true },
    'sleep-ms': { type: 'string' },
    warm: { type: 'boolean' },
    'test-fault': { type: 'string' },
    'solana-rpc': { type: 'string' },
    'solana-ws': { type: 'string' },
    'solana-keypair': { type: 'string' },
    'receipt-batch-size': { type: 'string' },
    'receipt-batch-interval': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(NODE_HELP)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  const network = (values.network ?? 'mixed') as MeshNetwork
  if (!['lan', 'public', 'mixed'].includes(network)) {
    throw new UsageError('node start: --network must be lan, public or mixed')
  }
  const sleepMs = values['sleep-ms'] == null ? undefined : Number(values['sleep-ms'])
  if (sleepMs != null && (!Number.isFinite(sleepMs) || sleepMs < 0)) {
    throw new UsageError('node start: --sleep-ms must be a non-negative number')
  }
  const workloads = new WorkloadRegistry(builtinWorkloads({ sleep: { msPerItem: sleepMs } }))
  const offer = offeredWorkloads(workloads, values.workload as string[] | undefined)
  const poolSize = parseInteger(values['pool-size'], '--pool-size', 1, 256)
  const slots = parseInteger(values.slots, '--slots', 1, 4096)
  const maxQueue = parseInteger(values['max-queue'], '--max-queue', 0, 100_000)
  const fault = values['test-fault']
  if (fault != null && fault !== 'wrong-answers' && fault !== 'crash-after-anchor-send') {
    throw new UsageError('node start: --test-fault must be wrong-answers or crash-after-anchor-send')
  }
  const solanaRpc = values['solana-rpc'] as string | undefined
  for (const flag of ['solana-rpc', 'solana-ws']) {
    const url = values[flag] as string | undefined
    if (url != null && !/^(https?|wss?):\/\/[^\s]+$/.test(url)) {
      throw new UsageError(`node start: --${flag} must be an http(s):// or ws(s):// URL`)
    }
  }
  if (solanaRpc == null && (values['solana-ws'] != null || values['solana-keypair'] != null)) {
    throw new UsageError('node start: --solana-ws and --solana-keypair need --solana-rpc')
  }
  const batchSize = parseInteger(values['receipt-batch-size'], '--receipt-batch-size', 1, 10_000)
  const batchInterval = values['receipt-batch-interval'] == null ? undefined : parseDuration(values['receipt-batch-interval'], '--receipt-batch-interval')
  const controlPort = values['control-port'] == null ? 0 : Number(values['control-port'])
  if (!Number.isInteger(controlPort) || controlPort < 0 || controlPort > 65535) {
    throw new UsageError('node start: --control-port must be a port number')
  }
  const advertTtl = values['advert-ttl'] == null ? undefined : parseDuration(values['advert-ttl'], '--advert-ttl')
  const refreshInterval = values.refresh == null ? undefined : parseDuration(values.refresh, '--refresh')

  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const registry = new Registry()
  const node = await createMeshNode({
    dataDir,
    listen: values.listen,
    bootstrap: values.bootstrap,
    network,
    metricsRegistry: registry,
    capabilities: { advertTtl, refreshInterval, nvidiaSmi: values['no-gpu'] === true ? false : undefined },
    compute: {
      registry: workloads,
      offer,
      poolSize,
      slots,
      maxQueue,
      allow: values.allow as string[] | undefined,
      deny: values.deny as string[] | undefined,
      warm: values.warm === true,
      faults: fault === 'wrong-answers' ? { wrongAnswers: true } : undefined
    },
    receipts: {
      ledger: solanaRpc == null ? undefined : { rpcUrl: solanaRpc, wsUrl: values['solana-ws'], feePayerKeypair: values['solana-keypair'] },
      batchSize,
      batchInterval,
      crashAfterSend: fault === 'crash-after-anchor-send'
    }
  })

  let stopping: Promise<void> | undefined
  const done = Promise.withResolvers<void>()
  const stop = (): void => {
    stopping ??= (async () => {
      unwatch()
      await control.stop().catch(() => {})
      await node.stop()
      done.resolve()
    })()
  }
  const control = new ControlServer({ node, dataDir, port: controlPort, registry, onStop: stop })
  const info = await control.start()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)

  // a node started by a cluster must not outlive it
  const parentPid = values['parent-pid'] == null ? undefined : Number(values['parent-pid'])
  const unwatch = watchParent(parentPid, stop)

  const ready = {
    event: 'ready',
    peerId: node.peerId.toString(),
    solanaAddress: solanaAddress(node.peerId),
    addrs: node.getMultiaddrs().map(String),
    control: info.url,
    pid: process.pid,
    dataDir,
    solana: solanaRpc == null ? null : { rpc: solanaRpc, anchorAddress: node.services.receipts.stats().address },
    join: await node.joined
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify(ready) + '\n')
  } else {
    process.stdout.write(`peer id   ${ready.peerId}\nsolana    ${ready.solanaAddress}\ndata dir  ${dataDir}\ncontrol   ${info.url}\n`)
    process.stdout.write(solanaRpc == null ? 'receipts  stored, not anchored (no --solana-rpc)\n' : `receipts  anchored on ${solanaRpc}\n`)
    for (const addr of ready.addrs) {
      process.stdout.write(`listening ${addr}\n`)
    }
    if ((values.bootstrap?.length ?? 0) > 0) {
      const { connected, closestPeers, failures } = ready.join
      process.stdout.write(`joined    ${connected} bootstrap peer(s), ${closestPeers} peers from the DHT self-lookup\n`)
      for (const f of failures) {
        process.stdout.write(`          ${f.addr}: ${f.error}\n`)
      }
    }
  }
  await done.promise
  return EXIT_OK
}

/** The workloads named by --workload, checked against what is installed (default: all but the opt-in ones). */
function offeredWorkloads (registry: WorkloadRegistry, specs: string[] | undefined): string[] {
  if (specs == null || specs.length === 0) {
    return registry.list().filter(w => w.optIn !== true).map(w => `${w.id}@${w.version}`)
  }
  if (specs.length === 1 && specs[0] === 'none') {
    return []
  }
  return specs.map(text => {
    let spec
    try {
      spec = parseWorkloadSpec(text)
    } catch (err: any) {
      throw new UsageError(`node start: --workload ${err.message}`)
    }
    const workload = registry.get(spec.id, spec.version)
    if (workload == null) {
      const installed = registry.list().map(w => `${w.id}@${w.version}`).join(', ')
      throw new UsageError(`node start: --workload ${text} is not installed (installed: ${installed})`)
    }
    return `${workload.id}@${workload.version}`
  })
}
