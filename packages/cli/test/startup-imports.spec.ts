import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
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
  /\/node_modules\/litesvm/, /\/node_modules\/sharp\//, /\/node_modules\/@img\/sharp/, /\/node_modules\/onnxruntime/, /\/node_modules\/prom-client\//,
  /\/packages\/(node|compute|capabilities|chain|solana|workloads|anchoring|receipts|trust)\/dist\//
]

/**
 * What `node start` must not load when it serves only `echo` and anchors nothing: the Solana
 * client (about 150 modules), the chain (LiteSVM), the native runtimes of the OCR and embedding
 * workloads (sharp, onnxruntime) and the ONNX model builder; each is loaded where it is used.
 */
const NODE_ECHO_ONLY = [
  /\/node_modules\/@solana\//, /\/node_modules\/litesvm/, /\/node_modules\/sharp\//, /\/node_modules\/@img\/sharp/, /\/node_modules\/onnxruntime/,
  /\/node_modules\/onnx-proto\//, /\/node_modules\/protobufjs\//, /\/packages\/chain\/dist\//,
  /\/packages\/solana\/dist\/src\/(index|keys|rpc|rpc-ledger|transaction|memo|send-failure)\.js$/
]

/** Records every module URL Node resolves, one per line, in $TRACE_FILE. */
const HOOK = `import { appendFileSync } from 'node:fs'
export async function resolve (specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(process.env.TRACE_FILE, resolved.url + '\\n')
  return resolved
}
`

/** The same for \`require()\` (CommonJS packages load theirs without the ESM hook), preloaded. */
const REQUIRE_HOOK = `const { appendFileSync } = require('node:fs')
const { pathToFileURL } = require('node:url')
const Module = require('node:module')
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (...args) {
  const resolved = resolveFilename.apply(this, args)
  appendFileSync(process.env.TRACE_FILE, (resolved.startsWith('/') ? pathToFileURL(resolved).href : resolved) + '\\n')
  return resolved
}
`

describe('CLI commands that only ask a running node load only what they need', function () {
  this.timeout(60_000)
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-startup-'))
    await writeFile(join(dir, 'hook.mjs'), HOOK)
    await writeFile(join(dir, 'require-hook.cjs'), REQUIRE_HOOK)
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

  /**
   * The modules (ESM and CommonJS) a node resolved from its start until it was ready and a
   * moment after, when it had begun its background work; then it is stopped.
   */
  async function modulesOfNode (name: string, args: string[]): Promise<string[]> {
    const trace = join(dir, `${name}.trace`)
    const ready = join(dir, `${name}.ready`)
    await writeFile(trace, '')
    const child = spawn(process.execPath, [
      '--no-warnings', '--require', join(dir, 'require-hook.cjs'), '--experimental-loader', join(dir, 'hook.mjs'),
      CLI, 'node', 'start', '--data-dir', join(dir, `${name}-data`), '--ready-file', ready, '--no-gpu', ...args
    ], { env: { ...process.env, TRACE_FILE: trace }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
    try {
      let alive = true
      void exited.then(() => { alive = false })
      while (!(await access(ready).then(() => true, () => false))) {
        assert.ok(alive, `node start exited before it was ready: ${stderr}`)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      // what the node loads in the background once ready counts too
      await new Promise(resolve => setTimeout(resolve, 500))
    } finally {
      child.kill('SIGTERM')
      await exited
    }
    return (await readFile(trace, 'utf8')).split('\n').filter(line => line !== '')
  }

  it('node start --workload echo without a ledger: no Solana client, no chain, no sharp, onnxruntime or ONNX builder', async () => {
    const modules = await modulesOfNode('node-echo', ['--workload', 'echo'])
    assert.ok(modules.some(m => /\/node_modules\/libp2p\//.test(m)), 'the trace recorded the node')
    // prom-client is CommonJS: its lib/ files are required, which only the require hook sees
    assert.ok(modules.some(m => /\/node_modules\/prom-client\/lib\//.test(m)), 'the trace recorded CommonJS modules too')
    const heavy = modules.filter(m => NODE_ECHO_ONLY.some(re => re.test(m)))
    assert.deepEqual([...new Set(heavy)], [])
  })
})
