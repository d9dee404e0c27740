import assert from 'node:assert/strict'
import { plural } from '../src/index.js'

describe('plural', () => {
  it('says one thing in the singular and any other count in the plural', () => {
    assert.equal(plural(1, 'peer'), '1 peer')
    assert.equal(plural(0, 'peer'), '0 peers')
    assert.equal(plural(3, 'verified advert'), '3 verified adverts')
    assert.equal(plural(1n, 'lamport'), '1 lamport')
    assert.equal(plural(2, 'batch', 'batches'), '2 batches')
    assert.equal(plural(1, 'batch', 'batches'), '1 batch')
  })
})
