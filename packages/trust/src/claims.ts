import { CONTRADICTION_FACTOR, MAX_PLAUSIBLE_GPUS } from './constants.js'
import type { GpuClaim, Measurement, ThroughputClaim } from './types.js'

/** The hardware part of an advert, as far as claims go. */
export interface HardwareClaim {
  cpuCores: number
  gpus: Array<{ vendor: string, model: string, memoryBytes: number }>
}

/** A peer id short enough for a line of text: its first 6 and last 4 characters. */
export function shortPeerId (peerId: string): string {
  return peerId.length > 12 ? `${peerId.slice(0, 6)}…${peerId.slice(-4)}` : peerId
}

/** A speed for people: whole from 100 up, else 3 significant digits at most. */
export function formatRate (itemsPerSec: number): string {
  if (!Number.isFinite(itemsPerSec)) {
    return String(itemsPerSec)
  }
  if (itemsPerSec >= 100 || itemsPerSec === 0) {
    return String(Math.round(itemsPerSec))
  }
  return String(Number(itemsPerSec.toPrecision(3)))
}

/** How long ago `at` was at `now`, for people: '3 s ago', '5 min ago', '2 h ago', '4 d ago'. */
export function formatAge (at: number, now: number): string {
  const ms = now - at
  if (ms < 1000) {
    return 'just now'
  }
  if (ms < 60_000) {
    return `${Math.floor(ms / 1000)} s ago`
  }
  if (ms < 3_600_000) {
    return `${Math.floor(ms / 60_000)} min ago`
  }
  if (ms < 86_400_000) {
    return `${Math.floor(ms / 3_600_000)} h ago`
  }
  return `${Math.floor(ms / 86_400_000)} d ago`
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

/** Text a peer sent, safe to print: control characters become spaces. */
function printable (text: string): string {
  return text.replace(CONTROL, ' ')
}

/** 'by 12D3Ko…abcd 3 s ago', or 'by this node…' for a measurement of our own. */
function byWhom (m: Measurement, now: number): string {
  return `by ${m.source === 'self' ? 'this node' : shortPeerId(m.by)} ${formatAge(m.at, now)}`
}

/**
 * The status of an advertised throughput: `claimed` without a measurement; `contradicted` when
 * the claim per slot exceeds CONTRADICTION_FACTOR × the measured speed; `measured` otherwise.
 *
 * The claim per slot is the advertised items/s divided by the advertised slots (at least 1). A
 * measurement of another workload or version is no measurement of this one. `now` only words
 * the reason ('3 s ago').
 */
export function throughputClaim (offer: { id: string, version: string, throughput: number }, totalSlots: number, measured: Measurement | undefined, now: number = Date.now()): ThroughputClaim {
  const claimed = Number.isFinite(offer.throughput) && offer.throughput > 0 ? offer.throughput : 0
  const slots = Number.isFinite(totalSlots) && totalSlots >= 1 ? Math.floor(totalSlots) : 1
  const claimedPerSlot = claimed / slots
  const base = { workload: offer.id, version: offer.version, claimed, claimedPerSlot }
  const claim = claimed > 0 ? `claims ${formatRate(claimedPerSlot)} items/s per slot` : 'claims no speed'
  if (measured == null || measured.workload !== offer.id || measured.version !== offer.version || !Number.isFinite(measured.itemsPerSec)) {
    return { ...base, status: 'claimed', reason: `${claim}; not measured` }
  }
  const seen = `measured ${formatRate(measured.itemsPerSec)} items/s ${byWhom(measured, now)}`
  if (claimedPerSlot > CONTRADICTION_FACTOR * measured.itemsPerSec) {
    return { ...base, status: 'contradicted', measured: { ...measured }, reason: `${claim}; ${seen} (over ${CONTRADICTION_FACTOR}× off)` }
  }
  return { ...base, status: 'measured', measured: { ...measured }, reason: `${claim}; ${seen}` }
}

/**
 * The status of a GPU claim: `implausible` when the machine claims more GPUs than it could hold
 * (more than MAX_PLAUSIBLE_GPUS, or more GPUs than CPU cores), `measured` when a measurement
 * with `beyondCpu` exists, else `claimed`. No GPU claimed: status `claimed` with count 0 and
 * reason 'no GPU claimed'.
 *
 * A machine that reports no CPU cores (some sandboxes cannot count them) is not judged by the
 * cores rule. The measurement shown is the newest with `beyondCpu`. `now` only words the reason.
 */
export function gpuClaim (hardware: HardwareClaim, measurements: Measurement[], now: number = Date.now()): GpuClaim {
  const gpus = Array.isArray(hardware.gpus) ? hardware.gpus : []
  const count = gpus.length
  const models = [...new Set(gpus.map(g => printable(String(g.model))))]
  if (count === 0) {
    return { count: 0, models: [], status: 'claimed', reason: 'no GPU claimed' }
  }
  const named = models.length > 4 ? [...models.slice(0, 4), '…'] : models
  const what = `claims ${count} GPU${count === 1 ? '' : 's'}${named.length > 0 ? ` (${named.join(', ')})` : ''}`
  const cores = Number.isFinite(hardware.cpuCores) ? hardware.cpuCores : 0
  if (count > MAX_PLAUSIBLE_GPUS) {
    return { count, models, status: 'implausible', reason: `${what}: more than ${MAX_PLAUSIBLE_GPUS} GPUs in one machine` }
  }
  if (cores > 0 && count > cores) {
    return { count, models, status: 'implausible', reason: `${what}: more GPUs than its ${cores} CPU core${cores === 1 ? '' : 's'}` }
  }
  let newest: Measurement | undefined
  for (const m of measurements) {
    if (m.beyondCpu && (newest == null || m.at > newest.at)) {
      newest = m
    }
  }
  if (newest == null) {
    return { count, models, status: 'claimed', reason: `${what}; no speed beyond its CPUs measured` }
  }
  return {
    count,
    models,
    status: 'measured',
    measured: { ...newest },
    reason: `${what}; measured ${formatRate(newest.itemsPerSec)} items/s of ${newest.workload}@${newest.version}, beyond its CPUs, ${byWhom(newest, now)}`
  }
}
