"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.throughputClaim = throughputClaim;
exports.gpuClaim = gpuClaim;
/**
 * The status of an advertised throughput: `claimed` without a measurement; `contradicted` when
 * the claim per slot exceeds CONTRADICTION_FACTOR × the measured speed; `measured` otherwise.
 */
function throughputClaim(offer, totalSlots, measured) {
    throw new Error('not implemented');
}
/**
 * The status of a GPU claim: `implausible` when the machine claims more GPUs than it could hold
 * (more than MAX_PLAUSIBLE_GPUS, or more GPUs than CPU cores), `measured` when a measurement
 * with `beyondCpu` exists, else `claimed`. No GPU claimed: count 0, status `measured`? No:
 * status `claimed` with count 0 and reason 'no GPU claimed'.
 */
function gpuClaim(hardware, measurements) {
    throw new Error('not implemented');
}
