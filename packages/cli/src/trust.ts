/**
 * How the CLI shows what a node knows of a peer: every figure with its status (claimed,
 * measured, contradicted, implausible), liveness as a state with the age of its evidence, never
 * a bare "online".
 */

import { plural } from '@shardmesh/protocol/wording'
import { seconds, shortId } from './format.js'
import type { PeerRow, PeerTrustJson } from '@shardmesh/control/client'

type Liveness = PeerTrustJson['liveness']
type Score = PeerTrustJson['score']
type Throughput = PeerTrustJson['workloads'][number]
type Measurement = NonNullable<Throughput['measured']>

/** Items per second, as precise as its size needs: `1234`, `95`, `4.2`, `0.35`. */
export function rate (n: number): string {
  return n >= 10 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2)
}

/**
 * `alive 0.4s (heartbeat)`, `suspect 1.1s`, `dead 3.2s`, `advert 12s`, `unknown`: the state and
 * the age of the evidence behind it (what that evidence was, for `alive`).
 */
export function formatLiveness (liveness: Liveness): string {
  if (liveness.state === 'unknown' || liveness.ageMs == null) {
    return liveness.state
  }
  const text = `${liveness.state} ${seconds(liveness.ageMs)}`
  return liveness.state === 'alive' ? `${text} (${liveness.evidence})` : text
}

/** `0.93`, or `0.08 probation`. */
export function formatScore (score: Score): string {
  return `${score.value.toFixed(2)}${score.probation ? ' probation' : ''}`
}

/**
 * One advertised workload, per slot: `sleep 50/s claimed; 45/s measured`, `sleep 500/s
 * claimed; 45/s measured contradicted`, `sleep no claim; 45/s measured`.
 */
export function formatThroughput (w: Throughput): string {
  const parts = [w.claimed > 0 ? `${rate(w.claimedPerSlot)}/s claimed` : 'no claim']
  if (w.measured != null) {
    parts.push(`${rate(w.measured.itemsPerSec)}/s measured`)
  }
  const flag = w.status === 'contradicted' || w.status === 'implausible' ? ` ${w.status}` : ''
  return `${w.workload} ${parts.join('; ')}${flag}`
}

/** `8x NVIDIA H100 80GB HBM3 (implausible)`; `-` when none is claimed. */
export function formatGpus (count: number, models: string[], status: string): string {
  if (count === 0) {
    return '-'
  }
  const distinct = [...new Set(models)]
  return `${count}x ${distinct.length === 0 ? 'GPU' : distinct.join(' + ')} (${status})`
}

/** `3/8`, with the window earned in this node's jobs: `3/8 win 2`, `3/8 win echo:2,sleep:1`. */
export function formatSlots (row: PeerRow): string {
  const slots = `${row.freeSlots}/${row.trust?.slots.claimed ?? row.totalSlots}`
  const earned = row.trust?.slots.earned ?? []
  if (earned.length === 0) {
    return slots
  }
  return `${slots} win ${earned.length === 1 ? String(earned[0].window) : earned.map(e => `${e.workload}:${e.window}`).join(',')}`
}

/** The cells of one peer row: liveness, score, workloads, GPUs (this node's own row, or a peer's). */
export function trustCells (row: PeerRow): { liveness: string, score: string, workloads: string, gpus: string } {
  const perSlot = (throughput: number): number => throughput / Math.max(1, row.totalSlots)
  if (row.trust == null) {
    const self = row.source === 'self'
    // this node's own figures are its own probe and calibration; a peer's without trust are claims
    return {
      liveness: self ? 'this node' : '-',
      score: '-',
      workloads: row.workloads.length === 0
        ? '-'
        : row.workloads.map(w => w.throughput > 0 ? `${w.id} ${rate(perSlot(w.throughput))}/s ${self ? 'own' : 'claimed'}` : w.id).join(', '),
      gpus: formatGpus(row.hardware.gpus.length, row.hardware.gpus.map(g => g.model), self ? 'own probe' : 'claimed')
    }
  }
  const t = row.trust
  return {
    liveness: formatLiveness(t.liveness),
    score: formatScore(t.score),
    workloads: t.workloads.length === 0 ? '-' : t.workloads.map(formatThroughput).join(', '),
    gpus: formatGpus(t.gpus.count, t.gpus.models, t.gpus.status)
  }
}

