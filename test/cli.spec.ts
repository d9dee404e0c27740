import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from './utils/run-cli.js'

describe('shardmesh CLI', function () {
  this.timeout(120_000)
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'shardmesh-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('prints help and exits 0', async () => {
    const res = await runCli(['--help'])
    assert.equal(res.code, 0)
    assert.match(res.stdout, /Commands:/)
    for (const cmd of [['node', '--help'], ['cluster', '--help'], ['peers', '--help'], ['demo', '--help'], ['key', '--help'], ['receipts', '--help'], ['chain', '--help']]) {
      const r = await runCli(cmd)
      assert.equal(r.code, 0, cmd.join(' '))
      assert.match(r.stdout, /Usage: shardmesh/)
    }
  })

  it('rejects bad flags with exit code 2 and a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['nope'], /unknown command "nope"/],
      [['cluster', '--nodes', 'abc'], /--nodes: "abc" must be a whole number/],
      [['cluster', '--nodes', '3', '--for', 'soon'], /--for: "soon" is not a duration/],
      [['cluster', '--bogus'], /Unknown option '--bogus'/],
      [['node', 'start', '--workload', 'no-such-workload', '--data-dir', dir], /is not installed/],
      [['node', 'frobnicate'], /unknown subcommand/],
      [['node', 'start', '--solana-rpc', 'not a url', '--data-dir', dir], /--solana-rpc must be an http\(s\):\/\/ or ws\(s\):\/\/ URL/],
      [['node', 'start', '--solana-keypair', 'k.json', '--data-dir', dir], /need --solana-rpc/],
      [['demo', '--no-chain', '--solana-rpc', 'http://127.0.0.1:8899'], /exclude each other/],
      [['chain', '--port', '70000'], /--port: "70000" must be a whole number from 0 to 65535/],
      [['receipts', 'show', 'xyz'], /give one receipt id/],
      [['receipts', 'verify'], /give one proof file or receipt id/],
      [['receipts', 'verify', 'not-a-file-or-id'], /neither a file nor a receipt id/],
      [['receipts', 'list', '--anchored', '--unanchored'], /exclude each other/],
      [['receipts', 'frobnicate'], /unknown subcommand/]
    ]
    for (const [args, message] of cases) {
      const res = await runCli(args)
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, message)
    }
  })

  it('peers without a running node fails with exit code 1 and says how to start one', async () => {
    const res = await runCli(['peers', '--data-dir', join(dir, 'none')])
    assert.equal(res.code, 1)
    assert.match(res.stderr, /no running node/)
  })

  it('key show/export/import round-trips the Solana keypair form', async () => {
    const a = join(dir, 'a')
    const shown = JSON.parse((await runCli(['key', 'show', '--data-dir', a, '--json'])).stdout)
    const file = join(dir, 'id.json')
    assert.equal((await runCli(['key', 'export', '--data-dir', a, '--out', file])).code, 0)
    assert.equal(((await stat(file)).mode & 0o777), 0o600)
    const keypair = JSON.parse(await readFile(file, 'utf8'))
    assert.equal(keypair.length, 64)
    const b = join(dir, 'b')
    assert.equal((await runCli(['key', 'import', '--data-dir', b, '--in', file])).code, 0)
    const again = JSON.parse((await runCli(['key', 'show', '--data-dir', b, '--json'])).stdout)
    assert.equal(again.peerId, shown.peerId)
    assert.equal(again.solanaAddress, shown.solanaAddress)
    // importing over an existing key needs --force
    assert.equal((await runCli(['key', 'import', '--data-dir', b, '--in', file])).code, 2)
    // a tampered keypair (public half of another key) is refused
    keypair[40] = (keypair[40] + 1) % 256
    await writeFile(file, JSON.stringify(keypair))
    const bad = await runCli(['key', 'import', '--data-dir', join(dir, 'c'), '--in', file])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /does not match/)
  })
})
