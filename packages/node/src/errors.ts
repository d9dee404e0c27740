import { ShardmeshError } from '@shardmesh/protocol'

/**
 * The node could not listen on one or more of its listen addresses (a port in use, an address
 * this host does not have, a transport that is not installed). `addrs` lists each address with
 * its reason, one line each, without stack traces.
 */
export class ListenError extends ShardmeshError {
  static readonly code = 'ERR_LISTEN'

  constructor (readonly addrs: Array<{ addr: string, reason: string }>, options?: ErrorOptions) {
    super(`cannot listen on ${addrs.map(a => `${a.addr} (${a.reason})`).join(', ')}`, ListenError.code, options)
    this.name = 'ListenError'
  }
}

/** A key file that is unreadable, of the wrong type, or not a Solana keypair. */
export class InvalidKeyError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_KEY'

  constructor (message: string, options?: ErrorOptions) {
    super(message, InvalidKeyError.code, options)
    this.name = 'InvalidKeyError'
  }
}

/** A data dir with no node key, asked for by something that must not create one. */
export class KeyNotFoundError extends ShardmeshError {
  static readonly code = 'ERR_KEY_NOT_FOUND'

  constructor (public readonly dataDir: string, options?: ErrorOptions) {
    super(`no node key in ${dataDir} (a node key is created by \`shardmesh node start\` or \`shardmesh key import\`; check --data-dir)`, KeyNotFoundError.code, options)
    this.name = 'KeyNotFoundError'
  }
}

/** A swarm key (the pre-shared key of a private mesh) that is unreadable or not in libp2p's format. */
export class InvalidSwarmKeyError extends ShardmeshError {
  static readonly code = 'ERR_INVALID_SWARM_KEY'

  constructor (message: string, options?: ErrorOptions) {
    super(`not a swarm key: ${message}`, InvalidSwarmKeyError.code, options)
    this.name = 'InvalidSwarmKeyError'
  }
}

/**
 * An inbound stream this node refused before its handler ran (the peer sees a reset stream):
 * `reason` is `rate` (the peer opened more streams of this protocol than its rate allows).
 */
export class InboundRefusedError extends ShardmeshError {
  static readonly code = 'ERR_INBOUND_REFUSED'

  constructor (readonly protocol: string, readonly reason: string, options?: ErrorOptions) {
    super(`inbound ${protocol} stream refused: ${reason}`, InboundRefusedError.code, options)
    this.name = 'InboundRefusedError'
  }
}
