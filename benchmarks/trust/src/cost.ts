/**
 * What the trust layer costs on a steady stream of jobs: two 4-node clusters side by side, each
 * a requester and 3 `sleep` workers, identical but for the requester's `--challenge-interval`:
 * (A) 1 s, aggressive random challenges; (B) off. Jobs run back to back from each requester
 * in alternating segments (A B B A A B B A: a drift of the machine's load hits both alike).
 *
 * Beside the items/s of each (noisy on a shared machine), the accounting that does not depend
 * on noise: challenges run (the requester's `shardmesh_trust_challenges_total`) and their items
 * as a share of all items the workers ran, the shards the workers served (their
 * `shardmesh_compute_shards_served_total`), and the heartbeat's frames and bytes per busy peer
 * against the shard protocol's bytes (the requester's `libp2p_data_transfer_bytes_total`).
 */
import { encodeClientFrame, encodeWorkerFrame } from '@shardmesh/protocol'
import {
  CHALLENGE_ITEMS, DEFAULT_CHALLENGE_INTERVAL_MS, HEARTBEAT_INTERVAL_MS,
  cpuSeconds, label, makeItems, metricSum, progress, round, runJob, sleep, sleepNode, withCluster
} from './util.js'
import type { LocalCluster } from '@shardmesh/cli/harness'

export interface CostConfig {
  /** seconds of back-to-back jobs per configuration (split in two segments) */
  seconds: number
  workers: number
  /** items per job */
  jobItems: number
  shardSize: number
  sleepMs: number
  /** slots of each worker */
  slots: number
  /** `--challenge-interval` of requester A (s); 0: off, as B (an A/A run: the noise of the set-up alone) */
  challengeIntervalSec: number
}

type Config = 'A' | 'B'

interface Segment {
  config: Config
  wallMs: number
  jobs: number
  items: number
  shards: number
  /** challenges the requester ran in the segment, by verdict */
  challenges: Record<string, number>
  /** shards the workers served (jobs and challenges; retries and hedges too) */
  workerShardsServed: number
  /** bytes of the shard protocol at the requester, sent + received */
  shardProtocolBytes: number
  /** CPU seconds the requester and the workers used in the segment */
  cpuSeconds: { requester: number, workers: number }
}

interface Sample {
  challenges: Record<string, number>
  served: number
  bytes: number
  cpu: { requester: number, workers: number }
}

/** Verdicts of challenges whose input was run by the peer (or could have been): `skipped` and `unreachable` sent no work. */
const RAN = new Set(['passed', 'wrong-answer', 'bad-receipt', 'timeout'])
/**
 * The order of the segments, each `seconds / 4` long: A B B A twice, so that a drift of the
 * machine's load (other processes come and go) hits both configurations alike.
 */
const ORDER: Config[] = ['A', 'B', 'B', 'A', 'A', 'B', 'B', 'A']
/** Per-frame overhead of the transport on loopback: a Yamux header (12 bytes) and a Noise frame (2-byte length, 16-byte tag). */
const TRANSPORT_FRAME_BYTES = 12 + 2 + 16

export async function cost (config: CostConfig): Promise<Record<string, unknown>> {
  const clusterOptions = (interval: string): { nodes: number, nodeArgs: (i: number) => string[] } => ({
    nodes: config.workers + 1,
    nodeArgs: i => i === 0
      ? sleepNode(config.sleepMs, '--challenge-interval', interval)
      : sleepNode(config.sleepMs, '--slots', String(config.slots))
  })
  const intervalA = config.challengeIntervalSec > 0 ? `${config.challengeIntervalSec}s` : 'off'
  return withCluster(`cost A (challenges ${intervalA === 'off' ? 'off' : `every ${intervalA}`})`, clusterOptions(intervalA), async a =>
    withCluster('cost B (challenges off)', clusterOptions('off'), async b => measure(config, { A: a, B: b }))
  )
}

