/** What convergence is measured on: a node, when it was ready, and the peers its table holds. */
export interface ConvergenceMember {
  peerId: string
  /** when the node printed its ready line (ms since epoch) */
  readyAt: number
  /** the node's table: each peer and when it first held that peer's verified advert */
  peers(): Promise<Array<{ peerId: string, firstSeenAt: number }>>
}

export interface ConvergenceReport {
  /** For each node: verified adverts held, and when it first held all the others (ms after the cluster's start). */
  nodes: Array<{ peerId: string, advertsSeen: number, convergedMs: number | null }>
  /** When the last node converged, ms after the cluster's start; null if not converged. */
  convergedMs: number | null
  /** When the last node was ready, ms after the cluster's start. */
  readyMs: number
}

export interface WaitConvergedOptions {
  /** @default 60000 */
  timeout?: number
  /** Poll every this many ms. @default 100 */
  interval?: number
}

/**
 * The current convergence state of `members` (started at `startedAt`), computed from each
 * node's table (`firstSeenAt` of each peer): a node converged when it holds every other member.
 */
export async function measureConvergence (members: ConvergenceMember[], startedAt: number): Promise<ConvergenceReport> {
  const ids = new Set(members.map(n => n.peerId))
  const nodes = await Promise.all(members.map(async n => {
    const peers = (await n.peers()).filter(p => ids.has(p.peerId) && p.peerId !== n.peerId)
    const complete = peers.length === ids.size - 1
    const last = Math.max(n.readyAt, ...peers.map(p => p.firstSeenAt))
    return { peerId: n.peerId, advertsSeen: peers.length, convergedMs: complete ? last - startedAt : null }
  }))
  const done = nodes.every(n => n.convergedMs != null)
  return {
    nodes,
    convergedMs: done ? Math.max(...nodes.map(n => n.convergedMs as number)) : null,
    readyMs: Math.max(...members.map(n => n.readyAt)) - startedAt
  }
}

/** Measure until every member converged or `timeout` passed; resolves with the last report. */
export async function waitConverged (measure: () => Promise<ConvergenceReport>, options: WaitConvergedOptions = {}): Promise<ConvergenceReport> {
  const deadline = Date.now() + (options.timeout ?? 60_000)
  let report = await measure()
  while (report.convergedMs == null && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, options.interval ?? 100))
    report = await measure()
  }
  return report
}
