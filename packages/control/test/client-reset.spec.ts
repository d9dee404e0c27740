import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { ControlClient, NodeNotRunningError } from '../src/index.js'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

describe('ControlClient: a connection reset under a request', () => {
  let server: Server
  let url: string
  /** how many requests arrive, and how many of the first are answered with a reset */
  let seen = 0
  let resets = 0

  before(async () => {
    server = createServer((req, res) => {
      seen++
      if (resets > 0) {
        resets--
        req.socket.resetAndDestroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ peerId: 'me', seq: 1, issuedAt: 2 }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
  })

  beforeEach(() => {
    seen = 0
  })

  it('a GET is asked again once, and answered', async () => {
    resets = 1
    const status = await new ControlClient(url, 't').status()
    assert.equal(status.peerId, 'me')
    assert.equal(seen, 2)
  })

  it('a GET reset twice fails as a node that does not answer, naming the reset', async () => {
    resets = 2
    await assert.rejects(new ControlClient(url, 't').status(), (err: any) => err instanceof NodeNotRunningError && /ECONNRESET|UND_ERR_SOCKET/.test(err.message))
    assert.equal(seen, 2)
  })

  it('a POST is never sent twice: it may have been done', async () => {
    resets = 1
    await assert.rejects(new ControlClient(url, 't').updateCapabilities({ freeSlots: 1 }), NodeNotRunningError)
    assert.equal(seen, 1)
  })
})
