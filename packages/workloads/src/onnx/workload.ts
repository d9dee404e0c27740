import { mergeItems, splitItems } from '../workload.js'
import { compareTensorMaps, tensorMapCodec } from './tensor.js'
import type { NamedTensor } from './tensor.js'
import type { Workload } from '../workload.js'

/**
 * `onnx@1.0.0`: batch inference of any ONNX model, named by the sha256 of its bytes. Each
 * item is one set of named input tensors; each output is the model's named outputs. The
 * requester ships the model to a worker that lacks it (the worker checks the digest and
 * caches it on disk); sessions stay warm per model. Opt-in: a daemon serves it only when its
 * operator names it.
 */
export function onnx (): Workload<NamedTensor[], NamedTensor[]> {
  return {
    id: 'onnx',
    version: '1.0.0',
    description: 'batch inference of an ONNX model shipped with the job (by content hash)',
    executor: 'pool',
    kernel: { module: new URL('./kernel.js', import.meta.url).href },
    params: {},
    needsModel: true,
    // it runs whatever model a requester sends: a daemon serves it only when told to
    optIn: true,
    input: tensorMapCodec,
    output: tensorMapCodec,
    tolerance: 'same tensors; integers exact, floats within 1e-4 abs + 1e-4 rel',
    split: splitItems,
    merge: mergeItems,
    compare: compareTensorMaps,
    // a challenge cannot run it without a model: its calibration input is none, fixed or not
    calibration: async () => []
  }
}
