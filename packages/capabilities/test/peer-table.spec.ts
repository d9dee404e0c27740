import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { PeerTable, constants, signAdvert } from '../src/index.js'
import { withAge } from '../src/peer-table.js'
import { NOW, content } from './utils/fixtures.js'
import type { VerifiedAdvert } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

async function advert (key: PrivateKey, seq: number, issuedAt = NOW, ttl = 10_000): Promise<VerifiedAdvert> {
  return signAdvert(key, await content({ loadPermille: seq }), { seq, issuedAt, ttl })
}

describe('PeerTable', () => {
  let a: PrivateKey
  let b: PrivateKey

  before(async () => {
    a = await generateKeyPair('Ed25519')
    b = await generateKeyPair('Ed25519')
  })

  it('accept() adds a peer, records source and receive time, and says it was new', async () => {
    const table = new PeerTable()
    const { entry, added } = table.accept(await advert(a, 1), 'gossip', NOW + 5)
    assert.equal(added, true)
    assert.equal(entry.source, 'gossip')
    assert.equal(entry.receivedAt, NOW + 5)
    assert.equal(entry.firstSeenAt, NOW + 5)
    assert.equal(table.size, 1)
    assert.equal(table.get(entry.peerId.toString(), NOW + 5)?.seq, 1)
    assert.equal(table.seqOf(entry.peerId.toString()), 1)
  })

  it('a newer seq replaces the entry but keeps firstSeenAt', async () => {
    const table = new PeerTable()
    const first = table.accept(await advert(a, 1), 'gossip', NOW)
    const second = table.accept(await advert(a, 2, NOW + 1000), 'sync', NOW + 1000)
    assert.equal(second.added, false)
    assert.equal(second.entry.seq, 2)
    assert.equal(second.entry.loadPermille, 2)
    assert.equal(second.entry.source, 'sync')
    assert.equal(second.entry.receivedAt, NOW + 1000)
    assert.equal(second.entry.firstSeenAt, first.entry.firstSeenAt)
    assert.equal(table.size, 1)
    assert.equal(table.list(NOW + 1000).length, 1)
    assert.equal(table.get(first.entry.peerId.toString(), NOW + 1000)?.seq, 2)
  })

  it('list() and get() hide an expired entry before any sweep', async () => {
    const table = new PeerTable()
    const { entry } = table.accept(await advert(a, 1, NOW, 1000), 'gossip', NOW)
    table.accept(await advert(b, 1, NOW, 5000), 'gossip', NOW)
    const id = entry.peerId.toString()
    assert.equal(table.list(NOW + 999).length, 2)
    assert.ok(table.get(id, NOW + 999) != null)
    assert.equal(table.list(NOW + 1000).length, 1)
    assert.equal(table.get(id, NOW + 1000), undefined)
    assert.equal(table.size, 2, 'still held until swept')
  })

  it('sweep(now) drops exactly the expired entries and returns them', async () => {
    const table = new PeerTable()
    const short = table.accept(await advert(a, 1, NOW, 1000), 'gossip', NOW).entry
    table.accept(await advert(b, 1, NOW, 5000), 'gossip', NOW)
    assert.deepEqual(table.sweep(NOW + 999), [])
    const dropped = table.sweep(NOW + 1000)
    assert.equal(dropped.length, 1)
    assert.ok(dropped[0].peerId.equals(short.peerId))
    assert.equal(table.size, 1)
    assert.deepEqual(table.sweep(NOW + 1001), [])
    assert.equal(table.sweep(NOW + 5000).length, 1)
    assert.equal(table.size, 0)
  })

  it('a peer that left and comes back with a newer advert is new again, with a new firstSeenAt', async () => {
    const table = new PeerTable()
    table.accept(await advert(a, 1, NOW, 1000), 'gossip', NOW)
    table.sweep(NOW + 1000)
    const back = table.accept(await advert(a, 2, NOW + 2000, 1000), 'gossip', NOW + 2000)
    assert.equal(back.added, true)
    assert.equal(back.entry.firstSeenAt, NOW + 2000)
  })

  it('remembers the highest seq after a sweep, then forgets it once no older advert can be fresh', async () => {
    const table = new PeerTable()
    const { entry } = table.accept(await advert(a, 7, NOW, 1000), 'gossip', NOW)
    const id = entry.peerId.toString()
    table.sweep(NOW + 1000)
    assert.equal(table.get(id, NOW + 1000), undefined)
    assert.equal(table.seqOf(id), 7)
    // an older advert may have had a TTL up to MAX_ADVERT_TTL: remember until it must be expired
    const forgetAt = NOW + constants.MAX_ADVERT_TTL + constants.MAX_CLOCK_SKEW
    table.sweep(forgetAt - 1)
    assert.equal(table.seqOf(id), 7)
    table.sweep(forgetAt)
    assert.equal(table.seqOf(id), undefined)
  })

  it('an older advert with a longer TTL cannot be replayed after the newer one expired', async () => {
    const table = new PeerTable()
    const old = await advert(a, 1, NOW, 10 * 60_000) // long-lived, never seen by this table
    table.accept(await advert(a, 2, NOW + 10, 1000), 'gossip', NOW + 10)
    const later = NOW + 10 + 1000 + constants.MAX_CLOCK_SKEW + 1
    table.sweep(later)
    assert.equal(table.get(old.peerId.toString(), later), undefined)
    assert.throws(() => table.accept(old, 'gossip', later), { name: 'AdvertRejectedError', reason: 'not-newer' })
  })

  it('a full table refuses new peers until one expires', async () => {
    const table = new PeerTable({ maxSize: 1 })
    table.accept(await advert(a, 1, NOW, 1000), 'gossip', NOW)
    const other = await advert(b, 1, NOW, 10_000)
    assert.throws(() => table.accept(other, 'gossip', NOW), { name: 'AdvertRejectedError', reason: 'table-full' })
    table.sweep(NOW + 1000)
    assert.equal(table.accept(other, 'gossip', NOW + 1000).added, true)
  })

  it('clear() forgets entries and sequence numbers', async () => {
    const table = new PeerTable()
    const { entry } = table.accept(await advert(a, 3), 'gossip', NOW)
    table.clear()
    assert.equal(table.size, 0)
    assert.equal(table.seqOf(entry.peerId.toString()), undefined)
    assert.equal(table.accept(await advert(a, 3), 'gossip', NOW).added, true)
  })

  describe('clock skew: expiry on this node\'s clock', () => {
    const SKEW = constants.MAX_CLOCK_SKEW
    const TTL = 30_000

    it('a peer whose clock lags by MAX_CLOCK_SKEW: its gossiped advert is held for its TTL from arrival, and reads as fresh', async () => {
      const table = new PeerTable()
      // issued now on its clock, which reads SKEW earlier than ours: on arrival it looks expired
      const { entry } = table.accept(await advert(a, 1, NOW - SKEW, TTL), 'gossip', NOW)
      assert.equal(entry.clockOffset, SKEW)
      assert.equal(entry.localIssuedAt, NOW)
      assert.equal(entry.heldUntil, NOW + TTL)
      assert.equal(withAge(entry, NOW + 1000).ageMs, 1000)
      const id = entry.peerId.toString()
      assert.equal(table.get(id, NOW + TTL - 1)?.seq, 1)
      assert.equal(table.get(id, NOW + TTL), undefined)
      // its next advert, from a sync, is read with the offset gossip showed
      const next = table.accept(await advert(a, 2, NOW - SKEW + 10_000, TTL), 'sync', NOW + 12_000)
      assert.equal(next.entry.heldUntil, NOW + 10_000 + TTL)
      assert.equal(table.sweep(NOW + 10_000 + TTL).length, 1)
    })

    it('a peer whose clock leads by MAX_CLOCK_SKEW: held for its TTL, not for its TTL and the skew', async () => {
      const table = new PeerTable()
      const { entry } = table.accept(await advert(a, 1, NOW + SKEW, TTL), 'gossip', NOW)
      assert.equal(entry.clockOffset, -SKEW)
      assert.equal(entry.heldUntil, NOW + TTL)
      assert.equal(withAge(entry, NOW + 1000).ageMs, 1000)
      assert.equal(table.sweep(NOW + TTL - 1).length, 0)
      assert.deepEqual(table.sweep(NOW + TTL).map(e => e.seq), [1])
    })

    it('a peer on time is held to its signed expiry, plus the delay of its quickest gossip', async () => {
      const table = new PeerTable()
      // a 40 ms delivery reads as a 40 ms lag until a quicker one comes
      const gossiped = table.accept(await advert(a, 1, NOW, TTL), 'gossip', NOW + 40)
      assert.equal(gossiped.entry.heldUntil, NOW + 40 + TTL)
      assert.equal(table.accept(await advert(a, 2, NOW + 1000, TTL), 'gossip', NOW + 1005).entry.heldUntil, NOW + 1005 + TTL)
      const synced = table.accept(await advert(b, 1, NOW, TTL), 'sync', NOW + 20_000)
      assert.equal(synced.entry.clockOffset, undefined)
      assert.equal(synced.entry.heldUntil, NOW + TTL)
      assert.equal(withAge(synced.entry, NOW + 20_000).ageMs, 20_000)
    })

    it('a stale advert is not made fresh by a clock offset beyond MAX_CLOCK_SKEW, and one late delivery moves the estimate only a quarter', async () => {
      const table = new PeerTable()
      // issued SKEW + 20 s ago with a 60 s TTL: the offset is capped at SKEW
      const late = table.accept(await advert(a, 1, NOW - SKEW - 20_000, 60_000), 'gossip', NOW)
      assert.equal(late.entry.clockOffset, SKEW)
      assert.equal(late.entry.heldUntil, NOW - 20_000 + 60_000)
      const table2 = new PeerTable()
      table2.accept(await advert(b, 1, NOW, TTL), 'gossip', NOW)
      // seq 2 arrives 4 s after it was issued: the estimate rises by 1 s, not 4
      const second = table2.accept(await advert(b, 2, NOW + 1000, TTL), 'gossip', NOW + 5000)
      assert.equal(second.entry.clockOffset, 1000)
      assert.equal(second.entry.heldUntil, NOW + 2000 + TTL)
      // a prompt one brings it straight back
      const third = table2.accept(await advert(b, 3, NOW + 6000, TTL), 'gossip', NOW + 6000)
      assert.equal(third.entry.clockOffset, 0)
    })
  })
})
