import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkloadRegistry, builtinWorkloads, echo } from '@shardmesh/workloads'
import { UsageError } from '../src/args.js'
import { parseStartOptions } from '../src/daemon/start-options.js'
import { WorkloadModuleError, checkWorkload, loadWorkloadModule, registerWorkloadModules } from '../src/daemon/workload-modules.js'

const EXAMPLE = new URL('../../../../examples/workload-module/my-workload.js', import.meta.url).pathname

/** A module whose default export is echo's definition with `changes` applied. */
function moduleText (changes: string): string {
  return `const base = { id: 'mine', version: '1.0.0', description: 'd', executor: 'inline', kernel: { module: import.meta.url }, params: {},
  input: { encode: x => x, decode: x => x }, output: { encode: x => x, decode: x => x }, tolerance: 'exact',
  split: x => [x], merge: x => x.flat(), compare: (a, b) => a === b, calibration: async () => [] }
export default Object.assign(base, ${changes})
`
}

describe('workload modules', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-wlmod-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('loads the example module: primes@1.0.0, offered next to the built-ins', async () => {
    const registry = new WorkloadRegistry(builtinWorkloads())
    const added = await registerWorkloadModules(registry, [EXAMPLE], 'node start')
    assert.deepEqual(added.map(w => `${w.id}@${w.version}`), ['primes@1.0.0'])
    const primes = registry.require('primes')
    assert.equal(primes.output.decode(primes.output.encode(78498)), 78498)
    assert.equal((await primes.calibration()).length, 4)
  })

  it('node start --workload-module: offered by default next to the built-ins, or named with --workload', async () => {
    const byDefault = await parseStartOptions(['--data-dir', '/nonexistent/shardmesh', '--workload-module', EXAMPLE])
    assert.deepEqual(byDefault.offer, ['ocr-rec@1.0.0', 'embed@1.0.0', 'echo@1.0.0', 'sleep@1.0.0', 'primes@1.0.0'])
    assert.deepEqual((await parseStartOptions(['--workload-module', EXAMPLE, '--workload', 'primes@1.0.0'])).offer, ['primes@1.0.0'])
    await assert.rejects(parseStartOptions(['--workload', 'primes']), /--workload primes is not installed/)
  })

  it('takes a named workload or workloads export, one or an array', async () => {
    await writeFile(join(dir, 'named.mjs'), moduleText('{}').replace('export default', 'export const workloads = [') + ']\n')
    assert.deepEqual((await loadWorkloadModule(join(dir, 'named.mjs'))).map(w => w.id), ['mine'])
  })

  it('refuses a module that breaks the contract, naming the module and the field', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{ compare: undefined }', /workload mine@1.0.0: compare\(\) is missing/],
      ['{ id: "Bad Id" }', /workload id "Bad Id" or version "1.0.0" is malformed/],
      ['{ version: "1.0 beta" }', /is malformed/],
      ['{ executor: "gpu" }', /executor must be 'pool' or 'inline'/],
      ['{ kernel: { module: "https://example.com/k.js" } }', /is not an absolute file: URL/],
      ['{ kernel: { module: "file:///nonexistent/k.js" } }', /kernel module \/nonexistent\/k.js does not exist/],
      ['{ input: { encode: x => x } }', /input must be a codec/],
      ['{ params: { f: () => 1 } }', /params must survive structured cloning/],
      ['{ optIn: "yes" }', /optIn must be a boolean/]
    ]
    for (const [i, [changes, message]] of cases.entries()) {
      const file = join(dir, `bad-${i}.mjs`)
      await writeFile(file, moduleText(changes))
      await assert.rejects(loadWorkloadModule(file), (err: any) => err instanceof WorkloadModuleError && err.code === 'ERR_WORKLOAD_MODULE' && err.message.startsWith(file) && message.test(err.message), changes)
    }
    await writeFile(join(dir, 'syntax.mjs'), 'export default {')
    await assert.rejects(loadWorkloadModule(join(dir, 'syntax.mjs')), /syntax\.mjs: does not load: /)
    await writeFile(join(dir, 'empty.mjs'), 'export const other = 1\n')
    await assert.rejects(loadWorkloadModule(join(dir, 'empty.mjs')), /exports no workload/)
    await assert.rejects(loadWorkloadModule(join(dir, 'missing.mjs')), /missing\.mjs: no such file/)
    await assert.rejects(checkWorkload(null, 'x'), /must be an object, got null/)
  })

  it('refuses a built-in\'s id and a workload installed twice, as usage errors', async () => {
    await writeFile(join(dir, 'echo.mjs'), moduleText('{ id: "echo", version: "9.0.0" }'))
    const registry = new WorkloadRegistry([echo()])
    await assert.rejects(registerWorkloadModules(registry, [join(dir, 'echo.mjs')], 'node start'),
      (err: any) => err instanceof UsageError && /^node start: --workload-module .*echo\.mjs: workload echo@9\.0\.0 has the id of a built-in workload/.test(err.message))
    await writeFile(join(dir, 'ok.mjs'), moduleText('{}'))
    await assert.rejects(registerWorkloadModules(registry, [join(dir, 'ok.mjs'), join(dir, 'ok.mjs')], 'node start'), /mine@1\.0\.0 is already installed/)
  })
})
