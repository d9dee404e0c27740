import { EXIT_FAILURE, EXIT_OK, UsageError, parse, parseDuration } from '../args.js'
import { ControlClient } from '@shardmesh/control/client'
import { stopDaemon } from '../daemon/files.js'
import { resolveDataDir } from '../data-dir.js'
import type { StatusResponse } from '@shardmesh/control/client'

export const NODE_HELP = `Usage: shardmesh node start [options]
       shardmesh node wait [--data-dir DIR] [--timeout DURATION] [--joined] [--json]
       shardmesh node stop [--data-dir DIR] [--timeout DURATION]

'node start' runs a mesh node until SIGINT/SIGTERM, 'node stop' or POST /v1/stop on its control
API. It serves the control API at once, then joins the mesh through --bootstrap in the
background; the data dir holds node.pid and control.json while it runs. Without --json it
prints the login URL of the dashboard the control API serves (the URL holds the control
token; 'shardmesh dashboard' prints it again). It stops gracefully:
no new shards (requesters place them elsewhere), the shards in flight finish and their
countersigned receipts are kept, receipts wait anchored (with --solana-rpc), all within
--shutdown-timeout; then it exits 0. A second signal stops it at once. 'node wait' blocks
until the data dir's node answers on its control API (with --joined: until its join ended),
'node stop' stops it (SIGTERM to the pid in node.pid) and waits until it exited.

Options of 'node start':
  --config FILE           read these options from a JSON file: keys are the flag names without
                          dashes ("solana-rpc": "http://...", "listen": ["/ip4/..."], "warm":
                          true); flags given here override it, relative paths are from the
                          file's dir. $SHARDMESH_SOLANA_KEYPAIR and $SHARDMESH_SOLANA_RPC, when
                          set, override the file (keep secrets out of it)
  --data-dir DIR          key, control token and state (default $SHARDMESH_DATA_DIR or ~/.shardmesh)
  --listen ADDR           TCP multiaddr to listen on, repeatable (default /ip4/127.0.0.1/tcp/0)
  --announce ADDR         advertise this multiaddr to peers instead of the listen addresses
                          (a public IP or DNS name behind NAT, a port forwarded), repeatable
  --bootstrap ADDR        a peer to join through (multiaddr with /p2p/<id>), repeatable
  --control-port PORT     loopback port of the control API (default: any free port)
  --workload ID[@VERSION] serve only this workload, repeatable (default: ocr-rec, embed, echo,
                          sleep; onnx, which runs any model a requester sends, only when named;
                          and each --workload-module workload not marked optIn); 'none' serves
                          nothing. embed's weights are seeded random: a compute benchmark, its
                          vectors mean nothing
  --workload-module PATH  install the workloads an ES module on this machine exports (default
                          export, or named 'workload'/'workloads': the Workload contract of
                          @shardmesh/workloads), repeatable; checked at start (a module that
                          does not load, a malformed workload or a built-in's id: exit 2).
                          A node needs it to serve the workload and to request jobs of it.
                          Peers never run code sent by other peers: a shard only names a
                          workload, and only one installed here can run it
  --pool-size N           inference threads (default: CPU cores)
  --slots N               shards run at once (default: pool size)
  --max-queue N           shards that may wait for a slot (default: slots x 4)
  --allow-requester PEER_ID  serve shards only to these requesters, repeatable (default:
                          everyone not denied); others are told ERR_NOT_ALLOWED and place their
                          shards elsewhere. The mesh's own protocols (DHT, gossip, adverts) stay
                          open to every peer. --allow is the same flag
  --deny-requester PEER_ID  never serve shards to these requesters, repeatable; deny wins
                          over allow. --deny is the same flag
  --rate-limit [PROTOCOL=]N/DURATION  at most N new inbound streams per DURATION from each
                          peer on every protocol, or on PROTOCOL alone (e.g. 200/10s,
                          /shardmesh/shard/1.0.0=50/1s; 'off' or PROTOCOL=off: none),
                          repeatable; a stream past it is reset unserved and counted in
                          shardmesh_inbound_refused_total (default 500/10s on each)
  --swarm-key FILE        a private mesh: only nodes started with the same swarm key file
                          ('shardmesh key swarm --out FILE') can connect to this one; others
                          cannot join, gossip or send shards (env SHARDMESH_SWARM_KEY)
  --max-inbound-bytes SIZE  bytes all inbound shard streams may buffer together (default
                          256MiB; N, NKiB, NMiB, NGiB): a frame that does not fit waits, its
                          stream paused, and is refused (the requester is told busy) after 30s
  --max-peer-inbound-bytes SIZE  of which one peer may hold (default a quarter)
  --max-inbound-streams N inbound streams open at once, all peers and protocols (default 1024;
                          a peer may hold 64, or a quarter when less); more are reset
  --max-connections-per-peer N  connections one peer may hold to this node (default 4)
  --max-stream-window SIZE  the largest Yamux window of a stream: what a sender may have in
                          flight, so what a paused stream may still receive (default 4MiB, at
                          least 256KiB)
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
  --self-anchor-after DURATION  as a worker, anchor the countersigned receipts of your own
                          work yourself when their requester delivered no proof within this
                          (default 10m; 'off': never); each receipt is anchored once
  --challenge-interval DURATION  mean time between random challenges of each peer this
                          node gives work to (default 60s; 'off': only the challenge before a
                          peer's first shard of a workload)
  --min-score X           give no work to peers whose score (0..1, from this node's own evidence
                          and trusted attestations) is below X (default 0.25)
  --test-fault KIND       TESTS ONLY: 'wrong-answers' corrupts every output;
                          'wrong-answers-after:N' answers N shards right, then lies;
                          'crash-after-anchor-send' SIGKILLs the node once an anchor was sent;
                          'drop-countersigned' never sends workers their countersigned
                          receipts on the shard stream (they must pull them);
                          'advertise-slots:N' claims N slots whatever the node runs
  --network lan|public|mixed  which peer addresses the DHT keeps (default mixed)
  --advert-ttl DURATION   how long each advert is valid (default 30s, at most 10m)
  --refresh DURATION      re-publish interval, shorter than the TTL (default 10s, or TTL/3)
  --no-gpu                skip the nvidia-smi probe
  --parent-pid PID        exit if this process dies (used by 'shardmesh cluster')
  --ready-file FILE       once the control API serves, write the ready JSON object to FILE
                          (atomically: a script may wait for FILE to exist); removed on stop
  --shutdown-timeout DURATION  on SIGTERM, how long to wait for the shards in flight, their
                          receipts and the anchors before stopping anyway (default 10s)
  --log-level LEVEL       error, warn, info (default) or debug: what the node logs on stderr,
                          one line per event (peers joining and leaving the table, jobs
                          requested, shards served, receipt anchors, join outcome, peers turning
                          suspect, dead or alive, wrong answers to challenges, refused attestations,
                          errors; debug adds connections, every advert and every challenge). libp2p's and shardmesh's internal
                          loggers are separate: DEBUG='shardmesh:*' (or 'libp2p:*') turns them on
  --json                  print one JSON line when ready: { event: 'ready', peerId,
                          solanaAddress, addrs, announce, control, pid, dataDir, solana, join:
                          { state } }, then { event: 'joined', join } when the join through
                          --bootstrap ended, { event: 'stopping', graceful } and { event:
                          'stopped', drain: { inFlight, handedBack, receiptsMissing, ... } }
  -h, --help              this help

Options of 'node wait' and 'node stop':
  --data-dir DIR          the node's data dir (default as above)
  --timeout DURATION      give up (exit 1) after this long (default: wait 60s, stop 15s)
  --joined                (wait) also wait until the join through --bootstrap ended
  --json                  (wait) print the node's status as JSON
`

