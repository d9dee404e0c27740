import { WebSocketServer } from 'ws'
import { matchesFilters, parseAccountFilters } from './account-filters.js'
import { LANDED_NOTIFY_DELAY, MAX_SUBSCRIPTIONS_PER_SOCKET, MAX_WS_BUFFERED_BYTES, MAX_WS_MESSAGE_BYTES } from './constants.js'
import { stringifyJson } from './json.js'
import {
  INVALID_PARAMS, JsonRpcError, METHOD_NOT_FOUND, PARSE_ERROR, addressParam, configParam, errorResponse, integerParam, parseRequest,
  signatureParam, successResponse, toJsonRpcError
} from './json-rpc.js'
import { assertAccountEncoding, encodeAccount } from './rpc-encode.js'
import type { EmbeddedChain } from './chain.js'
import type { SlotEvent, TransactionEvent } from './types.js'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { RawData, WebSocket } from 'ws'

/**
 * Solana's PubSub over WebSocket: `signatureSubscribe` (one notification when the signature
 * lands, or shortly after subscribing if it already has, then the subscription ends, as on
 * Solana), `slotSubscribe`, `slotsUpdatesSubscribe`, `rootSubscribe`, `accountSubscribe`,
 * `programSubscribe` and `logsSubscribe` (`'all'`, `'allWithVotes'` or `{ mentions: [address] }`),
 * each with its `…Unsubscribe`: every subscription `@solana/web3.js` 1.x makes, since that
 * client re-sends a refused subscribe call at once, forever. Any other method is answered
 * -32601 "Method not found", as the validator does.
 */

type Kind = 'signature' | 'slot' | 'slotsUpdates' | 'root' | 'account' | 'program' | 'logs'

const UNSUBSCRIBE_METHODS = new Set(['signatureUnsubscribe', 'slotUnsubscribe', 'slotsUpdatesUnsubscribe', 'rootUnsubscribe', 'accountUnsubscribe', 'programUnsubscribe', 'logsUnsubscribe'])

interface Subscription {
  id: number
  kind: Kind
  connection: Connection
  /** the signature or address watched (the mentioned address for logs; none for all logs) */
  key?: string
  config: Record<string, unknown>
  /** programSubscribe's decoded filters */
  filters?: ReturnType<typeof parseAccountFilters>
}

interface Connection {
  socket: WebSocket
  subscriptions: Map<number, Subscription>
}

function rawText (data: RawData): string {
  if (Array.isArray(data)) {
    return Buffer.concat(data).toString('utf8')
  }
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8')
}

const NOTIFICATION_METHOD: Record<Kind, string> = {
  signature: 'signatureNotification',
  slot: 'slotNotification',
  slotsUpdates: 'slotsUpdatesNotification',
  root: 'rootNotification',
  account: 'accountNotification',
  program: 'programNotification',
  logs: 'logsNotification'
}

/** The address a `logsSubscribe` filter mentions, or undefined for all transactions. */
function logsFilterKey (filter: unknown): string | undefined {
  if (filter === 'all' || filter === 'allWithVotes') {
    return undefined // no vote transactions on this chain: both are every transaction
  }
  const mentions = (filter as { mentions?: unknown } | null)?.mentions
  if (typeof filter !== 'object' || filter == null || !Array.isArray(mentions)) {
    throw new JsonRpcError(INVALID_PARAMS, 'Invalid params: expected "all", "allWithVotes" or { "mentions": [address] }')
  }
  if (mentions.length !== 1) {
    throw new JsonRpcError(INVALID_PARAMS, 'Invalid Request: Only 1 address supported')
  }
  return addressParam(mentions, 0)
}

export class SubscriptionHub {
  private readonly chain: EmbeddedChain
  private readonly server: WebSocketServer
  private readonly connections = new Set<Connection>()
  private readonly byKey = new Map<string, Set<Subscription>>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private nextId = 1
  private closing = false
  private readonly onSlot = (event: SlotEvent): void => { this.notifySlot(event) }
  private readonly onTransaction = (event: TransactionEvent): void => { this.notifyTransaction(event) }

