import assert from 'node:assert/strict'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { signAdvert } from '@shardmesh/capabilities'
import { LocalCluster } from '@shardmesh/cli/harness'
import { createMeshNode } from '@shardmesh/node'
import { ATTESTATION_SIGNATURE_DOMAIN, ATTESTATION_TOPIC, Attestation, CAPS_PROTOCOL, CAPS_TOPIC, SignedAttestation, decodeCapsResponse, encodeSignedAdvert } from '@shardmesh/protocol'
import { signAttestation } from '@shardmesh/trust'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { waitFor } from '@shardmesh/test-utils'
import type { AdvertContent } from '@shardmesh/capabilities'
import type { PrivateKey } from '@libp2p/interface'
import type { MeshNode } from '@shardmesh/node'

const CONTENT: AdvertContent = {
  hardware: { cpuModel: 'forged', cpuCores: 1024, memoryBytes: 2 ** 40, gpus: [], platform: 'linux', arch: 'x64' },
  workloads: [{ id: 'echo', version: '1.0.0', throughput: 1e9 }],
  models: [],
  loadPermille: 0,
  freeSlots: 1024,
  totalSlots: 1024,
  priceHint: '',
  addrs: []
}

/** An attestation encoded and signed by hand: what `signAttestation` refuses to make (a self-attestation). */
async function handSigned (key: PrivateKey, subject: PrivateKey): Promise<Uint8Array> {
  const payload = Attestation.encode({
    challenger: peerIdFromPrivateKey(key).toMultihash().bytes,
    subject: peerIdFromPrivateKey(subject).toMultihash().bytes,
    workload: 'echo',
    version: '1.0.0',
    items: 8,
    itemsPerSec: 1e9,
    ok: true,
    beyondCpu: true,
    at: BigInt(Date.now()),
    nonce: new Uint8Array(16).fill(7)
  })
  const domain = new TextEncoder().encode(ATTESTATION_SIGNATURE_DOMAIN)
  const signature = await key.sign(new Uint8Array([...domain, ...payload]))
  return SignedAttestation.encode({ payload, publicKey: new Uint8Array(publicKeyToProtobuf(key.publicKey)), signature: new Uint8Array(signature) })
}

function attestationsRejected (metrics: string, reason: string): number {
  const line = metrics.split('\n').find(l => l.startsWith(`shardmesh_trust_attestations_rejected_total{reason="${reason}"}`))
  return line == null ? 0 : Number(line.split(' ').pop())
}

function rejected (metrics: string, reason: string): number {
  const line = metrics.split('\n').find(l => l.startsWith(`shardmesh_capabilities_adverts_rejected_total{reason="${reason}"}`))
  return line == null ? 0 : Number(line.split(' ').pop())
}

