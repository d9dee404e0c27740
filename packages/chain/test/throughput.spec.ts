import assert from 'node:assert/strict'
import { measureMemoThroughput } from './throughput.js'

describe('embedded chain throughput measurement (smoke)', function () {
  this.timeout(60_000)

  it('lands every memo it sends', async () => {
    const result = await measureMemoThroughput('send', 30, 4)
    assert.equal(result.landed, 30)
    assert.ok(result.perSecond > 0)
  })

  it('lands every memo it confirms with kit', async () => {
    const result = await measureMemoThroughput('confirm', 12, 3)
    assert.equal(result.landed, 12)
  })

  it('runs the client in a worker thread', async () => {
    const result = await measureMemoThroughput('send', 10, 2, true)
    assert.equal(result.landed, 10)
  })
})