  constructor (chain: EmbeddedChain) {
    this.chain = chain
    this.server = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES })
    chain.on('slot', this.onSlot)
    chain.on('transaction', this.onTransaction)
  }

  /** Take over an HTTP upgrade request. */
  handleUpgrade (request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    this.server.handleUpgrade(request, socket, head, ws => { this.accept(ws) })
  }

  private accept (socket: WebSocket): void {
    const connection: Connection = { socket, subscriptions: new Map() }
    this.connections.add(connection)
    socket.on('message', data => { this.onMessage(connection, data) })
    socket.on('error', () => { socket.terminate() })
    socket.on('close', () => {
      this.connections.delete(connection)
      for (const subscription of connection.subscriptions.values()) {
        this.remove(subscription)
      }
    })
  }

  private onMessage (connection: Connection, data: RawData): void {
    let value: unknown
    try {
      value = JSON.parse(rawText(data))
    } catch {
      this.send(connection, errorResponse(null, new JsonRpcError(PARSE_ERROR, 'Parse error')))
      return
    }
    const request = parseRequest(value)
    if (request instanceof JsonRpcError) {
      this.send(connection, errorResponse(null, request))
      return
    }
    if (!request.hasId) {
      return // a notification, e.g. kit's keep-alive `ping`
    }
    try {
      this.send(connection, successResponse(request.id, this.call(connection, request.method, request.params)))
    } catch (err) {
      this.send(connection, errorResponse(request.id, toJsonRpcError(err)))
    }
  }

  private call (connection: Connection, method: string, params: unknown[]): unknown {
    switch (method) {
      case 'signatureSubscribe': {
        const signature = signatureParam(params[0])
        const subscription = this.add(connection, 'signature', signature, configParam(params, 1))
        if (this.chain.signatureStatus(signature) != null) {
          // it already landed: answer after the subscription id has reached the client
          const timer = setTimeout(() => {
            this.timers.delete(timer)
            this.notifySignature(subscription)
          }, LANDED_NOTIFY_DELAY)
          this.timers.add(timer)
        }
        return subscription.id
      }
      case 'slotSubscribe':
        return this.add(connection, 'slot', undefined, {}).id
      case 'rootSubscribe':
        return this.add(connection, 'root', undefined, {}).id
      case 'accountSubscribe': {
        const address = addressParam(params, 0)
        const config = configParam(params, 1)
        assertAccountEncoding(config)
        return this.add(connection, 'account', address, config).id
      }
      case 'slotsUpdatesSubscribe':
        return this.add(connection, 'slotsUpdates', undefined, {}).id
      case 'programSubscribe': {
        const program = addressParam(params, 0)
        const config = configParam(params, 1)
        assertAccountEncoding(config)
        const filters = parseAccountFilters(config.filters)
        const subscription = this.add(connection, 'program', program, config)
        subscription.filters = filters
        return subscription.id
      }
      case 'logsSubscribe': {
        const key = logsFilterKey(params[0])
        configParam(params, 1)
        return this.add(connection, 'logs', key, {}).id
      }
      default: {
        if (!UNSUBSCRIBE_METHODS.has(method)) {
          throw new JsonRpcError(METHOD_NOT_FOUND, 'Method not found')
        }
        const id = Number(integerParam(params[0], 'subscription id'))
        const subscription = connection.subscriptions.get(id)
        if (subscription == null || `${subscription.kind}Unsubscribe` !== method) {
          throw new JsonRpcError(INVALID_PARAMS, 'Invalid subscription id.')
        }
        this.remove(subscription)
        return true
      }
    }
  }

  private add (connection: Connection, kind: Kind, key: string | undefined, config: Record<string, unknown>): Subscription {
    if (connection.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      throw new JsonRpcError(INVALID_PARAMS, `at most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions per connection`)
    }
    const subscription: Subscription = { id: this.nextId++, kind, connection, key, config }
    connection.subscriptions.set(subscription.id, subscription)
    const index = `${kind}:${key ?? ''}`
    let set = this.byKey.get(index)
    if (set == null) {
      set = new Set()
      this.byKey.set(index, set)
    }
    set.add(subscription)
    return subscription
  }

  private remove (subscription: Subscription): void {
    subscription.connection.subscriptions.delete(subscription.id)
    const index = `${subscription.kind}:${subscription.key ?? ''}`
    const set = this.byKey.get(index)
    set?.delete(subscription)
    if (set?.size === 0) {
      this.byKey.delete(index)
    }
  }

  private subscribers (kind: Kind, key = ''): Subscription[] {
    return [...(this.byKey.get(`${kind}:${key}`) ?? [])]
  }

  private notify (subscription: Subscription, result: unknown): void {
    this.send(subscription.connection, { jsonrpc: '2.0', method: NOTIFICATION_METHOD[subscription.kind], params: { result, subscription: subscription.id } })
  }

  /** Notify a signature subscription with the landed status, then end it. */
  private notifySignature (subscription: Subscription): void {
    if (!subscription.connection.subscriptions.has(subscription.id) || subscription.key == null) {
      return
    }
    const status = this.chain.signatureStatus(subscription.key)
    if (status == null) {
      return
    }
    this.remove(subscription)
    this.notify(subscription, { context: { slot: status.slot }, value: { err: status.err } })
  }

  private notifySlot (event: SlotEvent): void {
    for (const subscription of this.subscribers('slot')) {
      this.notify(subscription, { parent: event.parent, root: event.root, slot: event.slot })
    }
    for (const subscription of this.subscribers('root')) {
      this.notify(subscription, event.root)
    }
  }

  private notifyTransaction ({ record, accounts }: TransactionEvent): void {
    this.notifySlotsUpdates(record)
    const logs = { context: { slot: record.slot }, value: { signature: record.signature, err: record.err, logs: record.logMessages } }
    for (const subscription of this.subscribers('logs')) {
      this.notify(subscription, logs)
    }
    for (const address of new Set(record.accountKeys)) {
      for (const subscription of this.subscribers('logs', address)) {
        this.notify(subscription, logs)
      }
    }
    for (const subscription of this.subscribers('signature', record.signature)) {
      this.notifySignature(subscription)
    }
    for (const account of accounts) {
      for (const subscription of this.subscribers('program', account.owner)) {
        if (account.lamports === 0n || !matchesFilters(account, subscription.filters ?? [])) {
          continue
        }
        let value: unknown
        try {
          value = encodeAccount(account, subscription.config)
        } catch {
          continue
        }
        this.notify(subscription, { context: { slot: record.slot }, value: { pubkey: account.address, account: value } })
      }
    }
    for (const account of accounts) {
      for (const subscription of this.subscribers('account', account.address)) {
        let value: unknown
        try {
          value = encodeAccount(account, subscription.config)
        } catch {
          continue // data too long for base58: Solana skips it too
        }
        this.notify(subscription, { context: { slot: record.slot }, value })
      }
    }
  }

  /** A bank's life in one go (it is created, filled, frozen and rooted at once), as `slotsUpdatesNotification`s. */
  private notifySlotsUpdates (record: TransactionEvent['record']): void {
    const subscriptions = this.subscribers('slotsUpdates')
    if (subscriptions.length === 0) {
      return
    }
    const timestamp = Date.now()
    const { slot } = record
    const ok = record.err == null ? 1 : 0
    const updates = [
      { type: 'createdBank', parent: slot - 1n, slot, timestamp },
      { type: 'completed', slot, timestamp },
      { type: 'frozen', slot, timestamp, stats: { numTransactionEntries: 1, numSuccessfulTransactions: ok, numFailedTransactions: 1 - ok, maxTransactionsPerEntry: 1 } },
      { type: 'optimisticConfirmation', slot, timestamp },
      { type: 'root', slot, timestamp }
    ]
    for (const subscription of subscriptions) {
      for (const update of updates) {
        this.notify(subscription, update)
      }
    }
  }

  private send (connection: Connection, message: unknown): void {
    const { socket } = connection
    if (socket.readyState !== socket.OPEN) {
      return
    }
    if (socket.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      socket.terminate() // a reader this far behind is stuck
      return
    }
    socket.send(stringifyJson(message))
  }

  /** Close every socket (1001) and stop listening to the chain; sockets that do not finish closing within `graceMs` are cut. */
  async close (graceMs = 1000): Promise<void> {
    this.closing = true
    this.chain.off('slot', this.onSlot)
    this.chain.off('transaction', this.onTransaction)
    for (const timer of this.timers) {
      clearTimeout(timer)
    }
    this.timers.clear()
    const closed = [...this.connections].map(async ({ socket }) => new Promise<void>(resolve => {
      if (socket.readyState === socket.CLOSED) {
        resolve()
        return
      }
      const timer = setTimeout(() => { socket.terminate() }, graceMs)
      socket.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.close(1001, 'server closing')
    }))
    await Promise.all(closed)
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }
}
