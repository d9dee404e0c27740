import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { LocalCluster } from '@shardmesh/cli/harness'
import { runCli } from './utils/run-cli.js'

/** The template of examples/workload-module: `primes@1.0.0`, counting the primes up to n. */
const MODULE = fileURLToPath(new URL('../../examples/workload-module/my-workload.js', import.meta.url))
/** The README's script that writes the tiny model (`Y = 2X + 1` over float32 `X: [n, 3]`) and its inputs. */
const TINY_MODEL = fileURLToPath(new URL('../../examples/workload-module/tiny-model.js', import.meta.url))

/** A float32 `.npy` file as NumPy's np.save writes it (format 1.0, header padded to 64 bytes). */
function npyFloat32 (shape: number[], values: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  header = header.padEnd(128 - 10 - 1, ' ') + '\n'
  const prefix = Buffer.alloc(10)
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix)
  prefix.writeUInt16LE(header.length, 8)
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(Float32Array.from(values).buffer)])
}

/** π(n), counted here independently of the module. */
function primeCount (n: number): number {
  let count = 0
  for (let i = 2; i <= n; i++) {
    let prime = true
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false
        break
      }
    }
    if (prime) count++
  }
  return count
}

/**
 * An operator's own workload in the daemon, over node processes on loopback: node 0 serves the
 * primes workload of examples/workload-module (and onnx); node 1 installs the same module only to
 * request it (it serves echo), and runs its jobs with --no-local, so every shard runs on node 0.
 */
