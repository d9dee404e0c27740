import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as zlib from 'node:zlib'
import { RECEIPT_LOCK_FILE, RECEIPT_LOG_FILE, ReceiptStore } from '../src/index.js'
import { crc32, tableCrc32 } from '@shardmesh/protocol'
import { frame } from '../src/store/log.js'
import { encodeRecord } from '../src/store/records.js'
import { makePeers, makeReceipt, makeReceipts, tempDir } from './utils/receipts.js'
import type { Peers } from './utils/receipts.js'

function named (name: string): (err: any) => boolean {
  return (err: any) => {
    assert.equal(err?.name, name, `expected ${name}, got ${err?.name}: ${err?.message}`)
    return true
  }
}

/** File offsets of the frames of a log. */
function frameOffsets (log: Buffer): number[] {
  const offsets: number[] = []
  for (let at = 0; at < log.byteLength; at += 8 + log.readUInt32BE(at)) {
    offsets.push(at)
  }
  return offsets
}

/** Run the crash writer until it has printed `atLeast` ids, SIGKILL it, and return every id it printed. */
async function addUntilKilled (dir: string, atLeast: number, first: number): Promise<string[]> {
  const script = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url))
  const child = spawn(process.execPath, [script, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  // 'close': the process exited and its output is all read
  const closed = new Promise<NodeJS.Signals | null>(resolve => child.on('close', (_code, signal) => { resolve(signal) }))
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
    const ids = stdout.split('\n').length - 2
    if (ids >= atLeast && child.pid != null && child.exitCode == null && child.signalCode == null) {
      process.kill(child.pid, 'SIGKILL')
    }
  })
  const signal = await closed
  assert.equal(signal, 'SIGKILL', `the writer exited on its own: ${stderr}`)
  // only whole lines: a line is written in full once its add resolved
  const lines = stdout.split('\n').slice(0, -1)
  assert.equal(lines[0], 'ready', stderr)
  return lines.slice(1)
}

