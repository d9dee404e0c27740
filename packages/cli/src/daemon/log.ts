import { plural } from '@shardmesh/protocol'
import { UsageError } from '../args.js'
import { age } from '../format.js'
import type { TypedEventTarget } from '@libp2p/interface'
import type { MeshNode } from '@shardmesh/node'

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export function parseLogLevel (text: string | undefined, flag = '--log-level'): LogLevel {
  const level = (text ?? 'info') as LogLevel
  if (!LOG_LEVELS.includes(level)) {
    throw new UsageError(`node start: ${flag} must be one of ${LOG_LEVELS.join(', ')}, not "${text}"`)
  }
  return level
}

/**
 * The daemon's event log: one line per event on stderr, `<ISO time> <level> <message>`, at or
 * above the chosen level. (libp2p's and shardmesh's component loggers stay behind `DEBUG`.)
 */
export class DaemonLog {
  private readonly threshold: number

  constructor (readonly level: LogLevel, private readonly out: NodeJS.WritableStream = process.stderr) {
    this.threshold = LOG_LEVELS.indexOf(level)
  }

  error (message: string): void { this.write('error', message) }
  warn (message: string): void { this.write('warn', message) }
  info (message: string): void { this.write('info', message) }
  debug (message: string): void { this.write('debug', message) }

  enabled (level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.threshold
  }

  private write (level: LogLevel, message: string): void {
    if (this.enabled(level)) {
      this.out.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`)
    }
  }
}

/**
 * Log what a running node does: peers whose adverts join and leave its table (info),
 * connections (debug), shards it serves and jobs it requested (info; failures warn), receipt anchors (info;
 * failed attempts warn), peers' liveness changes (dead and suspect warn), challenges (wrong answers
 * warn, the rest debug) and refused attestations (warn, with the reason). Returns a function that unsubscribes.
 */
export function logNodeEvents (node: MeshNode, log: DaemonLog): () => void {
  const caps = node.services.capabilities
  const subscriptions: Array<() => void> = []
  function on <E extends Record<string, any>, K extends keyof E & string> (target: TypedEventTarget<E>, type: K, fn: (evt: E[K]) => void): void {
    target.addEventListener(type, fn)
    subscriptions.push(() => { target.removeEventListener(type, fn) })
  }
  const tableSize = (): string => {
    const n = caps.getPeers().length
    return `${plural(n, 'peer')} in the table`
  }
  on(caps, 'peer:advert', ({ detail: p }) => {
    if (p.added) {
      const offers = p.workloads.length === 0 ? 'offering nothing' : `offering ${p.workloads.map((w: { id: string, version: string }) => `${w.id}@${w.version}`).join(', ')} (${p.freeSlots}/${p.totalSlots} slots free)`
      log.info(`peer joined ${p.peerId.toString()} ${offers}; ${tableSize()}`)
    } else if (log.enabled('debug')) {
      log.debug(`advert from ${p.peerId.toString()}: ${p.freeSlots}/${p.totalSlots} slots free`)
    }
  })
  on(caps, 'peer:expired', ({ detail: p }) => {
    log.info(`peer left ${p.peerId.toString()} (its advert expired); ${tableSize()}`)
  })
  on(node, 'peer:connect', ({ detail: peer }) => { log.debug(`connected to ${peer.toString()}`) })
  on(node, 'peer:disconnect', ({ detail: peer }) => { log.debug(`disconnected from ${peer.toString()}`) })
  on(node.services.compute, 'shard:served', ({ detail: s }) => {
    const what = `shard ${s.shardIndex} of job ${s.jobId.slice(0, 12)} (${s.workload}) for ${s.requester.toString()}`
    if (s.outcome === 'ok') {
      log.info(`served ${what} in ${age(s.elapsedMs)}`)
    } else {
      log.warn(`failed ${what}: ${s.code ?? 'error'} ${s.message ?? ''}`.trimEnd())
    }
  })
  on(node.services.compute, 'job:finished', ({ detail: j }) => {
    const what = `job ${j.jobId.slice(0, 12)} (${j.workload}, ${plural(j.items, 'item')}, verification ${j.verification})`
    if (j.outcome === 'ok') {
      log.info(`ran ${what} in ${age(j.elapsedMs)}: ${plural(j.shards ?? 0, 'shard')} on ${plural(j.peers ?? 0, 'peer')}`)
      for (const r of j.refusedBy ?? []) {
        log.warn(`${what}: refused by peer ${r.peerId}: ${r.message}`)
      }
    } else {
      log.warn(`failed ${what} after ${age(j.elapsedMs)}: ${j.code ?? 'error'} ${j.message ?? ''}`.trimEnd())
    }
  })
  on(node.services.compute, 'peer:liveness', ({ detail: c }) => {
    const line = `peer ${c.peerId} ${c.state} (was ${c.previous}) by its heartbeat`
    if (c.state === 'alive') {
      log.info(line)
    } else {
      log.warn(line)
    }
  })
  on(node.services.compute, 'trust:challenge', ({ detail: o }) => {
    const line = `challenge of ${o.peerId} on ${o.workload}: ${o.verdict}${o.itemsPerSec != null ? `, ${o.itemsPerSec.toFixed(1)} items/s` : ''}${o.detail != null ? ` (${o.detail})` : ''}`
    if (o.verdict === 'wrong-answer' || o.verdict === 'bad-receipt') {
      log.warn(line)
    } else {
      log.debug(line)
    }
  })
  on(node.services.compute, 'trust:attestation-rejected', ({ detail: r }) => {
    log.warn(`attestation refused (${r.reason})${r.from != null ? ` from ${r.from}` : ''}: ${r.detail}`)
  })
  on(node.services.receipts, 'receipts:anchored', ({ detail: b }) => {
    log.info(`anchored ${plural(b.count, 'receipt')} (root ${b.root.slice(0, 16)}) in transaction ${b.signature}, slot ${b.slot}${b.fee != null ? `, fee ${b.fee} lamports` : ''}`)
  })
  on(node.services.receipts, 'receipts:anchor-failed', ({ detail: f }) => {
    log.warn(`anchoring failed, retrying: ${f.error}`)
  })
  return () => { subscriptions.forEach(fn => { fn() }) }
}
