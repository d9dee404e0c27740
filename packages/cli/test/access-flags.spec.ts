import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NODE_HELP } from '../src/commands/node.js'
import { refusedStart } from './start-options-util.js'
import { parseRateLimits, parseStartOptions } from '../src/daemon/start-options.js'

const A = '12D3KooWFBEvSi47f6NrEBGiPgD9v9bjydLtMY7xSDauiYTeFmsQ'
const B = '12D3KooWP66jqd6up7yMAKX1Bpm9w9zx2SNWX63zTdRsXP9PnRsU'

describe('node start: who may ask (--allow-requester, --deny-requester, --rate-limit)', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-access-flags-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function refused (argv: string[], message: RegExp): Promise<void> {
    await refusedStart(dir, argv, message)
  }

  it('--allow-requester and --allow (and the deny pair) add up, each id once; none given: no list', async () => {
    const opts = await parseStartOptions(['--data-dir', dir, '--allow-requester', A, '--allow', B, '--allow-requester', B, '--deny-requester', A])
    assert.deepEqual(opts.allow, [B, A])
    assert.deepEqual(opts.deny, [A])
    const none = await parseStartOptions(['--data-dir', dir])
    assert.equal(none.allow, undefined)
    assert.equal(none.deny, undefined)
    assert.equal(none.rateLimits, undefined)
  })

  it('a bad peer id is a usage error naming the flag and the id', async () => {
    await refused(['--allow-requester', 'nobody'], /^node start: --allow-requester "nobody" is not a peer id$/)
    await refused(['--deny-requester', `${A}x`], /^node start: --deny-requester "12D3KooW\w+x" is not a peer id$/)
  })

  it('the config file takes the same keys', async () => {
    const path = join(dir, 'access.json')
    await writeFile(path, JSON.stringify({ 'allow-requester': [A], 'deny-requester': [B], 'rate-limit': ['100/10s', '/shardmesh/shard/1.0.0=5/1s'] }))
    const opts = await parseStartOptions(['--data-dir', dir, '--config', path])
    assert.deepEqual(opts.allow, [A])
    assert.deepEqual(opts.deny, [B])
    assert.deepEqual(opts.rateLimits, { default: { streams: 100, interval: 10_000 }, protocols: { '/shardmesh/shard/1.0.0': { streams: 5, interval: 1000 } } })
  })

  it('--rate-limit: N/DURATION for every protocol, PROTOCOL=N/DURATION for one, off for none; later values win', () => {
    assert.deepEqual(parseRateLimits(['200/10s']), { default: { streams: 200, interval: 10_000 } })
    assert.deepEqual(parseRateLimits(['off', '/a/1.0.0=3/500ms', '/b/1.0.0=off']), {
      default: false,
      protocols: { '/a/1.0.0': { streams: 3, interval: 500 }, '/b/1.0.0': false }
    })
    assert.deepEqual(parseRateLimits(['1/1s', '2/2s']), { default: { streams: 2, interval: 2000 } })
    assert.equal(parseRateLimits(undefined), undefined)
  })

  it('--rate-limit refuses what it cannot read, saying the form', async () => {
    for (const bad of ['fast', '10', '0/1s', '10/0s', 'shard=10/1s', '/a=10/forever', '-1/1s']) {
      await refused(['--rate-limit', bad], /--rate-limit/)
    }
    await refused(['--rate-limit', '10'], /is not \[PROTOCOL=\]N\/DURATION or \[PROTOCOL=\]off/)
  })

  it('the help names the flags and what a refused requester sees', () => {
    const help = NODE_HELP.replace(/\s+/g, ' ')
    assert.match(help, /--allow-requester PEER_ID serve shards only to these requesters/)
    assert.match(help, /--deny-requester PEER_ID never serve shards to these requesters, repeatable; deny wins over allow/)
    assert.match(help, /--rate-limit \[PROTOCOL=\]N\/DURATION/)
    assert.match(help, /ERR_NOT_ALLOWED/)
  })
})
