import { access, constants as fs, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { constants as caps } from '@shardmesh/capabilities'
import { WorkloadRegistry, builtinWorkloads, parseWorkloadSpec } from '@shardmesh/workloads'
import { UsageError, parse, parseDuration, parseInteger } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { mergeConfig, readConfigFile } from './config-file.js'
import { parseLogLevel } from './log.js'
import { registerWorkloadModules } from './workload-modules.js'
import type { LogLevel } from './log.js'
import type { MeshNetwork, RateLimits } from '@shardmesh/node'

export const NODE_START_FLAGS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  listen: { type: 'string', multiple: true },
  announce: { type: 'string', multiple: true },
  bootstrap: { type: 'string', multiple: true },
  'control-port': { type: 'string' },
  workload: { type: 'string', multiple: true },
  'workload-module': { type: 'string', multiple: true },
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
  'allow-requester': { type: 'string', multiple: true },
  'deny-requester': { type: 'string', multiple: true },
  'rate-limit': { type: 'string', multiple: true },
  'sleep-ms': { type: 'string' },
  warm: { type: 'boolean' },
  'test-fault': { type: 'string' },
  'challenge-interval': { type: 'string' },
  'min-score': { type: 'string' },
  'solana-rpc': { type: 'string' },
  'solana-ws': { type: 'string' },
  'solana-keypair': { type: 'string' },
  'swarm-key': { type: 'string' },
  'max-inbound-bytes': { type: 'string' },
  'max-peer-inbound-bytes': { type: 'string' },
  'max-inbound-streams': { type: 'string' },
  'max-connections-per-peer': { type: 'string' },
  'max-stream-window': { type: 'string' },
  'receipt-batch-size': { type: 'string' },
  'receipt-batch-interval': { type: 'string' },
  'self-anchor-after': { type: 'string' },
  'ready-file': { type: 'string' },
  'log-level': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  json: { type: 'boolean' }
} as const

/** Everything `node start` was asked for, checked: nothing has started yet. */
export interface StartOptions {
  help: boolean
  dataDir: string
  listen?: string[]
  /** `--announce`: the addresses advertised to peers instead of the listen addresses */
  announce?: string[]
  bootstrap: string[]
  controlPort: number
  network: MeshNetwork
  workloads: WorkloadRegistry
  offer: string[]
  poolSize?: number
  slots?: number
  maxQueue?: number
  /** `--allow-requester` (or `--allow`): serve only these requesters */
  allow?: string[]
  /** `--deny-requester` (or `--deny`): never serve these requesters */
  deny?: string[]
  /** `--rate-limit`: per-peer rates of inbound streams (createMeshNode's `rateLimits`) */
  rateLimits?: RateLimits
  warm: boolean
  fault?: 'wrong-answers' | 'crash-after-anchor-send' | 'drop-countersigned'
  /** `--test-fault advertise-slots:N`: advertise N slots whatever the node runs */
  advertiseSlots?: number
  /** `--test-fault wrong-answers-after:N`: honest for N shards, then every output wrong */
  wrongAnswersAfter?: number
  /** mean interval of random challenges (ms); 0 = none */
  challengeInterval?: number
  minScore?: number
  solanaRpc?: string
  solanaWs?: string
  solanaKeypair?: string
  /** `--swarm-key`: the private mesh's key file, checked and read */
  swarmKey?: Uint8Array
  /** `--max-inbound-bytes`, `--max-peer-inbound-bytes`, `--max-inbound-streams`, `--max-connections-per-peer` (createMeshNode's `limits`) */
  limits: { inboundBytes?: number, peerInboundBytes?: number, inboundStreams?: number, connectionsPerPeer?: number, streamWindow?: number }
  batchSize?: number
  batchInterval?: number
  /** `--self-anchor-after`: ms (0: never) */
  selfAnchorAfter?: number
  advertTtl?: number
  refreshInterval?: number
  gpu: boolean
  parentPid?: number
  readyFile?: string
  logLevel: LogLevel
  /** `--shutdown-timeout`: how long a SIGTERM waits for the shards in flight and the anchors (ms) */
  shutdownTimeout: number
  /** `--config`: the file the options were read from, resolved */
  config?: string
  json: boolean
}