describe('a hostile peer over real TCP', function () {
  this.timeout(120_000)
  let cluster: LocalCluster
  let attacker: MeshNode
  let attackerKey: PrivateKey

  before(async () => {
    cluster = new LocalCluster({ nodes: 2, advertTtl: '10s', refresh: '2s' })
    await cluster.start()
    await cluster.waitConverged({ timeout: 30_000 })
    attackerKey = await generateKeyPair('Ed25519')
    attacker = await createMeshNode({ privateKey: attackerKey, network: 'lan', bootstrap: [cluster.nodes[0].addrs[0]], capabilities: { nvidiaSmi: false } })
    // wait until the victim holds the attacker's (honest) advert: the gossip mesh is up
    await waitFor(async () => (await cluster.peersOf(0)).some(p => p.peerId === attacker.peerId.toString()) ? true : undefined, 'the attacker to be known', { timeout: 20_000, interval: 100 })
  })

  after(async () => {
    await attacker?.stop()
    await cluster?.stop()
  })

  it('forged, tampered, stale and oversized adverts are each rejected by name, and the node keeps serving', async () => {
    const victim = cluster.nodes[0]
    const before = await victim.control.metrics()
    const other = await generateKeyPair('Ed25519')
    const pubsub = attacker.services.pubsub

    // 1. bytes that are no advert at all
    await pubsub.publish(CAPS_TOPIC, new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]))
    // 2. an honest advert of another key, published by the attacker: signer is not the sender
    const stolen = await signAdvert(other, CONTENT, { seq: Date.now(), issuedAt: Date.now(), ttl: 10_000 })
    await pubsub.publish(CAPS_TOPIC, stolen.bytes)
    // 3. the attacker's own advert with its payload changed after signing
    const own = await signAdvert(attackerKey, CONTENT, { seq: Date.now() + 10, issuedAt: Date.now(), ttl: 10_000 })
    const tampered = own.bytes.slice()
    tampered[tampered.length - 80] ^= 0x01
    await pubsub.publish(CAPS_TOPIC, tampered)
    // 4. an advert that expired before it was sent
    const stale = await signAdvert(attackerKey, CONTENT, { seq: Date.now() + 20, issuedAt: Date.now() - 60_000, ttl: 1_000 })
    await pubsub.publish(CAPS_TOPIC, stale.bytes)
    // 5. a signed advert far over the size limit (refused before any signature work)
    const huge = new Uint8Array(40_000)
    await pubsub.publish(CAPS_TOPIC, encodeSignedAdvert({ payload: huge, publicKey: publicKeyToProtobuf(attackerKey.publicKey), signature: await attackerKey.sign(huge) }))

    const after = await waitFor(async () => {
      const m = await victim.control.metrics()
      const reasons = ['undecodable', 'sender-mismatch', 'bad-signature', 'expired', 'oversized']
      return reasons.every(r => rejected(m, r) > rejected(before, r)) ? m : undefined
    }, 'the victim to reject all five', { timeout: 20_000, interval: 100 })
    assert.ok(rejected(after, 'undecodable') > rejected(before, 'undecodable'))

    // nothing forged entered the table; the honest peers are still there
    const table = await cluster.peersOf(0)
    assert.ok(!table.some(p => p.peerId === stolen.peerId.toString() && p.hardware.cpuModel === 'forged'))
    assert.ok(!table.some(p => p.hardware.cpuModel === 'forged'))
    assert.ok(table.some(p => p.peerId === cluster.nodes[1].peerId))
    assert.equal((await victim.control.status()).peerId, victim.peerId)
  })

  it('forged, self-made and replayed attestations are each refused by name and counted; the node keeps serving', async () => {
    const victim = cluster.nodes[0]
    const before = await victim.control.metrics()
    const other = await generateKeyPair('Ed25519')
    const pubsub = attacker.services.pubsub
    const victimId = peerIdFromString(victim.peerId)
    // 1. bytes that are no attestation
    await pubsub.publish(ATTESTATION_TOPIC, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]))
    // 2. another node's honest attestation, published by the attacker: not its challenger's message
    const stolen = await signAttestation(other, { subject: victimId, workload: 'echo', version: '1.0.0', items: 8, itemsPerSec: 100, ok: true, beyondCpu: false })
    await pubsub.publish(ATTESTATION_TOPIC, stolen.bytes)
    // 3. the attacker vouching for itself: eight GPUs' worth of speed
    await pubsub.publish(ATTESTATION_TOPIC, await handSigned(attackerKey, attackerKey))
    // 4. a valid attestation of the attacker about another node, then the same bytes again
    const valid = await signAttestation(attackerKey, { subject: victimId, workload: 'echo', version: '1.0.0', items: 8, itemsPerSec: 100, ok: true, beyondCpu: false })
    await pubsub.publish(ATTESTATION_TOPIC, valid.bytes)
    await waitFor(async () => (await victim.control.peers()).peers.length > 0 ? true : undefined, 'the victim to answer', { timeout: 10_000, interval: 100 })
    // the same attestation in a new gossip message (a new seqno: gossipsub itself does not drop it)
    await pubsub.publish(ATTESTATION_TOPIC, valid.bytes)
    const after = await waitFor(async () => {
      const m = await victim.control.metrics()
      const reasons = ['malformed', 'not-sender', 'self-attestation', 'replayed']
      return reasons.every(r => attestationsRejected(m, r) > attestationsRejected(before, r)) ? m : undefined
    }, 'the victim to refuse all four', { timeout: 20_000, interval: 100 })
    assert.ok(attestationsRejected(after, 'self-attestation') > attestationsRejected(before, 'self-attestation'))
    // nothing vouched the attacker into a GPU: its claim stays a claim
    const row = (await cluster.peersOf(0)).find(p => p.peerId === attacker.peerId.toString())
    assert.notEqual(row?.trust?.gpus.status, 'measured')
    assert.equal((await victim.control.status()).peerId, victim.peerId)
  })

  it('an oversized caps request is refused and the node keeps answering others', async () => {
    const victim = cluster.nodes[0]
    const stream = await attacker.dialProtocol(multiaddr(victim.addrs[0]), CAPS_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const lp = lpStream(stream)
    await lp.write(new Uint8Array(4096))
    // the victim aborts the stream instead of reading 4 KiB as a request
    // the victim answers with a coded error instead of reading 4 KiB as a request
    const reply = decodeCapsResponse((await lp.read({ signal: AbortSignal.timeout(10_000) })).subarray())
    assert.equal(reply.error?.code, 'ERR_MESSAGE_TOO_LARGE')
    assert.equal(reply.advert.byteLength, 0)
    // ...and still serves a well-formed request
    const conn = await attacker.dial(multiaddr(victim.addrs[0]))
    const entries = await attacker.services.capabilities.fetchAdverts(conn.remotePeer)
    assert.equal(entries[0]?.peerId.toString(), victim.peerId)
  })
})
