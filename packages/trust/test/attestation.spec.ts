import assert from 'node:assert/strict'
import { MAX_SIGNED_ATTESTATION_BYTES, SignedAttestation, sha256Hex } from '@shardmesh/protocol'
import { Prng } from '@shardmesh/protocol/fuzz'
import { signAttestation, verifyAttestation } from '../src/attestation.js'
import { MAX_ATTESTATION_AGE, MAX_ATTESTATION_SKEW } from '../src/constants.js'
import { AttestationRejectedError } from '../src/errors.js'
import { T0, attest, content, handSigned, newNode, nonce } from './fixtures.js'
import type { Node } from './fixtures.js'
import type { AttestationRejectReason } from '../src/types.js'
import type { VerifyAttestationOptions } from '../src/attestation.js'

async function rejected (bytes: Uint8Array, reason: AttestationRejectReason, options: VerifyAttestationOptions = {}): Promise<void> {
  await assert.rejects(verifyAttestation(bytes, { now: T0, ...options }), (err: any) => {
    assert.ok(err instanceof AttestationRejectedError, `not an AttestationRejectedError: ${err}`)
    assert.equal(err.reason, reason, err.message)
    assert.equal(err.code, 'ERR_ATTESTATION_REJECTED')
    return true
  })
}

describe('attestation', () => {
  let a: Node
  let b: Node
  let c: Node

  before(async () => {
    a = await newNode()
    b = await newNode()
    c = await newNode()
  })

  it('signs and verifies: every field comes back, and the id is the sha256 of the bytes', async () => {
    const n = nonce()
    const signed = await signAttestation(a.key, content(b.id, { itemsPerSec: 123.5, items: 7, ok: false, beyondCpu: true }), { at: T0, nonce: n })
    const verified = await verifyAttestation(signed.bytes, { now: T0 + 1000, from: a.id })
    assert.ok(verified.challenger.equals(a.id))
    assert.ok(verified.subject.equals(b.id))
    assert.equal(verified.workload, 'sha256-batch')
    assert.equal(verified.version, '1.0.0')
    assert.equal(verified.items, 7)
    assert.equal(verified.itemsPerSec, 123.5)
    assert.equal(verified.ok, false)
    assert.equal(verified.beyondCpu, true)
    assert.equal(verified.at, T0)
    assert.deepEqual(verified.nonce, n)
    assert.deepEqual(verified.bytes, signed.bytes)
    assert.equal(verified.id, signed.id)
    assert.equal(verified.id, sha256Hex(signed.bytes))
  })

  it('keeps its own copy of the bytes', async () => {
    const signed = await attest(a, b.id, T0)
    const buffer = signed.bytes.slice()
    const verified = await verifyAttestation(buffer, { now: T0 })
    buffer.fill(0)
    assert.deepEqual(verified.bytes, signed.bytes)
  })

  it('refuses to sign an attestation of the signer itself, or fields out of range', async () => {
    await assert.rejects(signAttestation(a.key, content(a.id), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id, { workload: '' }), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id, { version: 'x'.repeat(257) }), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id, { items: 0 }), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id, { itemsPerSec: Number.NaN }), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id, { itemsPerSec: -1 }), { at: T0 }), RangeError)
    await assert.rejects(signAttestation(a.key, content(b.id), { at: T0, nonce: new Uint8Array(15) }), RangeError)
  })

  it('a random nonce and the current time by default', async () => {
    const one = await signAttestation(a.key, content(b.id))
    const two = await signAttestation(a.key, content(b.id))
    assert.notDeepEqual(one.nonce, two.nonce)
    assert.equal(one.nonce.byteLength, 16)
    await verifyAttestation(one.bytes)
  })

  it('rejects oversized input before decoding it', async () => {
    await rejected(new Uint8Array(MAX_SIGNED_ATTESTATION_BYTES + 1), 'oversized')
  })

  it('rejects garbage as malformed', async () => {
    await rejected(Uint8Array.from([0xff, 0xff, 0xff, 0x01]), 'malformed')
    await rejected(new Uint8Array(0), 'malformed')
    // an envelope around a payload that is no attestation
    await rejected(SignedAttestation.encode({ payload: Uint8Array.from([0x0a, 0x05, 1]), publicKey: new Uint8Array(0), signature: new Uint8Array(0) }), 'malformed')
    // not bytes at all
    await rejected('attestation' as any, 'malformed')
  })

  it('rejects fields out of range and envelopes not canonically encoded as malformed', async () => {
    await rejected(await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0, nonce: new Uint8Array(15) }), 'malformed')
    await rejected(await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0, items: 0 }), 'malformed')
    await rejected(await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0, itemsPerSec: Number.POSITIVE_INFINITY }), 'malformed')
    await rejected(await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0, workload: '' }), 'malformed')
    await rejected(await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0, workload: 'evil\u001b[2J' }), 'malformed')
    const good = await handSigned(a.key, { challenger: a.id, subject: b.id, at: T0 })
    await verifyAttestation(good, { now: T0 })
    // the same attestation with an unknown field appended: another id for the same signature
    const padded = new Uint8Array(good.byteLength + 2)
    padded.set(good, 0)
    padded.set([0x20, 0x01], good.byteLength)
    await rejected(padded, 'malformed')
  })

  it('rejects a forged signature (one byte flipped)', async () => {
    const signed = await attest(a, b.id, T0)
    const envelope = SignedAttestation.decode(signed.bytes)
    envelope.signature[10] ^= 0x01
    await rejected(SignedAttestation.encode(envelope), 'bad-signature')
  })

  it('rejects a changed payload under the original signature', async () => {
    const signed = await attest(a, b.id, T0, { ok: false })
    const envelope = SignedAttestation.decode(signed.bytes)
    const forged = await handSigned(c.key, { challenger: a.id, subject: b.id, at: T0, ok: true })
    envelope.payload = SignedAttestation.decode(forged).payload
    await rejected(SignedAttestation.encode(envelope), 'bad-signature')
  })

  it('rejects an attestation signed by the key of another peer than the challenger it names', async () => {
    await rejected(await handSigned(c.key, { challenger: a.id, subject: b.id, at: T0 }), 'signer-mismatch')
  })

  it('rejects a self-attestation', async () => {
    await rejected(await handSigned(a.key, { challenger: a.id, subject: a.id, at: T0 }), 'self-attestation')
  })

  it('rejects an attestation that did not come from its challenger', async () => {
    const signed = await attest(a, b.id, T0)
    await rejected(signed.bytes, 'not-sender', { from: c.id })
    await verifyAttestation(signed.bytes, { now: T0, from: a.id })
  })

  it('rejects an attestation from the future beyond the clock skew', async () => {
    const edge = await attest(a, b.id, T0 + MAX_ATTESTATION_SKEW)
    await verifyAttestation(edge.bytes, { now: T0 })
    const future = await attest(a, b.id, T0 + MAX_ATTESTATION_SKEW + 1)
    await rejected(future.bytes, 'future')
  })

  it('rejects an expired attestation', async () => {
    const old = await attest(a, b.id, T0 - MAX_ATTESTATION_AGE - 1)
    await rejected(old.bytes, 'expired')
    const hourOld = await attest(a, b.id, T0 - 3_600_000)
    await verifyAttestation(hourOld.bytes, { now: T0 })
    await rejected(hourOld.bytes, 'expired', { maxAgeMs: 60_000 })
  })

  it('property: whatever the bytes, only AttestationRejectedError comes out', async () => {
    const seed = 0x7a11
    const prng = new Prng(seed)
    const valid = (await attest(a, b.id, T0)).bytes
    for (let i = 0; i < 2000; i++) {
      let input: Uint8Array
      switch (i % 4) {
        case 0: input = prng.bytes(prng.int(MAX_SIGNED_ATTESTATION_BYTES + 64)); break
        case 1: input = prng.flipBits(valid, 8); break
        case 2: input = prng.truncate(valid); break
        default: {
          input = valid.slice()
          input[prng.int(input.byteLength)] = prng.uint32() & 0xff
        }
      }
      try {
        await verifyAttestation(input, { now: T0 })
      } catch (err: any) {
        assert.ok(err instanceof AttestationRejectedError, `seed ${seed}, case ${i}: ${err?.name}: ${err?.message}`)
      }
    }
  })
})