/** `--test-fault`: wrong-answers, wrong-answers-after:N, crash-after-anchor-send, drop-countersigned or advertise-slots:N. */
function parseFault (text: string | undefined): { fault?: StartOptions['fault'], advertiseSlots?: number, wrongAnswersAfter?: number } {
  if (text == null) {
    return {}
  }
  if (text === 'wrong-answers' || text === 'crash-after-anchor-send' || text === 'drop-countersigned') {
    return { fault: text }
  }
  const slots = /^advertise-slots:(\d{1,6})$/.exec(text)
  if (slots != null && Number(slots[1]) >= 1) {
    return { advertiseSlots: Number(slots[1]) }
  }
  const after = /^wrong-answers-after:(\d{1,6})$/.exec(text)
  if (after != null) {
    return { wrongAnswersAfter: Number(after[1]) }
  }
  throw new UsageError(`node start: --test-fault must be wrong-answers, wrong-answers-after:N, crash-after-anchor-send, drop-countersigned or advertise-slots:N, got "${text}"`)
}

/** Default of `--shutdown-timeout`: within `node stop`'s default 15 s. */
export const SHUTDOWN_TIMEOUT = 10_000

/**
 * Parse and check every `node start` flag, over the keys of `--config FILE` and the environment
 * (see config-file.ts); a bad one is a UsageError naming it.
 */
