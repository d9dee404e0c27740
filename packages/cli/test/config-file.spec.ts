import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../src/args.js'
import { NODE_HELP } from '../src/commands/node.js'
import { CONFIG_ENV, MAX_CONFIG_FILE_BYTES, mergeConfig, readConfigFile } from '../src/daemon/config-file.js'
import { NODE_START_FLAGS, SHUTDOWN_TIMEOUT, parseStartOptions } from '../src/daemon/start-options.js'

const PEER = '12D3KooWFBEvSi47f6NrEBGiPgD9v9bjydLtMY7xSDauiYTeFmsQ'

describe('node start --config FILE', () => {
  let dir: string
  const saved: Record<string, string | undefined> = {}

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-config-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })
  beforeEach(() => {
    for (const name of Object.values(CONFIG_ENV)) {
      saved[name] = process.env[name]
      delete process.env[name]
    }
  })
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value == null) {
        delete process.env[name]
      } else {
        process.env[name] = value
      }
    }
  })

  async function config (name: string, content: unknown): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }

  async function refused (argv: string[], message: RegExp): Promise<void> {
    await assert.rejects(parseStartOptions(argv), (err: Error) => {
      assert.ok(err instanceof UsageError, `${err.name}: ${err.message}`)
      assert.match(err.message, message)
      return true
    })
  }

  it('takes every option from the file, by the flag names', async () => {
    const path = await config('full.json', {
      'data-dir': 'node-data',
      listen: ['/ip4/0.0.0.0/tcp/7077'],
      announce: ['/ip4/203.0.113.7/tcp/7077', '/dns4/node.example.com/tcp/7077'],
      bootstrap: [`/ip4/192.0.2.1/tcp/7077/p2p/${PEER}`],
      'control-port': 7078,
      workload: ['echo'],
      network: 'public',
      slots: 3,
      'pool-size': '2',
      allow: [PEER],
      warm: true,
      'no-gpu': true,
      'challenge-interval': 'off',
      'min-score': 0.5,
      'log-level': 'warn',
      'shutdown-timeout': '45s',
      json: true
    })
    const opts = await parseStartOptions(['--config', path])
    assert.equal(opts.config, path)
    assert.equal(opts.dataDir, join(dir, 'node-data'), 'a relative path is taken from the file\'s dir')
    assert.deepEqual(opts.listen, ['/ip4/0.0.0.0/tcp/7077'])
    assert.deepEqual(opts.announce, ['/ip4/203.0.113.7/tcp/7077', '/dns4/node.example.com/tcp/7077'])
    assert.deepEqual(opts.bootstrap, [`/ip4/192.0.2.1/tcp/7077/p2p/${PEER}`])
    assert.equal(opts.controlPort, 7078)
    assert.deepEqual(opts.offer, ['echo@1.0.0'])
    assert.equal(opts.network, 'public')
    assert.equal(opts.slots, 3)
    assert.equal(opts.poolSize, 2)
    assert.deepEqual(opts.allow, [PEER])
    assert.equal(opts.warm, true)
    assert.equal(opts.gpu, false)
    assert.equal(opts.challengeInterval, 0)
    assert.equal(opts.minScore, 0.5)
    assert.equal(opts.logLevel, 'warn')
    assert.equal(opts.shutdownTimeout, 45_000)
    assert.equal(opts.json, true)
  })

  it('flags override the file (a repeatable flag replaces its whole list)', async () => {
    const path = await config('override.json', { listen: ['/ip4/0.0.0.0/tcp/7077', '/ip4/0.0.0.0/tcp/7079'], slots: 3, network: 'public', warm: true })
    const opts = await parseStartOptions(['--config', path, '--listen', '/ip4/127.0.0.1/tcp/0', '--slots', '5'])
    assert.deepEqual(opts.listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.equal(opts.slots, 5)
    assert.equal(opts.network, 'public')
    assert.equal(opts.warm, true)
  })

  it('checks the file\'s values as it checks flags', async () => {
    await refused(['--config', await config('bad-listen.json', { listen: ['nope'] })], /--listen "nope" is not a TCP multiaddr/)
    await refused(['--config', await config('bad-slots.json', { slots: 0 })], /--slots: "0" must be a whole number from 1/)
    await refused(['--config', await config('bad-announce.json', { announce: [`/ip4/203.0.113.7/tcp/7077/p2p/${PEER}`] })], /--announce ".*" is not a multiaddr of this node without \/p2p\//)
  })

  it('refuses an unknown key, naming it (and the flag name it may have meant)', async () => {
    await refused(['--config', await config('unknown.json', { listen: ['/ip4/0.0.0.0/tcp/7077'], colour: 'blue' })], /--config .*unknown\.json: unknown key "colour"$/)
    await refused(['--config', await config('camel.json', { solanaRpc: 'http://127.0.0.1:8899' })], /unknown key "solanaRpc" \(did you mean "solana-rpc"\?\)/)
    // no nesting, and no key for --help
    await refused(['--config', await config('nested.json', { config: 'other.json' })], /unknown key "config"/)
    await refused(['--config', await config('help.json', { help: true })], /unknown key "help"/)
    await refused(['--config', await config('proto.json', '{"__proto__": {"slots": "2"}}')], /unknown key "__proto__"/)
  })

  it('refuses a value of the wrong type, naming the key', async () => {
    await refused(['--config', await config('type-bool.json', { warm: 'yes' })], /"warm" must be true or false, got string "yes"/)
    await refused(['--config', await config('type-list.json', { listen: '/ip4/0.0.0.0/tcp/7077' })], /"listen" must be an array of strings/)
    await refused(['--config', await config('type-list-item.json', { bootstrap: [1, {}] })], /"bootstrap" must be an array of strings/)
    await refused(['--config', await config('type-string.json', { network: ['lan'] })], /"network" must be a string, got an array/)
    await refused(['--config', await config('type-null.json', { slots: null })], /"slots" must be a string, got null/)
  })

  it('refuses what is not a JSON object, a missing file and one over the size limit', async () => {
    await refused(['--config', await config('not-json.json', 'listen = 1')], /not JSON/)
    await refused(['--config', await config('array.json', [])], /must hold a JSON object/)
    await refused(['--config', join(dir, 'missing.json')], /missing\.json: no such file/)
    await refused(['--config', dir], /not a file/)
    await refused(['--config', await config('huge.json', `{"x": "${'a'.repeat(MAX_CONFIG_FILE_BYTES)}"}`)], /over the 1048576 byte limit/)
  })

  it('reads $SHARDMESH_SOLANA_RPC over the file, and flags over both', async () => {
    const path = await config('solana.json', { 'solana-rpc': 'http://127.0.0.1:1' })
    assert.equal((await parseStartOptions(['--config', path])).solanaRpc, 'http://127.0.0.1:1')
    process.env.SHARDMESH_SOLANA_RPC = 'http://127.0.0.1:2'
    assert.equal((await parseStartOptions(['--config', path])).solanaRpc, 'http://127.0.0.1:2')
    assert.equal((await parseStartOptions(['--config', path, '--solana-rpc', 'http://127.0.0.1:3'])).solanaRpc, 'http://127.0.0.1:3')
    // the keypair comes from the environment only (never required in the file), checked as the flag is
    process.env.SHARDMESH_SOLANA_KEYPAIR = join(dir, 'no-such-keypair.json')
    await refused(['--config', path], /--solana-keypair .*no-such-keypair\.json: no keypair file/)
  })

  it('gives every node start flag a key, with the type of its flag', async () => {
    const values = await readConfigFile(await config('types.json', { workload: ['echo'], slots: 2, warm: false }), NODE_START_FLAGS, { command: 'node start', exclude: ['config'] })
    assert.deepEqual(values, { workload: ['echo'], slots: '2', warm: false })
    for (const [flag, spec] of Object.entries(NODE_START_FLAGS)) {
      if (flag === 'config') {
        continue
      }
      const sample = spec.type === 'boolean' ? true : 'multiple' in spec ? ['x'] : 'x'
      const read = await readConfigFile(await config(`key-${flag}.json`, { [flag]: sample }), NODE_START_FLAGS, { command: 'node start', exclude: ['config'] })
      assert.ok(Object.hasOwn(read, flag), `no key for --${flag}`)
    }
  })

  it('resolves ~/ in path keys to the home directory', async () => {
    const values = await readConfigFile(await config('home.json', { 'data-dir': '~/.shardmesh-test' }), NODE_START_FLAGS, { command: 'node start' })
    assert.equal(values['data-dir'], join(homedir(), '.shardmesh-test'))
  })

  it('the example config and systemd unit of examples/systemd are valid and agree', async () => {
    const example = fileURLToPath(new URL('../../../../examples/systemd/shardmesh-node.json', import.meta.url))
    const opts = await parseStartOptions(['--config', example])
    assert.equal(opts.dataDir, '/var/lib/shardmesh')
    assert.equal(opts.network, 'public')
    assert.deepEqual(opts.announce, ['/ip4/203.0.113.7/tcp/7077'])
    const unit = await readFile(fileURLToPath(new URL('../../../../examples/systemd/shardmesh-node.service', import.meta.url)), 'utf8')
    // --json: stdout carries JSON events, never the dashboard's login URL (the journal keeps stdout)
    assert.match(unit, /^ExecStart=\S+ node start --config \/etc\/shardmesh\/node\.json --json$/m)
    assert.match(unit, /^Restart=on-failure$/m)
    assert.match(unit, /^KillSignal=SIGTERM$/m)
    const stopSec = /^TimeoutStopSec=(\d+)s$/m.exec(unit)
    assert.ok(stopSec != null && Number(stopSec[1]) * 1000 > opts.shutdownTimeout, 'systemd waits longer than the node drains')
    assert.match(unit, /^StateDirectory=shardmesh$/m)
  })

  it('mergeConfig: flag, then environment, then file', () => {
    const merged = mergeConfig({ slots: '4', listen: undefined }, { slots: '2', listen: ['/ip4/0.0.0.0/tcp/1'], 'solana-rpc': 'http://a' }, { SHARDMESH_SOLANA_RPC: 'http://b' })
    assert.deepEqual(merged, { slots: '4', listen: ['/ip4/0.0.0.0/tcp/1'], 'solana-rpc': 'http://b' })
  })

  it('defaults --shutdown-timeout within node stop\'s 15 s, and documents --config, --announce and the graceful stop', async () => {
    assert.equal((await parseStartOptions([])).shutdownTimeout, SHUTDOWN_TIMEOUT)
    assert.ok(SHUTDOWN_TIMEOUT < 15_000)
    const help = NODE_HELP.replace(/\s+/g, ' ')
    assert.match(help, /--config FILE read these options from a JSON file/)
    assert.match(help, /\$SHARDMESH_SOLANA_KEYPAIR and \$SHARDMESH_SOLANA_RPC/)
    assert.match(help, /--announce ADDR advertise this multiaddr to peers instead of the listen addresses/)
    assert.match(help, /It stops gracefully: no new shards/)
    assert.match(help, /--shutdown-timeout DURATION/)
  })
})
