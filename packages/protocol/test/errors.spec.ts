import assert from 'node:assert/strict'
import {
  ErrorCode,
  InvalidMessageError,
  InvalidSignatureError,
  MessageTooLargeError,
  ShardmeshError,
  decodeCapsResponse,
  encodeCapsResponse,
  fromWireError,
  isShardmeshError,
  toWireError
} from '../src/index.js'
import type { CapsResponse } from '../src/index.js'

describe('errors', () => {
  it('each error class has its name and stable code', () => {
    const cases: Array<[ShardmeshError, string, string]> = [
      [new InvalidMessageError('m'), 'InvalidMessageError', ErrorCode.INVALID_MESSAGE],
      [new MessageTooLargeError('m'), 'MessageTooLargeError', ErrorCode.MESSAGE_TOO_LARGE],
      [new InvalidSignatureError('m'), 'InvalidSignatureError', ErrorCode.INVALID_SIGNATURE],
      [new ShardmeshError('m'), 'ShardmeshError', ErrorCode.INTERNAL]
    ]
    for (const [err, name, code] of cases) {
      assert.ok(err instanceof Error)
      assert.ok(err instanceof ShardmeshError)
      assert.equal(err.name, name)
      assert.equal(err.code, code)
      assert.equal(err.message, 'm')
    }
    assert.equal(InvalidMessageError.code, ErrorCode.INVALID_MESSAGE)
    assert.equal(MessageTooLargeError.code, ErrorCode.MESSAGE_TOO_LARGE)
    assert.equal(InvalidSignatureError.code, ErrorCode.INVALID_SIGNATURE)
  })

  describe('toWireError', () => {
    it('keeps the code and message of a shardmesh error', () => {
      assert.deepEqual(toWireError(new MessageTooLargeError('too big')), { code: 'ERR_MESSAGE_TOO_LARGE', message: 'too big' })
      assert.deepEqual(toWireError(new ShardmeshError('custom', 'ERR_CUSTOM')), { code: 'ERR_CUSTOM', message: 'custom' })
    })

    it('keeps the code of a shardmesh error made by another copy of the package (no instanceof across copies)', async () => {
      // a second instance of the module, as a workload that bundles its own copy would load
      const copy = await import(new URL('../src/errors.js?another-copy', import.meta.url).href)
      const err = new copy.MessageTooLargeError('too big from the other copy')
      assert.ok(!(err instanceof ShardmeshError))
      assert.ok(isShardmeshError(err))
      assert.deepEqual(toWireError(err), { code: 'ERR_MESSAGE_TOO_LARGE', message: 'too big from the other copy' })
    })

    it('does not take a Node.js error with an ERR_ code for a shardmesh error', () => {
      const err = Object.assign(new TypeError('The "path" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' })
      assert.ok(!isShardmeshError(err))
      assert.deepEqual(toWireError(err), { code: ErrorCode.INTERNAL, message: 'Internal error' })
    })

    it('never leaks the message of any other thrown value', () => {
      for (const thrown of [new Error('/home/me/secret.key: EACCES'), new TypeError('x is undefined'), 'a string', undefined, null, 42, { code: 'ERR_FAKE', message: 'forged' }]) {
        assert.deepEqual(toWireError(thrown), { code: ErrorCode.INTERNAL, message: 'Internal error' })
      }
    })
  })

  describe('fromWireError', () => {
    it('rebuilds the named class of each known code', () => {
      const cases: Array<[string, string]> = [
        [ErrorCode.INVALID_MESSAGE, 'InvalidMessageError'],
        [ErrorCode.MESSAGE_TOO_LARGE, 'MessageTooLargeError'],
        [ErrorCode.INVALID_SIGNATURE, 'InvalidSignatureError']
      ]
      for (const [code, name] of cases) {
        const err = fromWireError({ code, message: 'from peer' })
        assert.equal(err.name, name)
        assert.equal(err.code, code)
        assert.equal(err.message, 'from peer')
      }
    })

    it('an unknown code becomes a ShardmeshError with that code', () => {
      const err = fromWireError({ code: 'ERR_SOMETHING_NEW', message: 'hello' })
      assert.equal(err.name, 'ShardmeshError')
      assert.equal(err.code, 'ERR_SOMETHING_NEW')
      assert.equal(err.message, 'hello')
    })

    it('caps what a peer can make us hold: message at 1024 chars, code at 64', () => {
      const err = fromWireError({ code: 'E'.repeat(10_000), message: 'm'.repeat(100_000) })
      assert.equal(err.message.length, 1024)
      assert.equal(err.code.length, 64)
      assert.equal(fromWireError({ code: ErrorCode.INVALID_MESSAGE, message: 'm'.repeat(5000) }).message.length, 1024)
    })

    it('round trips through toWireError and the CapsResponse wire form', () => {
      const original = new InvalidSignatureError('bad sig')
      const bytes = encodeCapsResponse({ advert: new Uint8Array(0), more: 0, error: toWireError(original) })
      const decoded: CapsResponse = decodeCapsResponse(bytes)
      assert.ok(decoded.error != null)
      const rebuilt = fromWireError(decoded.error)
      assert.ok(rebuilt instanceof InvalidSignatureError)
      assert.equal(rebuilt.message, 'bad sig')
      assert.equal(rebuilt.code, original.code)
    })
  })
})