export async function parseStartOptions (argv: string[]): Promise<StartOptions> {
  const parsed = parse('node start', argv, NODE_START_FLAGS).values
  const config = parsed.config == null ? undefined : resolve(parsed.config)
  const values = mergeConfig(parsed, config == null ? {} : await readConfigFile(config, NODE_START_FLAGS, { command: 'node start', exclude: ['config'] }))
  const help = values.help === true
  const network = (values.network ?? 'mixed') as MeshNetwork
  if (!['lan', 'public', 'mixed'].includes(network)) {
    throw new UsageError('node start: --network must be lan, public or mixed')
  }
  const sleepMs = values['sleep-ms'] == null ? undefined : Number(values['sleep-ms'])
  if (sleepMs != null && (!Number.isFinite(sleepMs) || sleepMs < 0)) {
    throw new UsageError('node start: --sleep-ms must be a non-negative number')
  }
  const workloads = new WorkloadRegistry(builtinWorkloads({ sleep: { msPerItem: sleepMs } }))
  // operator-installed workloads, from this machine's disk (never from peers)
  await registerWorkloadModules(workloads, help ? [] : values['workload-module'], 'node start')
  const { fault, advertiseSlots, wrongAnswersAfter } = parseFault(values['test-fault'])
  const challengeInterval = values['challenge-interval'] == null
    ? undefined
    : values['challenge-interval'] === 'off' ? 0 : positiveDuration(values['challenge-interval'], '--challenge-interval')
  const minScore = values['min-score'] == null ? undefined : Number(values['min-score'])
  if (minScore != null && !(minScore >= 0 && minScore <= 1)) {
    throw new UsageError(`node start: --min-score must be a number from 0 to 1, got "${values['min-score']}"`)
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
  const solanaKeypair = values['solana-keypair'] == null ? undefined : resolve(values['solana-keypair'])
  if (solanaKeypair != null && !help) {
    await checkKeypair(solanaKeypair)
  }
  const swarmKey = values['swarm-key'] == null || help ? undefined : await readSwarmKey(resolve(values['swarm-key']))
  const controlPort = parseInteger(values['control-port'], '--control-port', 0, 65535) ?? 0
  const readyFile = values['ready-file'] == null ? undefined : resolve(values['ready-file'])
  if (readyFile != null && !help) {
    await checkWritableDir(dirname(readyFile), '--ready-file')
  }
  return {
    help,
    dataDir: resolveDataDir(values['data-dir']),
    listen: (values.listen as string[] | undefined)?.map(text => checkListen(text)),
    announce: (values.announce as string[] | undefined)?.map(text => checkAnnounce(text)),
    bootstrap: ((values.bootstrap as string[] | undefined) ?? []).map(text => checkBootstrap(text)),
    controlPort,
    network,
    workloads,
    offer: offeredWorkloads(workloads, values.workload as string[] | undefined),
    poolSize: parseInteger(values['pool-size'], '--pool-size', 1, 256),
    slots: parseInteger(values.slots, '--slots', 1, 4096),
    maxQueue: parseInteger(values['max-queue'], '--max-queue', 0, 100_000),
    allow: checkPeerIds(values, 'allow', 'allow-requester'),
    deny: checkPeerIds(values, 'deny', 'deny-requester'),
    rateLimits: parseRateLimits(values['rate-limit'] as string[] | undefined),
    warm: values.warm === true,
    fault,
    advertiseSlots,
    wrongAnswersAfter,
    challengeInterval,
    minScore,
    solanaRpc,
    solanaWs: values['solana-ws'],
    solanaKeypair,
    swarmKey,
    limits: inboundLimits(values),
    batchSize: parseInteger(values['receipt-batch-size'], '--receipt-batch-size', 1, 10_000),
    batchInterval: values['receipt-batch-interval'] == null ? undefined : positiveDuration(values['receipt-batch-interval'], '--receipt-batch-interval'),
    selfAnchorAfter: values['self-anchor-after'] == null
      ? undefined
      : values['self-anchor-after'] === 'off' ? 0 : positiveDuration(values['self-anchor-after'], '--self-anchor-after'),
    ...advertTiming('node start', values),
    gpu: values['no-gpu'] !== true,
    parentPid: parseInteger(values['parent-pid'], '--parent-pid', 1, 2 ** 31 - 1),
    readyFile,
    logLevel: parseLogLevel(values['log-level']),
    shutdownTimeout: values['shutdown-timeout'] == null ? SHUTDOWN_TIMEOUT : parseDuration(values['shutdown-timeout'], '--shutdown-timeout'),
    config,
    json: values.json === true
  }
}

/**
 * `--advert-ttl` and `--refresh` (of `node start` and `cluster`): a TTL peers accept, and a
 * refresh interval shorter than the TTL (the refresh defaults to 10 s, or a third of a shorter TTL).
 */
export function advertTiming (command: string, values: Record<string, any>): { advertTtl?: number, refreshInterval?: number } {
  const advertTtl = values['advert-ttl'] == null ? undefined : positiveDuration(values['advert-ttl'], '--advert-ttl')
  const refreshInterval = values.refresh == null ? undefined : positiveDuration(values.refresh, '--refresh')
  if (advertTtl != null && advertTtl > caps.MAX_ADVERT_TTL) {
    throw new UsageError(`${command}: --advert-ttl ${values['advert-ttl']} is longer than peers accept (at most ${caps.MAX_ADVERT_TTL / 60_000} min)`)
  }
  const ttl = advertTtl ?? caps.ADVERT_TTL
  if (refreshInterval != null && refreshInterval >= ttl) {
    const ttlText = advertTtl == null ? `the default --advert-ttl ${ttl / 1000}s` : `--advert-ttl ${values['advert-ttl']}`
    throw new UsageError(`${command}: --refresh ${values.refresh} must be shorter than ${ttlText} (adverts would expire before they are renewed)`)
  }
  return { advertTtl, refreshInterval }
}

function positiveDuration (text: string, flag: string): number {
  const ms = parseDuration(text, flag)
  if (ms <= 0) {
    throw new UsageError(`${flag}: "${text}" must be longer than 0`)
  }
  return ms
}

function checkListen (text: string): string {
  let tcp = false
  try {
    tcp = multiaddr(text).getComponents().some(c => c.name === 'tcp')
  } catch {}
  if (!tcp) {
    throw new UsageError(`node start: --listen "${text}" is not a TCP multiaddr (e.g. /ip4/0.0.0.0/tcp/7077)`)
  }
  return text
}

/** An address to advertise: a multiaddr of this host without `/p2p/` (libp2p appends this node's id). */
function checkAnnounce (text: string): string {
  let ok = false
  try {
    const components = multiaddr(text).getComponents()
    ok = components.length > 0 && !components.some(c => c.name === 'p2p')
  } catch {}
  if (!ok) {
    throw new UsageError(`node start: --announce "${text}" is not a multiaddr of this node without /p2p/ (e.g. /ip4/203.0.113.7/tcp/7077 or /dns4/node.example.com/tcp/7077)`)
  }
  return text
}

function checkBootstrap (text: string): string {
  let ok = false
  try {
    const peer = multiaddr(text).getComponents().find(c => c.name === 'p2p')?.value
    if (peer != null) {
      peerIdFromString(peer)
    }
    ok = true
  } catch {}
  if (!ok) {
    throw new UsageError(`node start: --bootstrap "${text}" is not a multiaddr of a peer (e.g. /ip4/192.0.2.1/tcp/7077/p2p/12D3KooW...)`)
  }
  return text
}

/** The node-wide inbound caps (sizes as N, NKiB, NMiB or NGiB); checked, their sum rules too. */
function inboundLimits (values: Record<string, any>): StartOptions['limits'] {
  const limits = {
    inboundBytes: parseBytes(values['max-inbound-bytes'], '--max-inbound-bytes'),
    peerInboundBytes: parseBytes(values['max-peer-inbound-bytes'], '--max-peer-inbound-bytes'),
    inboundStreams: parseInteger(values['max-inbound-streams'], '--max-inbound-streams', 1, 1_000_000),
    connectionsPerPeer: parseInteger(values['max-connections-per-peer'], '--max-connections-per-peer', 1, 1000),
    streamWindow: parseBytes(values['max-stream-window'], '--max-stream-window', 256 * 1024)
  }
  if (limits.inboundBytes != null && limits.peerInboundBytes != null && limits.peerInboundBytes > limits.inboundBytes) {
    throw new UsageError(`node start: --max-peer-inbound-bytes ${String(values['max-peer-inbound-bytes'])} is more than --max-inbound-bytes ${String(values['max-inbound-bytes'])}`)
  }
  return limits
}

const BYTE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }

