import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { meshServices } from '@shardmesh/node'
import { verifyReceipt } from '@shardmesh/receipts'
import { memoryListen } from '@shardmesh/test-utils'
import { createLibp2p } from 'libp2p'
import { ControlClient, ControlServer } from '../src/index.js'

async function meshNode () {
  const { transports, listen } = memoryListen('shardmesh-control-pay')
  return createLibp2p({
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: meshServices({ capabilities: { nvidiaSmi: false }, compute: { offer: ['echo'] } })
  })
}

/** POST /v1/jobs with `pay`: the price is checked at the door, and travels into every receipt. */
describe('ControlServer: POST /v1/jobs pay { lamportsPerItem }', function () {
  this.timeout(30_000)
  let dir: string
  let node: Awaited<ReturnType<typeof meshNode>>
  let server: ControlServer
  let client: ControlClient

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-control-pay-'))
    node = await meshNode()
    server = new ControlServer({ node, dataDir: dir, onStop: () => {} })
    await server.start()
    client = await ControlClient.fromDataDir(dir)
  })

  after(async () => {
    await server?.stop()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const items = ['a', 'b', 'c'].map(t => Buffer.from(t).toString('base64'))

  it('refuses a price that is not a whole number of lamports from 1 to 2^53-1 (400, naming pay)', async () => {
    for (const pay of [{ lamportsPerItem: '0' }, { lamportsPerItem: '-3' }, { lamportsPerItem: '1.5' }, { lamportsPerItem: '9007199254740992' }, { lamportsPerItem: 'x' }, { lamportsPerItem: 1.5 }, 'x', [1]]) {
      await assert.rejects(client.runJob({ workload: 'echo', items, pay: pay as any }), (err: any) => {
        assert.equal(err.name, 'ControlRequestError', err.message)
        assert.equal(err.status, 400)
        assert.match(err.message, /pay/)
        return true
      }, JSON.stringify(pay))
    }
  })

  it('a job with a price: every receipt states it (a decimal string, or a safe integer)', async () => {
    for (const lamportsPerItem of ['250', 250]) {
      const result = await client.runJob({ workload: 'echo', items, shardSize: 2, pay: { lamportsPerItem: lamportsPerItem as string } })
      assert.equal(result.receipts.length, 2)
      for (const r of result.receipts) {
        assert.equal((await verifyReceipt(Buffer.from(r, 'base64'))).lamportsPerItem, 250n)
      }
    }
  })
})
