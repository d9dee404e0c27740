import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { waitFor } from '@shardmesh/test-utils'
import { createMeshNode } from '../src/index.js'
import { memoryMeshNode } from './utils/cluster.js'
import type { Server } from 'node:net'

describe('createMeshNode', function () {
  this.timeout(20_000)

  it('with awaitJoin false returns while an unreachable bootstrap peer is redialled; stop ends the join', async () => {
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const node = await memoryMeshNode({}, { bootstrap: [`/memory/nobody-${randomUUID()}/p2p/${nobody.toString()}`], awaitJoin: false, joinTimeout: 600_000 })
    let settled = false
    const joined = node.joined.then(r => { settled = true; return r })
    // the node listens and serves while the join goes on
    assert.equal(node.status, 'started')
    assert.ok(node.getMultiaddrs().length > 0)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(settled, false)
    await node.stop()
    const result = await joined
    assert.equal(result.connected, 0)
  })

  it('advertises what it serves at once, unmeasured, and calibrates itself only once its join settled', async () => {
    const nobody = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const node = await memoryMeshNode({}, {
      bootstrap: [`/memory/nobody-${randomUUID()}/p2p/${nobody.toString()}`],
      awaitJoin: false,
      joinTimeout: 1_500,
      // no wait for a quiet mesh or an idle host here: what is tested is the wait for the join
      compute: { offer: ['echo'], poolSize: 1, calibrate: { quiet: 0, idleCpu: false, jitter: 0 } }
    })
    const echoThroughput = (): number | undefined => node.services.capabilities.getAdvert()?.workloads.find(w => w.id === 'echo')?.throughput
    let joined = false
    void node.joined.then(() => { joined = true })
    try {
      await waitFor(() => echoThroughput() === 0, 'echo advertised, unmeasured')
      // the join runs until its deadline: no calibration competes with it
      while (!joined) {
        assert.equal(node.services.compute.ownSpeeds().size, 0, 'calibrated before the join settled')
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      await waitFor(() => node.services.compute.ownSpeeds().has('echo@1.0.0'), 'calibration once the join settled', { timeout: 10_000 })
      await waitFor(() => (echoThroughput() ?? 0) > 0, 'the measured throughput advertised')
    } finally {
      await node.stop()
    }
  })

  it('a listen address in use fails the start with a ListenError naming it, and nothing keeps running', async () => {
    const busy: Server = createServer()
    await new Promise<void>(resolve => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      await assert.rejects(createMeshNode({ listen: [`/ip4/127.0.0.1/tcp/${port}`], capabilities: { nvidiaSmi: false } }), (err: any) => {
        assert.equal(err.name, 'ListenError')
        assert.deepEqual(err.addrs, [{ addr: `/ip4/127.0.0.1/tcp/${port}`, reason: 'address already in use' }])
        assert.equal(err.message, `cannot listen on /ip4/127.0.0.1/tcp/${port} (address already in use)`)
        return true
      })
    } finally {
      busy.close()
    }
  })
})