export async function nodeCommand (argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === '--help' || sub === '-h' || sub == null) {
    process.stdout.write(NODE_HELP)
    return sub == null ? 2 : EXIT_OK
  }
  switch (sub) {
    case 'start': {
      // the daemon's modules (libp2p, the mesh services, the chain client) load only for it:
      // `node wait` and `node stop` ask a running node and load none of them
      const [{ nodeStart }, { parseStartOptions }] = await Promise.all([import('./node-start.js'), import('../daemon/start-options.js')])
      return nodeStart(await parseStartOptions(rest))
    }
    case 'wait':
      return nodeWait(rest)
    case 'stop':
      return nodeStop(rest)
    default:
      throw new UsageError(`node: unknown subcommand "${sub}" (try: shardmesh node --help)`)
  }
}

/** `node wait`: poll the data dir's control API until it answers (and, with --joined, has joined). */
async function nodeWait (argv: string[]): Promise<number> {
  const { values } = parse('node wait', argv, {
    'data-dir': { type: 'string' },
    timeout: { type: 'string' },
    joined: { type: 'boolean' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(NODE_HELP)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  const timeout = parseDuration(values.timeout ?? '60s', '--timeout')
  const deadline = Date.now() + timeout
  let last: string
  while (true) {
    let status: StatusResponse | undefined
    try {
      status = await (await ControlClient.fromDataDir(dataDir)).status()
      last = `join still ${status.join.state}`
    } catch (err: any) {
      last = err.message
    }
    if (status != null && (values.joined !== true || status.join.state !== 'joining')) {
      if (values.json === true) {
        process.stdout.write(JSON.stringify(status) + '\n')
      } else {
        process.stdout.write(`node ${status.peerId} (pid ${status.pid}) answers; join: ${status.join.state}\n`)
      }
      return EXIT_OK
    }
    if (Date.now() >= deadline) {
      process.stderr.write(`shardmesh node wait: the node in ${dataDir} was not ready within ${values.timeout ?? '60s'} (${last})\n`)
      return EXIT_FAILURE
    }
    await new Promise(resolve => setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now()))))
  }
}

/** `node stop`: SIGTERM the pid in the data dir's pid file, and wait until that process is gone. */
async function nodeStop (argv: string[]): Promise<number> {
  const { values } = parse('node stop', argv, {
    'data-dir': { type: 'string' },
    timeout: { type: 'string' }
  })
  if (values.help === true) {
    process.stdout.write(NODE_HELP)
    return EXIT_OK
  }
  const dataDir = resolveDataDir(values['data-dir'])
  const { ok, message } = await stopDaemon(dataDir, 'node', parseDuration(values.timeout ?? '15s', '--timeout'))
  if (!ok) {
    process.stderr.write(`shardmesh node stop: ${message}\n`)
    return EXIT_FAILURE
  }
  process.stdout.write(`${message}\n`)
  return EXIT_OK
}
