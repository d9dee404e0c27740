import { plural } from '@shardmesh/protocol'
import { shortId, table } from '../format.js'
import { formatLiveness, formatScore, rate } from '../trust.js'
import type { PlanResponse } from '@shardmesh/control'

type PlannedPeer = PlanResponse['peers'][number]

/** The speed this node measured (or believes) for the planned workload on `peer`, a slot: `95/s`, or `-`. */
export function measuredFor (peer: PlannedPeer, workload: string): string {
  const claim = peer.trust?.workloads.find(w => `${w.workload}@${w.version}` === workload || w.workload === workload)
  return claim?.measured == null ? '-' : `${rate(claim.measured.itemsPerSec)}/s`
}

/**
 * What `job plan` (and `job run --dry-run`) prints: every peer considered, used with its first
 * window, or excluded with its reason and detail; with its score, liveness and measured speed.
 */
export function renderPlan (report: PlanResponse, names: (peerId: string) => string = shortId): string {
  const used = report.peers.filter(p => p.used)
  const head = `plan: ${report.workload}, verification ${report.verification}, min score ${report.minScore}: ${plural(report.peers.length, 'peer')} considered, ${used.length} used, ${report.peers.length - used.length} excluded`
  if (report.peers.length === 0) {
    return `${head}\n(no peer offers ${report.workload}: shardmesh peers --find workload:${report.workload.split('@')[0]})`
  }
  // used first (in the order the plan ranks them), then the excluded
  const ordered = [...used, ...report.peers.filter(p => !p.used)]
  return head + '\n\n' + table(
    ['peer', 'placement', 'score', 'liveness', 'measured', 'detail'],
    ordered.map(p => [
      p.local ? `${names(p.peerId)} (this node)` : names(p.peerId),
      p.used ? `used, window ${p.window ?? '?'}` : `excluded: ${p.reason ?? 'unknown'}`,
      p.trust == null ? '-' : formatScore(p.trust.score),
      p.trust == null ? (p.local ? 'this node' : '-') : formatLiveness(p.trust.liveness),
      measuredFor(p, report.workload),
      p.detail ?? ''
    ])
  )
}
