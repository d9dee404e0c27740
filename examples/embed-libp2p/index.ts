/**
 * Embedding shardmesh in a libp2p node you already run — a DePIN node, say.
 *
 * Your node keeps its own transports, key and services; spreading `meshServices()` into its
 * `services` adds identify, ping, the `/shardmesh` kad-dht, gossipsub and the capabilities
 * service. Here two such nodes talk over real TCP on loopback: the second learns the first's
 * signed capability advert and finds it as a provider of its workload.
 *
 * Run: npm run build && node examples/embed-libp2p/dist/index.js [--json]
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { meshServices } from '@shardmesh/node' // importing it also installs the Node 20 polyfill
import { createLibp2p } from 'libp2p'

/** Your existing node: your transports, your services, plus shardmesh's. */
async function createDepinNode (workload: string) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: services(workload)
  })
}

function services (workload: string) {
  return {
    ...meshServices({
      network: 'lan',
      capabilities: { workloads: [{ id: workload, version: '1.0.0' }], nvidiaSmi: false }
    })
    // ...and the services your node already had, e.g. `telemetry: myTelemetry()`
  }
}

const json = process.argv.includes('--json')
const sensor = await createDepinNode('sensor-fusion')
const gateway = await createDepinNode('echo')
try {
  await gateway.dial(sensor.getMultiaddrs()[0])

  // the gateway syncs the sensor's signed advert as soon as the connection is identified
  const deadline = Date.now() + 10_000
  while (gateway.services.capabilities.getPeer(sensor.peerId) == null && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const peers = await gateway.services.capabilities.findPeers({ workload: 'sensor-fusion' }, { sources: ['table'] })
  const result = {
    sensor: sensor.peerId.toString(),
    gateway: gateway.peerId.toString(),
    found: peers.map(p => ({ peerId: p.peerId.toString(), workloads: p.workloads.map(w => `${w.id}@${w.version}`), ageMs: p.ageMs }))
  }
  if (json) {
    console.info(JSON.stringify(result))
  } else {
    console.info(`gateway ${result.gateway} found ${result.found.length} provider(s) of sensor-fusion:`)
    for (const p of result.found) {
      console.info(`  ${p.peerId}  ${p.workloads.join(', ')}  advert ${p.ageMs} ms old`)
    }
  }
  process.exitCode = peers.some(p => p.peerId.equals(sensor.peerId)) ? 0 : 1
} finally {
  await Promise.all([sensor.stop(), gateway.stop()])
}