describe('--workload-module and job run --workload onnx, over node processes', function () {
  this.timeout(240_000)
  let cluster: LocalCluster
  let dir: string
  let requester: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-workload-module-'))
    cluster = new LocalCluster({
      nodes: 2,
      nodeArgs: i => i === 0
        ? ['--workload-module', MODULE, '--workload', 'primes', '--workload', 'onnx', '--pool-size', '1']
        : ['--workload-module', MODULE, '--workload', 'echo', '--pool-size', '1']
    })
    await cluster.start()
    await cluster.waitConverged({ timeout: 60_000 })
    requester = cluster.nodes[1].dataDir
  })

  after(async () => {
    await cluster?.stop()
    for (const child of (cluster?.nodes ?? []).map(n => n.process)) {
      assert.ok(child.exitCode != null || child.signalCode != null, `pid ${child.pid} still running`)
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('a job of the module\'s workload from the other node runs on the node that installed it, outputs right', async () => {
    const ns = [0, 1, 2, 10, 1000, 7919, 7920, 100_000, 65_537]
    await writeFile(join(dir, 'primes.json'), JSON.stringify(ns))
    const out = join(dir, 'primes-out')
    const res = await runCli(['job', 'run', '--workload', 'primes', '--workload-module', MODULE, '--input', join(dir, 'primes.json'),
      '--shard-size', '2', '--no-local', '--outputs', '--out', out, '--data-dir', requester, '--json'])
    assert.equal(res.code, 0, res.stderr + res.stdout)
    const report = JSON.parse(res.stdout)
    assert.equal(report.workload, 'primes')
    assert.deepEqual(report.outputs, ns.map(primeCount))
    const worked = report.peers.filter((p: any) => p.shards > 0).map((p: any) => p.peerId)
    assert.deepEqual(worked, [cluster.nodes[0].peerId])
    assert.deepEqual(JSON.parse(await readFile(join(out, 'outputs.json'), 'utf8')), ns.map(primeCount))
    assert.deepEqual(report.out, { dir: out, files: ['outputs.json'] })
  })

  it('a requester without the module cannot name the workload: a usage error that says how', async () => {
    const res = await runCli(['job', 'run', '--workload', 'primes', '--input', join(dir, 'primes.json'), '--data-dir', requester])
    assert.equal(res.code, 2)
    assert.match(res.stderr, /^shardmesh: job run: unknown workload primes \(a workload of a module: give its --workload-module PATH\)\n$/)
  })

  it('job run --workload onnx: the README\'s tiny model and X.npy in, Y.npy out, computed by the other node', async () => {
    await promisify(execFile)(process.execPath, [TINY_MODEL, dir])
    const rows = [[0, 1, 2], [-1.5, 0.25, 3], [100, -7, 0.5], [1e-3, 2e3, -4]]
    assert.deepEqual(await readFile(join(dir, 'X.npy')), npyFloat32([rows.length, 3], rows.flat()))
    const out = join(dir, 'onnx-out')
    const res = await runCli(['job', 'run', '--workload', 'onnx', '--model', join(dir, 'affine.onnx'), '--input', join(dir, 'X.npy'),
      '--out', out, '--shard-size', '2', '--no-local', '--data-dir', requester, '--json'])
    assert.equal(res.code, 0, res.stderr)
    const report = JSON.parse(res.stdout)
    assert.deepEqual(report.out.files, ['Y.npy', 'outputs.json'])
    assert.deepEqual(report.peers.filter((p: any) => p.shards > 0).map((p: any) => p.peerId), [cluster.nodes[0].peerId])
    // Y.npy is what np.save writes for a float32 [4, 3] array, and holds 2X + 1
    const expected = rows.flat().map(x => Math.fround(Math.fround(Math.fround(x) * 2) + 1))
    assert.deepEqual(await readFile(join(out, 'Y.npy')), npyFloat32([rows.length, 3], expected))
    assert.deepEqual(JSON.parse(await readFile(join(out, 'outputs.json'), 'utf8')), { workload: 'onnx@1.0.0', items: 4, files: [{ name: 'Y', file: 'Y.npy', dtype: 'float32', shape: [4, 3] }] })

    // the same input as JSON, with the outputs in --json
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'x.json'), 'utf8')), { X: rows })
    const json = await runCli(['job', 'run', '--workload', 'onnx', '--model', join(dir, 'affine.onnx'), '--input', join(dir, 'x.json'),
      '--outputs', '--no-local', '--data-dir', requester, '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.deepEqual(JSON.parse(json.stdout).outputs.map((o: any) => o[0].values), rows.map(r => r.map(x => Math.fround(Math.fround(Math.fround(x) * 2) + 1))))
  })

  it('onnx without --model, or with an input that is no .npy, is a usage error before any work', async () => {
    const noModel = await runCli(['job', 'run', '--workload', 'onnx', '--input', join(dir, 'X.npy'), '--data-dir', requester])
    assert.equal(noModel.code, 2)
    assert.match(noModel.stderr, /job run: onnx needs --model FILE/)
    await writeFile(join(dir, 'bad.npy'), 'not numpy')
    const bad = await runCli(['job', 'run', '--workload', 'onnx', '--model', join(dir, 'affine.onnx'), '--input', join(dir, 'bad.npy'), '--data-dir', requester])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--input .*bad\.npy: not an \.npy file/)
  })

  it('a bad module is refused with exit 2 and one line naming it, before anything starts', async () => {
    const broken = join(dir, 'broken.mjs')
    await writeFile(broken, "export default { id: 'broken', version: '1.0.0', description: 'no codecs' }\n")
    const clash = join(dir, 'clash.mjs')
    await writeFile(clash, (await readFile(MODULE, 'utf8')).replace("id: 'primes'", "id: 'echo'").replace("from '@shardmesh/workloads'", `from '${import.meta.resolve('@shardmesh/workloads')}'`))
    for (const [module, message] of [
      [broken, /^shardmesh: node start: --workload-module .*broken\.mjs: workload broken@1\.0\.0: executor must be 'pool' or 'inline', got undefined\n$/],
      [clash, /^shardmesh: node start: --workload-module .*clash\.mjs: workload echo@1\.0\.0 has the id of a built-in workload \(echo\); choose another id\n$/],
      [join(dir, 'missing.js'), /^shardmesh: node start: --workload-module .*missing\.js: no such file\n$/]
    ] as const) {
      const dataDir = join(dir, `refused-${Math.random().toString(16).slice(2)}`)
      const res = await runCli(['node', 'start', '--data-dir', dataDir, '--no-gpu', '--workload-module', module], { timeout: 60_000 })
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, message)
      assert.equal(res.stdout, '')
      // nothing started: no data dir, no pid file
      assert.equal(await stat(dataDir).then(() => true, () => false), false)
    }
  })
})
