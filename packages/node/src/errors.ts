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
