import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import { decodeBundle, decodeReceiptProof } from '@shardmesh/receipts'

/**
 * Property-based fuzzing (fast-check) of every decoder and every inbound handler, in CI: the
 * fuzz benchmark's own targets (benchmarks/fuzz/src/targets.ts, where the README lists them),
 * 10,000 cases in all, split by weight. A failure names the seed, fast-check's path, the shrunk
 * counterexample and the command that replays that one case; SHARDMESH_FUZZ_SEED reruns the
 * whole spec with another seed. Below them, the inputs the fuzzer found bugs with, kept as
 * regression cases.
 */

const CASES = 10_000
const DEFAULT_SEED = 0x5eedf022
const SEED = process.env.SHARDMESH_FUZZ_SEED != null ? Number(process.env.SHARDMESH_FUZZ_SEED) : DEFAULT_SEED
if (!Number.isInteger(SEED)) {
  throw new Error(`SHARDMESH_FUZZ_SEED must be an integer, not ${process.env.SHARDMESH_FUZZ_SEED}`)
}

const FUZZ = new URL('../../benchmarks/fuzz/dist/src/', import.meta.url)
const { allTargets } = await import(new URL('targets.js', FUZZ).href)
const { allocate, makeContext, runTarget } = await import(new URL('run.js', FUZZ).href)
const { internals } = await import(new URL('internal.js', FUZZ).href)
const { randomBytes } = await import(new URL('arbitraries.js', FUZZ).href)
const { requestProofs } = await import('@shardmesh/anchoring')

const targets: any[] = allTargets()
const shares: number[] = allocate(targets, CASES)

