import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppendLog, crc32, encodeFrame } from '../src/index.js'
import type { AppendLogFormat, OpenAppendLogOptions } from '../src/index.js'

const BIG: AppendLogFormat = { byteOrder: 'big', maxRecordBytes: 1024 }
const LITTLE: AppendLogFormat = { byteOrder: 'little', maxRecordBytes: 1024 }
const text = (s: string): Uint8Array => new TextEncoder().encode(s)

async function openLog (path: string, options: Partial<OpenAppendLogOptions> & { format: AppendLogFormat }): Promise<{ log: AppendLog, records: string[] }> {
  const records: string[] = []
  const log = await AppendLog.open(path, { onRecord: payload => records.push(new TextDecoder().decode(payload)), ...options })
  return { log, records }
}

describe('AppendLog', () => {
  let dir: string
  let path: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardmesh-append-log-'))
    path = join(dir, 'log')
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('frames length and crc32 in the byte order of its format', () => {
    const payload = text('abc')
    const big = Buffer.from(encodeFrame(payload, BIG))
    const little = Buffer.from(encodeFrame(payload, LITTLE))
    assert.equal(big.readUInt32BE(0), 3)
    assert.equal(big.readUInt32BE(4), crc32(payload))
    assert.equal(little.readUInt32LE(0), 3)
    assert.equal(little.readUInt32LE(4), crc32(payload))
    assert.deepEqual(big.subarray(8), Buffer.from('abc'))
    assert.deepEqual(little.subarray(8), Buffer.from('abc'))
    assert.throws(() => encodeFrame(new Uint8Array(0), BIG), RangeError)
    assert.throws(() => encodeFrame(new Uint8Array(1025), BIG), RangeError)
  })

  for (const format of [BIG, LITTLE]) {
    it(`reads back what it appended, async and sync (${format.byteOrder}-endian)`, async () => {
      const { log } = await openLog(path, { format })
      await Promise.all([log.append([text('one'), text('two')]), log.append([text('three')])])
      log.appendSync(text('four'))
      assert.equal(log.stats().appends, 4)
      await log.close()
      const reopened = await openLog(path, { format })
      assert.deepEqual(reopened.records, ['one', 'two', 'three', 'four'])
      assert.equal(reopened.log.recovery.discardedBytes, 0)
      await reopened.log.close()
    })
  }

  it("'save': cuts the log at the first damaged frame and keeps the rest beside it", async () => {
    const { log } = await openLog(path, { format: BIG })
    await log.append([text('kept')])
    await log.close()
    const valid = (await stat(path)).size
    const damaged = Buffer.from(encodeFrame(text('lost'), BIG))
    damaged[9] ^= 0xff
    const after = Buffer.from(encodeFrame(text('after'), BIG))
    await writeFile(path, Buffer.concat([await readFile(path), damaged, after]))
    const reopened = await openLog(path, { format: BIG })
    assert.deepEqual(reopened.records, ['kept'])
    assert.equal(reopened.log.recovery.stop, 'bad-checksum')
    assert.equal(reopened.log.recovery.validBytes, valid)
    assert.deepEqual(await readFile(reopened.log.recovery.savedTo!), Buffer.concat([damaged, after]))
    assert.equal((await stat(path)).size, valid)
    await reopened.log.close()
  })

  it("'strict': drops a damaged last record followed by zeros, refuses one followed by data", async () => {
    const { log } = await openLog(path, { format: LITTLE, tail: 'strict' })
    log.appendSync(text('kept'))
    await log.close()
    const intact = await readFile(path)
    const damaged = Buffer.from(encodeFrame(text('torn'), LITTLE))
    damaged[9] ^= 0xff
    await writeFile(path, Buffer.concat([intact, damaged, Buffer.alloc(100)]))
    const torn = await openLog(path, { format: LITTLE, tail: 'strict' })
    assert.deepEqual(torn.records, ['kept'])
    assert.equal(torn.log.recovery.savedTo, undefined)
    assert.equal((await stat(path)).size, intact.byteLength)
    await torn.log.close()

    await writeFile(path, Buffer.concat([intact, damaged, Buffer.from(encodeFrame(text('after'), LITTLE))]))
    await assert.rejects(openLog(path, { format: LITTLE, tail: 'strict' }), (err: any) => err.name === 'AppendLogCorruptError' && err.offset === intact.byteLength)
  })

  it('grows ahead in zero-filled steps with preallocate and cuts the zeros on close', async () => {
    const { log } = await openLog(path, { format: LITTLE, preallocate: 4096 })
    log.appendSync(text('one'))
    assert.equal((await stat(path)).size, 4096)
    await log.append([text('two')])
    assert.equal((await stat(path)).size, 4096)
    await log.close()
    assert.equal((await stat(path)).size, log.stats().bytes)
    const reopened = await openLog(path, { format: LITTLE, tail: 'strict' })
    assert.deepEqual(reopened.records, ['one', 'two'])
    await reopened.log.close()
  })

  it('refuses appends once closed, and when read-only, with AppendLogClosedError', async () => {
    const { log } = await openLog(path, { format: BIG })
    await log.close()
    await assert.rejects(log.append([text('late')]), (err: any) => err.name === 'AppendLogClosedError' && err.reason === 'closed')
    assert.throws(() => { log.appendSync(text('late')) }, (err: any) => err.name === 'AppendLogClosedError' && err.reason === 'closed')
    const reader = await openLog(path, { format: BIG, readOnly: true })
    await assert.rejects(reader.log.append([text('no')]), (err: any) => err.name === 'AppendLogClosedError' && err.reason === 'read-only')
    await reader.log.close()
  })
})