describe('ReceiptStore: crashes, torn tails and locks', () => {
  let peers: Peers
  let tmp: { dir: string, remove(): Promise<void> }
  let log: string

  before(async () => {
    peers = await makePeers()
  })

  beforeEach(async () => {
    tmp = await tempDir()
    log = join(tmp.dir, RECEIPT_LOG_FILE)
  })

  afterEach(async () => {
    await tmp.remove()
  })

  async function storeOf (count: number): Promise<string[]> {
    const store = await ReceiptStore.open(tmp.dir)
    const ids = (await store.addMany(await makeReceipts(peers, count))).map(r => r.id)
    await store.close()
    return ids
  }

  const tails: Array<[string, (next: Uint8Array) => Uint8Array, string]> = [
    ['half a record', next => next.subarray(0, Math.floor(next.byteLength / 2)), 'torn-record'],
    ['a record without its last byte', next => next.subarray(0, next.byteLength - 1), 'torn-record'],
    ['part of a frame header', next => next.subarray(0, 5), 'torn-header'],
    ['zeros (the size grew, the data never landed)', () => new Uint8Array(300), 'bad-length'],
    ['garbage', () => randomBytes(200), 'bad-length'],
    ['a whole frame with a wrong checksum', next => { const bad = next.slice(); bad[bad.byteLength - 1] ^= 1; return bad }, 'bad-checksum']
  ]
  for (const [name, tail, stop] of tails) {
    it(`drops a torn tail (${name}) at open and keeps every earlier receipt`, async () => {
      const ids = await storeOf(5)
      const valid = (await stat(log)).size
      const next = await makeReceipt(peers, { shardIndex: 99 })
      const torn = tail(frame(encodeRecord({ kind: 'receipt', storedAt: 1, bytes: next })))
      // keep the garbage from parsing as a plausible length by chance
      if (name === 'garbage') {
        torn[0] = 0xff
      }
      await appendFile(log, torn)
      const store = await ReceiptStore.open(tmp.dir)
      try {
        assert.deepEqual(store.list().map(r => r.id), ids)
        assert.equal(store.recovery.validBytes, valid)
        assert.equal(store.recovery.discardedBytes, torn.byteLength)
        assert.equal(store.recovery.stop, stop)
        assert.equal((await stat(log)).size, valid, 'truncated to the valid records')
        assert.deepEqual(await readFile(store.recovery.savedTo!), Buffer.from(torn), 'the dropped bytes are kept aside')
        await store.add(next)
      } finally {
        await store.close()
      }
      const reopened = await ReceiptStore.open(tmp.dir)
      assert.equal(reopened.recovery.discardedBytes, 0)
      assert.equal(reopened.stats().receipts, 6)
      await reopened.close()
    })
  }

  it('stops at a record whose checksum fails in the middle of the log', async () => {
    const ids = await storeOf(6)
    const bytes = await readFile(log)
    const offsets = frameOffsets(bytes)
    assert.equal(offsets.length, 6)
    bytes[offsets[3] + 8 + 40] ^= 0x10
    await writeFile(log, bytes)
    const store = await ReceiptStore.open(tmp.dir)
    assert.deepEqual(store.list().map(r => r.id), ids.slice(0, 3))
    assert.equal(store.recovery.stop, 'bad-checksum')
    assert.equal(store.recovery.validBytes, offsets[3])
    assert.equal(store.recovery.discardedBytes, bytes.byteLength - offsets[3])
    assert.deepEqual(await readFile(store.recovery.savedTo!), bytes.subarray(offsets[3]))
    await store.close()
  })

  it('refuses to open a log with a record that passes its checksum but makes no sense', async () => {
    await storeOf(2)
    const size = (await stat(log)).size
    await appendFile(log, frame(Uint8Array.of(99, 1, 2, 3)))
    await assert.rejects(ReceiptStore.open(tmp.dir), (err: any) => err.name === 'ReceiptLogCorruptError' && err.offset === size)
    // a failed open releases the lock: the next open fails the same way, not on the lock
    await assert.rejects(ReceiptStore.open(tmp.dir), named('ReceiptLogCorruptError'))
    assert.equal((await stat(log)).size, size + 12, 'nothing truncated')
  })

  it('refuses a batch that names a receipt the log does not hold', async () => {
    await storeOf(1)
    await appendFile(log, frame(encodeRecord({ kind: 'batch', sealedAt: 1, root: 'ab'.repeat(32), receiptIds: ['cd'.repeat(32)] })))
    await assert.rejects(ReceiptStore.open(tmp.dir), named('ReceiptLogCorruptError'))
  })

  it('has one writer: a second open fails with ReceiptStoreLockedError; read-only opens work beside it', async () => {
    const writer = await ReceiptStore.open(tmp.dir)
    try {
      await writer.addMany(await makeReceipts(peers, 3))
      await assert.rejects(ReceiptStore.open(tmp.dir), (err: any) => err.name === 'ReceiptStoreLockedError' && err.pid === process.pid)
      const reader = await ReceiptStore.open(tmp.dir, { readOnly: true })
      assert.equal(reader.readOnly, true)
      assert.equal(reader.stats().receipts, 3)
      await assert.rejects(reader.add(await makeReceipt(peers, { shardIndex: 7 })), named('ReceiptStoreReadOnlyError'))
      await assert.rejects(reader.sealBatch(), named('ReceiptStoreReadOnlyError'))
      await reader.close()
      // closing the reader leaves the writer's lock alone
      await assert.rejects(ReceiptStore.open(tmp.dir), named('ReceiptStoreLockedError'))
      await writer.add(await makeReceipt(peers, { shardIndex: 8 }))
    } finally {
      await writer.close()
    }
    const next = await ReceiptStore.open(tmp.dir)
    assert.equal(next.stats().receipts, 4)
    await next.close()
  })

  it('a read-only open ignores a torn tail without truncating it', async () => {
    const ids = await storeOf(3)
    await appendFile(log, randomBytes(10))
    const size = (await stat(log)).size
    const reader = await ReceiptStore.open(tmp.dir, { readOnly: true })
    assert.deepEqual(reader.list().map(r => r.id), ids)
    assert.equal(reader.recovery.discardedBytes, 10)
    assert.equal(reader.recovery.savedTo, undefined)
    await reader.close()
    assert.equal((await stat(log)).size, size)
  })

  it('a read-only open of a directory with no store is empty and creates nothing', async () => {
    const missing = join(tmp.dir, 'none')
    const reader = await ReceiptStore.open(missing, { readOnly: true })
    assert.equal(reader.stats().receipts, 0)
    await reader.close()
    await assert.rejects(stat(missing), (err: any) => err.code === 'ENOENT')
  })

  it('takes over a lock left by a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await new Promise(resolve => child.on('exit', resolve))
    await writeFile(join(tmp.dir, RECEIPT_LOCK_FILE), `${child.pid}\n`)
    const store = await ReceiptStore.open(tmp.dir)
    assert.equal((await readFile(join(tmp.dir, RECEIPT_LOCK_FILE), 'utf8')).trim(), String(process.pid))
    await store.close()
    await assert.rejects(stat(join(tmp.dir, RECEIPT_LOCK_FILE)), (err: any) => err.code === 'ENOENT', 'close releases the lock')
  })

  it('loses no acknowledged receipt when the writer is SIGKILLed mid-stream', async function () {
    this.timeout(60_000)
    const acknowledged: string[] = []
    // several kills at different points; each reopen also takes over the dead writer's lock
    for (const [round, atLeast] of [40, 97, 151].entries()) {
      acknowledged.push(...await addUntilKilled(tmp.dir, atLeast, round * 100_000))
      const store = await ReceiptStore.open(tmp.dir)
      try {
        const missing = acknowledged.filter(id => store.get(id) == null)
        assert.deepEqual(missing, [], `round ${round}: ${missing.length} of ${acknowledged.length} acknowledged receipts lost`)
        assert.ok(store.stats().receipts >= acknowledged.length)
        // whatever open found, the log is whole again
        assert.equal(store.recovery.validBytes, (await stat(log)).size)
      } finally {
        await store.close()
      }
    }
    assert.ok(acknowledged.length >= 40 + 97 + 151)
  })

  it('crc32 is IEEE CRC-32, with or without node:zlib', () => {
    const check = new TextEncoder().encode('123456789')
    assert.equal(tableCrc32(check), 0xcbf43926)
    assert.equal(crc32(check), 0xcbf43926)
    assert.equal(tableCrc32(new Uint8Array(0)), 0)
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(i * 37)
      assert.equal(tableCrc32(data), crc32(data))
      if (typeof zlib.crc32 === 'function') {
        assert.equal(tableCrc32(data), zlib.crc32(data))
      }
    }
  })
})
