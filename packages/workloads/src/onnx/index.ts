export { onnx } from './workload.js'
export { tensorMapCodec, compareTensorMaps, tensorValues, DTYPE_BYTES, MAX_TENSOR_ELEMENTS } from './tensor.js'
export type { NamedTensor, TensorDtype } from './tensor.js'
