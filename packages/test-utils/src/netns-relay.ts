/**
 * The relay a `NetLab` runs inside one host's network namespace (`ip netns exec NS node
 * netns-relay.js SOCKET`): it listens on the Unix socket SOCKET (a path in the file system,
 * which every namespace shares) and relays each connection to the TCP address its first line
 * names (`<address> <port>\n`), dialled from inside the namespace. That is how a test process,
 * which lives in the machine's own namespace, reaches a server bound to a host's loopback or
 * address. It prints `ready` once it listens and exits when its stdin ends (its parent is gone).
 */
import { connect, createServer } from 'node:net'
import type { Socket } from 'node:net'

/** a header longer than this is not a header: the connection is dropped */
const MAX_HEADER = 256

const path = process.argv[2]
if (path == null || path === '') {
  process.stderr.write('usage: netns-relay.js SOCKET_PATH\n')
  process.exit(2)
}

function relay (client: Socket): void {
  let head = Buffer.alloc(0)
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk])
    const nl = head.indexOf(10)
    if (nl < 0) {
      if (head.length > MAX_HEADER) {
        client.destroy()
      }
      return
    }
    client.off('data', onData)
    client.pause()
    const [address, port] = head.subarray(0, nl).toString('utf8').trim().split(' ')
    const rest = head.subarray(nl + 1)
    const target = connect({ host: address, port: Number(port) })
    target.once('connect', () => {
      if (rest.length > 0) {
        target.write(rest)
      }
      client.pipe(target)
      target.pipe(client)
      client.resume()
    })
    // an error drops the other side; a side that closed ends the other once what it wrote is
    // flushed (pipe() ends it), never destroys it: that would drop bytes still buffered
    target.on('error', () => { client.destroy() })
    client.on('error', () => { target.destroy() })
    target.on('close', () => { client.end() })
    client.on('close', () => { target.end() })
  }
  client.on('data', onData)
  client.on('error', () => {})
}

const server = createServer(relay)
server.listen(path, () => { process.stdout.write('ready\n') })
server.on('error', err => {
  process.stderr.write(`netns-relay: ${err.message}\n`)
  process.exit(1)
})
process.stdin.on('data', () => {})
process.stdin.on('end', () => { process.exit(0) })
process.stdin.on('error', () => { process.exit(0) })
