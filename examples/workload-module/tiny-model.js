/**
 * Writes a tiny ONNX model and inputs for `shardmesh job run --workload onnx` into a directory:
 *
 *   node examples/workload-module/tiny-model.js /tmp/onnx
 *
 * - affine.onnx: `Y = 2X + 1` over float32 `X: [n, 3]` (the model the tests create), built with
 *   the graph builder inside @shardmesh/workloads (internal: a test and demo helper, no promise);
 * - X.npy: four rows of 3 float32s, as NumPy's np.save writes them (feeds the input X);
 * - x.json: the same rows as JSON ({ "X": [[...], ...] }).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const dir = process.argv[2] ?? '.'
const { GraphBuilder, ElemType } = await import(new URL('./embed/onnx-graph.js', import.meta.resolve('@shardmesh/workloads')).href)

const g = new GraphBuilder('affine')
const x = g.input('X', ElemType.FLOAT, ['n', 3])
g.node('Add', [g.node('Mul', [x, g.scalar(2)]), g.scalar(1)], {}, 'Y')
g.output('Y', ElemType.FLOAT, ['n', 3])
const model = g.encode({ producerName: 'shardmesh-example', producerVersion: '1', docString: '', opset: 13, irVersion: 8, metadata: {} })

const rows = [[0, 1, 2], [-1.5, 0.25, 3], [100, -7, 0.5], [0.001, 2000, -4]]

/** A float32 array as an .npy file (format 1.0: magic, version, header length, padded header, data). */
function npy (shape, values) {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`.padEnd(117, ' ') + '\n'
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0])
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)])
}

await mkdir(dir, { recursive: true })
await writeFile(join(dir, 'affine.onnx'), model)
await writeFile(join(dir, 'X.npy'), npy([rows.length, 3], rows.flat()))
await writeFile(join(dir, 'x.json'), JSON.stringify({ X: rows }) + '\n')
process.stdout.write(`wrote ${join(dir, 'affine.onnx')} (${model.byteLength} bytes), ${join(dir, 'X.npy')} and ${join(dir, 'x.json')}\n`)
