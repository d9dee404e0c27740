import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkloadRunner, echo, sleep } from '@shardmesh/workloads'
import { calibrate, idleCores, waitForIdleCpu } from '../src/trust/calibrate.js'

describe('calibration schedule', function () {
  this.timeout(30_000)
  let cacheDir: string
  let runner: WorkloadRunner

  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'shardmesh-calibration-schedule-'))
    runner = new WorkloadRunner({ cacheDir, size: 1 })
  })

  afterEach(async () => {
    await runner.close()
    await rm(cacheDir, { recursive: true, force: true })
  })

  it('with pauses between workloads, still measures each one', async () => {
    const { speeds, errors } = await calibrate([echo(), sleep({ msPerItem: 1 })], runner, { pause: 20 })
    assert.deepEqual([...speeds.keys()].sort(), ['echo@1.0.0', 'sleep@1.0.0'])
    assert.equal(errors.size, 0)
  })

  it('a stop during a pause ends the calibration with AbortError', async () => {
    const stop = new AbortController()
    const measuring = calibrate([echo(), sleep({ msPerItem: 1 })], runner, { pause: 60_000, signal: stop.signal })
    setTimeout(() => { stop.abort() }, 50)
    await assert.rejects(measuring, (err: any) => err?.name === 'AbortError')
  })

  it('idleCores says how much of the host was idle: between none and every core', async () => {
    const idle = await idleCores(100)
    assert.ok(idle >= 0 && idle <= cpus().length, `${idle} idle cores of ${cpus().length}`)
  })

  it('waitForIdleCpu ends at its deadline when the host never has that much idle, and at once when stopped', async () => {
    // more cores than the host has: never idle enough, so only the deadline ends the wait
    await waitForIdleCpu(cpus().length + 1, Date.now() + 300, 10)
    const stopped = new AbortController()
    stopped.abort()
    await waitForIdleCpu(cpus().length + 1, Date.now() + 600_000, 10, stopped.signal)
  })
})