function parseBytes (text: string | undefined, flag: string, min = 1024 * 1024): number | undefined {
  if (text == null) {
    return undefined
  }
  const match = /^(\d{1,12})(KiB|MiB|GiB)?$/.exec(String(text).trim())
  const bytes = match == null ? NaN : Number(match[1]) * BYTE_UNITS[match[2] ?? '']
  if (!Number.isSafeInteger(bytes) || bytes < min) {
    throw new UsageError(`node start: ${flag} must be a size of at least ${min >= 1024 * 1024 ? `${min / 1024 / 1024}MiB` : `${min / 1024}KiB`} (N bytes, or NKiB, NMiB, NGiB), got "${String(text)}"`)
  }
  return bytes
}

/** The peer ids of a list flag and its longer name together (`--allow` and `--allow-requester`), each checked; undefined when neither is given. */
function checkPeerIds (values: Record<string, any>, short: string, long: string): string[] | undefined {
  const ids = [
    ...((values[short] as string[] | undefined) ?? []).map(id => checkPeerId(id, `--${short}`)),
    ...((values[long] as string[] | undefined) ?? []).map(id => checkPeerId(id, `--${long}`))
  ]
  return values[short] == null && values[long] == null ? undefined : [...new Set(ids)]
}

/**
 * `--rate-limit [PROTOCOL=]N/DURATION` (repeatable): at most N new inbound streams per DURATION
 * from each peer (a burst of N), on PROTOCOL or, without one, on every protocol not named;
 * `[PROTOCOL=]off` turns it off. Later values win.
 */
export function parseRateLimits (texts: string[] | undefined): RateLimits | undefined {
  if (texts == null || texts.length === 0) {
    return undefined
  }
  const limits: RateLimits = {}
  for (const text of texts) {
    const m = /^(?:(\/[^=\s]+)=)?(?:(off)|(\d{1,7})\/([^/\s]+))$/.exec(String(text).trim())
    if (m == null) {
      throw new UsageError(`node start: --rate-limit "${text}" is not [PROTOCOL=]N/DURATION or [PROTOCOL=]off (e.g. 200/10s, /shardmesh/shard/1.0.0=50/1s)`)
    }
    let rate: false | { streams: number, interval: number } = false
    if (m[2] == null) {
      const streams = Number(m[3])
      const interval = parseDuration(m[4], '--rate-limit')
      if (streams < 1 || interval <= 0) {
        throw new UsageError(`node start: --rate-limit "${text}" needs at least 1 stream per a duration longer than 0`)
      }
      rate = { streams, interval }
    }
    if (m[1] == null) {
      limits.default = rate
    } else {
      limits.protocols = { ...limits.protocols, [m[1]]: rate }
    }
  }
  return limits
}

function checkPeerId (text: string, flag: string): string {
  try {
    peerIdFromString(text)
  } catch {
    throw new UsageError(`node start: ${flag} "${text}" is not a peer id`)
  }
  return text
}

async function checkKeypair (path: string): Promise<void> {
  // the Solana client is loaded only when a fee payer is named (a node without one never needs it)
  const { loadKeypairFile } = await import('@shardmesh/solana')
  try {
    await loadKeypairFile(path)
  } catch (err: any) {
    throw new UsageError(`node start: --solana-keypair ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
}

async function readSwarmKey (path: string): Promise<Uint8Array> {
  const { loadSwarmKey } = await import('@shardmesh/node')
  try {
    return await loadSwarmKey(path)
  } catch (err: any) {
    throw new UsageError(`node start: --swarm-key ${path}: ${err.message}`)
  }
}

async function checkWritableDir (dir: string, flag: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new Error('not a directory')
    }
    await access(dir, fs.W_OK)
  } catch (err: any) {
    throw new UsageError(`node start: ${flag}: cannot write in ${dir} (${err.code ?? err.message})`)
  }
}

/** The workloads named by --workload, checked against what is installed, --workload-module's included (default: all but the opt-in ones). */
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
