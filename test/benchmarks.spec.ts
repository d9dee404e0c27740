import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const DISCOVERY = fileURLToPath(new URL('../../benchmarks/discovery/dist/index.js', import.meta.url))

describe('benchmark smoke runs', function () {
  this.timeout(120_000)

  it('discovery --smoke measures a 3-node cluster and prints one JSON object', async () => {
    const { stdout } = await run(process.execPath, [DISCOVERY, '--smoke'], { timeout: 110_000 })
    const out = JSON.parse(stdout)
    assert.equal(out.benchmark, 'discovery')
    assert.equal(out.results.length, 1)
    const r = out.results[0]
    assert.equal(r.nodes, 3)
    assert.ok(r.convergedMs >= r.readyMs)
    assert.equal(r.propagationMs.samples + r.propagationMs.skipped, 3 * 2)
    assert.equal(r.findProvidersMs.found, 3)
    assert.ok(r.rssMiB.max > 0)
  })
})
