import assert from 'node:assert/strict'
import { UsageError } from '../src/args.js'
import { parseStartOptions } from '../src/daemon/start-options.js'

/** `node start` with `argv` (and `--data-dir dir`) is refused before anything starts: a UsageError matching `message`. */
export async function refusedStart (dir: string, argv: string[], message: RegExp): Promise<void> {
  await assert.rejects(parseStartOptions(['--data-dir', dir, ...argv]), (err: Error) => {
    assert.ok(err instanceof UsageError, `${err.name}: ${err.message}`)
    assert.match(err.message, message)
    return true
  })
}
