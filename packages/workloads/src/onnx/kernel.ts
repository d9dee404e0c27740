import ort from 'onnxruntime-node'
import { AbortError, InvalidInputError } from '../errors.js'
import { disableOnnxRuntimeTelemetry } from '../onnxruntime-env.js'
import { tensorMapCodec, tensorValues } from './tensor.js'
import type { NamedTensor, TensorDtype } from './tensor.js'
import type { Kernel, KernelFactory } from '../workload.js'

/** Sessions kept warm per thread (least recently used are released first). */
const MAX_SESSIONS = 4

const ORT_TYPES: Record<TensorDtype, ort.Tensor.Type> = {
  float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', uint8: 'uint8', int8: 'int8', bool: 'bool'
}

function toOrt (t: NamedTensor): ort.Tensor {
  // a bool tensor's values are its bytes (a Uint8Array), as onnxruntime takes them
  return new ort.Tensor(ORT_TYPES[t.dtype], tensorValues(t), t.dims)
}

function fromOrt (name: string, tensor: ort.Tensor): NamedTensor {
  const dtype = tensor.type as TensorDtype
  if (!(dtype in ORT_TYPES)) {
    throw new InvalidInputError(`model output ${name} has unsupported type ${tensor.type}`)
  }
  const data = tensor.data as ArrayBufferView
  return { name, dtype, dims: [...tensor.dims], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() }
}

export const createKernel: KernelFactory = async (): Promise<Kernel> => {
  disableOnnxRuntimeTelemetry()
  const sessions = new Map<string, Promise<ort.InferenceSession>>()

  async function session (digest: string, path: string): Promise<ort.InferenceSession> {
    let s = sessions.get(digest)
    if (s == null) {
      s = ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' })
        .catch((err: Error) => { throw new InvalidInputError(`the model does not load: ${err.message}`) })
      s.catch(() => sessions.delete(digest))
      sessions.set(digest, s)
      while (sessions.size > MAX_SESSIONS) {
        const [oldest, first] = sessions.entries().next().value as [string, Promise<ort.InferenceSession>]
        sessions.delete(oldest)
        first.then(async old => { await old.release() }, () => {})
      }
    } else {
      sessions.delete(digest)
      sessions.set(digest, s)
    }
    return s
  }

  return {
    async run (items, context) {
      if (context.model == null) {
        throw new InvalidInputError('the onnx workload needs a model (none was sent with the shard)')
      }
      const s = await session(context.model.digest, context.model.path)
      const outputs: Uint8Array[] = []
      for (const item of items) {
        if (context.signal?.aborted === true) {
          throw new AbortError('shard cancelled')
        }
        const feeds: Record<string, ort.Tensor> = {}
        for (const t of tensorMapCodec.decode(item)) {
          if (!s.inputNames.includes(t.name)) {
            throw new InvalidInputError(`the model has no input "${t.name}" (inputs: ${s.inputNames.join(', ')})`)
          }
          feeds[t.name] = toOrt(t)
        }
        let result: ort.InferenceSession.OnnxValueMapType
        try {
          result = await s.run(feeds)
        } catch (err: any) {
          throw new InvalidInputError(`the model rejected the input: ${String(err.message).slice(0, 512)}`)
        }
        outputs.push(tensorMapCodec.encode(s.outputNames.map(name => fromOrt(name, result[name]))))
        context.onProgress?.(outputs.length)
      }
      return outputs
    }
  }
}
