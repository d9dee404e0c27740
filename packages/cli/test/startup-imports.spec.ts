import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../bin/shardmesh.js', import.meta.url))

/**
 * What a command that only asks a running node must not load: libp2p, the mesh services, the
 * Solana clients, the chain, the workloads' native runtimes. Loading them costs about a second
 * of CPU before the command sends its one request.
 */
const DAEMON_ONLY = [
  /\/node_modules\/libp2p\//, /\/node_modules\/@libp2p\//, /\/node_modules\/@chainsafe\//, /\/node_modules\/@solana\//,
  /\/node_modules\/litesvm/, /\/node_modules\/sharp\//, /\/node_modules\/onnxruntime/, /\/node_modules\/prom-client\//,
  /\/packages\/(node|compute|capabilities|chain|solana|workloads|anchoring|receipts|trust)\/dist\//
]

/** Records every module URL Node resolves, one per line, in $TRACE_FILE. */
const HOOK = `import { appendFileSync } from 'node:fs'
export async function resolve (specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(process.env.TRACE_FILE, resolved.url + '\\n')
  return resolved
}
`

describe('CLI commands that only ask a running node load only what they need', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-startup-'))
    await writeFile(join(dir, 'hook.mjs'), HOOK)
  })

  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The modules `shardmesh <args>` resolved (run against a data dir with no node: it asks, and ends). */
  async function modulesOf (name: string, args: string[]): Promise<string[]> {
    const trace = join(dir, `${name}.trace`)
    await writeFile(trace, '')
    await new Promise<void>(resolve => {
      execFile(process.execPath, ['--no-warnings', '--experimental-loader', join(dir, 'hook.mjs'), CLI, ...args, '--data-dir', join(dir, 'no-node')], {
        env: { ...process.env, TRACE_FILE: trace }
      }, () => { resolve() })
    })
    return (await readFile(trace, 'utf8')).split('\n').filter(line => line !== '')
  }

  for (const [name, args] of [
    ['peers', ['peers']],
    ['dashboard', ['dashboard']],
    ['receipts list', ['receipts', 'list']],
    ['node wait', ['node', 'wait', '--timeout', '1ms']],
    ['node stop', ['node', 'stop']]
  ] as const) {
    it(`${name}: no libp2p, no mesh service, no Solana client, no workload runtime`, async () => {
      const modules = await modulesOf(name.replace(' ', '-'), [...args])
      assert.ok(modules.some(m => m.endsWith('/dist/src/main.js')), `the trace recorded the CLI itself: ${modules.join(', ')}`)
      const heavy = modules.filter(m => DAEMON_ONLY.some(re => re.test(m)))
      assert.deepEqual(heavy, [])
    })
  }

  it('the trace sees what it must refuse: node start loads libp2p', async () => {
    const modules = await modulesOf('node-start', ['node', 'start', '--listen', 'not-an-address'])
    assert.ok(modules.some(m => /\/node_modules\/libp2p\//.test(m)), 'node start resolved libp2p')
  })
})
