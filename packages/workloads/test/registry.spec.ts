import assert from 'node:assert/strict'
import { echo, sleep } from '../src/builtin/index.js'
import { parseWorkloadSpec, WorkloadRegistry } from '../src/registry.js'
import { mergeItems, splitItems, workloadKey } from '../src/workload.js'
import type { Workload } from '../src/workload.js'

function withVersion (workload: Workload<any, any>, version: string): Workload<any, any> {
  return { ...workload, version }
}

describe('registry', () => {
  describe('parseWorkloadSpec', () => {
    it('parses id and id@version', () => {
      assert.deepEqual(parseWorkloadSpec('ocr-rec'), { id: 'ocr-rec' })
      assert.deepEqual(parseWorkloadSpec('ocr-rec@1.0.0'), { id: 'ocr-rec', version: '1.0.0' })
      assert.deepEqual(parseWorkloadSpec('a.b_c-9@1.0.0-rc.1+build'), { id: 'a.b_c-9', version: '1.0.0-rc.1+build' })
      assert.deepEqual(parseWorkloadSpec('x'.repeat(64)), { id: 'x'.repeat(64) })
    })

    it('refuses anything else with a RangeError that shows the expected form', () => {
      for (const bad of ['', '@1.0.0', 'ocr-rec@', 'Ocr', '-x', 'x y', 'x/y', 'x@1@2', 'x@1 0', `x@${'1'.repeat(33)}`, 'x'.repeat(65), 'échec']) {
        assert.throws(() => parseWorkloadSpec(bad), (err: any) => {
          assert.ok(err instanceof RangeError, bad)
          assert.match(err.message, /expected id or id@version/)
          return true
        }, JSON.stringify(bad))
      }
    })
  })

  describe('WorkloadRegistry', () => {
    it('finds workloads by id, and by id and version', () => {
      const registry = new WorkloadRegistry([echo(), sleep()])
      assert.equal(registry.get('echo')?.id, 'echo')
      assert.equal(registry.get('echo', '1.0.0')?.id, 'echo')
      assert.equal(registry.get('echo', '2.0.0'), undefined)
      assert.equal(registry.get('nope'), undefined)
      assert.deepEqual(registry.list().map(workloadKey), ['echo@1.0.0', 'sleep@1.0.0'])
    })

    it('refuses a duplicate id@version, keeps another version of the same id, and without a version gives the last registered', () => {
      const registry = new WorkloadRegistry([echo()])
      assert.throws(() => { registry.register(echo()) }, (err: any) => err instanceof RangeError && /echo@1\.0\.0 is already registered/.test(err.message))
      assert.equal(registry.list().length, 1)
      registry.register(withVersion(echo(), '2.0.0'))
      assert.equal(registry.get('echo')?.version, '2.0.0')
      assert.equal(registry.get('echo', '1.0.0')?.version, '1.0.0')
      assert.throws(() => new WorkloadRegistry([sleep(), sleep()]), RangeError)
    })

    it('refuses a workload whose id or version is malformed', () => {
      const registry = new WorkloadRegistry()
      assert.throws(() => { registry.register({ ...echo(), id: 'Bad Id' }) }, RangeError)
      assert.throws(() => { registry.register(withVersion(echo(), '')) }, RangeError)
      assert.equal(registry.list().length, 0)
    })

    it('require() throws UnknownWorkloadError naming what is installed', () => {
      const empty = new WorkloadRegistry()
      assert.throws(() => empty.require('ocr-rec'), (err: any) => {
        assert.equal(err.name, 'UnknownWorkloadError')
        assert.equal(err.code, 'ERR_UNKNOWN_WORKLOAD')
        assert.match(err.message, /no workload ocr-rec is installed here \(installed: none\)/)
        return true
      })
      const registry = new WorkloadRegistry([echo(), sleep()])
      assert.equal(registry.require('sleep').id, 'sleep')
      assert.throws(() => registry.require('echo', '9.9.9'), (err: any) => {
        assert.equal(err.name, 'UnknownWorkloadError')
        assert.match(err.message, /echo@9\.9\.9/)
        assert.match(err.message, /installed: echo@1\.0\.0, sleep@1\.0\.0/)
        return true
      })
    })
  })

  describe('split and merge', () => {
    it('split into runs of shardSize and merge back to the same items, for any size', () => {
      const items = Array.from({ length: 10 }, (_, i) => i)
      for (const size of [1, 2, 3, 7, 10, 11, 1000]) {
        const shards = splitItems(items, size)
        assert.equal(shards.length, Math.ceil(items.length / size), String(size))
        assert.ok(shards.every(s => s.length >= 1 && s.length <= size))
        assert.deepEqual(mergeItems(shards), items)
      }
      assert.deepEqual(splitItems([], 3), [])
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => splitItems(items, bad), RangeError)
      }
    })
  })
})
