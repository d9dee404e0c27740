import type { GpuClaim, Measurement, ThroughputClaim } from './types.js'

/** The hardware part of an advert, as far as claims go. */
export interface HardwareClaim {
  cpuCores: number
  gpus: Array<{ vendor: string, model: string, memoryBytes: number }>
}

/**
 * The status of an advertised throughput: `claimed` without a measurement; `contradicted` when
 * the claim per slot exceeds CONTRADICTION_FACTOR × the measured speed; `measured` otherwise.
 */
export function throughputClaim (offer: { id: string, version: string, throughput: number }, totalSlots: number, measured: Measurement | undefined): ThroughputClaim {
  throw new Error('not implemented')
}

/**
 * The status of a GPU claim: `implausible` when the machine claims more GPUs than it could hold
 * (more than MAX_PLAUSIBLE_GPUS, or more GPUs than CPU cores), `measured` when a measurement
 * with `beyondCpu` exists, else `claimed`. No GPU claimed: count 0, status `measured`? No:
 * status `claimed` with count 0 and reason 'no GPU claimed'.
 */
export function gpuClaim (hardware: HardwareClaim, measurements: Measurement[]): GpuClaim {
  throw new Error('not implemented')
}
