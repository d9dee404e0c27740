/**
 * A small builder of ONNX graphs over `onnx-proto` (protobufjs): nodes, initializers and
 * typed inputs/outputs, then a serialised `ModelProto`.
 */

import { endianness } from 'node:os'
import { createRequire } from 'node:module'
import type OnnxProto from 'onnx-proto'
import type { onnx } from 'onnx-proto'

let loaded: typeof onnx | undefined

/**
 * onnx-proto (protobufjs, about 70 ms of CPU to load), required on first use: only a node that
 * builds the embed model (once per cache dir) loads it, not every node that imports the
 * workloads. A CommonJS package, so `require` keeps the builder synchronous.
 */
function proto (): typeof onnx {
  loaded ??= (createRequire(import.meta.url)('onnx-proto') as typeof OnnxProto).onnx
  return loaded
}

/** An attribute value: a number is an int unless listed in `floats`, arrays are int lists. */
export type AttributeValue = number | number[] | { float: number }

/** One dimension of a graph input or output: a size or a symbolic name. */
export type Dim = number | string

export interface ModelMetadata {
  producerName: string
  producerVersion: string
  docString: string
  opset: number
  irVersion: number
  metadata: Record<string, string>
}

function attribute (name: string, value: AttributeValue): onnx.IAttributeProto {
  if (Array.isArray(value)) {
    return { name, type: proto().AttributeProto.AttributeType.INTS, ints: value }
  }
  if (typeof value === 'object') {
    return { name, type: proto().AttributeProto.AttributeType.FLOAT, f: value.float }
  }
  return { name, type: proto().AttributeProto.AttributeType.INT, i: value }
}

function valueInfo (name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map(dim => typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim }) }
      }
    }
  }
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = []
  private readonly initializers: onnx.ITensorProto[] = []
  private readonly inputs: onnx.IValueInfoProto[] = []
  private readonly outputs: onnx.IValueInfoProto[] = []
  private readonly constants = new Map<string, string>()
  private counter = 0

  constructor (readonly name: string) {
    if (endianness() !== 'LE') {
      throw new Error('ONNX raw tensor data is little-endian: this builder needs a little-endian host')
    }
  }

  /** Add a node; returns the name of its (first) output. */
  node (opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    const name = `${opType}_${this.counter++}`
    const out = output ?? `${name}_out`
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value))
    })
    return out
  }

  /** Add a float32 initializer; returns its name. */
  float (name: string, dims: number[], data: Float32Array): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new RangeError(`initializer ${name}: ${data.length} values for shape [${dims.join(', ')}]`)
    }
    this.initializers.push({
      name,
      dims,
      dataType: proto().TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    })
    return name
  }

  /** A float32 scalar constant (shared by value). */
  scalar (value: number): string {
    return this.constant(`const_f32_${value}`, () => this.float(`const_f32_${value}`, [], Float32Array.of(value)))
  }

  /** An int64 vector constant (shared by value), e.g. axes or shapes. */
  ints (values: number[]): string {
    const name = `const_i64_${values.join('_')}`
    return this.constant(name, () => {
      this.initializers.push({ name, dims: [values.length], dataType: proto().TensorProto.DataType.INT64, int64Data: values })
      return name
    })
  }

  private constant (key: string, make: () => string): string {
    let name = this.constants.get(key)
    if (name === undefined) {
      name = make()
      this.constants.set(key, name)
    }
    return name
  }

  input (name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims))
    return name
  }

  output (name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims))
  }

  /** The serialised `ModelProto`. */
  encode (meta: ModelMetadata): Uint8Array {
    const model = proto().ModelProto.create({
      irVersion: meta.irVersion,
      opsetImport: [{ domain: '', version: meta.opset }],
      producerName: meta.producerName,
      producerVersion: meta.producerVersion,
      docString: meta.docString,
      metadataProps: Object.entries(meta.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs
      }
    })
    return proto().ModelProto.encode(model).finish()
  }
}

/** ONNX element types used here (`TensorProto.DataType`'s values, fixed by the ONNX standard). */
export const ElemType = {
  FLOAT: 1,
  INT64: 7
} as const
