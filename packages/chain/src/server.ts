import { createServer } from 'node:http'
import { isIP } from 'node:net'
import { EmbeddedChain } from './chain.js'
import { DEFAULT_HOST, DEFAULT_PORT, MAX_BATCH_SIZE, MAX_BODY_BYTES } from './constants.js'
import { ChainServerConfigError } from './errors.js'
import { stringifyJson } from './json.js'
import { INVALID_REQUEST, JsonRpcError, PARSE_ERROR, errorResponse, parseRequest, successResponse, toJsonRpcError } from './json-rpc.js'
import { callMethod, createRpcMethods } from './rpc-methods.js'
import { SubscriptionHub } from './subscriptions.js'
import type { RpcMethod } from './rpc-methods.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'

export interface ChainServerInit {
  /** Data dir of the chain to open (ignored when `chain` is given). @default undefined (in memory) */
  dataDir?: string
  /** Address to listen on; must be loopback unless `allowNonLoopback`. @default '127.0.0.1' */
  host?: string
  /**
   * Port for HTTP and WebSocket both; the WebSocket is also served on `port + 1`, as
   * `solana-test-validator` does (8899/8900), where `@solana/web3.js` 1.x looks for it. 0 picks
   * a free port whose successor is free too. @default 8899
   */
  port?: number
  /** Also serve the WebSocket on `port + 1`. @default true */
  pubsubPort?: boolean
  /** Serve this chain instead of opening one; it stays open after `close()`. */
  chain?: EmbeddedChain
  /** Listen on a non-loopback address (anyone who can reach it can spend the faucet). @default false */
  allowNonLoopback?: boolean
  /** Largest request body (bytes). @default 1 MiB */
  maxBodyBytes?: number
}

export interface ChainServer {
  /** `http://HOST:PORT`, for `createSolanaRpc` */
  url: string
  /** `ws://HOST:PORT` (the same port, by HTTP upgrade), for `createSolanaRpcSubscriptions` */
  wsUrl: string
  /**
   * `ws://HOST:PORT+1`, the validator's PubSub port (the default of web3.js 1.x `Connection`),
   * or undefined when it is not served: turned off, or that port was taken (`pubsubPortError`
   * says why; the same-port WebSocket still works).
   */
  pubsubUrl: string | undefined
  /** Why `port + 1` is not served although it was asked for (e.g. EADDRINUSE), else undefined. */
  pubsubPortError: Error | undefined
  chain: EmbeddedChain
  /** Stop serving: close every socket, and the chain too when the server opened it. */
  close(): Promise<void>
}

function isLoopback (host: string): boolean {
  if (host === 'localhost') {
    return true
  }
  if (isIP(host) === 4) {
    return host.startsWith('127.')
  }
  return host === '::1' || host.startsWith('::ffff:127.')
}

/**
 * Serve an embedded chain as a Solana JSON-RPC endpoint: JSON-RPC 2.0 over HTTP POST
 * (single and batch) and Solana PubSub over WebSocket on the same port and on `port + 1`,
 * so the stock `@solana/kit` client (`createSolanaRpc`, `createSolanaRpcSubscriptions`,
 * `sendAndConfirmTransactionFactory`, `airdropFactory`) and the classic `@solana/web3.js` 1.x
 * `Connection` (which looks for the WebSocket on `port + 1`) work against it unchanged. A
 * taken `port + 1` does not stop the server: `pubsubUrl` is then undefined and
 * `pubsubPortError` says why.
 */
export async function startChainServer (init: ChainServerInit = {}): Promise<ChainServer> {
  const host = init.host ?? DEFAULT_HOST
  if (!isLoopback(host) && init.allowNonLoopback !== true) {
    throw new ChainServerConfigError(`refusing to serve the chain on non-loopback host ${host} (pass allowNonLoopback to do it anyway)`)
  }
  const port = init.port ?? DEFAULT_PORT
  const maxBodyBytes = init.maxBodyBytes ?? MAX_BODY_BYTES
  const ownsChain = init.chain == null
  const chain = init.chain ?? await EmbeddedChain.open({ dataDir: init.dataDir })
  const methods = createRpcMethods(chain)
  const hub = new SubscriptionHub(chain)
  const server = createServer((req, res) => { handleHttp(req, res, methods, maxBodyBytes) })
  server.on('upgrade', (req, socket, head) => { hub.handleUpgrade(req, socket, head) })
  server.on('clientError', (_err, socket) => { socket.destroy() })
  // the validator's PubSub port: WebSocket only, as there
  const pubsub = createServer((_req, res) => { reply(res, 426, 'WebSocket only: upgrade to the Solana PubSub protocol', 'text/plain; charset=utf-8') })
  pubsub.on('upgrade', (req, socket, head) => { hub.handleUpgrade(req, socket, head) })
  pubsub.on('clientError', (_err, socket) => { socket.destroy() })

  let pubsubPortError: Error | undefined
  let pubsubBound = false
  try {
    if (init.pubsubPort === false) {
      await listen(server, port, host)
    } else {
      ({ pubsubBound, pubsubPortError } = await listenPair(server, pubsub, port, host))
    }
  } catch (err) {
    await hub.close()
    if (ownsChain) {
      await chain.close()
    }
    throw err
  }
  const bound = (server.address() as { port: number }).port
  const hostPart = isIP(host) === 6 ? `[${host}]` : host
  const authority = `${hostPart}:${bound}`
  let closing: Promise<void> | undefined

  return {
    url: `http://${authority}`,
    wsUrl: `ws://${authority}`,
    pubsubUrl: pubsubBound ? `ws://${hostPart}:${bound + 1}` : undefined,
    pubsubPortError,
    chain,
    close: async () => {
      closing ??= (async () => {
        const stopped = new Promise<void>(resolve => { server.close(() => { resolve() }) })
        const pubsubStopped = pubsubBound ? new Promise<void>(resolve => { pubsub.close(() => { resolve() }) }) : undefined
        await hub.close()
        server.closeAllConnections()
        pubsub.closeAllConnections()
        await stopped
        await pubsubStopped
        if (ownsChain) {
          await chain.close()
        }
      })()
      return closing
    }
  }
}