/** `measured 45/s (16 items) by this node 3s ago`, or `... by 12D3KooW…abcdef (attestation) ...`. */
export function formatMeasurement (m: Measurement, now: number): string {
  const by = m.source === 'self' ? 'this node' : `${shortId(m.by)} (attestation)`
  return `${rate(m.itemsPerSec)}/s a slot over ${plural(m.items, 'item')}, by ${by}, ${seconds(Math.max(0, now - m.at))} ago${m.beyondCpu ? ', beyond its CPUs' : ''}`
}

/** Every fact behind one peer's standing, for `shardmesh peers --why`. */
export function renderWhy (row: PeerRow, now: number): string {
  const lines = [`peer      ${row.peerId}`]
  const t = row.trust
  if (t == null) {
    lines.push(row.source === 'self' ? 'this node itself: it keeps no score of itself' : 'the node cannot say what it knows of this peer (its compute service did not answer)')
  } else {
    const l = t.liveness
    const evidence = l.ageMs == null ? 'no evidence' : `newest evidence: ${l.evidence}, ${seconds(l.ageMs)} ago`
    const since = l.since == null ? '' : `, in this state for ${seconds(Math.max(0, now - l.since))}`
    lines.push(`liveness  ${l.state} (${evidence}${since}${l.rttMs == null ? '' : `, heartbeat round trip ${Math.round(l.rttMs)} ms`})`)
    const s = t.score
    lines.push(`score     ${s.value.toFixed(2)}${s.lastEvidenceAt == null ? ', no evidence yet (0.5: nothing known)' : `, newest evidence ${seconds(Math.max(0, now - s.lastEvidenceAt))} ago`}`)
    for (const reason of s.reasons) {
      lines.push(`          - ${reason}`)
    }
    if (s.probation) {
      const progress = s.probationProgress == null ? '' : `${s.probationProgress.passed} of ${s.probationProgress.needed} challenges passed since; `
      lines.push(`probation ${progress}it gets no unverified work: every result of it is checked by another peer`)
    }
    const counts = Object.entries(s.evidence).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${Number.isInteger(n) ? n : n.toFixed(1)}`)
    lines.push(`evidence  ${counts.length === 0 ? 'none' : counts.join(', ')} (this node's own, decayed)`)
    lines.push(`attested  ${plural(s.attestations.count, 'attestation')} from others counted, weight ${s.attestations.weight.toFixed(2)}`)
    lines.push('workloads')
    if (t.workloads.length === 0) {
      lines.push('          none advertised')
    }
    for (const w of t.workloads) {
      lines.push(`          ${w.workload}@${w.version}: ${w.status}; claimed ${w.claimed > 0 ? `${rate(w.claimed)}/s for the node, ${rate(w.claimedPerSlot)}/s a slot` : 'nothing'}`)
      if (w.measured != null) {
        lines.push(`            measured ${formatMeasurement(w.measured, now)}`)
      }
      lines.push(`            ${w.reason}`)
    }
    const g = t.gpus
    lines.push(`gpus      ${g.count === 0 ? 'none claimed' : formatGpus(g.count, g.models, g.status)}: ${g.reason}`)
    if (g.measured != null) {
      lines.push(`          measured ${formatMeasurement(g.measured, now)}`)
    }
    lines.push(`slots     ${t.slots.claimed} claimed, ${row.freeSlots} free in its advert; earned window ${t.slots.earned.length === 0 ? 'none yet (starts at 1 when unmeasured)' : t.slots.earned.map(e => `${e.workload} ${e.window}`).join(', ')}`)
  }
  lines.push(`advert    seq ${row.seq}, issued ${seconds(row.ageMs)} ago, expires in ${seconds(Math.max(0, row.expiresAt - now))}, via ${row.source}; load ${(row.loadPermille / 10).toFixed(0)}%`)
  lines.push(`hardware  ${row.hardware.cpuCores} cores (${row.hardware.cpuModel}), ${row.hardware.gpus.length === 0 ? 'no GPU' : row.hardware.gpus.map(gpu => gpu.model).join(', ')} (as advertised)`)
  return lines.join('\n')
}
