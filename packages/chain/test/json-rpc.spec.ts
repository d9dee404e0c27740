import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPairSigner, getBase58Decoder, getSignatureFromTransaction, getTransactionEncoder } from '@solana/kit'
import { WebSocket } from 'ws'
import { ChainServerConfigError, EmbeddedChain, startChainServer } from '../src/index.js'
import { memoInstruction, post, signOne } from './utils/harness.js'
import type { ChainServer } from '../src/index.js'
import type { Blockhash } from '@solana/kit'

const RECIPIENT = '11111111111111111111111111111112'

describe('embedded chain server: JSON-RPC protocol', function () {
  this.timeout(30_000)
  let server: ChainServer

  beforeEach(async () => {
    server = await startChainServer({ port: 0 })
  })

  afterEach(async () => {
    await server.close()
  })

  it('listens on loopback with HTTP and WebSocket on the same port', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(server.wsUrl, server.url.replace('http://', 'ws://'))
  })

  it('answers bad JSON with a parse error (-32700)', async () => {
    const { status, body } = await post(server.url, '{"jsonrpc":"2.0","id":1,')
    assert.equal(status, 200)
    assert.deepEqual(body, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null })
  })

  it('answers an unknown method with -32601 and the request id', async () => {
    const { body } = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 'abc', method: 'getEverything' }))
    assert.deepEqual(body, { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 'abc' })
  })

  it('answers a malformed request with -32600 and bad params with -32602', async () => {
    assert.equal((await post(server.url, JSON.stringify({ id: 1, method: 'getSlot' }))).body.error.code, -32600)
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getSlot', params: { x: 1 } }))).body.error.code, -32602)
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getBalance', params: ['not-an-address'] }))).body.error.code, -32602)
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getTransaction', params: ['xyz'] }))).body.error.code, -32602)
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: ['@@@@', { encoding: 'base64' }] }))).body.error.code, -32602)
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: ['AAAA', { encoding: 'base64' }] }))).body.error.code, -32602)
  })

  it('answers batches in order, skips notifications, and refuses an empty batch', async () => {
    const { body } = await post(server.url, JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'getSlot' },
      { jsonrpc: '2.0', method: 'getHealth' },
      { jsonrpc: '2.0', id: 2, method: 'nope' },
      { jsonrpc: '2.0', id: 3, method: 'getHealth' }
    ]))
    assert.deepEqual(body, [
      { jsonrpc: '2.0', result: 0, id: 1 },
      { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 2 },
      { jsonrpc: '2.0', result: 'ok', id: 3 }
    ])
    assert.deepEqual((await post(server.url, '[]')).body.error, { code: -32600, message: 'Invalid request' })
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', method: 'getHealth' }))).body, '')
  })

  it('refuses a body over 1 MiB with 413 and a JSON-RPC error', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth', params: ['x'.repeat(1024 * 1024)] })
    const { status, body } = await post(server.url, big)
    assert.equal(status, 413)
    assert.equal(body.error.code, -32600)
    // the server is still there
    assert.equal((await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getHealth' }))).body.result, 'ok')
  })

  it('takes POST only, and serves GET /health', async () => {
    assert.equal((await fetch(server.url)).status, 405)
    const health = await fetch(`${server.url}/health`)
    assert.equal(health.status, 200)
    assert.equal(await health.text(), 'ok')
  })

  it('gives context.slot on commitment-taking methods and refuses an unreached minContextSlot', async () => {
    const { body } = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getLatestBlockhash', params: [{ commitment: 'confirmed' }] }))
    assert.deepEqual(Object.keys(body.result), ['context', 'value'])
    assert.equal(body.result.context.slot, 0)
    assert.equal(body.result.value.lastValidBlockHeight, 150)
    const early = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getBalance', params: [server.chain.faucetAddress, { minContextSlot: 5 }] }))
    assert.equal(early.body.error.code, -32016)
  })

  it('takes base58 transactions (the default encoding) and serves transactions and accounts in base58', async () => {
    const payer = await generateKeyPairSigner()
    server.chain.airdrop(payer.address, 1_000_000_000n)
    const lifetime = server.chain.latestBlockhash()
    const tx = await signOne(payer, memoInstruction('base58 wire', payer), { blockhash: lifetime.blockhash as Blockhash, lastValidBlockHeight: lifetime.lastValidBlockHeight })
    const wire = Uint8Array.from(getTransactionEncoder().encode(tx))
    const sent = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'sendTransaction', params: [getBase58Decoder().decode(wire)] }))
    assert.equal(sent.body.result, getSignatureFromTransaction(tx))
    const got = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'getTransaction', params: [sent.body.result, { encoding: 'base58', maxSupportedTransactionVersion: 0 }] }))
    assert.deepEqual(got.body.result.transaction, [getBase58Decoder().decode(wire), 'base58'])
    const legacyClient = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'getTransaction', params: [sent.body.result, 'json'] }))
    assert.equal(legacyClient.body.error.code, -32015, 'a v0 transaction needs maxSupportedTransactionVersion')
    const account = await post(server.url, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'getAccountInfo', params: [payer.address] }))
    assert.equal(account.body.result.value.data, '', 'binary (bare base58) by default')
    assert.equal(account.body.result.value.lamports, 1_000_000_000 - 5000)
  })

  it('refuses a non-loopback host unless allowed', async () => {
    await assert.rejects(startChainServer({ host: '0.0.0.0', port: 0 }), (err: Error) => err instanceof ChainServerConfigError)
  })

  it('fails to start on a port in use, releasing the chain it opened', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shardmesh-port-'))
    try {
      const port = Number(new URL(server.url).port)
      await assert.rejects(startChainServer({ port, dataDir }), { code: 'EADDRINUSE' })
      const chain = await EmbeddedChain.open({ dataDir }) // not locked
      await chain.close()
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('serves a chain it was given and leaves it open on close', async () => {
    const chain = await EmbeddedChain.open()
    const other = await startChainServer({ port: 0, chain })
    await other.close()
    assert.equal(typeof chain.airdrop(RECIPIENT, 1_000_000_000n), 'string', 'the chain still works')
    await chain.close()
  })

  describe('WebSocket', () => {
    async function open (): Promise<{ ws: WebSocket, next: () => Promise<any> }> {
      const ws = new WebSocket(server.wsUrl)
      const queue: any[] = []
      const waiters: Array<(value: any) => void> = []
      ws.on('message', data => {
        const message = JSON.parse((data as Buffer).toString('utf8'))
        const waiter = waiters.shift()
        if (waiter != null) {
          waiter(message)
        } else {
          queue.push(message)
        }
      })
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
      return { ws, next: async () => queue.length > 0 ? queue.shift() : new Promise(resolve => { waiters.push(resolve) }) }
    }

    it('answers bad JSON, unknown methods and unknown subscription ids with JSON-RPC errors', async () => {
      const { ws, next } = await open()
      ws.send('{nope')
      assert.equal((await next()).error.code, -32700)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'blockSubscribe' }))
      assert.deepEqual(await next(), { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 1 })
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'slotUnsubscribe', params: [12345] }))
      assert.equal((await next()).error.code, -32602)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'slotSubscribe' }))
      const { result: id } = await next()
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'slotUnsubscribe', params: [id] }))
      assert.deepEqual(await next(), { jsonrpc: '2.0', result: true, id: 4 })
      ws.close()
    })

    it('ends a signature subscription after its one notification', async () => {
      const { ws, next } = await open()
      const signature = server.chain.airdrop(RECIPIENT, 1_000_000_000n)
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'signatureSubscribe', params: [signature] }))
      const { result: id } = await next()
      const notification = await next()
      assert.deepEqual(notification, { jsonrpc: '2.0', method: 'signatureNotification', params: { result: { context: { slot: 1 }, value: { err: null } }, subscription: id } })
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'signatureUnsubscribe', params: [id] }))
      assert.equal((await next()).error.code, -32602, 'already ended')
      ws.close()
    })

    it('closes a socket that sends an oversized message (1009)', async () => {
      const { ws } = await open()
      const closed = new Promise<number>(resolve => { ws.once('close', code => { resolve(code) }) })
      ws.send('x'.repeat(128 * 1024))
      assert.equal(await closed, 1009)
    })

    it('closes open sockets when the server closes', async () => {
      const { ws } = await open()
      const closed = new Promise<number>(resolve => { ws.once('close', code => { resolve(code) }) })
      await server.close()
      assert.equal(await closed, 1001)
    })
  })
})
