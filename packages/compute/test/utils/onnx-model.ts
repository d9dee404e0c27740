/**
 * Tiny ONNX models for tests, built with the graph builder of `@shardmesh/workloads` (not part
 * of its public API, so it is loaded from beside the package's entry point).
 */

type Dim = number | string

interface GraphBuilder {
  input(name: string, elemType: number, dims: Dim[]): string
  output(name: string, elemType: number, dims: Dim[]): void
  node(opType: string, inputs: string[], attributes?: Record<string, unknown>, output?: string): string
  float(name: string, dims: number[], data: Float32Array): string
  scalar(value: number): string
  encode(meta: { producerName: string, producerVersion: string, docString: string, opset: number, irVersion: number, metadata: Record<string, string> }): Uint8Array
}

interface GraphModule {
  GraphBuilder: new (name: string) => GraphBuilder
  ElemType: { FLOAT: number }
}

async function graphModule (): Promise<GraphModule> {
  return import(new URL('./embed/onnx-graph.js', import.meta.resolve('@shardmesh/workloads')).href)
}

/**
 * `Y = X * 2 + 1` over float32 `X: [n, 3]`. With `padding` floats (all zero) the model also
 * sums a constant of that many elements into Y (adding 0), which makes the file that much larger.
 */
export async function affineModel (padding = 0): Promise<Uint8Array> {
  const { GraphBuilder, ElemType } = await graphModule()
  const g = new GraphBuilder('affine')
  const x = g.input('X', ElemType.FLOAT, ['n', 3])
  let y = g.node('Add', [g.node('Mul', [x, g.scalar(2)]), g.scalar(1)])
  if (padding > 0) {
    const zero = g.node('ReduceSum', [g.float('padding', [padding], new Float32Array(padding))], { keepdims: 0 })
    y = g.node('Add', [y, zero])
  }
  g.node('Identity', [y], {}, 'Y')
  g.output('Y', ElemType.FLOAT, ['n', 3])
  return g.encode({ producerName: 'shardmesh-test', producerVersion: '1', docString: '', opset: 13, irVersion: 8, metadata: {} })
}
