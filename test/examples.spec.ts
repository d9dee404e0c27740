import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const EMBED = fileURLToPath(new URL('../../examples/embed-libp2p/dist/index.js', import.meta.url))

describe('examples', function () {
  this.timeout(60_000)

  it('embed-libp2p: meshServices() in a user\'s own libp2p node finds a peer\'s workload over TCP', async () => {
    const { stdout } = await run(process.execPath, [EMBED, '--json'], { timeout: 50_000 })
    const result = JSON.parse(stdout)
    assert.equal(result.found.length, 1)
    assert.equal(result.found[0].peerId, result.sensor)
    assert.deepEqual(result.found[0].workloads, ['sensor-fusion@1.0.0'])
  })
})
