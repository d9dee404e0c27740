import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Counter, Registry, register as globalRegistry } from 'prom-client'
import { memoryMeshNode } from './utils/cluster.js'
import type { MeshNode } from '../src/index.js'

describe('node metrics', () => {
  let dir: string
  let node: MeshNode
  let registry: Registry

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-metrics-'))
    registry = new Registry()
    node = await memoryMeshNode({}, { dataDir: dir, metricsRegistry: registry })
  })

  after(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('/metrics text: every HELP reads as written, no shardmesh metric is labelled by its own name', async () => {
    const text = await registry.metrics()
    assert.match(text, /^# HELP shardmesh_receipts_stored_total Countersigned receipts written to the durable store$/m)
    assert.match(text, /^# HELP shardmesh_capabilities_peers Peers with a verified, unexpired advert in the table$/m)
    assert.match(text, /^# HELP shardmesh_receipts_unanchored Stored receipts this node countersigned that are not anchored on chain yet$/m)
    assert.match(text, /^shardmesh_receipts_unanchored 0$/m)
    assert.match(text, /^shardmesh_receipts_anchor_failures_total 0$/m)
    for (const [line, name, help] of text.matchAll(/^# HELP (shardmesh_\w+) (.*)$/gm)) {
      assert.match(help, / /, `${name}'s help has no spaces: ${line}`)
    }
    // libp2p's own metric groups are labelled by their own name (its convention); ours are not
    for (const [line, name, label] of text.matchAll(/^(shardmesh_\w+)\{(\w+)=/gm)) {
      assert.notEqual(label, name, `a metric labelled by its own name: ${line}`)
    }
  })

  it('a second node in the process has metrics of its own, the first keeps its, and an embedder\'s global metrics stay', async () => {
    const mine = new Counter({ name: 'embedder_requests_total', help: 'an embedder\'s own metric in the global registry' })
    const secondDir = await mkdtemp(join(tmpdir(), 'shardmesh-metrics-'))
    const secondRegistry = new Registry()
    const second = await memoryMeshNode({}, { dataDir: secondDir, metricsRegistry: secondRegistry })
    try {
      for (const text of [await secondRegistry.metrics(), await registry.metrics()]) {
        assert.match(text, /^# HELP shardmesh_receipts_stored_total Countersigned receipts written to the durable store$/m)
        assert.match(text, /^shardmesh_capabilities_peers \d+$/m)
      }
      assert.equal(globalRegistry.getSingleMetric('embedder_requests_total'), mine)
    } finally {
      await second.stop()
      globalRegistry.removeSingleMetric('embedder_requests_total')
      await rm(secondDir, { recursive: true, force: true })
    }
  })
})
