/**
 * A TCP port forwarder: `node forward.mjs LISTEN_HOST:PORT TARGET_HOST:PORT [PARENT_PID]`
 * (with PARENT_PID it exits once that process is gone).
 *
 * `shardmesh chain` listens on loopback only, so run.sh forwards the chain host's own address
 * (10.77.0.10:8899) to it, inside that host's namespace: nodes on the other hosts reach the
 * chain's JSON-RPC and WebSocket (one HTTP port, upgrades included) as they would a validator.
 */
import { createServer, connect } from 'node:net'

const [listen, target] = process.argv.slice(2, 4).map(a => {
  const at = a.lastIndexOf(':')
  return { host: a.slice(0, at), port: Number(a.slice(at + 1)) }
})
if (listen?.host == null || target?.host == null || !(listen.port > 0) || !(target.port > 0)) {
  console.error('usage: node forward.mjs LISTEN_HOST:PORT TARGET_HOST:PORT')
  process.exit(2)
}
const server = createServer(client => {
  const upstream = connect(target.port, target.host)
  client.pipe(upstream).pipe(client)
  client.on('error', () => upstream.destroy())
  upstream.on('error', () => client.destroy())
})
server.listen(listen.port, listen.host, () => {
  console.info(`forwarding ${listen.host}:${listen.port} -> ${target.host}:${target.port}`)
})
process.on('SIGTERM', () => { server.close(); process.exit(0) })
const parent = Number(process.argv[4])
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch {
      process.exit(0)
    }
  }, 1000).unref()
}
