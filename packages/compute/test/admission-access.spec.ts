import assert from 'node:assert/strict'
import { Admission } from '../src/worker/admission.js'
import type { PeerId } from '@libp2p/interface'

const peer = (id: string): PeerId => ({ toString: () => id }) as unknown as PeerId

describe('admission: who may ask (allow and deny lists)', () => {
  it('deny wins over allow, an empty allow list allows everyone not denied, and each refusal is told by reason', () => {
    const reasons: string[] = []
    const both = new Admission({ slots: 1, maxQueue: 0, allow: ['A', 'B'], deny: ['A'], onRefused: reason => { reasons.push(reason) } })
    assert.throws(() => { both.check(peer('A')) }, (err: any) => err.name === 'NotAllowedError' && err.code === 'ERR_NOT_ALLOWED' && /denied: on its deny list/.test(err.message))
    assert.throws(() => { both.check(peer('C')) }, (err: any) => err.code === 'ERR_NOT_ALLOWED' && /not-allowed: not on its allow list/.test(err.message))
    both.check(peer('B'))
    assert.deepEqual(reasons, ['denied', 'not-allowed'])

    const open = new Admission({ slots: 1, maxQueue: 0, deny: ['A'], onRefused: reason => { reasons.push(reason) } })
    open.check(peer('anyone'))
    assert.throws(() => { open.check(peer('A')) }, /does not accept shards from you/)
    assert.deepEqual(reasons, ['denied', 'not-allowed', 'denied'])
  })

  it('a callback that throws does not change the refusal', () => {
    const admission = new Admission({ slots: 1, maxQueue: 0, deny: ['A'], onRefused: () => { throw new Error('metrics broke') } })
    assert.throws(() => { admission.check(peer('A')) }, (err: any) => err.code === 'ERR_NOT_ALLOWED')
  })
})
