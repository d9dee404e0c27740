import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { WebSocket } from 'ws'
import { EmbeddedChain, startChainServer } from '../src/index.js'
import type { Server } from 'node:net'

/** Listen on `port` (0: any) on loopback. */
async function occupy (port: number): Promise<Server> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { resolve() })
  })
  return server
}

async function release (server: Server): Promise<void> {
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
}

/** One JSON-RPC call over a fresh WebSocket at `url`. */
async function wsCall (url: string, method: string, params: unknown[] = []): Promise<any> {
  const socket = new WebSocket(url)
  try {
    await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
    const reply = new Promise<any>(resolve => { socket.once('message', (data: Buffer) => { resolve(JSON.parse(data.toString('utf8'))) }) })
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }))
    return await reply
  } finally {
    socket.close()
  }
}

describe('embedded chain server: the WebSocket on port + 1', function () {
  this.timeout(30_000)
  let chain: EmbeddedChain

  beforeEach(async () => {
    chain = await EmbeddedChain.open()
  })

  afterEach(async () => {
    await chain.close()
  })

  it('port 0 picks a port whose successor is free, and serves PubSub on both', async () => {
    const server = await startChainServer({ port: 0, chain })
    try {
      const port = Number(new URL(server.url).port)
      assert.equal(server.pubsubUrl, `ws://127.0.0.1:${port + 1}`)
      assert.equal(server.pubsubPortError, undefined)
      assert.deepEqual(await wsCall(server.wsUrl, 'slotSubscribe'), { jsonrpc: '2.0', result: 1, id: 7 })
      assert.deepEqual(await wsCall(server.pubsubUrl, 'slotSubscribe'), { jsonrpc: '2.0', result: 2, id: 7 })
      // port + 1 is WebSocket-only, as the validator's PubSub port
      const plain = await fetch(`http://127.0.0.1:${port + 1}/`, { method: 'POST', body: '{}' })
      assert.equal(plain.status, 426)
      await plain.text()
    } finally {
      await server.close()
    }
  })

  it('a taken port + 1 does not stop a server on a fixed port: it says why, and the same-port WebSocket serves', async () => {
    // find a free port whose successor can be taken
    let blocker: Server | undefined
    let port = 0
    for (let attempt = 0; attempt < 20 && blocker == null; attempt++) {
      const probe = await occupy(0)
      port = (probe.address() as { port: number }).port
      await release(probe)
      blocker = await occupy(port + 1).catch(() => undefined)
    }
    assert.ok(blocker != null)
    try {
      const server = await startChainServer({ port, chain })
      try {
        assert.equal(server.url, `http://127.0.0.1:${port}`)
        assert.equal(server.pubsubUrl, undefined)
        assert.equal((server.pubsubPortError as NodeJS.ErrnoException).code, 'EADDRINUSE')
        assert.equal((await wsCall(server.wsUrl, 'rootSubscribe')).result, 1)
      } finally {
        await server.close()
      }
    } finally {
      await release(blocker)
    }
  })

  it('pubsubPort: false serves the same port only', async () => {
    const server = await startChainServer({ port: 0, chain, pubsubPort: false })
    try {
      assert.equal(server.pubsubUrl, undefined)
      assert.equal(server.pubsubPortError, undefined)
    } finally {
      await server.close()
    }
  })

  it('an unknown method or subscription is answered -32601 "Method not found" with its id, on both ports and over HTTP', async () => {
    const server = await startChainServer({ port: 0, chain })
    try {
      const notFound = { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 7 }
      assert.ok(server.pubsubUrl != null)
      assert.deepEqual(await wsCall(server.wsUrl, 'blockSubscribe', ['all']), notFound)
      assert.deepEqual(await wsCall(server.pubsubUrl, 'voteSubscribe'), notFound)
      assert.deepEqual(await wsCall(server.wsUrl, 'logsUnsubscribe', [99]), { jsonrpc: '2.0', error: { code: -32602, message: 'Invalid subscription id.' }, id: 7 })
      assert.deepEqual((await wsCall(server.wsUrl, 'logsSubscribe', [{ mentions: [chain.faucetAddress, chain.faucetAddress] }])).error,
        { code: -32602, message: 'Invalid Request: Only 1 address supported' })
      const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'getStakeActivation', params: [] }) })
      assert.deepEqual(await response.json(), notFound)
    } finally {
      await server.close()
    }
  })
})