async function measure (config: CostConfig, clusters: Record<Config, LocalCluster>): Promise<Record<string, unknown>> {
  const items = makeItems(config.jobItems)
  const job = (cluster: LocalCluster): Parameters<typeof runJob>[1] => ({
    items,
    shardSize: config.shardSize,
    peers: cluster.nodes.slice(1).map(n => n.peerId),
    includeSelf: false
  })
  // warm-up: the challenge before each peer's first work, connections, earned windows; after it
  // requester A's random challenges of its (now active) peers run
  const warmUp: Record<string, unknown> = {}
  for (const config of ['A', 'B'] as const) {
    const cluster = clusters[config]
    const before = await sample(cluster)
    const first = await runJob(cluster.nodes[0], job(cluster))
    await runJob(cluster.nodes[0], job(cluster))
    const after = await sample(cluster)
    warmUp[config] = { firstJobWallMs: Math.round(first.wallMs), challenges: diff(after.challenges, before.challenges) }
  }
  await sleep(500)

  const segments: Segment[] = []
  const segmentMs = config.seconds * 1000 / (ORDER.length / 2)
  for (const which of ORDER) {
    const cluster = clusters[which]
    const before = await sample(cluster)
    const started = performance.now()
    let jobs = 0
    let done = 0
    let shards = 0
    while (performance.now() - started < segmentMs) {
      const { result } = await runJob(cluster.nodes[0], job(cluster))
      jobs++
      done += result.items
      shards += result.shards.length
    }
    const wallMs = performance.now() - started
    const after = await sample(cluster)
    segments.push({
      config: which,
      wallMs: Math.round(wallMs),
      jobs,
      items: done,
      shards,
      challenges: diff(after.challenges, before.challenges),
      workerShardsServed: after.served - before.served,
      shardProtocolBytes: after.bytes - before.bytes,
      cpuSeconds: { requester: round(after.cpu.requester - before.cpu.requester, 2), workers: round(after.cpu.workers - before.cpu.workers, 2) }
    })
    progress(`cost ${which}: ${jobs} jobs, ${round(done / wallMs * 1000)} items/s, ${ran(segments[segments.length - 1].challenges)} challenges`)
  }

  const total = (which: Config): Segment => segments.filter(s => s.config === which).reduce((t, s) => ({
    config: which,
    wallMs: t.wallMs + s.wallMs,
    jobs: t.jobs + s.jobs,
    items: t.items + s.items,
    shards: t.shards + s.shards,
    challenges: sum(t.challenges, s.challenges),
    workerShardsServed: t.workerShardsServed + s.workerShardsServed,
    shardProtocolBytes: t.shardProtocolBytes + s.shardProtocolBytes,
    cpuSeconds: { requester: t.cpuSeconds.requester + s.cpuSeconds.requester, workers: t.cpuSeconds.workers + s.cpuSeconds.workers }
  }))
  const cpuMsPerItem = (s: Segment): { requester: number, workers: number, total: number } => ({
    requester: round(s.cpuSeconds.requester * 1000 / s.items, 3),
    workers: round(s.cpuSeconds.workers * 1000 / s.items, 3),
    total: round((s.cpuSeconds.requester + s.cpuSeconds.workers) * 1000 / s.items, 3)
  })
  // items/s of A ÷ B in each adjacent pair of segments (A B, B A, A B, B A): the spread is the noise
  // and the CPU per item of A ÷ B in each pair
  const cpuPerItem = (s: Segment): number => (s.cpuSeconds.requester + s.cpuSeconds.workers) / s.items
  const pairRatios: number[] = []
  const cpuPairRatios: number[] = []
  for (let i = 0; i + 1 < segments.length; i += 2) {
    const [x, y] = segments[i].config === 'A' ? [segments[i], segments[i + 1]] : [segments[i + 1], segments[i]]
    pairRatios.push(round((x.items / x.wallMs) / (y.items / y.wallMs), 3))
    cpuPairRatios.push(round(cpuPerItem(x) / cpuPerItem(y), 3))
  }
  const A = total('A')
  const B = total('B')
  const itemsPerSec = (s: Segment): number => s.items / s.wallMs * 1000

  // challenges: what requester A sent, against what its workers ran
  const challengesRun = ran(A.challenges)
  const challengeItems = challengesRun * CHALLENGE_ITEMS
  const challengesPerSec = challengesRun / A.wallMs * 1000
  const challengeShare = challengeItems / (A.items + challengeItems)
  // linear in the rate: at the default mean interval each peer is challenged 60x less often
  const scale = config.challengeIntervalSec * 1000 / DEFAULT_CHALLENGE_INTERVAL_MS
  const challengeItemsPerSecAtDefault = challengesPerSec * scale * CHALLENGE_ITEMS
  const challengeShareAtDefault = challengeItemsPerSecAtDefault / (itemsPerSec(B) + challengeItemsPerSecAtDefault)

  // heartbeat: frames per busy peer from the configured interval (no metric counts them), bytes
  // from the protocol's own encoders (a varint length prefix each), against the shard bytes
  const pingBytes = framed(encodeClientFrame({ ping: { seq: 1_000 } }))
  const pongBytes = framed(encodeWorkerFrame({ pong: { seq: 1_000 } }))
  const framesPerSec = 1000 / HEARTBEAT_INTERVAL_MS
  const heartbeatBytesPerSec = framesPerSec * (pingBytes + pongBytes)
  // B's shard-protocol bytes include its own heartbeats: take them out to get the shards' bytes
  const busyPeerSeconds = B.wallMs / 1000 * config.workers
  const shardBytesPerSec = B.shardProtocolBytes / busyPeerSeconds - heartbeatBytesPerSec
  const heartbeatWirePerSec = framesPerSec * (pingBytes + pongBytes + 2 * TRANSPORT_FRAME_BYTES)
  // a shard is at least a request and a result frame
  const shardWirePerSec = shardBytesPerSec + B.shards / busyPeerSeconds * 2 * TRANSPORT_FRAME_BYTES

  return {
    config: { ...config, order: segments.map(s => s.config).join('') },
    warmUp,
    segments,
    itemsPerSec: { A: round(itemsPerSec(A)), B: round(itemsPerSec(B)) },
    /** A ÷ B: below 1 is what the challenges cost in throughput (within the noise) */
    ratio: round(itemsPerSec(A) / itemsPerSec(B), 3),
    /** the ratio in each adjacent A/B pair of segments, in order */
    pairRatios,
    jobs: { A: A.jobs, B: B.jobs },
    /** CPU of the requester and the 3 workers per job item (the sleep workload itself uses none): the mesh's own cost */
    cpuMsPerItem: { A: cpuMsPerItem(A), B: cpuMsPerItem(B) },
    cpuRatio: round(cpuPerItem(A) / cpuPerItem(B), 3),
    cpuPairRatios,
    /** A's CPU beyond B's per item, per challenge run (ms, requester and workers together) */
    extraCpuMsPerChallenge: round((cpuPerItem(A) - cpuPerItem(B)) * A.items * 1000 / Math.max(1, challengesRun), 1),
    /** the CPU overhead per item at the default interval (linear in the rate) */
    cpuOverheadAtDefault: round((cpuPerItem(A) / cpuPerItem(B) - 1) * scale, 5),
    meanJobMs: { A: round(A.wallMs / A.jobs), B: round(B.wallMs / B.jobs) },
    challenges: {
      intervalSec: config.challengeIntervalSec,
      byVerdict: A.challenges,
      run: challengesRun,
      perSec: round(challengesPerSec, 2),
      itemsEach: CHALLENGE_ITEMS,
      items: challengeItems,
      jobItems: A.items,
      share: round(challengeShare, 5),
      inB: ran(B.challenges),
      /** shards A's workers served against the job shards and challenges A sent */
      workerShardsServed: A.workerShardsServed,
      jobShardsPlusChallenges: A.shards + challengesRun,
      defaultIntervalSec: DEFAULT_CHALLENGE_INTERVAL_MS / 1000,
      itemsPerSecAtDefault: round(challengeItemsPerSecAtDefault, 3)
    },
    challengeShareAtDefault: round(challengeShareAtDefault, 6),
    heartbeat: {
      intervalMs: HEARTBEAT_INTERVAL_MS,
      source: 'configured interval (no metric counts heartbeats): one ping and one pong per interval per peer with shards in flight',
      framesPerSecPerBusyPeer: { ping: framesPerSec, pong: framesPerSec },
      frameBytes: { ping: pingBytes, pong: pongBytes },
      bytesPerSecPerBusyPeer: round(heartbeatBytesPerSec),
      shardBytesPerSecPerBusyPeer: round(shardBytesPerSec),
      shardBytesPerShard: round(B.shardProtocolBytes / B.shards - heartbeatBytesPerSec * busyPeerSeconds / B.shards),
      shareOfShardBytes: round(heartbeatBytesPerSec / shardBytesPerSec, 5),
      wire: {
        transportBytesPerFrame: TRANSPORT_FRAME_BYTES,
        bytesPerSecPerBusyPeer: round(heartbeatWirePerSec),
        shardBytesPerSecPerBusyPeer: round(shardWirePerSec),
        shareOfShardBytes: round(heartbeatWirePerSec / shardWirePerSec, 5)
      }
    }
  }
}