async function listen (server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => { reject(err) }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/** Free ports for the RPC server on `port: 0` tried before giving up on `port + 1`. */
const PORT_PAIR_ATTEMPTS = 20

/**
 * Listen on `port` (a failure there is fatal) and `pubsub` on `port + 1` (a failure there is
 * reported, not thrown: the same-port WebSocket still serves). With `port` 0, retry other free
 * ports until one whose successor is free too is found, then settle for any free port.
 */
async function listenPair (server: Server, pubsub: Server, port: number, host: string): Promise<{ pubsubBound: boolean, pubsubPortError: Error | undefined }> {
  const attempts = port === 0 ? PORT_PAIR_ATTEMPTS : 1
  let pubsubPortError: Error | undefined
  for (let attempt = 0; attempt < attempts; attempt++) {
    await listen(server, port, host)
    const bound = (server.address() as { port: number }).port
    if (bound >= 65535) {
      pubsubPortError = new Error(`no port after ${bound} for the PubSub WebSocket`)
    } else {
      try {
        await listen(pubsub, bound + 1, host)
        return { pubsubBound: true, pubsubPortError: undefined }
      } catch (err: any) {
        pubsubPortError = err
      }
    }
    if (attempt + 1 < attempts) {
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    }
  }
  return { pubsubBound: false, pubsubPortError }
}

function reply (res: ServerResponse, status: number, body: string, contentType = 'application/json; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function handleHttp (req: IncomingMessage, res: ServerResponse, methods: Record<string, RpcMethod>, maxBodyBytes: number): void {
  if (req.method === 'GET' && (req.url === '/health' || req.url?.startsWith('/health?') === true)) {
    reply(res, 200, 'ok', 'text/plain; charset=utf-8')
    return
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    reply(res, 405, 'Used HTTP Method is not allowed. POST is required', 'text/plain; charset=utf-8')
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  let tooLarge = false
  req.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > maxBodyBytes) {
      tooLarge = true
      chunks.length = 0
      if (size > maxBodyBytes * 16) {
        req.destroy() // not worth reading to the end
      }
      return
    }
    chunks.push(chunk)
  })
  req.on('end', () => {
    if (tooLarge) {
      res.setHeader('connection', 'close')
      reply(res, 413, stringifyJson(errorResponse(null, new JsonRpcError(INVALID_REQUEST, `Request body too large (max ${maxBodyBytes} bytes)`))))
      return
    }
    reply(res, 200, handleBody(Buffer.concat(chunks).toString('utf8'), methods))
  })
  req.on('error', () => { res.destroy() })
}

/** The response body for a request body: one response, a batch of them, or '' when all were notifications. */
function handleBody (body: string, methods: Record<string, RpcMethod>): string {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return stringifyJson(errorResponse(null, new JsonRpcError(PARSE_ERROR, 'Parse error')))
  }
  if (!Array.isArray(value)) {
    const response = handleOne(value, methods)
    return response === undefined ? '' : stringifyJson(response)
  }
  if (value.length === 0 || value.length > MAX_BATCH_SIZE) {
    return stringifyJson(errorResponse(null, new JsonRpcError(INVALID_REQUEST, value.length === 0 ? 'Invalid request' : `Batch too large (max ${MAX_BATCH_SIZE})`)))
  }
  const responses = value.map(item => handleOne(item, methods)).filter(response => response !== undefined)
  return responses.length === 0 ? '' : stringifyJson(responses)
}

function handleOne (value: unknown, methods: Record<string, RpcMethod>): unknown {
  const request = parseRequest(value)
  if (request instanceof JsonRpcError) {
    return errorResponse(null, request)
  }
  let response: unknown
  try {
    response = successResponse(request.id, callMethod(methods, request.method, request.params))
  } catch (err) {
    response = errorResponse(request.id, toJsonRpcError(err))
  }
  return request.hasId ? response : undefined
}
