import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { AdvertPublisher } from '../src/advert-publisher.js'
import { verifyAdvert } from '../src/index.js'
import { content } from './utils/fixtures.js'
import type { AdvertContent, CapabilitiesPubSub } from '../src/index.js'
import type { Logger } from '@libp2p/interface'

const quiet = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger

/** A pubsub stub that records what is published and signals each publish. */
function stubPubSub (): CapabilitiesPubSub & { published: Uint8Array[], next: () => Promise<void> } {
  const published: Uint8Array[] = []
  let waiting: Array<() => void> = []
  return {
    published,
    next: async () => new Promise<void>(resolve => { waiting.push(resolve) }),
    topicValidators: new Map(),
    subscribe: () => {},
    unsubscribe: () => {},
    publish: async (_topic: string, data: Uint8Array) => {
      published.push(data)
      const w = waiting
      waiting = []
      w.forEach(resolve => { resolve() })
      return { recipients: [] }
    },
    addEventListener: () => {},
    removeEventListener: () => {},
    dispatchEvent: () => true,
    safeDispatchEvent: () => true,
    listenerCount: () => 0
  }
}

describe('AdvertPublisher', () => {
  let c: AdvertContent

  before(async () => {
    c = await content()
  })

  it('each publish carries a higher seq than the last, starting from the clock', async () => {
    const pubsub = stubPubSub()
    const publisher = new AdvertPublisher({ privateKey: await generateKeyPair('Ed25519'), pubsub: () => pubsub, topic: 't', ttl: 30_000, debounce: 10, log: quiet, content: () => c })
    const before = Date.now()
    publisher.start()
    const a = await publisher.publish()
    const b = await publisher.publish()
    assert.ok(a.seq >= before)
    assert.ok(b.seq > a.seq)
    assert.equal(publisher.advert, b)
    assert.deepEqual(await Promise.all(pubsub.published.map(async bytes => (await verifyAdvert(bytes)).seq)), [a.seq, b.seq])
    await publisher.stop()
  })

  it('a burst of changes is coalesced into one publish', async () => {
    const pubsub = stubPubSub()
    const publisher = new AdvertPublisher({ privateKey: await generateKeyPair('Ed25519'), pubsub: () => pubsub, topic: 't', ttl: 30_000, debounce: 10, log: quiet, content: () => c })
    publisher.start()
    const published = pubsub.next()
    for (let i = 0; i < 5; i++) {
      publisher.schedule()
    }
    await published
    await publisher.stop()
    assert.equal(pubsub.published.length, 1)
  })
})