describe(`fuzz: every decoder and handler, ${CASES} cases, seed ${SEED}`, function () {
  this.timeout(120_000)
  let ctx: any

  before(async () => {
    ctx = await makeContext()
  })

  after(async () => {
    await ctx?.close()
  })

  targets.forEach((target, i) => {
    const errors = target.allowed.length === 0 ? 'never throws' : `throws only ${target.allowed.map((a: any) => typeof a === 'string' ? a : a.name).join(' or ')}`
    const handler = target.name.startsWith('gossip ') ? 'never throws, says accept, ignore or reject, still accepts a valid message' : 'one call per stream, never throws, still answers'
    it(`${target.name} (${target.kind}, ${target.package}): ${shares[i]} cases, ${target.kind === 'handler' ? handler : errors}`, async () => {
      const r = await runTarget(target, ctx, shares[i], { seed: SEED })
      if (r.failure != null) {
        assert.fail(`${target.name} failed: ${r.failure.error}\n` +
          `  counterexample: ${r.failure.counterexample.slice(0, 2000)}\n` +
          `  fast-check seed ${r.failure.seed}, path ${r.failure.path}\n` +
          `  replay this case: ${r.failure.replay}\n` +
          `  rerun this spec with this seed: SHARDMESH_FUZZ_SEED=${SEED} npx mocha test/dist/fuzz.spec.js`)
      }
      assert.equal(r.cases, shares[i])
      assert.equal(r.returned + Object.values(r.errors as Record<string, number>).reduce((a, b) => a + b, 0), r.cases, 'every case returned or threw a documented error')
      assert.ok(!String(r.check).startsWith('failed'), `${target.name} after the fuzz: ${r.check}`)
      if (target.kind === 'handler') {
        assert.equal(r.check, 'ok')
        const outcomes = r.outcomes as Record<string, number>
        assert.equal(Object.values(outcomes).reduce((a, b) => a + b, 0), r.cases, 'every case says how it ended')
        if (target.name.startsWith('handler ')) {
          // the cases reached the stream handler and it answered some of them
          assert.ok((outcomes.answered ?? 0) > 0, `${target.name}: no hostile stream got an answer (${JSON.stringify(outcomes)})`)
        }
      }
    })
  })

  describe('the harness', () => {
    /** A decoder with a bug: a TypeError for any input holding 0xff; its documented error for long inputs. */
    const broken = {
      name: 'broken',
      package: 'test',
      kind: 'decoder',
      subject: 'broken',
      allowed: ['InvalidMessageError'],
      weight: 1,
      arbitrary: () => randomBytes(),
      run: (_: unknown, bytes: Uint8Array) => {
        if (bytes.includes(0xff)) {
          throw new TypeError('boom')
        }
        if (bytes.byteLength > 3) {
          throw Object.assign(new Error('too long'), { name: 'InvalidMessageError' })
        }
      }
    }

    it('reports an undocumented error with its seed, its path and the shrunk input, and the path replays it', async () => {
      const r = await runTarget(broken, ctx, 1_000, { seed: 42 })
      assert.ok(r.failure != null, 'the bug was found')
      assert.match(r.failure.error, /^TypeError: boom/)
      assert.equal(r.failure.counterexample, '"<1 bytes: ff>"', 'shrunk to the one byte that matters')
      assert.equal(typeof r.failure.seed, 'number')
      assert.match(r.failure.replay, new RegExp(`--target "broken" --seed 42 --path "${r.failure.path}"`))
      const again = await runTarget(broken, ctx, 1_000, { seed: 42, path: r.failure.path })
      assert.equal(again.failure?.counterexample, r.failure.counterexample)
      assert.ok(again.cases < r.cases, `the replay ran ${again.cases} cases, the search ${r.cases}`)
    })

    it('counts the documented errors by name and passes when nothing else comes out', async () => {
      const r = await runTarget({ ...broken, run: (_: unknown, bytes: Uint8Array) => broken.run(_, bytes.filter(b => b !== 0xff)) }, ctx, 500, { seed: 42 })
      assert.equal(r.failure, undefined)
      assert.equal(r.cases, 500)
      assert.ok(r.errors.InvalidMessageError > 0 && r.returned > 0)
      assert.equal(r.returned + r.errors.InvalidMessageError, 500)
    })
  })

  describe('regressions: inputs the fuzzer found', () => {
    /** A client's end of a stream whose far end reads the request, answers `bytes` and closes. */
    async function answering (bytes: Uint8Array): Promise<any> {
      const [near, far] = await streamPair()
      void (async () => {
        for await (const chunk of far) {
          void chunk
          break
        }
        far.send(bytes)
        await far.close()
      })()
      return near
    }

    it('requestProofs: an answer cut inside a field is InvalidMessageError (was protons\' RangeError "index out of range")', async () => {
      // one frame of 3 bytes: field 1 (proofs), length 16, one byte of it
      await assert.rejects(requestProofs(await answering(Uint8Array.of(3, 0x0a, 0x10, 0x01)), [new Uint8Array(32)]), (err: any) => err.name === 'InvalidMessageError')
    })

    it('requestProofs: a stream that ends before a whole frame is InvalidMessageError (was a plain Error)', async () => {
      await assert.rejects(requestProofs(await answering(Uint8Array.of(10, 1, 2)), [new Uint8Array(32)]), (err: any) => err.name === 'InvalidMessageError' && /ended before a whole frame/.test(err.message))
    })

    it('decodeReceiptProof and decodeBundle: a deeply nested format is refused by name (was RangeError: Maximum call stack size exceeded)', () => {
      const deep = `{"format":${'['.repeat(20_000)}${']'.repeat(20_000)}}`
      assert.throws(() => decodeReceiptProof(deep), (err: any) => err.name === 'InvalidReceiptProofError' && /of type object/.test(err.message))
      assert.throws(() => decodeBundle(deep), (err: any) => err.name === 'InvalidReceiptBundleError' && /of type object/.test(err.message))
    })

    it('the chain\'s getProgramAccounts filters: a deeply nested memcmp encoding is invalid params (was RangeError: Maximum call stack size exceeded)', async () => {
      const { chainAccountFilters } = await internals()
      const filters = JSON.parse(`[{"memcmp":{"offset":0,"bytes":"3Mc6vR","encoding":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]`)
      assert.throws(() => chainAccountFilters.parseAccountFilters(filters), (err: any) => err.name === 'JsonRpcError' && /encoding: of type object/.test(err.message))
    })
  })
})
