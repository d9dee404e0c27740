import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { AdvertGate } from '../src/advert-gate.js'
import { PeerTable, signAdvert } from '../src/index.js'
import { content } from './utils/fixtures.js'
import type { PeerEntry } from '../src/index.js'
import type { Message } from '@libp2p/gossipsub'
import type { Logger, PeerId, PrivateKey } from '@libp2p/interface'

const quiet = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger

async function signed (key: PrivateKey, seq: number): Promise<Uint8Array> {
  return (await signAdvert(key, await content(), { seq, issuedAt: Date.now(), ttl: 30_000 })).bytes
}

function gossip (from: PeerId, data: Uint8Array): Message {
  return { type: 'signed', from, data, topic: 't', sequenceNumber: 1n, signature: new Uint8Array(0), key: undefined as any }
}

describe('AdvertGate', () => {
  let self: PrivateKey
  let peer: PrivateKey
  let table: PeerTable
  let gate: AdvertGate
  let accepted: Array<{ entry: PeerEntry, added: boolean }>

  beforeEach(async () => {
    self = await generateKeyPair('Ed25519')
    peer = await generateKeyPair('Ed25519')
    table = new PeerTable()
    accepted = []
    gate = new AdvertGate({ peerId: peerIdFromPrivateKey(self), table, log: quiet, onAccept: (entry, added) => { accepted.push({ entry, added }) } })
  })

  it('gossip: accepts a fresh advert from its signer, ignores one that is not newer, and reports each acceptance', async () => {
    const from = peerIdFromPrivateKey(peer)
    assert.equal(await gate.validate(from, gossip(from, await signed(peer, 5))), TopicValidatorResult.Accept)
    assert.equal(await gate.validate(from, gossip(from, await signed(peer, 5))), TopicValidatorResult.Ignore)
    assert.equal(await gate.validate(from, gossip(from, await signed(peer, 6))), TopicValidatorResult.Accept)
    assert.deepEqual(accepted.map(a => [a.entry.seq, a.added]), [[5, true], [6, false]])
    assert.equal(table.get(from.toString())?.seq, 6)
  })

  it('gossip: rejects an unsigned message, an advert relayed under another sender, and garbage', async () => {
    const from = peerIdFromPrivateKey(peer)
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const unsigned: Message = { type: 'unsigned', data: await signed(peer, 1), topic: 't' }
    assert.equal(await gate.validate(from, unsigned), TopicValidatorResult.Reject)
    assert.equal(await gate.validate(other, gossip(other, await signed(peer, 1))), TopicValidatorResult.Reject)
    assert.equal(await gate.validate(from, gossip(from, Uint8Array.from([1, 2, 3]))), TopicValidatorResult.Reject)
    assert.equal(accepted.length, 0)
  })

  it('ingest: our own advert is never taken in; a bad advert from the peer we asked throws', async () => {
    assert.equal(await gate.ingest(await signed(self, 1), 'sync'), undefined)
    await assert.rejects(gate.ingest(await signed(peer, 1), 'direct', peerIdFromPrivateKey(self)))
    assert.equal(accepted.length, 0)
    const entry = await gate.ingest(await signed(peer, 2), 'direct', peerIdFromPrivateKey(peer))
    assert.equal(entry?.seq, 2)
    assert.equal(entry?.source, 'direct')
  })
})