async function sample (cluster: LocalCluster): Promise<Sample> {
  const [requester, ...workers] = await Promise.all(cluster.nodes.map(async n => n.control.metrics()))
  const challenges: Record<string, number> = {}
  for (const line of requester.split('\n')) {
    if (line.startsWith('shardmesh_trust_challenges_total{')) {
      const labels = line.slice(line.indexOf('{') + 1, line.indexOf('}'))
      const verdict = label(labels, 'verdict') ?? 'unknown'
      challenges[verdict] = (challenges[verdict] ?? 0) + metricSum(line, 'shardmesh_trust_challenges_total')
    }
  }
  return {
    challenges,
    cpu: {
      requester: cpuSeconds(cluster.nodes[0].pid),
      workers: cluster.nodes.slice(1).reduce((t, n) => t + cpuSeconds(n.pid), 0)
    },
    served: workers.reduce((t, m) => t + metricSum(m, 'shardmesh_compute_shards_served_total'), 0),
    bytes: metricSum(requester, 'libp2p_data_transfer_bytes_total', labels => /protocol="\/shardmesh\/shard\/[^ ]+ (sent|received)"/.test(labels))
  }
}

function diff (after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0))
}

function sum (a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) {
    out[k] = (out[k] ?? 0) + v
  }
  return out
}

function ran (challenges: Record<string, number>): number {
  return Object.entries(challenges).filter(([k]) => RAN.has(k)).reduce((t, [, v]) => t + v, 0)
}

/** Bytes of a length-prefixed frame (unsigned varint length). */
function framed (frame: Uint8Array): number {
  let prefix = 1
  for (let n = frame.byteLength; n >= 0x80; n >>>= 7) {
    prefix++
  }
  return prefix + frame.byteLength
}
