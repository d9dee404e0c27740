import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NODE_HELP } from '../src/commands/node.js'
import { refusedStart } from './start-options-util.js'
import { parseStartOptions } from '../src/daemon/start-options.js'

const MiB = 1024 * 1024

describe('node start: global inbound caps (--max-inbound-bytes, --max-inbound-streams, --max-connections-per-peer)', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-limit-flags-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function refused (argv: string[], message: RegExp): Promise<void> {
    await refusedStart(dir, argv, message)
  }

  it('reads sizes in bytes, KiB, MiB and GiB and counts as integers; none given: the node defaults', async () => {
    const opts = await parseStartOptions(['--data-dir', dir, '--max-inbound-bytes', '1GiB', '--max-peer-inbound-bytes', '65536KiB', '--max-inbound-streams', '300', '--max-connections-per-peer', '2', '--max-stream-window', '256KiB'])
    assert.deepEqual(opts.limits, { inboundBytes: 1024 * MiB, peerInboundBytes: 64 * MiB, inboundStreams: 300, connectionsPerPeer: 2, streamWindow: 256 * 1024 })
    assert.equal((await parseStartOptions(['--data-dir', dir, '--max-inbound-bytes', String(2 * MiB)])).limits.inboundBytes, 2 * MiB)
    assert.deepEqual((await parseStartOptions(['--data-dir', dir])).limits, { inboundBytes: undefined, peerInboundBytes: undefined, inboundStreams: undefined, connectionsPerPeer: undefined, streamWindow: undefined })
  })

  it('a malformed or too small cap is a usage error naming the flag', async () => {
    await refused(['--max-inbound-bytes', '12'], /--max-inbound-bytes must be a size of at least 1MiB/)
    await refused(['--max-inbound-bytes', '3MB'], /--max-inbound-bytes must be a size/)
    await refused(['--max-peer-inbound-bytes=-1MiB'], /--max-peer-inbound-bytes must be a size/)
    await refused(['--max-inbound-bytes', '8MiB', '--max-peer-inbound-bytes', '16MiB'], /--max-peer-inbound-bytes 16MiB is more than --max-inbound-bytes 8MiB/)
    await refused(['--max-inbound-streams', '0'], /--max-inbound-streams/)
    await refused(['--max-stream-window', '64KiB'], /--max-stream-window must be a size of at least 256KiB/)
    await refused(['--max-connections-per-peer', 'many'], /--max-connections-per-peer/)
  })

  it('the config file takes the same keys, and the help names each flag', async () => {
    const path = join(dir, 'limits.json')
    await writeFile(path, JSON.stringify({ 'max-inbound-bytes': '64MiB', 'max-inbound-streams': '96', 'max-connections-per-peer': '3' }))
    const opts = await parseStartOptions(['--config', path, '--data-dir', dir])
    assert.deepEqual(opts.limits, { inboundBytes: 64 * MiB, peerInboundBytes: undefined, inboundStreams: 96, connectionsPerPeer: 3, streamWindow: undefined })
    for (const flag of ['--max-inbound-bytes', '--max-peer-inbound-bytes', '--max-inbound-streams', '--max-connections-per-peer', '--max-stream-window']) {
      assert.ok(NODE_HELP.includes(flag), flag)
    }
  })
})
