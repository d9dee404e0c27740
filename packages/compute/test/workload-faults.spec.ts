import assert from 'node:assert/strict'
import { generateOcrLines, ocrRec } from '@shardmesh/workloads'
import { bytes, computeNodes, stopAll, texts } from './utils/nodes.js'
import { testWorkload } from './utils/workloads.js'
import type { ComputeNode } from './utils/nodes.js'
import type { Workload } from '@shardmesh/workloads'

type TestWorkload = Workload<Uint8Array, Uint8Array>

/** The test workload with some of its own code replaced (as the requester has it). */
function broken (parts: Partial<TestWorkload>): TestWorkload {
  return { ...testWorkload(), ...parts }
}

function boom (): never {
  throw new RangeError('boom: a bug in the workload')
}

describe('compute: a workload\'s own code that throws', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    // a requester that serves nothing, and two workers with the sound workload
    nodes = await computeNodes([
      { workloads: [testWorkload()], offer: [] },
      { workloads: [testWorkload()] },
      { workloads: [testWorkload()] }
    ])
  })

  afterEach(async function () {
    // whatever the workload threw, the requester (and its workers) still serve the next job
    const items = bytes(6)
    const next = await nodes[0].services.compute.run({ workload: 'test', items, shardSize: 2 }, { peers: nodes.slice(1).map(n => n.peerId), verification: 'replicate:2' })
    assert.deepEqual(texts(next.outputs), texts(items), `after: ${this.currentTest?.title}`)
    await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(unhandled, [], 'an error escaped the job as an unhandled rejection')
  })

  after(async () => {
    process.off('unhandledRejection', onUnhandled)
    await stopAll(nodes ?? [])
  })

  async function run (workload: TestWorkload, verification = 'replicate:2'): Promise<unknown> {
    return nodes[0].services.compute.run({ workload, items: bytes(4), shardSize: 2 }, { peers: nodes.slice(1).map(n => n.peerId), verification })
  }

  function workloadCodeError (part: string): (err: any) => boolean {
    return (err: any) => {
      assert.equal(err?.name, 'WorkloadCodeError', `${err?.name}: ${err?.message}`)
      assert.equal(err.code, 'ERR_WORKLOAD_CODE')
      assert.match(err.message, new RegExp(`workload test@1\\.0\\.0: ${part.replace('.', '\\.')} threw RangeError: boom`))
      return true
    }
  }

  it('compare throws while verifying: the job fails with WorkloadCodeError', async () => {
    await assert.rejects(run(broken({ compare: boom })), workloadCodeError('compare'))
    await assert.rejects(run(broken({ compare: boom }), 'spot-check:1'), workloadCodeError('compare'))
  })

  it('the input codec throws something other than InvalidInputError: WorkloadCodeError naming the item, before any work', async () => {
    const input = { encode: (b: Uint8Array) => b, decode: (b: Uint8Array) => new TextDecoder().decode(b) === 'item-2' ? boom() : b }
    await assert.rejects(run(broken({ input })), (err: any) => {
      assert.equal(err.name, 'WorkloadCodeError')
      assert.match(err.message, /^item 2: workload test@1\.0\.0: input\.decode threw RangeError: boom/)
      return true
    })
  })

  it('split or merge throws, or split returns no shards: WorkloadCodeError', async () => {
    await assert.rejects(run(broken({ split: boom })), workloadCodeError('split'))
    await assert.rejects(run(broken({ merge: boom })), workloadCodeError('merge'))
    await assert.rejects(run(broken({ split: (() => 'not shards') as any })), (err: any) => err.name === 'WorkloadCodeError' && /split threw TypeError/.test(err.message))
  })

  it('the output codec throws on every result: a named error once every peer failed, no crash', async () => {
    const output = { encode: (b: Uint8Array) => b, decode: boom }
    await assert.rejects(run(broken({ output }), 'none'), (err: any) => {
      assert.ok(['ShardFailedError', 'AllExcludedError'].includes(err.name), `${err.name}: ${err.message}`)
      assert.match(err.message, /ERR_BAD_RESULT an output does not decode: boom/)
      return true
    })
  })
})

describe('compute: a requester checks every item before it sends any', function () {
  this.timeout(30_000)
  let nodes: ComputeNode[]

  after(async () => {
    await stopAll(nodes ?? [])
  })

  it('an OCR line image the model cannot read fails the job with InvalidInputError naming the item, before placement', async () => {
    // a requester alone: had the check not refused the job, placement would (NoPeersError)
    nodes = await computeNodes([{ workloads: [ocrRec()], offer: [] }])
    const good = await generateOcrLines({ count: 2, seed: 7 })
    const page = await generateOcrLines({ count: 1, seed: 8, height: 600 })
    await assert.rejects(nodes[0].services.compute.run({ workload: 'ocr-rec', items: [...good.images, ...page.images] }), (err: any) => {
      assert.equal(err.name, 'InvalidInputError', `${err.name}: ${err.message}`)
      assert.match(err.message, /^item 2: ocr-rec reads one line of text at most 512 px high: the image is \d+×600/)
      return true
    })
    await assert.rejects(nodes[0].services.compute.run({ workload: 'ocr-rec', items: good.images }), (err: any) => err.name === 'NoPeersError')
  })
})
